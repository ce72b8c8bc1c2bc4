"""What an owner reads, as plain text lines: one place for question and result texts, level
names and colours, so the console, every chat channel, the web pages and the charts agree."""

from sme_bot.flows.answers import Value, number_hint
from sme_bot.flows.engine import Prompt
from sme_bot.messages import say
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring import Result

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


def result_text(result: Result, lang: str, *, previous: Result | None = None) -> str:
    """A whole result as one chat message: stage, pillars, the change since last time, next steps."""
    lines = result_headline(result, lang) + [""]
    lines += [say("pillar_line", lang, name=p.name(lang), level=p.level, percent=f"{p.percent:.1f}")
              for p in result.pillars]
    if previous is not None:
        before = {p.id: p.percent for p in previous.pillars}
        lines += ["", say("change_title", lang, before=previous.level, after=result.level)]
        lines += [say("change_line", lang, name=p.name(lang), before=f"{before[p.id]:.1f}",
                      after=f"{p.percent:.1f}", delta=f"{p.percent - before[p.id]:+.1f}")
                  for p in result.pillars if p.id in before]
    lines += ["", say("roadmap_title", lang)] + [f"{s.priority}. {s.text(lang)}" for s in result.top_steps]
    return "\n".join(lines)
