"""A questionnaire as a paper form (text or Markdown) or as JSON with every id and point."""

from typing import Any

from sme_bot.messages import say
from sme_bot.questionnaire import Condition, Question, Questionnaire


def outline_json(q: Questionnaire) -> dict[str, Any]:
    def question(x: Question) -> dict[str, Any]:
        data = x.model_dump(mode="json", exclude_defaults=True, exclude={"yes_points", "no_points"})
        return {**data, "options": [o.model_dump(mode="json") for o in x.options], "max_points": x.max_points}

    return {
        "id": q.id, "version": q.version, "title": q.title.model_dump(), "framework": q.framework.id,
        "max_points": sum(q.pillar_max.values()),
        "profile": [question(x) for x in q.profile],
        "pillars": [{"id": p.id, "name": p.name.model_dump(), "weight": p.weight, "max_points": q.pillar_max[p.id],
                     "questions": [question(x) for x in q.questions if x.pillar == p.id]} for p in q.pillars],
        "levels": [lv.model_dump(mode="json", exclude_none=True) for lv in q.levels],
    }


def outline_text(q: Questionnaire, lang: str, *, markdown: bool = False) -> str:
    """Numbered as the console numbers them, so a paper answer sheet can be typed in later."""
    heading, sub, box = ("# ", "## ", "- [ ] ") if markdown else ("", "", "[ ] ")
    lines = [f"{heading}{q.title(lang)} ({q.id} {q.version})", "", q.description(lang)]
    numbers = {x.id: i for i, x in enumerate(q.all_questions, start=1)}
    sections: list[tuple[str, tuple[Question, ...]]] = [(say("profile_section", lang), q.profile)]
    sections += [(f"{p.name(lang)} ({say('outline_max', lang, points=q.pillar_max[p.id])})",
                  tuple(x for x in q.questions if x.pillar == p.id)) for p in q.pillars]
    for title, questions in sections:
        lines += ["", f"{sub}{title}" if markdown else title.upper(), ""]
        for x in questions:
            lines.append(f"{numbers[x.id]}. {x.text(lang)}")
            notes = [x.help(lang)] if x.help else []
            if x.ask_if:
                notes.append(_condition(q, x.ask_if, numbers, lang))
            if not x.required:
                notes.append(say("optional_hint", lang))
            lines += [f"   {n}" for n in notes]
            for i, option in enumerate(x.options, start=1):
                points = f" ({say('outline_points', lang, points=option.points)})" if x.pillar else ""
                lines.append(f"   {box}{i}. {option.label(lang)}{points}")
            if x.type == "number":
                unit = f" {x.unit(lang)}" if x.unit else ""
                bands = ", ".join(f"≥{b.at_least:g}{unit}: {b.points}" for b in x.bands)
                lines.append(f"   ______{unit}" + (f"   ({bands})" if bands else ""))
            if x.type == "text":
                lines.append("   " + "_" * 40)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _condition(q: Questionnaire, cond: Condition, numbers: dict[str, int], lang: str) -> str:
    target = q.question_by_id[cond.question]
    if cond.any_of:
        labels = ", ".join(o.label(lang) for o in target.options if o.id in cond.any_of)
        return say("asked_if_options", lang, number=numbers[target.id], options=labels)
    low = cond.min if cond.min is not None else target.min
    high = cond.max if cond.max is not None else target.max
    return say("asked_if_range", lang, number=numbers[target.id], min=f"{low:g}", max=f"{high:g}")
