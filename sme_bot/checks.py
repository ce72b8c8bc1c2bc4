"""Checks that relate several parts of a questionnaire; each yields located problems with a fix.

Each check is a small pure function so a new rule is one more function in CHECKS.
"""

from collections import Counter
from collections.abc import Callable, Iterator

from sme_bot.errors import Problem
from sme_bot.questionnaire import SHORT_LABEL_MAX, Condition, Framework, Question, Questionnaire

Found = Iterator[tuple[str, str, str]]  # (where, what, fix)


def check_questionnaire(q: Questionnaire, file: str, framework_file: str) -> list[Problem]:
    problems = [Problem(framework_file, *found) for check in FRAMEWORK_CHECKS for found in check(q.framework)]
    problems += [Problem(file, *found) for check in CHECKS for found in check(q)]
    return problems


def _unique_question_ids(q: Questionnaire) -> Found:
    for qid, count in Counter(x.id for x in q.all_questions + q.derived).items():
        if count > 1:
            yield f"question '{qid}'", f"the id is used by {count} questions", "give each question its own id"


def _unique_option_ids(q: Questionnaire) -> Found:
    for question in q.all_questions + q.derived:
        for oid, count in Counter(o.id for o in question.options).items():
            if count > 1:
                yield f"question '{question.id}'", f"option id '{oid}' appears {count} times", "give each option its own id"


def _pillars_known(q: Questionnaire) -> Found:
    known = q.framework.pillar_by_id
    for question in q.questions:
        if question.pillar is None:
            yield f"question '{question.id}'", "has no pillar", f"add pillar = one of {', '.join(known)}"
        elif question.pillar not in known:
            yield f"question '{question.id}'", f"pillar '{question.pillar}' is not in the framework", f"use one of {', '.join(known)}"
    for question in q.profile:
        if question.pillar is not None or question.max_points:
            yield f"question '{question.id}'", "profile questions are not scored", "remove its pillar and points"


def _pillars_grouped(q: Questionnaire) -> Found:
    seen: list[str | None] = []
    for question in q.questions:
        if seen and question.pillar == seen[-1]:
            continue
        if question.pillar in seen:
            yield (f"question '{question.id}'", f"is apart from the other questions of pillar '{question.pillar}'",
                   "keep each pillar's questions together, as they are asked pillar by pillar")
        seen.append(question.pillar)


def _pillar_points(q: Questionnaire) -> Found:
    for pillar in q.pillars:
        declared = q.pillar_max.get(pillar.id)
        reachable = sum(x.max_points for x in q.questions if x.pillar == pillar.id)
        if declared is None:
            yield "pillar_max", f"pillar '{pillar.id}' has no maximum", f"add {pillar.id} = {reachable}"
        elif declared != reachable:
            yield (f"pillar '{pillar.id}'", f"declares {declared} points but its questions can reach {reachable}",
                   "change the points of its options or pillar_max so the two agree")
        if not any(x.pillar == pillar.id for x in q.questions):
            yield f"pillar '{pillar.id}'", "has no questions", "add at least one question for it"
    for unknown in q.pillar_max.keys() - q.framework.pillar_by_id.keys():
        yield "pillar_max", f"'{unknown}' is not a pillar of the framework", "remove it or fix its spelling"


def _conditions(q: Questionnaire) -> Found:
    for question in q.all_questions:
        cond = question.ask_if
        if cond is None:
            continue
        where = f"question '{question.id}'"
        target = q.question_by_id.get(cond.question)
        if target is None:
            yield where, f"ask_if names an unknown question '{cond.question}'", "name an earlier question's id"
        elif q.position[target.id] >= q.position[question.id]:
            yield where, f"ask_if names '{cond.question}', which is not asked before it", "a condition can only use earlier answers"
        else:
            yield from _fits(cond, target, where, "ask_if ")


def _fits(cond: Condition, target: Question, where: str, what: str) -> Found:
    """A condition's values against the question it reads: option ids for choices, min/max for numbers."""
    if cond.any_of and not target.choices:
        yield where, f"{what}uses any_of on '{target.id}', a {target.type} question", "use min/max for numbers"
    elif cond.any_of:
        for oid in cond.any_of:
            if target.option(oid) is None:
                yield where, f"{what}names option '{oid}', which '{target.id}' does not have", f"use one of {', '.join(o.id for o in target.options)}"
    elif target.type != "number":
        yield where, f"{what}uses min/max on '{target.id}', a {target.type} question", "use any_of with option ids"


def _derived(q: Questionnaire) -> Found:
    """A derived answer: a choice of named values, a rule table whose lines give one of them,
    and conditions that read questions the file asks (never another derived answer)."""
    asked = {x.id: x for x in q.all_questions}
    for question in q.all_questions:
        if question.rules:
            yield f"question '{question.id}'", "has rules, but only a derived answer has them", "move it to [[derived]] or remove its rules"
    for derived in q.derived:
        where = f"derived '{derived.id}'"
        if derived.id in asked:
            continue  # _unique_question_ids reports it
        if derived.type != "single":
            yield where, f"is a {derived.type} question", 'a derived answer is type = "single": its options are the values it can take'
            continue
        if not derived.rules:
            yield where, "has no rules", "add [[derived.rules]] tables (value = …, when = [ … ]); the first that holds gives the value"
        if derived.pillar is not None or derived.max_points or derived.ask_if is not None:
            yield where, "is scored or has ask_if", "a derived answer is never asked nor scored: remove pillar, points and ask_if"
        for number, rule in enumerate(derived.rules, start=1):
            line = f"{where} › rule {number} ('{rule.value}')"
            if derived.option(rule.value) is None:
                yield line, f"gives '{rule.value}', which is not one of its options", f"use one of {', '.join(o.id for o in derived.options)}"
            for cond in rule.when + rule.when_any:
                target = asked.get(cond.question)
                if target is None:
                    yield line, f"names an unknown question '{cond.question}'", "name a question of this file (a profile question, usually)"
                else:
                    yield from _fits(cond, target, line, "")


def _numbers(q: Questionnaire) -> Found:
    for question in q.all_questions:
        if question.type != "number":
            continue
        where = f"question '{question.id}'"
        assert question.min is not None and question.max is not None  # the model requires them
        if question.min >= question.max:
            yield where, f"min {question.min:g} is not below max {question.max:g}", "swap or correct them"
        steps = [b.at_least for b in question.bands]
        if steps != sorted(set(steps)):
            yield where, "bands are not in increasing order of at_least", "list bands from the lowest at_least up"
        if question.bands and question.bands[0].at_least > question.min:
            yield where, f"no band covers answers from {question.min:g}", f"start the first band at at_least = {question.min:g}"


def _multi(q: Questionnaire) -> Found:
    for question in q.all_questions:
        if question.type != "multi":
            continue
        where = f"question '{question.id}'"
        full = sum(o.points for o in question.options if o.points > 0)
        if question.cap is not None and question.cap > full:
            yield where, f"cap {question.cap} is more than all options give ({full})", f"lower the cap to {full} or remove it"
        if question.max_choices is not None and not 1 <= question.max_choices <= len(question.options):
            yield where, f"max_choices {question.max_choices} does not fit {len(question.options)} options", "use a number from 1 to the number of options"


def _short_labels(q: Questionnaire) -> Found:
    for question in q.all_questions + q.derived:
        for option in question.options:
            for lang in ("vi", "en"):
                length = len(option.short(lang)) if option.short else 0
                if length > SHORT_LABEL_MAX:
                    yield (f"question '{question.id}' › option '{option.id}'",
                           f"short.{lang} has {length} characters, more than {SHORT_LABEL_MAX}",
                           f"shorten it to at most {SHORT_LABEL_MAX}: it is the text of a chat button")


def _sub_indices(q: Questionnaire) -> Found:
    for question in q.profile:
        if question.sub_index is not None:
            yield f"question '{question.id}'", "profile questions are not scored, so stand for no sub-index", "remove its sub_index"
    for question in q.questions:
        pillar = q.framework.pillar_by_id.get(question.pillar or "")
        if pillar is None:
            continue  # _pillars_known reports it
        where = f"question '{question.id}'"
        known = ", ".join(s.id for s in pillar.sub_indices)
        if question.sub_index is not None and pillar.sub_index(question.sub_index) is None:
            if known:
                yield where, f"sub_index '{question.sub_index}' is not a sub-index of pillar '{pillar.id}'", f"use one of {known}"
            else:
                yield (where, f"sub_index '{question.sub_index}' is given, but pillar '{pillar.id}' has no sub-indices",
                       "declare the pillar's sub_indices in the framework file, or remove sub_index")
        elif q.maps_sub_indices and question.sub_index is None and question.max_points > 0 and known:
            yield where, "has no sub_index, and the file sets maps_sub_indices = true", f"add sub_index = one of {known}"
    if not q.maps_sub_indices:
        return
    for pillar in q.pillars:
        if not pillar.sub_indices:
            yield (f"pillar '{pillar.id}'", "has no sub-indices in the framework, and the file sets maps_sub_indices = true",
                   "declare them in the framework file, or remove maps_sub_indices")
        for sub in pillar.sub_indices:
            if not any(x.pillar == pillar.id and x.sub_index == sub.id and x.max_points > 0 for x in q.questions):
                yield (f"pillar '{pillar.id}' › sub-index '{sub.id}'",
                       f"no scored question stands for it ({sub.points} points in the model), and the file sets maps_sub_indices = true",
                       f'add a question with pillar = "{pillar.id}" and sub_index = "{sub.id}", or remove maps_sub_indices')


def _levels(f: Framework) -> Found:
    numbers = [lv.level for lv in f.levels]
    if numbers != list(range(len(numbers))):
        yield "levels", f"levels are {numbers}", f"number them 0 to {len(numbers) - 1}, in order"
        return
    first = f.levels[0]
    if first.pillar_threshold is not None or first.total_percent_above is not None or first.min_pillars:
        yield "level 0", "has thresholds", "level 0 is where every business starts: remove them"
    previous_pillar, previous_total, previous_min = -1.0, -1.0, 0
    for lv in f.levels[1:]:
        where = f"level {lv.level}"
        if (lv.pillar_percent_at_least is None) == (lv.pillar_percent_above is None):
            yield where, "needs exactly one of pillar_percent_at_least and pillar_percent_above", "give one pillar threshold"
            continue
        if lv.total_percent_above is None:
            yield where, "has no total_percent_above", "give the overall threshold"
            continue
        if not previous_pillar < lv.pillar_threshold <= 100:  # type: ignore[operator]
            yield where, f"pillar threshold {lv.pillar_threshold:g} % is not above the level below ({previous_pillar:g} %)", "thresholds must rise level by level, up to 100"
        if not previous_total < lv.total_percent_above <= 100:
            yield where, f"total threshold {lv.total_percent_above:g} % is not above the level below ({previous_total:g} %)", "thresholds must rise level by level, up to 100"
        if not previous_min <= lv.min_pillars <= len(f.pillars):
            yield where, f"min_pillars {lv.min_pillars} is out of order or above the {len(f.pillars)} pillars", "use a count that does not fall as levels rise"
        previous_pillar, previous_total, previous_min = lv.pillar_threshold, lv.total_percent_above, lv.min_pillars  # type: ignore[assignment]


def _roadmap(f: Framework) -> Found:
    top = len(f.levels) - 1
    for entry in f.roadmap:
        if entry.pillar not in f.pillar_by_id:
            yield f"roadmap for '{entry.pillar}'", "names an unknown pillar", f"use one of {', '.join(f.pillar_by_id)}"
        if not 0 <= entry.level <= top:
            yield f"roadmap for '{entry.pillar}' level {entry.level}", "names an unknown level", f"use 0 to {top}"
    for pillar in f.pillars:
        for level in range(top):
            if not f.steps(pillar.id, level):
                yield f"roadmap for '{pillar.id}' level {level}", "has no steps", "add what a business at this level should do next"


def _unique_pillars(f: Framework) -> Found:
    for pid, count in Counter(p.id for p in f.pillars).items():
        if count > 1:
            yield f"pillar '{pid}'", f"is defined {count} times", "define each pillar once"
    for pillar in f.pillars:
        for sid, count in Counter(s.id for s in pillar.sub_indices).items():
            if count > 1:
                yield f"pillar '{pillar.id}'", f"sub-index '{sid}' is defined {count} times", "define each sub-index once"


CHECKS: list[Callable[[Questionnaire], Found]] = [
    _unique_question_ids, _unique_option_ids, _pillars_known, _pillars_grouped,
    _pillar_points, _conditions, _derived, _numbers, _multi, _short_labels, _sub_indices,
]
FRAMEWORK_CHECKS: list[Callable[[Framework], Found]] = [_unique_pillars, _levels, _roadmap]
