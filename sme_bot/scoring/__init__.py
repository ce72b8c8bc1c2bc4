"""Scoring: a pure function from a questionnaire and answers to a result."""

from sme_bot.scoring.result import PillarResult, Result, RoadmapStep
from sme_bot.scoring.score import score

__all__ = ["PillarResult", "Result", "RoadmapStep", "score"]
