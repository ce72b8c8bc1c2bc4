"""Synthetic assessments that look like a province: for trainers' demos and for benchmarks.

Each made-up business is drawn from a persona (how far along it is); its answers lean to the
options of that persona's level, with noise, so levels, pillars and sectors spread as they
would in a real cohort. Everything is driven by the questionnaire file; nothing here is real.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass

from sme_bot.flows.answers import Value
from sme_bot.flows.engine import applicable
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring import Result, score

# (share of businesses, where their answers sit between the lowest and the best option)
PERSONAS = [(0.40, 0.15), (0.33, 0.40), (0.19, 0.65), (0.08, 0.88)]
# About one owner in eight stops part-way, as at real events.
UNFINISHED = 0.12
# Common sectors of the province first; ids not in a questionnaire are simply not drawn.
SECTOR_WEIGHTS = {"retail": 30, "agriculture": 22, "food": 15, "services": 10, "manufacturing": 10,
                  "construction": 5, "transport": 5, "other": 3}


@dataclass(frozen=True)
class Business:
    answers: dict[str, Value]
    result: Result | None  # None: stopped part-way
    minutes: float  # how long the made-up owner took


def businesses(q: Questionnaire, n: int, *, seed: int = 2026) -> Iterator[Business]:
    rng = random.Random(seed)
    shares, positions = zip(*PERSONAS, strict=True)
    for _ in range(n):
        position = rng.choices(positions, weights=shares)[0]
        answers: dict[str, Value] = {}
        for question in q.all_questions:
            if applicable(q, question, answers):
                answers[question.id] = _answer(question, position, rng)
        # Derived answers (the size class) are stored as a session stores them.
        answers |= {k: v for k, v in q.derive(answers).items() if v is not None}
        minutes = max(2.0, rng.gauss(q.minutes, q.minutes / 3))
        if rng.random() < UNFINISHED:
            kept = dict(list(answers.items())[: rng.randint(1, len(answers) - 1)])
            yield Business(kept, None, minutes=minutes * len(kept) / len(answers))
        else:
            yield Business(answers, score(q, answers), minutes=minutes)


def _answer(question: Question, position: float, rng: random.Random) -> Value:
    where = min(1.0, max(0.0, rng.gauss(position, 0.18)))
    if question.id == "sector":
        known = [o.id for o in question.options]
        weights = [SECTOR_WEIGHTS.get(option, 1) for option in known]
        return rng.choices(known, weights=weights)[0]
    if question.type == "text":
        return None if not question.required else f"Cơ sở mẫu {rng.randint(1, 9999)}"
    if question.type == "number":
        assert question.min is not None and question.max is not None
        if question.bands:
            steps = [b.at_least for b in question.bands]
            low = steps[min(len(steps) - 1, int(where * len(steps)))]
            return float(int(low + rng.random() * 40))
        # Sizes and ages: skewed small, larger for businesses further along.
        value = question.min + rng.expovariate(1 / (3 + 60 * where ** 2))
        return float(min(question.max, int(value)))
    ranked = sorted((o for o in question.options if not o.exclusive), key=lambda o: o.points)
    if question.type == "multi":
        if not question.max_points:
            return tuple(o.id for o in rng.sample(ranked, rng.randint(1, min(3, len(ranked)))))
        count = round(where * len(ranked))
        exclusive = [o.id for o in question.options if o.exclusive]
        if count == 0:
            return (exclusive[0],) if exclusive else (ranked[0].id,)
        chosen = {o.id for o in rng.sample(ranked, count)}
        return tuple(o.id for o in question.options if o.id in chosen)
    if not question.max_points:
        return rng.choice(question.options).id
    return ranked[min(len(ranked) - 1, int(where * len(ranked)))].id
