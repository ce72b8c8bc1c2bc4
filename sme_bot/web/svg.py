"""A result as an inline SVG: each pillar's share of its maximum as a bar in its level's colour,
against the level cut-offs. Drawn as text, so a page needs no image file, no script and no
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
        width = span * min(max(pillar.percent, 0.0), 100.0) / 100
        parts += [_text(_LEFT, top + 15, 13, f"{pillar.name(lang)} · {say('level', lang)} {pillar.level}", _INK),
                  _rect(_LEFT, top + 21, span, _TRACK),
                  _rect(_LEFT, top + 21, width, level_colour(pillar.level)),
                  _text(_LEFT + width + 4, top + 35, 12, f"{pillar.percent:.0f}%", _INK)]
        # The cut-offs cross the bars only, not the names above them.
        parts += [f'<line x1="{x:.1f}" y1="{top + 19}" x2="{x:.1f}" y2="{top + _BAR + 23}" stroke="{_CUTOFF}" '
                  f'stroke-dasharray="3 2"/>' for _, _, x in cutoffs]
    parts.append("</svg>")
    return Markup("".join(parts))


def _text(x: float, y: float, size: int, content: str, colour: str, *, anchor: str = "start",
          hint: str | None = None) -> str:
    tooltip = f"<title>{escape(hint)}</title>" if hint else ""
    return (f'<text x="{x:.1f}" y="{y}" font-size="{size}" fill="{colour}" text-anchor="{anchor}">'
            f"{escape(content)}{tooltip}</text>")


def _rect(x: float, y: float, width: float, colour: str) -> str:
    return f'<rect x="{x}" y="{y}" width="{width:.1f}" height="{_BAR}" fill="{colour}"/>'
