"""A cohort summary from the store's aggregates: pure arithmetic, no SQL, no I/O.

Groups with fewer completed assessments than the minimum are merged into "other", so no
single business can be picked out of a breakdown.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from sme_bot.questionnaire import Questionnaire, Text

# Not a valid question or option id, so it can never be taken for a real group ("other" can).
OTHER = "(other)"
ALL = "all"


class GroupSummary(BaseModel):
    group: str
    started: int  # assessments
    completed: int  # assessments
    completion_rate: float  # percent
    median_minutes: float | None
    levels: dict[int, int]  # businesses, each by its latest result
    pillars: dict[str, float]  # average percent of each pillar's maximum, over businesses' latest results


class StepCount(BaseModel):
    pillar: str
    level: int
    text: Text
    count: int


class Retakes(BaseModel):
    businesses: int
    level_change: dict[int, int]  # levels gained (negative: lost) → businesses
    pillar_change: dict[str, float]  # average change in percent points


class Summary(BaseModel):
    cohort: str | None
    by: str | None
    total: GroupSummary
    groups: list[GroupSummary]
    top_steps: list[StepCount]
    support_by_pillar: dict[str, int]
    retakes: Retakes
    # The questionnaire version these figures are of, and the completed assessments in scope of
    # every version: other versions have figures of their own, which the summary points to.
    version: str = ""
    versions: dict[str, int] = {}


class _Group:
    def __init__(self) -> None:
        self.started = self.completed = 0
        self.durations: Counter[float] = Counter()  # minutes (to 0.1) → assessments: bounded, however many rows
        self.levels: dict[int, int] = defaultdict(int)
        self.pillar_sums: dict[str, float] = defaultdict(float)
        self.pillar_counts: dict[str, int] = defaultdict(int)

    def absorb(self, other: "_Group") -> None:
        self.started += other.started
        self.completed += other.completed
        self.durations.update(other.durations)
        for level, count in other.levels.items():
            self.levels[level] += count
        for pillar, total in other.pillar_sums.items():
            self.pillar_sums[pillar] += total
            self.pillar_counts[pillar] += other.pillar_counts[pillar]

    def summary(self, name: str, q: Questionnaire) -> GroupSummary:
        return GroupSummary(
            group=name, started=self.started, completed=self.completed,
            completion_rate=round(100 * self.completed / self.started, 1) if self.started else 0.0,
            median_minutes=_median(self.durations),
            levels={lv.level: self.levels.get(lv.level, 0) for lv in q.levels},
            pillars={p.id: round(self.pillar_sums[p.id] / self.pillar_counts[p.id], 1)
                     for p in q.pillars if self.pillar_counts.get(p.id)},
        )


def summarise(aggregates: dict[str, list[tuple[Any, ...]]], q: Questionnaire, *, cohort: str | None,
              by: str | None, min_group: int = 5, versions: dict[str, int] | None = None) -> Summary:
    """The figures of `q` (the version they are of) from storage's aggregates; `versions`: the
    completed assessments of every version in scope, this one's included."""
    groups: dict[str, _Group] = defaultdict(_Group)
    for name, done, minutes, count in aggregates["assessments"]:
        group = groups[str(name)]
        group.started += count
        if done:
            group.completed += count
            if minutes is not None:
                group.durations[minutes] += count
    for name, level, count in aggregates["levels"]:
        groups[str(name)].levels[level] += count
    for name, pillar, total, count in aggregates["pillars"]:
        groups[str(name)].pillar_sums[pillar] += total
        groups[str(name)].pillar_counts[pillar] += count

    total = _Group()
    for group in groups.values():
        total.absorb(group)
    shown: dict[str, _Group] = {}
    other = _Group()
    for name in sorted(groups, key=_order(q, by)):
        if groups[name].completed >= min_group:
            shown[name] = groups[name]
        else:
            other.absorb(groups[name])
    if other.started:
        shown[OTHER] = other

    retake_pillars = {pillar: round(change, 1) for pillar, change, _ in aggregates["retakes"]}
    retake_counts = [count for _, _, count in aggregates["retakes"]]
    return Summary(
        cohort=cohort, by=by,
        total=total.summary(ALL, q),
        groups=[group.summary(name, q) for name, group in shown.items()] if by else [],
        top_steps=[StepCount(pillar=pillar, level=level, text=_step_text(q, pillar, level, step), count=count)
                   for pillar, level, step, count in aggregates["steps"]],
        support_by_pillar={pillar: count for pillar, count in aggregates["support"]},
        retakes=Retakes(businesses=max(retake_counts, default=0),
                        level_change={change: count for change, count in aggregates["retake_levels"]},
                        pillar_change=retake_pillars),
        version=q.version,
        versions=dict(sorted((versions or {}).items())),
    )


def _median(counts: Counter[float]) -> float | None:
    """The median of values given with how often each occurs (None for none), to 0.1."""
    total = counts.total()
    if not total:
        return None
    ordered = sorted(counts)

    def at(position: int) -> float:
        """The value at a 0-based position of the values in order."""
        seen = 0
        for value in ordered:
            seen += counts[value]
            if seen > position:
                return value
        raise IndexError(position)

    return round((at((total - 1) // 2) + at(total // 2)) / 2, 1)


def _order(q: Questionnaire, by: str | None) -> Callable[[str], tuple[int, str]]:
    """Groups in the questionnaire's own order (sizes from micro to large, sectors as listed),
    unknown ones (a cohort code, "-") after them by name."""
    question = q.breakdowns.get(by or "")
    known = [g.id for g in question.groups] + [o.id for o in question.options] if question else []
    return lambda name: (known.index(name), "") if name in known else (len(known), name)


def group_label(q: Questionnaire, by: str | None, group: str, lang: str) -> str:
    """What a group is called: the option's or band's label of the breakdown's question."""
    from sme_bot.messages import say

    if group == OTHER:
        return say("group_other", lang)
    question = q.breakdowns.get(by or "")
    label = question.group_label(group) if question is not None else None
    return label(lang) if label is not None else group


def field_name(field: str, lang: str) -> str:
    """What a breakdown field is called: its name in messages.toml, else (a profile question added
    to a questionnaire since) its id."""
    from sme_bot.messages import say

    try:
        return say(f"field_{field}", lang)
    except KeyError:
        return field


def retakes_line(summary: Summary, q: Questionnaire, lang: str) -> str:
    """How businesses that retook the assessment moved, pillar by pillar, by name."""
    from sme_bot.messages import say

    changes = summary.retakes.pillar_change
    change = ", ".join(f"{p.name(lang)} {changes[p.id]:+.1f}" for p in q.pillars if p.id in changes)
    return say("staff_retakes", lang, n=summary.retakes.businesses, change=change)


def versions_line(version: str, versions: dict[str, int], lang: str) -> str | None:
    """When versions other than `version` have completed assessments (`versions`), which and how
    many: they are in figures and files of their own. None when there are none."""
    from sme_bot.messages import say

    others = {other: count for other, count in versions.items() if other != version}
    if not others:
        return None
    counts = ", ".join(f"{other}: {count}" for other, count in others.items())
    return say("staff_versions", lang, version=version, counts=counts)


def _step_text(q: Questionnaire, pillar: str, level: int, step: int) -> Text:
    steps = q.framework.steps(pillar, level)
    return steps[step] if step < len(steps) else Text(vi=f"{pillar} {level}.{step}", en=f"{pillar} {level}.{step}")
