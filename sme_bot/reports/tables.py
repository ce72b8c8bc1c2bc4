"""A summary as rich tables for a terminal (and as the short text of the Telegram /stats).

Group names come from what people typed (profile answers, cohort codes), so every text cell is
a rich Text via `plain`: a str cell would be read as markup, where "[/red]" crashes the table
and "[link=…]" makes a clickable link.
"""

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text as RichText

from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.reports.cells import one_line
from sme_bot.reports.summary import Summary, field_name, group_label, retakes_line, versions_line

BAR = 20


def plain(text: object, style: str = "") -> RichText:
    """Untrusted text for a rich table cell: never read as markup, no control characters."""
    return RichText(one_line(str(text)), style=style)


def summary_tables(summary: Summary, q: Questionnaire, lang: str) -> RenderableType:
    total = summary.total
    scope = summary.cohort or say("staff_all_cohorts", lang)
    head = RichText(one_line(say("staff_headline", lang, scope=scope, started=total.started,
                                 completed=total.completed, rate=f"{total.completion_rate:.1f}",
                                 minutes=f"{total.median_minutes:.0f}" if total.median_minutes is not None else "–")),
                    style="bold")
    levels = Table(title=say("staff_levels", lang), box=box.SIMPLE_HEAD, title_justify="left")
    levels.add_column(say("level", lang))
    levels.add_column("", no_wrap=True)
    levels.add_column("n", justify="right")
    most = max(total.levels.values(), default=0) or 1
    for level, count in total.levels.items():
        levels.add_row(plain(f"{level} · {q.level(level).name(lang)}"), "█" * round(BAR * count / most), str(count))
    pillars = Table(title=say("staff_pillars", lang), box=box.SIMPLE_HEAD, title_justify="left")
    pillars.add_column(say("pillar", lang))
    pillars.add_column("%", justify="right")
    for pillar in q.pillars:
        if pillar.id in total.pillars:
            pillars.add_row(plain(pillar.name(lang)), f"{total.pillars[pillar.id]:.1f}")
    parts: list[RenderableType] = [head]
    versions = versions_line(summary.version, summary.versions, lang)
    if versions:
        parts.append(plain(versions, "bold yellow"))
    parts += [levels, pillars]
    if summary.groups:
        legend = " · ".join(f"P{i} {p.name(lang)}" for i, p in enumerate(q.pillars, start=1))
        field = field_name(summary.by, lang) if summary.by else ""
        groups = Table(title=say("staff_by", lang, field=field), caption=plain(legend, "table.caption"),
                       box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left")
        # Figures never wrap; long group names do, so the table fits an 80-column terminal.
        groups.add_column(field, ratio=1)
        for name in ("staff_started", "staff_completed", "staff_rate"):
            groups.add_column(say(name, lang), justify="right", no_wrap=True)
        for i, _ in enumerate(q.pillars, start=1):
            groups.add_column(f"P{i}", justify="right", no_wrap=True)
        for group in summary.groups:
            groups.add_row(plain(group_label(q, summary.by, group.group, lang)), str(group.started),
                           str(group.completed), f"{group.completion_rate:.0f}%",
                           *(f"{group.pillars[p.id]:.0f}" if p.id in group.pillars else "–" for p in q.pillars))
        parts.append(groups)
    if summary.top_steps:
        steps = Table(title=say("staff_steps", lang), box=box.SIMPLE_HEAD, title_justify="left")
        steps.add_column("n", justify="right")
        steps.add_column(say("roadmap_title", lang))
        for step in summary.top_steps:
            steps.add_row(str(step.count), plain(step.text(lang)))
        parts.append(steps)
    if summary.support_by_pillar:
        names = {p.id: p.name(lang) for p in q.pillars}
        parts.append(plain(say("staff_support", lang) + ": " + ", ".join(
            f"{names.get(p, p)} {n}" for p, n in summary.support_by_pillar.items())))
    if summary.retakes.businesses:
        parts.append(plain(retakes_line(summary, q, lang)))
    return Group(*parts)


def summary_text(summary: Summary, q: Questionnaire, lang: str) -> str:
    """The few lines a programme officer reads on a phone."""
    total = summary.total
    lines = [say("staff_headline", lang, scope=summary.cohort or say("staff_all_cohorts", lang),
                 started=total.started, completed=total.completed, rate=f"{total.completion_rate:.1f}",
                 minutes=f"{total.median_minutes:.0f}" if total.median_minutes is not None else "–"), ""]
    versions = versions_line(summary.version, summary.versions, lang)
    if versions:
        lines[-1:] = [versions, ""]
    lines += [f"{say('level', lang)} {level}: {count}" for level, count in total.levels.items()]
    lines.append("")
    lines += [f"{p.name(lang)}: {total.pillars[p.id]:.1f}%" for p in q.pillars if p.id in total.pillars]
    if summary.top_steps:
        lines += ["", say("staff_steps", lang)] + [f"{s.count} · {s.text(lang)}" for s in summary.top_steps[:3]]
    return "\n".join(lines)
