"""What scoring returns: levels, points and the roadmap, ready to render or store."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from sme_bot.questionnaire import Text

# How many pillars a result names as strengths.
STRENGTHS = 2


class PillarResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: Text
    points: int
    max_points: int
    percent: float
    level: int


class RoadmapStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    pillar: str
    level: int
    index: int  # which of the framework's steps for this pillar and level
    text: Text
    priority: int  # 1 is the first thing to do


class NextLevel(BaseModel):
    """What the framework's rule asks for the level above the one reached: the total above a share
    of the maximum and enough pillars at that level, with where this result stands on each."""

    model_config = ConfigDict(frozen=True)

    level: int
    name: Text
    # More than this many points are needed (None: the level asks no total).
    points_above: float | None
    # At least this many pillars at the level (0: the level asks none), each at its threshold.
    min_pillars: int
    pillar_threshold: float | None
    threshold_inclusive: bool  # "at least" the threshold, else "above" it
    pillars_at: int  # pillars already at the level or higher
    # The pillars not yet at the level, closest to its threshold first: as many as are still missing.
    closest: tuple[str, ...]
    points_met: bool  # the total is already above what the level asks


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    questionnaire: str
    version: str
    level: int
    level_name: Text
    level_meaning: Text
    points: int
    max_points: int
    percent: float
    pillars: tuple[PillarResult, ...]
    roadmap: tuple[RoadmapStep, ...]
    shown: int  # how many roadmap steps to show first
    # The framework's rule for the next level up; None at the top level (and in results stored
    # before it was kept).
    next_level: NextLevel | None = None
    at_top: bool = False  # the framework has no level above this one

    @property
    def top_steps(self) -> tuple[RoadmapStep, ...]:
        return self.roadmap[: self.shown]

    @property
    def more_steps(self) -> tuple[RoadmapStep, ...]:
        return self.roadmap[self.shown:]

    @property
    def strengths(self) -> tuple[PillarResult, ...]:
        """The best pillars: the two highest shares among those that reached a level above the
        lowest (none when no pillar did), in the questionnaire's order when tied."""
        reached = [p for p in self.pillars if p.level > 0]
        return tuple(sorted(reached, key=lambda p: -p.percent)[:STRENGTHS])

    def to_json(self, lang: str) -> dict[str, Any]:
        """The result for machines (design.md's `score` contract), texts in `lang`."""
        return {
            "questionnaire": self.questionnaire,
            "version": self.version,
            "level": self.level,
            "level_name": self.level_name(lang),
            "points": self.points,
            "max_points": self.max_points,
            "percent": self.percent,
            "pillars": [
                {"id": p.id, "name": p.name(lang), "points": p.points, "max_points": p.max_points,
                 "percent": p.percent, "level": p.level}
                for p in self.pillars
            ],
            "roadmap": [
                {"pillar": s.pillar, "level": s.level, "text": s.text(lang), "priority": s.priority,
                 "shown": s.priority <= self.shown}
                for s in self.roadmap
            ],
            "strengths": [p.id for p in self.strengths],
            "next_level": None if self.next_level is None else {
                "level": self.next_level.level, "name": self.next_level.name(lang),
                "points_above": self.next_level.points_above, "points_met": self.next_level.points_met,
                "min_pillars": self.next_level.min_pillars, "pillar_threshold": self.next_level.pillar_threshold,
                "pillars_at": self.next_level.pillars_at, "closest": list(self.next_level.closest),
            },
        }
