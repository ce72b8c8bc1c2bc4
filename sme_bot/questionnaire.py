"""The typed, immutable questionnaire: what questionnaires/*.toml hold once loaded and checked.

Only shape and single-field rules live here; rules that relate several parts of a file
(ids unique, conditions pointing backwards, points adding up) are in checks.py, so every
problem can be reported with its place and a fix.
"""

import unicodedata
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sme_bot import messages

Lang = Literal["vi", "en"]
QuestionType = Literal["single", "multi", "yesno", "number", "text"]

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]
NonEmpty = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    AfterValidator(lambda s: unicodedata.normalize("NFC", s)),
]


# Chat buttons show a label whole only up to about this length on a phone; a longer option
# carries a `short` label for its button (checks.py refuses a longer one).
SHORT_LABEL_MAX = 40


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(Model):
    """One text in every supported language."""

    vi: NonEmpty
    en: NonEmpty

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Option(Model):
    id: Id
    label: Text
    points: int = 0
    # "None of these": picking it alone is allowed, alongside others is not.
    exclusive: bool = False
    # What a button shows when the label is too long for one; the full label stays the answer's
    # text everywhere else (and chats print it above the buttons).
    short: Text | None = None

    def button_label(self, lang: str) -> str:
        return self.short(lang) if self.short else self.label(lang)


class Band(Model):
    """Points for a number answer at or above `at_least` (the highest band reached counts)."""

    at_least: float
    points: int


class Condition(Model):
    """Ask a question only when an earlier answer is one of `any_of`, or a number in [min, max]."""

    question: Id
    any_of: tuple[Id, ...] = ()
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Condition":
        if bool(self.any_of) == (self.min is not None or self.max is not None):
            raise ValueError("give either any_of (option ids) or min/max (for a number question)")
        return self

    @cached_property
    def _options(self) -> frozenset[str]:
        return frozenset(self.any_of)

    def holds(self, value: object) -> bool:
        """Whether an answer (an option id, option ids, a number; None when left out) meets it."""
        if value is None:
            return False
        if self.any_of:
            if isinstance(value, tuple | list):
                return not self._options.isdisjoint(value)
            return value in self._options
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Rule(Model):
    """One line of a derived answer's rule table: it gives `value` when every condition in `when`
    holds and, if `when_any` is given, at least one of those holds too. The first line that
    holds wins; when none does, the derived answer is left out (not known)."""

    value: Id
    when: tuple[Condition, ...] = Field(min_length=1)
    when_any: tuple[Condition, ...] = ()

    def holds(self, answers: Mapping[str, object]) -> bool:
        if not all(c.holds(answers.get(c.question)) for c in self.when):
            return False
        return not self.when_any or any(c.holds(answers.get(c.question)) for c in self.when_any)


class Group(Model):
    """A named band of a number answer for staff breakdowns: values up to `at_most` (the last
    band has none and takes the rest)."""

    id: Id
    label: Text
    at_most: float | None = None


class Question(Model):
    id: Id
    type: QuestionType
    text: Text
    help: Text | None = None
    required: bool = True
    pillar: Id | None = None
    # Which of its pillar's sub-indices in the framework this question stands for.
    sub_index: Id | None = None
    options: tuple[Option, ...] = ()
    # multi: the most points one answer can earn; points beyond it are not counted.
    cap: int | None = None
    max_choices: int | None = None
    # yesno: points for each answer; the options themselves are the shared Có/Không.
    yes_points: int = 0
    no_points: int = 0
    # number
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: Text | None = None
    bands: tuple[Band, ...] = ()
    # text
    max_length: int = Field(default=300, ge=1, le=1000)
    ask_if: Condition | None = None
    # Staff summaries can break figures down by this profile answer, under this name ("sector",
    # "size"); a number question gives its bands in `groups`.
    breakdown: Id | None = None
    groups: tuple[Group, ...] = ()
    # A derived answer ([[derived]] in the file): never asked, computed from earlier answers by
    # this rule table (first line that holds) into one of its options.
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _yes_no_options(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("type") == "yesno" and "options" not in data:
            data = dict(data)
            data["options"] = [
                {"id": "yes", "label": messages.both("yes"), "points": data.get("yes_points", 0)},
                {"id": "no", "label": messages.both("no"), "points": data.get("no_points", 0)},
            ]
        return data

    @model_validator(mode="after")
    def _fields_fit_type(self) -> "Question":
        if self.type in ("single", "multi") and len(self.options) < 2:
            raise ValueError(f"a {self.type} question needs at least two options")
        if self.type in ("number", "text") and self.options:
            raise ValueError(f"a {self.type} question has no options; remove them")
        if self.type == "number" and (self.min is None or self.max is None):
            raise ValueError("a number question needs min and max")
        if self.type != "multi" and (self.cap is not None or self.max_choices is not None):
            raise ValueError("cap and max_choices are for multi questions only")
        if self.breakdown and self.type not in ("single", "yesno", "number"):
            raise ValueError("a breakdown needs a single-choice or number question")
        if self.breakdown and (self.type == "number") != bool(self.groups):
            raise ValueError("a number question used as a breakdown needs groups (and only it has them)")
        limits = [g.at_most for g in self.groups[:-1]]
        if any(limit is None for limit in limits):
            raise ValueError("every group but the last needs at_most; the last takes the rest")
        if limits != sorted(set(limits)):  # type: ignore[type-var]
            raise ValueError("groups' at_most must rise from one group to the next")
        return self

    @property
    def choices(self) -> bool:
        return self.type in ("single", "multi", "yesno")

    @property
    def max_points(self) -> int:
        if self.type == "multi":
            total = sum(o.points for o in self.options if o.points > 0)
            return min(total, self.cap) if self.cap is not None else total
        if self.choices:
            return max(o.points for o in self.options)
        return max((b.points for b in self.bands), default=0)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def group_label(self, group: str) -> Text | None:
        """What a staff-figure group of this breakdown question is called: its band's or its
        option's label; None for a group it does not name."""
        named = {g.id: g.label for g in self.groups} | {o.id: o.label for o in self.options}
        return named.get(group)


class SubIndex(Model):
    """A part of a pillar in the source model, with the points it carries there; questions name
    it with `sub_index` so the file shows which parts of the model it asks about."""

    id: Id
    name: Text
    points: int = Field(gt=0)


class Pillar(Model):
    id: Id
    name: Text
    description: Text
    # How much a gap in this pillar matters when ranking roadmap steps.
    weight: float = Field(gt=0)
    sub_indices: tuple[SubIndex, ...] = ()

    def sub_index(self, sub_id: str) -> SubIndex | None:
        return next((s for s in self.sub_indices if s.id == sub_id), None)


class Level(Model):
    level: int = Field(ge=0)
    name: Text
    meaning: Text
    # A pillar reaches this level at a share of its maximum; the two spellings exist because
    # the DBI's bands are closed at 10 % but open at 20, 40, 60 and 80 %.
    pillar_percent_at_least: float | None = None
    pillar_percent_above: float | None = None
    # The overall level needs the total above this share and enough pillars at this level.
    total_percent_above: float | None = None
    min_pillars: int = Field(default=0, ge=0)

    @property
    def pillar_threshold(self) -> float | None:
        if self.pillar_percent_at_least is not None:
            return self.pillar_percent_at_least
        return self.pillar_percent_above

    def pillar_reached(self, percent: float) -> bool:
        if self.pillar_percent_at_least is not None:
            return percent >= self.pillar_percent_at_least
        if self.pillar_percent_above is not None:
            return percent > self.pillar_percent_above
        return True

    def overall_reached(self, percent: float, pillar_levels: list[int]) -> bool:
        if self.total_percent_above is not None and not percent > self.total_percent_above:
            return False
        return sum(level >= self.level for level in pillar_levels) >= self.min_pillars


class RoadmapEntry(Model):
    """What a business whose pillar stands at `level` should do next."""

    pillar: Id
    level: int
    steps: tuple[Text, ...] = Field(min_length=1)


class Framework(Model):
    """A readiness model: pillars, the level ladder and the roadmap. Shared by questionnaires."""

    id: Id
    name: Text
    source: NonEmpty
    pillars: tuple[Pillar, ...] = Field(min_length=1)
    levels: tuple[Level, ...] = Field(min_length=2)
    roadmap: tuple[RoadmapEntry, ...] = ()
    roadmap_shown: int = Field(default=5, ge=1, le=10)

    @cached_property
    def pillar_by_id(self) -> dict[str, Pillar]:
        return {p.id: p for p in self.pillars}

    def steps(self, pillar: str, level: int) -> tuple[Text, ...]:
        for entry in self.roadmap:
            if entry.pillar == pillar and entry.level == level:
                return entry.steps
        return ()


class Questionnaire(Model):
    id: Id
    version: NonEmpty
    title: Text
    description: Text
    languages: tuple[Lang, ...] = ("vi", "en")
    minutes: int = Field(ge=1)
    framework: Framework
    # Declared so a file's author states the intended maximum and the loader checks it.
    pillar_max: dict[Id, int]
    # The file claims to cover every sub-index of every pillar: `validate` then names any that no
    # question stands for, and any scored question without a sub_index.
    maps_sub_indices: bool = False
    profile: tuple[Question, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)
    # Answers computed from others by a rule table (the size class of Decree 80/2021, say):
    # never asked, stored with the answers as soon as their inputs allow, so staff figures can
    # break results down by them like by any profile answer.
    derived: tuple[Question, ...] = ()

    @model_validator(mode="after")
    def _both_languages(self) -> "Questionnaire":
        if sorted(self.languages) != ["en", "vi"]:
            raise ValueError('languages must be ["vi", "en"]: every text exists in both')
        return self

    @cached_property
    def all_questions(self) -> tuple[Question, ...]:
        """Profile questions first, then the scored ones, in the order they are asked."""
        return self.profile + self.questions

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        """Every question by id, derived answers included (they are stored like answers)."""
        return {q.id: q for q in self.all_questions + self.derived}

    @cached_property
    def breakdowns(self) -> dict[str, Question]:
        """The profile questions and derived answers staff figures can be broken down by, by
        breakdown name."""
        return {x.breakdown: x for x in self.profile + self.derived if x.breakdown}

    @cached_property
    def derived_inputs(self) -> frozenset[str]:
        """The questions whose answers a derived answer's rules read."""
        return frozenset(c.question for x in self.derived for rule in x.rules for c in rule.when + rule.when_any)

    def derive(self, answers: Mapping[str, object]) -> dict[str, str | None]:
        """Each derived answer as these answers give it: the value of the first rule that holds,
        or None when none does (inputs missing or unknown)."""
        return {x.id: next((rule.value for rule in x.rules if rule.holds(answers)), None) for x in self.derived}

    @cached_property
    def position(self) -> dict[str, int]:
        return {q.id: i for i, q in enumerate(self.all_questions)}

    @property
    def pillars(self) -> tuple[Pillar, ...]:
        return self.framework.pillars

    @property
    def levels(self) -> tuple[Level, ...]:
        return self.framework.levels

    def level(self, number: int) -> Level:
        return self.framework.levels[number]
