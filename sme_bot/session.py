"""One person's assessment, shared by every channel: engine turns, stored before they are shown.

The state is rebuilt from the database on every open, so a crashed or restarted process
resumes at the question the person was on with every earlier answer kept.
"""

from dataclasses import dataclass

from sme_bot.flows import engine
from sme_bot.flows.engine import Finished, State, Step, Turn
from sme_bot.questionnaire import Questionnaire
from sme_bot.scoring import Result, score
from sme_bot.storage import Assessment, Store

# Bumped whenever the consent text in messages.toml changes meaning; stored with each consent.
CONSENT_VERSION = "2026-11"


@dataclass
class Session:
    store: Store
    questionnaire: Questionnaire
    assessment: Assessment
    state: State

    @classmethod
    def new(cls, store: Store, q: Questionnaire, respondent_id: int, *, channel: str, language: str,
            cohort: str | None = None) -> "Session":
        assessment = store.start_assessment(respondent_id, questionnaire_id=q.id, questionnaire_version=q.version,
                                            channel=channel, language=language, cohort=cohort)
        return cls(store, q, assessment, State())

    @classmethod
    def resume(cls, store: Store, q: Questionnaire, assessment: Assessment) -> "Session":
        session = cls(store, q, assessment, State(store.answers(assessment.id)))
        # A crash between the last answer and storing its result leaves a finished assessment
        # still open; finishing it here loses nothing.
        session._finish_if_done(session.step())
        return session

    @property
    def language(self) -> str:
        return self.assessment.language

    def step(self) -> Step:
        return engine.step(self.questionnaire, self.state)

    def answer(self, text: str) -> Step:
        return self._apply(engine.answer(self.questionnaire, self.state, text))

    def choose(self, question_id: str, value: object) -> Step:
        return self._apply(engine.choose(self.questionnaire, self.state, question_id, value))

    def skip(self) -> Step:
        return self._apply(engine.skip(self.questionnaire, self.state))

    def back(self) -> Step:
        return self._apply(engine.back(self.questionnaire, self.state))

    def restart(self) -> "Session":
        """Close this assessment as abandoned (its answers stay in the history) and begin anew."""
        self.store.abandon(self.assessment.id)
        return Session.new(self.store, self.questionnaire, self.assessment.respondent_id,
                           channel=self.assessment.channel, language=self.language, cohort=self.assessment.cohort)

    def result(self) -> Result:
        return score(self.questionnaire, self.state.answers)

    @property
    def answered(self) -> int:
        return len(self.state.answers)

    def _apply(self, turn: Turn) -> Step:
        if turn.recorded is not None:
            question_id, value = turn.recorded
            self.store.record_answer(self.assessment.id, question_id, value, withdrawn=turn.withdrawn)
        self.state = turn.state
        self._finish_if_done(turn.step)
        return turn.step

    def _finish_if_done(self, step: Step) -> None:
        if isinstance(step, Finished) and self.assessment.status == "in_progress":
            self.store.complete(self.assessment.id, self.result())
            self.assessment = self.store.assessment(self.assessment.id)
