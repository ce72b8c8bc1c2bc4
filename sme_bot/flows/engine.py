"""The conversation, as pure functions: given a questionnaire, a state and one input, the next step.

The state is nothing but the current answers; where the conversation stands (which question,
"5/32") is derived from them, so a state rebuilt from stored answers resumes exactly.
Channels call these functions and store `Turn.recorded` before showing `Turn.step`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sme_bot.flows.answers import Reason, Value, accept, parse
from sme_bot.questionnaire import Question, Questionnaire


@dataclass(frozen=True)
class State:
    answers: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))

    def with_answer(self, question_id: str, value: Value) -> "State":
        return State(MappingProxyType({**self.answers, question_id: value}))

    def without(self, question_id: str) -> "State":
        return State(MappingProxyType({k: v for k, v in self.answers.items() if k != question_id}))


@dataclass(frozen=True)
class Prompt:
    question: Question
    index: int  # 1-based position among the questions this business is asked
    total: int

    @property
    def pillar(self) -> str | None:
        return self.question.pillar


@dataclass(frozen=True)
class Ask:
    prompt: Prompt


@dataclass(frozen=True)
class Reject:
    reason: Reason
    prompt: Prompt | None  # None when the assessment is already finished


@dataclass(frozen=True)
class Finished:
    pass


Step = Ask | Reject | Finished


@dataclass(frozen=True)
class Turn:
    state: State
    step: Step
    # The answer to store before the step is shown: (question id, value); value None with
    # `withdrawn` means the answer was taken back (/back).
    recorded: tuple[str, Value] | None = None
    withdrawn: bool = False
    # Derived answers that changed with it, to store too: (id, value), None meaning withdrawn.
    derived: tuple[tuple[str, Value], ...] = ()


def applicable(q: Questionnaire, question: Question, answers: Mapping[str, Value], *, unknown: bool = False) -> bool:
    """Whether `question` is asked, given earlier answers; `unknown` is the verdict when the
    answer its condition reads is not given yet."""
    cond = question.ask_if
    if cond is None:
        return True
    if cond.question not in answers:
        return unknown
    return cond.holds(answers[cond.question])


def asked(q: Questionnaire, answers: Mapping[str, Value]) -> list[Question]:
    """The questions this business is asked, as far as its answers tell."""
    # Unconditional questions tested inline: this runs a few times for every answer.
    return [x for x in q.all_questions if x.ask_if is None or applicable(q, x, answers, unknown=True)]


def most_questions(q: Questionnaire) -> int:
    """How many questions a business is asked at most: the total its first question shows."""
    first = prompt(q, State())
    return first.total if first else 0


def current(q: Questionnaire, state: State) -> Question | None:
    return next((x for x in asked(q, state.answers) if x.id not in state.answers), None)


def prompt(q: Questionnaire, state: State) -> Prompt | None:
    questions = asked(q, state.answers)
    for index, question in enumerate(questions, start=1):
        if question.id not in state.answers:
            return Prompt(question, index, _total(q, questions, state.answers))
    return None


def _total(q: Questionnaire, questions: list[Question], answers: Mapping[str, Value]) -> int:
    """How many questions the business will be asked, as far as its answers tell. Questions that
    wait on the same unanswered single choice for options no two of them share (the commune of
    one former province or of the other) count once: only one of them can be asked."""
    waiting: dict[str, list[set[str]]] = {}
    alternatives = 0
    for question in questions:
        cond = question.ask_if
        if cond is None or not cond.any_of or cond.question in answers:
            continue
        if q.question_by_id[cond.question].type == "multi":
            continue
        others = waiting.setdefault(cond.question, [])
        if others and all(not set(cond.any_of) & other for other in others):
            alternatives += 1
        others.append(set(cond.any_of))
    return len(questions) - alternatives


def step(q: Questionnaire, state: State) -> Step:
    """What to show for `state` with no new input: the current question or the end."""
    shown = prompt(q, state)
    return Ask(shown) if shown else Finished()


def start(q: Questionnaire) -> Turn:
    state = State()
    return Turn(state, step(q, state))


def answer(q: Questionnaire, state: State, text: str) -> Turn:
    """Take one typed answer for the current question."""
    question = current(q, state)
    if question is None:
        return Turn(state, Reject(Reason("finished"), None))
    return _take(q, state, question, parse(question, text))


def choose(q: Questionnaire, state: State, question_id: str, value: object) -> Turn:
    """Take an answer given for a named question (a button): stale if it is not the current one."""
    question = current(q, state)
    if question is None:
        return Turn(state, Reject(Reason("finished"), None))
    if question.id != question_id:
        return Turn(state, Reject(Reason("stale"), prompt(q, state)))
    return _take(q, state, question, accept(question, value))


def skip(q: Questionnaire, state: State) -> Turn:
    question = current(q, state)
    if question is None:
        return Turn(state, Reject(Reason("finished"), None))
    if question.required:
        return Turn(state, Reject(Reason("required"), prompt(q, state)))
    return _take(q, state, question, None)


def back(q: Questionnaire, state: State) -> Turn:
    """Withdraw the answer to the question asked before the current one, and ask it again."""
    question = current(q, state)
    earlier = [x for x in asked(q, state.answers) if x.id in state.answers]
    if question is not None:
        earlier = [x for x in earlier if q.position[x.id] < q.position[question.id]]
    if not earlier:
        return Turn(state, Reject(Reason("nothing_to_undo"), prompt(q, state)))
    previous = earlier[-1].id
    new_state, derived = _derive(q, state.without(previous), previous)
    return Turn(new_state, step(q, new_state), recorded=(previous, None), withdrawn=True, derived=derived)


def _take(q: Questionnaire, state: State, question: Question, value: Value | Reason) -> Turn:
    if isinstance(value, Reason):
        return Turn(state, Reject(value, prompt(q, state)))
    new_state, derived = _derive(q, state.with_answer(question.id, value), question.id)
    return Turn(new_state, step(q, new_state), recorded=(question.id, value), derived=derived)


def _derive(q: Questionnaire, state: State, changed_id: str) -> tuple[State, tuple[tuple[str, Value], ...]]:
    """The state with its derived answers brought up to date after `changed_id`'s answer
    changed, and those that changed with it (none unless a rule reads that answer)."""
    if changed_id not in q.derived_inputs:
        return state, ()
    changed: list[tuple[str, Value]] = []
    for derived_id, value in q.derive(state.answers).items():
        if state.answers.get(derived_id) == value:
            continue
        state = state.with_answer(derived_id, value) if value is not None else state.without(derived_id)
        changed.append((derived_id, value))
    return state, tuple(changed)


def is_valid(q: Questionnaire, state: State) -> bool:
    """Every stored answer belongs to a known question and is a value that question accepts."""
    for question_id, value in state.answers.items():
        question = q.question_by_id.get(question_id)
        if question is None:
            return False
        if value is None:
            if question.required:
                return False
        elif isinstance(accept(question, list(value) if isinstance(value, tuple) else value), Reason):
            return False
    return True
