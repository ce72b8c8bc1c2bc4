"""A questionnaire as a paper form (text or Markdown) or as JSON with every id and point."""

from typing import Any

from sme_bot.messages import say
from sme_bot.questionnaire import Condition, Question, Questionnaire


def outline_json(q: Questionnaire) -> dict[str, Any]:
    def question(x: Question) -> dict[str, Any]:
        data = x.model_dump(mode="json", exclude_defaults=True, exclude={"yes_points", "no_points"})
        options = [o.model_dump(mode="json", exclude_none=True) for o in x.options]
        return {**data, "options": options, "max_points": x.max_points}

    return {
        "id": q.id, "version": q.version, "title": q.title.model_dump(), "framework": q.framework.id,
        "max_points": sum(q.pillar_max.values()),
        "profile": [question(x) for x in q.profile],
        "derived": [question(x) for x in q.derived],
        "pillars": [{"id": p.id, "name": p.name.model_dump(), "weight": p.weight, "max_points": q.pillar_max[p.id],
                     "sub_indices": [s.model_dump(mode="json") for s in p.sub_indices],
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
    if markdown:
        lines += _mapping(q, numbers, lang)
    return "\n".join(lines).rstrip() + "\n"


def _mapping(q: Questionnaire, numbers: dict[str, int], lang: str) -> list[str]:
    """A table of the model's sub-indices and the questions that stand for each, so a reader sees
    what the questionnaire asks about and what it leaves out ("—" where no question does)."""
    if not any(p.sub_indices for p in q.pillars):
        return []
    columns = say("outline_mapping_columns", lang).split(" | ")
    lines = ["", f"## {say('outline_mapping', lang)}", "", q.framework.source, "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for pillar in q.pillars:
        scored = [x for x in q.questions if x.pillar == pillar.id and x.max_points > 0]
        rows = [(sub.name(lang), str(sub.points), [x for x in scored if x.sub_index == sub.id])
                for sub in pillar.sub_indices]
        known = {sub.id for sub in pillar.sub_indices}
        unnamed = [x for x in scored if x.sub_index not in known]
        if unnamed:
            rows.append((say("outline_no_sub_index", lang), "", unnamed))
        for name, points, questions in rows:
            listed = ", ".join(f"{numbers[x.id]} ({x.id})" for x in questions) or "—"
            lines.append(f"| {pillar.name(lang)} | {name} | {points} | {listed} | {sum(x.max_points for x in questions)} |")
    return lines


def _condition(q: Questionnaire, cond: Condition, numbers: dict[str, int], lang: str) -> str:
    target = q.question_by_id[cond.question]
    if cond.any_of:
        labels = ", ".join(o.label(lang) for o in target.options if o.id in cond.any_of)
        return say("asked_if_options", lang, number=numbers[target.id], options=labels)
    low = cond.min if cond.min is not None else target.min
    high = cond.max if cond.max is not None else target.max
    return say("asked_if_range", lang, number=numbers[target.id], min=f"{low:g}", max=f"{high:g}")
