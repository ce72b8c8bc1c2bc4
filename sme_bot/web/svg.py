"""A result as an inline SVG: each pillar's share of its maximum as a bar in its level's colour,
against the level cut-offs; and the staff summary's two charts, from the same parts. Drawn as text, so a page needs no image file, no script and no
matplotlib (which takes longer to import than a whole page takes to answer)."""

from html import escape

from markupsafe import Markup

from sme_bot.messages import say
from sme_bot.questionnaire import Level
from sme_bot.render import level_colour
from sme_bot.scoring import Result

# A phone's width in CSS pixels; the chart scales to the page through its viewBox.
WIDTH = 360
_LEFT, _RIGHT = 4, 44  # room on the right for "100%"
_TOP = 24  # the cut-off labels
_ROW = 48  # one pillar: its name, then its bar
_BAR = 18
_INK, _TRACK, _CUTOFF = "#222222", "#e8e8e8", "#666666"


def result_chart(result: Result, levels: tuple[Level, ...], lang: str) -> Markup:
    span = WIDTH - _LEFT - _RIGHT
    height = _TOP + _ROW * len(result.pillars) + 4
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-labelledby="chart-title" font-family="sans-serif">')
    parts = [svg, f'<title id="chart-title">{escape(say("chart_title", lang))}</title>']
    cutoffs = [(level.level, level.pillar_threshold, _LEFT + span * level.pillar_threshold / 100)
               for level in levels if level.level > 0 and level.pillar_threshold is not None]
    for number, threshold, x in cutoffs:
        hint = say("web_chart_cutoff_title", lang, level=number, percent=f"{threshold:g}")
        parts.append(_text(x, _TOP - 10, 10, say("web_chart_cutoff", lang, level=number), _CUTOFF,
                           anchor="middle", hint=hint))
    for row, pillar in enumerate(result.pillars):
        top = _TOP + row * _ROW
        parts += _percent_row(top, f"{pillar.name(lang)} · {say('level', lang)} {pillar.level}", pillar.percent,
                              level_colour(pillar.level))
        # The cut-offs cross the bars only, not the names above them.
        parts += [f'<line x1="{x:.1f}" y1="{top + 19}" x2="{x:.1f}" y2="{top + _BAR + 23}" stroke="{_CUTOFF}" '
                  f'stroke-dasharray="3 2"/>' for _, _, x in cutoffs]
    parts.append("</svg>")
    return Markup("".join(parts))


def percent_chart(rows: list[tuple[str, float]], colour: str, label: str) -> Markup:
    """Named percents as horizontal bars, the result chart's rows without its cut-offs (a staff
    summary's pillar averages). `label` says every figure, for a screen reader."""
    height = 4 + _ROW * len(rows) + 4
    parts = [_open(height, label)]
    for row, (name, percent) in enumerate(rows):
        parts += _percent_row(4 + row * _ROW, name, percent, colour)
    parts.append("</svg>")
    return Markup("".join(parts))


def count_chart(columns: list[tuple[str, int, str]], label: str) -> Markup:
    """Counts as vertical bars, each named below and counted above (a staff summary's businesses
    by level): (name, count, colour) per bar. `label` says every figure, for a screen reader."""
    top, bottom, height = 20, 22, 180
    slot = (WIDTH - 2 * _LEFT) / max(len(columns), 1)
    most = max((count for _, count, _ in columns), default=0) or 1
    base = height - bottom
    parts = [_open(height, label), f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _LEFT}" y2="{base}" stroke="{_CUTOFF}"/>']
    for i, (name, count, colour) in enumerate(columns):
        bar = (height - top - bottom) * count / most
        x, middle = _LEFT + i * slot + slot * 0.15, _LEFT + (i + 0.5) * slot
        rect = f'<rect x="{x:.1f}" y="{base - bar:.1f}" width="{slot * 0.7:.1f}" height="{bar:.1f}" fill="{colour}"/>'
        parts += [rect,
                  _text(middle, round(base - bar - 4), 12, str(count), _INK, anchor="middle"),
                  _text(middle, height - 6, 11, name, _INK, anchor="middle")]
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(height: int, label: str) -> str:
    # aria-label for screen readers that skip <title>; <title> for the rest and for a hover.
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(label)}" font-family="sans-serif"><title>{escape(label)}</title>')


def _percent_row(top: int, name: str, percent: float, colour: str) -> list[str]:
    """One named bar: the name, then the bar against its track up to 100%, then the percent."""
    span = WIDTH - _LEFT - _RIGHT
    width = span * min(max(percent, 0.0), 100.0) / 100
    return [_text(_LEFT, top + 15, 13, name, _INK), _rect(_LEFT, top + 21, span, _TRACK),
            _rect(_LEFT, top + 21, width, colour), _text(_LEFT + width + 4, top + 35, 12, f"{percent:.0f}%", _INK)]


def _text(x: float, y: float, size: int, content: str, colour: str, *, anchor: str = "start",
          hint: str | None = None) -> str:
    tooltip = f"<title>{escape(hint)}</title>" if hint else ""
    return (f'<text x="{x:.1f}" y="{y}" font-size="{size}" fill="{colour}" text-anchor="{anchor}">'
            f"{escape(content)}{tooltip}</text>")


def _rect(x: float, y: float, width: float, colour: str) -> str:
    return f'<rect x="{x}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="{colour}"/>'
