"""The monthly report: one self-contained HTML page (charts inline as SVG) that opens offline
and prints well. matplotlib is imported only here."""

import html
import io
from datetime import date

from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.render import LEVEL_COLOURS
from sme_bot.reports.cells import scrub
from sme_bot.reports.summary import Summary, field_name, group_label, retakes_line, versions_line

PILLAR_COLOUR = "#2e86c1"

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.figures { display: flex; gap: 1em; flex-wrap: wrap; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.figure b { display: block; font-size: 1.8em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; } th, td { padding: 0.3em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; } tr:nth-child(even) { background: #f5f7fa; }
.chart svg { width: 100%; height: auto; } .note { color: #666; font-size: 0.85em; }
@media print { body { margin: 0; } h2 { break-after: avoid; } .chart, table { break-inside: avoid; } }
"""


def report_html(q: Questionnaire, total: Summary, breakdowns: dict[str, Summary], *, lang: str, programme: str,
                today: date) -> str:
    t = total.total
    scope = total.cohort or say("staff_all_cohorts", lang)
    figures = [(say("staff_started", lang), t.started), (say("staff_completed", lang), t.completed),
               (say("staff_rate", lang), f"{t.completion_rate:.0f}%"),
               (say("report_median", lang), f"{t.median_minutes:.0f}'" if t.median_minutes is not None else "–")]
    parts = [f"<h1>{_e(say('report_title', lang, scope=scope))}</h1>",
             f"<p class='note'>{_e(programme)} · {_e(q.title(lang))} ({_e(q.id)} {_e(q.version)}) · {today.isoformat()}</p>",
             "<div class='figures'>" + "".join(f"<div class='figure'>{_e(label)}<b>{_e(str(value))}</b></div>"
                                               for label, value in figures) + "</div>",
             *([f"<p><b>{_e(line)}</b></p>"] if (line := versions_line(total.version, total.versions, lang)) else []),
             f"<h2>{_e(say('staff_levels', lang))}</h2>", "<div class='chart'>" + _levels_svg(q, total, lang) + "</div>",
             f"<h2>{_e(say('staff_pillars', lang))}</h2>", "<div class='chart'>" + _pillars_svg(q, total, lang) + "</div>"]
    for field, summary in breakdowns.items():
        if not summary.groups:
            continue
        parts.append(f"<h2>{_e(say('staff_by', lang, field=field_name(field, lang)))}</h2>")
        head = "".join(f"<th>{_e(p.name(lang))}</th>" for p in q.pillars)
        rows = "".join(
            f"<tr><td>{_e(group_label(q, field, g.group, lang))}</td><td>{g.completed}</td><td>{g.completion_rate:.0f}%</td>"
            + "".join(f"<td>{g.pillars[p.id]:.0f}%</td>" if p.id in g.pillars else "<td>–</td>" for p in q.pillars)
            + "</tr>" for g in summary.groups)
        parts.append(f"<table><tr><th>{_e(field_name(field, lang))}</th><th>{_e(say('staff_completed', lang))}</th>"
                     f"<th>{_e(say('staff_rate', lang))}</th>{head}</tr>{rows}</table>")
    if total.top_steps:
        parts.append(f"<h2>{_e(say('staff_steps', lang))}</h2><table><tr><th>{_e(say('roadmap_title', lang))}</th>"
                     f"<th>n</th></tr>" + "".join(f"<tr><td>{_e(s.text(lang))}</td><td>{s.count}</td></tr>"
                                                   for s in total.top_steps) + "</table>")
    if total.support_by_pillar:
        names = {p.id: p.name(lang) for p in q.pillars}
        parts.append(f"<h2>{_e(say('staff_support', lang))}</h2><table>" + "".join(
            f"<tr><td>{_e(names.get(p, p))}</td><td>{n}</td></tr>" for p, n in total.support_by_pillar.items())
            + "</table>")
    if total.retakes.businesses:
        parts.append(f"<p>{_e(retakes_line(total, q, lang))}</p>")
    parts.append(f"<p class='note'>{_e(say('report_privacy', lang))}</p>")
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{_e(say('report_title', lang, scope=scope))}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def _e(text: str) -> str:
    # Group names are typed text: controls are dropped as in every other writer, then escaped.
    return html.escape(scrub(text), quote=True)


def _svg(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prologue; the page is HTML


def _levels_svg(q: Questionnaire, summary: Summary, lang: str) -> str:
    from matplotlib.figure import Figure

    levels = summary.total.levels
    figure = Figure(figsize=(8, 3.2))
    axes = figure.subplots()
    labels = [f"{level}\n{q.level(level).name(lang)}" for level in levels]
    bars = axes.bar(labels, list(levels.values()), color=LEVEL_COLOURS[: len(levels)])
    axes.bar_label(bars)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="x", labelsize=8)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.22)
    return _svg(figure)


def _pillars_svg(q: Questionnaire, summary: Summary, lang: str) -> str:
    from matplotlib.figure import Figure

    pillars = [p for p in q.pillars if p.id in summary.total.pillars][::-1]
    values = [summary.total.pillars[p.id] for p in pillars]
    figure = Figure(figsize=(8, 3.2))
    axes = figure.subplots()
    bars = axes.barh([p.name(lang) for p in pillars], values, color=PILLAR_COLOUR)
    axes.bar_label(bars, fmt="%.0f%%", padding=3)
    axes.set_xlim(0, 100)
    axes.spines[["top", "right"]].set_visible(False)
    figure.subplots_adjust(left=0.36, right=0.97, top=0.95, bottom=0.1)
    return _svg(figure)
