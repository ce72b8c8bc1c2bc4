"""One assessment being answered: engine turns, each stored before it is shown.

The state is rebuilt from the database whenever an assessment is opened, so a crashed or
restarted process resumes at the question the person was on with every earlier answer kept.
Sessions are made by the assessment service (service.py), which holds the rules around them.
"""

from dataclasses import dataclass, field

from sme_bot.flows import engine
from sme_bot.flows.engine import Finished, Reject, State, Step, Turn
from sme_bot.questionnaire import Questionnaire
from sme_bot.scoring import Result, score
from sme_bot.storage import Assessment
from sme_bot.storage.assessments import AssessmentRows


@dataclass
class Session:
    rows: AssessmentRows
    questionnaire: Questionnaire
    assessment: Assessment
    state: State
    # The step for `state`, worked out once: a chat asks for it several times an answer.
    _shown: tuple[State, Step] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def open(cls, rows: AssessmentRows, q: Questionnaire, assessment: Assessment) -> "Session":
        session = cls(rows, q, assessment, State(rows.answers(assessment.id)))
        # A crash between the last answer and storing its result leaves a finished assessment
        # still open; finishing it here loses nothing.
        session._finish_if_done(session.step())
        return session

    @property
    def language(self) -> str:
        return self.assessment.language

    @property
    def answered(self) -> int:
        return len(self.state.answers)

    def step(self) -> Step:
        if self._shown is None or self._shown[0] is not self.state:
            self._shown = (self.state, engine.step(self.questionnaire, self.state))
        return self._shown[1]

    def answer(self, text: str) -> Step:
        return self._apply(engine.answer(self.questionnaire, self.state, text))

    def choose(self, question_id: str, value: object) -> Step:
        return self._apply(engine.choose(self.questionnaire, self.state, question_id, value))

    def skip(self) -> Step:
        return self._apply(engine.skip(self.questionnaire, self.state))

    def back(self) -> Step:
        return self._apply(engine.back(self.questionnaire, self.state))

    def result(self) -> Result:
        return score(self.questionnaire, self.state.answers)

    def _apply(self, turn: Turn) -> Step:
        if turn.recorded is not None:
            question_id, value = turn.recorded
            self.rows.record_answer(self.assessment.id, question_id, value, withdrawn=turn.withdrawn)
            for derived_id, derived in turn.derived:
                self.rows.record_answer(self.assessment.id, derived_id, derived, withdrawn=derived is None)
        self.state = turn.state
        if not isinstance(turn.step, Reject):  # a refusal is said once; the question stays on screen
            self._shown = (turn.state, turn.step)
        self._finish_if_done(turn.step)
        return turn.step

    def _finish_if_done(self, step: Step) -> None:
        if isinstance(step, Finished) and self.assessment.status == "in_progress":
            self.rows.complete(self.assessment.id, self.result())
            self.assessment = self.rows.get(self.assessment.id) or self.assessment
