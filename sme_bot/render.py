"""What an owner reads, as plain text lines: one place for question and result texts, level
names and colours, so the console, every chat channel, the web pages and the charts agree."""

from sme_bot.flows.answers import Value, number_hint
from sme_bot.flows.engine import Prompt
from sme_bot.messages import say
from sme_bot.questionnaire import Level, Question, Questionnaire
from sme_bot.scoring import Peers, Result, RoadmapStep

# Mức 0 (red) to Mức 5 (deep green), for bars, charts and badges.
LEVEL_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#7dbb42", "#27ae60", "#1e8449")


def level_colour(level: int) -> str:
    return LEVEL_COLOURS[max(0, min(level, len(LEVEL_COLOURS) - 1))]


def section(q: Questionnaire, question: Question, lang: str) -> str:
    """The pillar a question belongs to, or "about the business" for profile questions."""
    return q.framework.pillar_by_id[question.pillar].name(lang) if question.pillar else say("profile_section", lang)


def heading(q: Questionnaire, prompt: Prompt, lang: str) -> str:
    """ "Câu 5/40 · Chiến lược" """
    return f"{say('progress', lang, index=prompt.index, total=prompt.total)} · {section(q, prompt.question, lang)}"


def hint(question: Question, lang: str, *, buttons: bool = False) -> str | None:
    """How to answer a question of this type, if it needs saying."""
    if question.type == "multi":
        return say("multi_hint_buttons" if buttons else "multi_hint", lang)
    if question.type == "number":
        return number_hint(question).render(lang)
    if question.type == "text":
        return say("text_hint", lang, max_length=question.max_length)
    return None


def answer_label(question: Question, value: Value, lang: str) -> str:
    """An answer as the owner would say it: option labels, a number, the text, or "—" if skipped."""
    if value is None:
        return say("skipped_mark", lang)
    if question.choices:
        ids = value if isinstance(value, tuple) else (value,)
        return ", ".join(o.label(lang) for o in question.options if o.id in ids)
    return f"{value:g}" if isinstance(value, float) else str(value)


def result_headline(result: Result, lang: str) -> list[str]:
    """The stage, what it means, and the points."""
    return [say("result_title", lang, level=result.level, name=result.level_name(lang)),
            result.level_meaning(lang),
            say("result_points", lang, points=result.points, max_points=result.max_points,
                percent=f"{result.percent:.1f}")]


def result_text(result: Result, lang: str, *, previous: Result | None = None, peers: Peers | None = None,
                all_steps: bool = False) -> str:
    """A whole result as one chat message: stage, pillars, strengths, what the next level needs,
    the change since last time, how similar businesses did, and the first steps (or every one)."""
    lines = result_headline(result, lang) + [""]
    lines += [say("pillar_line", lang, name=p.name(lang), level=p.level, percent=f"{p.percent:.1f}")
              for p in result.pillars]
    lines += ["", strengths_line(result, lang), *next_level_lines(result, lang)]
    if previous is not None:
        before = {p.id: p.percent for p in previous.pillars}
        lines += ["", say("change_title", lang, before=previous.level, after=result.level)]
        lines += [say("change_line", lang, name=p.name(lang), before=f"{before[p.id]:.1f}",
                      after=f"{p.percent:.1f}", delta=f"{p.percent - before[p.id]:+.1f}")
                  for p in result.pillars if p.id in before]
    if peers is not None:
        lines += ["", *peers_lines(peers, lang)]
    steps = result.roadmap if all_steps else result.top_steps
    lines += ["", say("roadmap_title", lang), *step_lines(steps, lang)]
    return "\n".join(lines)


def more_steps_text(result: Result, lang: str) -> str:
    """The roadmap steps after the first few, as one chat message."""
    if not result.more_steps:
        return say("no_more_steps", lang)
    return "\n".join([say("more_steps_title", lang), *step_lines(result.more_steps, lang)])


def step_lines(steps: tuple[RoadmapStep, ...], lang: str) -> list[str]:
    return [f"{s.priority}. {s.text(lang)}" for s in steps]


def strengths_line(result: Result, lang: str) -> str:
    """The best pillars in a sentence, or that none has reached a level yet."""
    if not result.strengths:
        return say("result_no_strengths", lang)
    items = [say("result_strength_item", lang, name=p.name(lang), level=p.level, percent=f"{p.percent:.0f}")
             for p in result.strengths]
    return say("result_strengths", lang, pillars=", ".join(items))


def next_level_lines(result: Result, lang: str) -> list[str]:
    """The framework's rule for the next level in words, and the pillars closest to it."""
    nxt = result.next_level
    if nxt is None:
        # At the top, or a result stored before the rule was kept with it.
        return [say("next_level_top", lang)] if result.at_top else []
    parts = []
    if nxt.points_above is not None:
        key = "next_level_points_met" if nxt.points_met else "next_level_points"
        parts.append(say(key, lang, points=f"{nxt.points_above:g}", have=result.points))
    if nxt.min_pillars and nxt.pillar_threshold is not None:
        parts.append(say("next_level_pillars", lang, count=nxt.min_pillars, level=nxt.level, have=nxt.pillars_at,
                         threshold=threshold(nxt.pillar_threshold, nxt.threshold_inclusive, lang)))
    if not parts:
        return []
    lines = [say("next_level_rule", lang, level=nxt.level, name=nxt.name(lang),
                 parts=say("next_level_and", lang).join(parts))]
    pillars = {p.id: p for p in result.pillars}
    closest = [pillars[pid] for pid in nxt.closest if pid in pillars]
    if closest:
        items = [say("next_level_closest_item", lang, name=p.name(lang), percent=f"{p.percent:.0f}") for p in closest]
        lines.append(say("next_level_closest", lang, count=len(closest), pillars=", ".join(items)))
    return lines


def threshold(percent: float, inclusive: bool, lang: str) -> str:
    """ "từ 10%" or "trên 20%", as the level's rule says. """
    return say("threshold_at_least" if inclusive else "threshold_above", lang, percent=f"{percent:g}")


def peers_lines(peers: Peers, lang: str) -> list[str]:
    """How the owner's group did: its share at each level and the owner's place among them."""
    groups = " · ".join(name(lang) for name in peers.groups)
    shares = " · ".join(say("peers_level", lang, level=level, percent=f"{percent:.0f}")
                        for level, _, percent in peers.shares)
    return [say("peers_group", lang, total=peers.total, groups=groups), shares,
            say("peers_place", lang, level=peers.level, below=f"{peers.below:.0f}", same=f"{peers.same:.0f}",
                above=f"{peers.above:.0f}")]


def cutoffs(levels: tuple[Level, ...], lang: str) -> list[tuple[int, float, str]]:
    """Each level's pillar threshold and its label for a chart ("M2 Bắt đầu trên 20%")."""
    marks = []
    for level in levels:
        cut = level.pillar_threshold
        if level.level > 0 and cut is not None:
            label = say("chart_cutoff_name", lang, level=level.level, name=level.name(lang),
                        threshold=threshold(cut, level.pillar_percent_at_least is not None, lang))
            marks.append((level.level, cut, label))
    return marks


def chart_caption(result: Result, levels: tuple[Level, ...], lang: str) -> str:
    """What a result's chart shows, for the photo's caption and the page's figure."""
    return say("chart_caption", lang, level=result.level, name=result.level_name(lang),
               cutoffs="; ".join(label for _, _, label in cutoffs(levels, lang)))
