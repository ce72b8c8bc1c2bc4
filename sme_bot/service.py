"""The assessment service: every rule of an assessment that is not pure, for every channel.

Channels (console, chat conversation, web pages) call this and nothing below it: who a person
is (channel + outside id), consent per purpose, open-or-resume with one rule for questionnaire
versions, cohorts and their questionnaires, answering through a Session, results and the change
since last time, support requests, deletion and reminders. The same answers give the same
stored result whichever channel they came through.
"""

import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.errors import QuestionnaireError
from sme_bot.questionnaire import Question, Questionnaire, Text
from sme_bot.scoring import Peers, Result, compare
from sme_bot.session import Session
from sme_bot.storage import Assessment, Grouping, Person, Store
from sme_bot.storage.chats import ChatRows

# The date of the consent text in messages.toml, stored with each consent: changed whenever the
# text changes meaning, which asks everyone again.
CONSENT_VERSION = "2026-11-25"
# What an owner is asked to agree to, each on its own: their own result is computed and kept
# (needed to take part), and the answers are shared with the programme's staff.
PURPOSES = ("result", "staff")
# A contact left with a support request: a phone number or a Zalo name, never an essay.
CONTACT_LENGTH = 100
# How long a figure over every business (a measured time estimate, the level counts that peer
# comparisons read) is used before it is worked out again: on a province's database each reads
# every completed assessment, a good part of a second, which no owner's next message should wait for.
FIGURES_KEPT = timedelta(minutes=10)
# Cohort codes travel in links and chat messages: letters, digits, - and _ only.
COHORT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# How long a chat channel remembers an update it handled, to drop a second copy. Telegram keeps
# an update it could not deliver for 24 hours, so a second copy comes within a day; a week is
# far beyond that.
UPDATES_REMEMBERED = timedelta(days=7)
# Similar businesses: those with the same answers to the profile questions marked as these
# breakdowns (the sector, and the size band).
PEER_BREAKDOWNS = ("sector", "size")


class Questionnaires:
    """The questionnaires a deployment offers: the default one, and any a cohort names, loaded once."""

    def __init__(self, default: Questionnaire, directory: Path | None = None):
        self.default = default
        self._directory = directory
        self._loaded = {default.id: default}

    def get(self, questionnaire_id: str) -> Questionnaire | None:
        """The current file of a questionnaire id; None when it is gone or broken."""
        if questionnaire_id not in self._loaded:
            try:
                self._loaded[questionnaire_id] = loader.load(questionnaire_id, self._directory)
            except QuestionnaireError:
                return None
        return self._loaded[questionnaire_id]

    def version(self, questionnaire_id: str, version: str) -> Questionnaire | None:
        """A questionnaire as a stored assessment was answered with it (design.md rule 3): the
        current file when the version matches, else the copy kept in questionnaires/archive/;
        None when neither is there. Answers are read, and old results explained, with it."""
        current = self.get(questionnaire_id)
        if current is not None and current.version == version:
            return current
        try:
            return loader.load_version(questionnaire_id, version, self._directory)
        except QuestionnaireError:
            return None


@dataclass(frozen=True)
class Opened:
    """An assessment opened for a person, and what happened to the cohort code they brought."""

    session: Session
    resumed: bool
    joined: str | None = None  # the cohort joined
    unknown_code: str | None = None  # a code given that names no cohort open to join
    closed: bool = False  # that code names a closed cohort


@dataclass(frozen=True)
class Latest:
    """A person's latest result, with the one before it when they retook the assessment."""

    assessment_id: int
    result: Result
    previous: Result | None


class AssessmentService:
    def __init__(self, store: Store, questionnaires: Questionnaires, *, reminder_after: timedelta = timedelta(hours=24),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), min_group: int = 5):
        self.store = store
        self.questionnaires = questionnaires
        self.reminder_after = reminder_after
        # The fewest businesses a comparison may show (bot.toml's [reports] min_group).
        self.min_group = min_group
        self.now = now
        self._rows = store.assessments
        self._figures: dict[tuple[str, ...], tuple[datetime, Any]] = {}  # what → (until, figure)

    @classmethod
    def configured(cls, store: Store, questionnaire: Questionnaire, config: Config,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> "AssessmentService":
        """The service as bot.toml sets it up: the folder of its questionnaires, the reminder time
        and the smallest group a comparison shows."""
        return cls(store, Questionnaires(questionnaire, config.assessment.questionnaires),
                   reminder_after=timedelta(hours=config.assessment.reminder_hours), now=now,
                   min_group=config.reports.min_group)

    @property
    def questionnaire(self) -> Questionnaire:
        return self.questionnaires.default

    def minutes(self, q: Questionnaire) -> int:
        """How long the questionnaire takes, as owners are told before they start: the median of
        the real businesses that finished this version, rounded up to a minute, once there are
        `min_group` of them; the file's estimate until then (see FIGURES_KEPT)."""
        measured = self._figure(("minutes", q.id, q.version), lambda: self.store.staff.median_minutes(q.id, q.version))
        if measured is None or measured[1] < self.min_group:
            return q.minutes
        # Rounded to a tenth first: julianday arithmetic gives 8 minutes as 8.000001.
        return max(1, math.ceil(round(measured[0], 1)))

    def _figure(self, key: tuple[str, ...], work_out: Callable[[], Any]) -> Any:
        """A figure over every business, worked out again once FIGURES_KEPT has passed."""
        kept = self._figures.get(key)
        if kept is None or kept[0] <= self.now():
            kept = self._figures[key] = (self.now() + FIGURES_KEPT, work_out())
        return kept[1]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One commit for everything one input causes (see rule 1: committed before anything is sent)."""
        with self.store.transaction():
            yield

    @contextmanager
    def own_connection(self) -> Iterator[Store]:
        """The same database on a connection of its own, for staff reports run in a worker thread."""
        store = Store(self.store.path)
        try:
            yield store
        finally:
            store.close()

    def chats(self, channel: str) -> ChatRows:
        """A chat channel's own small state: the only storage a channel touches itself."""
        return self.store.chats(channel)

    # -- who, and what they agreed to ------------------------------------------------------------

    def person(self, channel: str, external_id: str) -> Person | None:
        return self._rows.person(channel, external_id, CONSENT_VERSION)

    def agree(self, channel: str, external_id: str, *, language: str, name: str | None = None,
              purposes: Mapping[str, bool] | None = None) -> int:
        """Record a person and their consent (every purpose unless told otherwise); their id.

        Nothing about a person is stored before this: declining is simply not calling it.
        """
        given = dict.fromkeys(PURPOSES, True) if purposes is None else dict(purposes)
        if not given.get("result"):
            raise ValueError("an assessment needs consent to compute the owner's result")
        with self.transaction():
            respondent = self._rows.add_respondent(channel, external_id, language=language, name=name)
            self._rows.record_consent(respondent, CONSENT_VERSION, given)
        return respondent

    def consents(self, respondent_id: int) -> dict[str, bool]:
        return self._rows.consents(respondent_id)

    # -- opening, resuming, cohorts --------------------------------------------------------------

    def current(self, respondent_id: int) -> Session | None:
        """The person's assessment in progress, ready to go on; None if there is none it can resume."""
        assessment = self._rows.in_progress(respondent_id)
        return self._resume(assessment) if assessment else None

    def latest_on(self, channel: str, questionnaire: Questionnaire) -> Session | None:
        """The newest assessment of `questionnaire` left in progress on a shared terminal (the
        console has no account: whoever sits at it may continue the last one)."""
        assessment = self._rows.latest_in_progress(channel, questionnaire.id)
        return self._resume(assessment) if assessment else None

    def open(self, respondent_id: int, *, channel: str, language: str, code: str | None = None,
             questionnaire: Questionnaire | None = None) -> Opened:
        """Resume the person's assessment in progress or start one; a cohort code joins that cohort
        and takes its questionnaire. One person has at most one assessment in progress."""
        named = self.cohort(code) if code else None
        closed = named is not None and named["closed_at"] is not None
        # A closed cohort takes no one new: the owner answers as if they had come without a code.
        cohort = None if closed else named
        wanted = self._questionnaire_of(cohort) if cohort else questionnaire
        unknown = code if code and cohort is None else None
        joined = cohort["code"] if cohort else None
        session = self.current(respondent_id)
        if session is not None and wanted is not None and session.questionnaire.id != wanted.id:
            # Moving to another questionnaire (a cohort that runs the quick-check, say).
            self._rows.close(session.assessment.id, "abandoned")
            session = None
        if session is not None and closed and session.assessment.cohort == code:
            # Begun in the cohort before it closed: it goes on there.
            return Opened(session, resumed=True, joined=session.assessment.cohort)
        if session is not None:
            if joined and session.assessment.cohort is None:
                self._rows.join(session.assessment.id, joined)
                session.assessment = self._rows.get(session.assessment.id) or session.assessment
            return Opened(session, resumed=True, joined=joined, unknown_code=unknown, closed=closed)
        session = self.start(respondent_id, channel=channel, language=language, cohort=joined,
                             questionnaire=wanted)
        return Opened(session, resumed=False, joined=joined, unknown_code=unknown, closed=closed)

    def start(self, respondent_id: int, *, channel: str, language: str, cohort: str | None = None,
              questionnaire: Questionnaire | None = None) -> Session:
        q = questionnaire or self.questionnaire
        assessment = self._rows.start(respondent_id, questionnaire_id=q.id, questionnaire_version=q.version,
                                      channel=channel, language=language, cohort=cohort)
        return Session.open(self._rows, q, assessment)

    def restart(self, session: Session) -> Session:
        """Close this assessment as abandoned (its answers stay in the history) and begin the same
        questionnaire again, in the same cohort."""
        old = session.assessment
        with self.transaction():
            self._rows.close(old.id, "abandoned")
            return self.start(old.respondent_id, channel=old.channel, language=session.language, cohort=old.cohort,
                              questionnaire=session.questionnaire)

    def cancel(self, session: Session) -> None:
        self._rows.close(session.assessment.id, "cancelled")

    def cohort(self, code: str) -> dict | None:
        """A cohort by its code as a person typed or a link carried it; None if there is none."""
        return self._rows.cohort(code) if COHORT_CODE.match(code) else None

    def questionnaire_for(self, code: str | None) -> Questionnaire:
        """What someone arriving with this cohort code will answer (to say how long it takes before
        they consent): the cohort's questionnaire, else the default."""
        cohort = self.cohort(code) if code else None
        return self._questionnaire_of(cohort) if cohort and cohort["closed_at"] is None else self.questionnaire

    def _questionnaire_of(self, cohort: dict) -> Questionnaire:
        named = cohort.get("questionnaire")
        return (self.questionnaires.get(named) if named else None) or self.questionnaire

    def _resume(self, assessment: Assessment) -> Session | None:
        """The one rule for questionnaire versions: an assessment goes on only under the version it
        was begun with. Begun under another (or a file since removed), it is closed, never mixed."""
        q = self.questionnaires.get(assessment.questionnaire_id)
        if q is None or q.version != assessment.questionnaire_version:
            self._rows.close(assessment.id, "abandoned")
            return None
        return Session.open(self._rows, q, assessment)

    # -- results and support ---------------------------------------------------------------------

    def results(self, respondent_id: int, questionnaire_id: str | None = None) -> list[tuple[int, Result]]:
        return self._rows.results(respondent_id, questionnaire_id)

    def latest(self, respondent_id: int, questionnaire_id: str | None = None) -> Latest | None:
        """The latest result (of one questionnaire, if given) and the change since the one before."""
        results = self.results(respondent_id, questionnaire_id)
        return _with_previous(results, len(results) - 1) if results else None

    def result_of(self, assessment_id: int) -> Latest | None:
        """One stored result with the one before it (same person, same questionnaire), for a link
        that shows it to its owner outside their chat."""
        assessment = self._rows.get(assessment_id)
        results = self.results(assessment.respondent_id) if assessment else []
        index = next((i for i, (aid, _) in enumerate(results) if aid == assessment_id), None)
        return _with_previous(results, index) if index is not None else None

    def peers(self, assessment_id: int) -> Peers | None:
        """How businesses of the same sector and size band did, against this result, among those
        answering the same questionnaire version: None when the questionnaire marks no such
        questions, they were not answered, that version's file is gone, or the group has fewer
        than `min_group` businesses (so no one can be singled out)."""
        assessment = self._rows.get(assessment_id)
        result = dict(self.results(assessment.respondent_id)).get(assessment_id) if assessment else None
        q = self.questionnaires.version(result.questionnaire, result.version) if result else None
        if result is None or q is None:
            return None
        questions = [q.breakdowns.get(name) for name in PEER_BREAKDOWNS]
        if any(question is None for question in questions):
            return None
        asked = tuple(x for x in questions if x is not None)
        by = tuple(Grouping.of(x) for x in asked)
        keys = self.store.staff.group_keys(assessment_id, by)
        if keys is None:
            return None
        # Counts as of at most FIGURES_KEPT ago: the result just stored may not be among them yet.
        table = self._figure(("peers", q.id, q.version), lambda: self.store.staff.levels_by_group(q.id, q.version, by))
        names = tuple(_group_name(x, key) for x, key in zip(asked, keys, strict=True))
        return compare(table.get(keys, {}), [lv.level for lv in q.levels], result.level, groups=names,
                       min_group=self.min_group)

    def support_asked(self, respondent_id: int, assessment_id: int) -> bool | None:
        """Whether help was asked for this result already (and not yet closed); None when the result
        is not this person's. Chats ask how to reach the owner only when it was not."""
        if assessment_id not in dict(self.results(respondent_id)):
            return None
        return self._rows.support_pending(assessment_id)

    def request_support(self, respondent_id: int, assessment_id: int, *, contact: str | None = None) -> bool | None:
        """Ask the programme for help with a result, naming its two weakest pillars for staff.
        True when recorded, False when already asked, None when the result is not this person's."""
        result = dict(self.results(respondent_id)).get(assessment_id)
        if result is None:
            return None
        return self._rows.request_support(assessment_id, respondent_id, [p.id for p in weakest(result)], contact)

    # -- privacy and reminders ---------------------------------------------------------------------

    def delete(self, respondent_id: int) -> int:
        """Every row of this person, gone; the number of rows removed."""
        return self.store.privacy.delete_respondent(respondent_id)

    def purge(self, *, keep_months: int, dry_run: bool = False) -> tuple[int, int]:
        """Remove everyone who has done nothing for `keep_months` (a month: 1/12 of 365.25
        days), as the consent text promises; (people, rows) removed, or (people, 0) to be
        removed when `dry_run`."""
        before = (self.now() - timedelta(days=keep_months * 365.25 / 12)).isoformat(timespec="seconds")
        if dry_run:
            return self.store.privacy.idle_since(before), 0
        return self.store.privacy.delete_idle(before)

    def reminders_due(self, channel: str) -> list[tuple[Assessment, dict]]:
        """Assessments on a chat channel left for the reminder time, never reminded, each once."""
        return self.store.chats(channel).idle(self.now() - self.reminder_after)

    def mark_reminded(self, assessment_id: int) -> None:
        self._rows.mark_reminded(assessment_id)

    def forget_handled_updates(self, channel: str) -> int:
        """Drop the channel's marks of updates handled longer ago than UPDATES_REMEMBERED (on
        start-up and daily), so the table does not grow for ever; how many went."""
        return self.store.chats(channel).forget_updates(older_than=UPDATES_REMEMBERED)


def _with_previous(results: list[tuple[int, Result]], index: int) -> Latest:
    """The result at `index` and the last one before it of the same questionnaire, if any."""
    assessment_id, result = results[index]
    earlier = [r for _, r in results[:index] if r.questionnaire == result.questionnaire]
    return Latest(assessment_id, result, earlier[-1] if earlier else None)


def _group_name(question: Question, key: str) -> Text:
    """What a group is called: its option's or its band's label (the id itself if neither)."""
    return question.group_label(key) or Text(vi=key, en=key)


def weakest(result: Result, count: int = 2) -> list:
    """The pillars furthest behind, which a support request names."""
    return sorted(result.pillars, key=lambda p: p.percent)[:count]
