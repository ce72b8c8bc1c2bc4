"""What scoring returns: levels, points and the roadmap, ready to render or store."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from sme_bot.questionnaire import Text


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

    @property
    def top_steps(self) -> tuple[RoadmapStep, ...]:
        return self.roadmap[: self.shown]

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
        }
