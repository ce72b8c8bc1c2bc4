"""Scoring: a pure function from a questionnaire and answers to a result."""

from sme_bot.scoring.peers import Peers, compare
from sme_bot.scoring.result import NextLevel, PillarResult, Result, RoadmapStep
from sme_bot.scoring.score import score

__all__ = ["NextLevel", "Peers", "PillarResult", "Result", "RoadmapStep", "compare", "score"]
