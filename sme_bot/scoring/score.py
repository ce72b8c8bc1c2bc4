"""Points, levels and the roadmap by the questionnaire's own stage model."""

from collections.abc import Mapping

from sme_bot.flows.answers import Value
from sme_bot.flows.engine import applicable
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring.result import NextLevel, PillarResult, Result, RoadmapStep


def score(q: Questionnaire, answers: Mapping[str, Value]) -> Result:
    pillars = tuple(_pillar(q, pillar_id, answers) for pillar_id in (p.id for p in q.pillars))
    points = sum(p.points for p in pillars)
    max_points = sum(p.max_points for p in pillars)
    percent = _percent(points, max_points)
    levels = [p.level for p in pillars]
    level = max(lv.level for lv in q.levels if lv.overall_reached(percent, levels))
    return Result(
        questionnaire=q.id,
        version=q.version,
        level=level,
        level_name=q.level(level).name,
        level_meaning=q.level(level).meaning,
        points=points,
        max_points=max_points,
        percent=round(percent, 1),
        pillars=pillars,
        roadmap=_roadmap(q, pillars),
        shown=q.framework.roadmap_shown,
        next_level=next_level(q, level, points, max_points, pillars),
        at_top=level == max(lv.level for lv in q.levels),
    )


def next_level(q: Questionnaire, level: int, points: int, max_points: int,
               pillars: tuple[PillarResult, ...]) -> NextLevel | None:
    """The framework's rule for the level above `level`, read from its data, and how far this
    result is from each part of it; None at the top."""
    target = next((lv for lv in q.levels if lv.level == level + 1), None)
    if target is None:
        return None
    share = target.total_percent_above
    points_above = None if share is None else round(max_points * share / 100, 1)
    threshold = target.pillar_threshold
    behind = [p for p in pillars if not target.pillar_reached(p.percent)]
    at = len(pillars) - len(behind)
    # Closest first: the smallest gap to the threshold, then the pillar the model weighs more.
    weights = q.framework.pillar_by_id
    behind.sort(key=lambda p: ((threshold or 0) - p.percent, -weights[p.id].weight))
    missing = max(0, target.min_pillars - at)
    return NextLevel(level=target.level, name=target.name, points_above=points_above,
                     points_met=points_above is None or points > points_above, min_pillars=target.min_pillars,
                     pillar_threshold=threshold, threshold_inclusive=target.pillar_percent_at_least is not None,
                     pillars_at=at, closest=tuple(p.id for p in behind[:missing]))


def points_for(question: Question, value: Value) -> int:
    if value is None or not question.max_points:
        return 0
    if question.type == "number":
        assert isinstance(value, int | float)
        return max((b.points for b in question.bands if value >= b.at_least), default=0)
    chosen = set(value) if isinstance(value, tuple) else {value}
    total = sum(o.points for o in question.options if o.id in chosen)
    return min(total, question.max_points)


def _pillar(q: Questionnaire, pillar_id: str, answers: Mapping[str, Value]) -> PillarResult:
    # A question skipped by its condition is not asked, so it counts neither for nor against.
    asked = [x for x in q.questions if x.pillar == pillar_id and applicable(q, x, answers)]
    points = sum(points_for(x, answers.get(x.id)) for x in asked)
    max_points = sum(x.max_points for x in asked)
    percent = _percent(points, max_points)
    level = max(lv.level for lv in q.levels if lv.pillar_reached(percent))
    return PillarResult(id=pillar_id, name=q.framework.pillar_by_id[pillar_id].name, points=points,
                        max_points=max_points, percent=round(percent, 1), level=level)


def _percent(points: int, max_points: int) -> float:
    return 100 * points / max_points if max_points else 0.0


def _roadmap(q: Questionnaire, pillars: tuple[PillarResult, ...]) -> tuple[RoadmapStep, ...]:
    """Each pillar's steps for its own level, taken in rounds: the first step of every pillar,
    largest weighted gap first, then every second step, and so on. The first few shown then
    reach across the weakest pillars instead of piling up on one."""
    weights = q.framework.pillar_by_id
    by_gap = sorted(pillars, key=lambda p: -weights[p.id].weight * (100 - p.percent))
    lists = [(p, q.framework.steps(p.id, p.level)) for p in by_gap]
    ordered = [
        (p, round_, steps[round_]) for round_ in range(max((len(s) for _, s in lists), default=0))
        for p, steps in lists if round_ < len(steps)
    ]
    return tuple(RoadmapStep(pillar=p.id, level=p.level, index=index, text=text, priority=i)
                 for i, (p, index, text) in enumerate(ordered, start=1))
