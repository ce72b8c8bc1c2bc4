"""People, their consent, assessments, answers, results, cohorts and support requests.

Answers are append-only rows, each committed as it is given: an edited or withdrawn answer
leaves its earlier rows in place, and the current answers are the latest row per question.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sme_bot.flows.answers import Value
from sme_bot.scoring import Result
from sme_bot.storage.database import Database
from sme_bot.storage.results import decode, encode, write_result_rows


@dataclass(frozen=True)
class Assessment:
    id: int
    respondent_id: int
    questionnaire_id: str
    questionnaire_version: str
    channel: str
    language: str
    cohort: str | None
    status: str
    started_at: str


@dataclass(frozen=True)
class Person:
    """Who is writing, as far as the database knows: their row and what they agreed to."""

    respondent_id: int
    consented: bool


class AssessmentRows:
    def __init__(self, db: Database):
        self.db = db

    # -- people and consent ---------------------------------------------------------------------

    def person(self, channel: str, external_id: str, text_version: str) -> Person | None:
        """The respondent behind an outside id and whether they agreed to have a result computed
        under this consent text (one query: it runs on every message)."""
        sql = ("select r.id, (select agreed from consents c where c.respondent_id = r.id and c.text_version = ? "
               "and c.purpose = 'result' and c.withdrawn_at is null order by c.id desc limit 1) "
               "from respondents r where r.channel = ? and r.external_id = ?")
        with self.db.errors():
            row = self.db.conn.execute(sql, [text_version, channel, external_id]).fetchone()
        return Person(int(row[0]), bool(row[1])) if row else None

    def add_respondent(self, channel: str, external_id: str, *, language: str, name: str | None = None) -> int:
        # RETURNING rows are read before the commit, inside the transaction.
        with self.db.errors(), self.db.transaction():
            cursor = self.db.conn.execute("insert into respondents (channel, external_id, name, language, created_at) "
                                          "values (?, ?, ?, ?, ?) on conflict (channel, external_id) do update "
                                          "set name = coalesce(excluded.name, name) returning id",
                                          [channel, external_id, name, language, self.db.stamp()])
            return int(cursor.fetchone()[0])

    def record_consent(self, respondent_id: int, text_version: str, purposes: Mapping[str, bool]) -> None:
        stamp = self.db.stamp()
        with self.db.errors(), self.db.transaction():
            self.db.conn.executemany("insert into consents (respondent_id, text_version, agreed, at, purpose) "
                                     "values (?, ?, ?, ?, ?)",
                                     [(respondent_id, text_version, int(agreed), stamp, purpose)
                                      for purpose, agreed in purposes.items()])

    def consents(self, respondent_id: int) -> dict[str, bool]:
        """Each purpose's latest answer, withdrawn ones as no."""
        with self.db.errors():
            rows = self.db.conn.execute("select purpose, agreed, withdrawn_at from consents where respondent_id = ? "
                                        "order by id", [respondent_id]).fetchall()
        return {purpose: bool(agreed) and withdrawn is None for purpose, agreed, withdrawn in rows}

    # -- assessments and answers ----------------------------------------------------------------

    def start(self, respondent_id: int, *, questionnaire_id: str, questionnaire_version: str, channel: str,
              language: str, cohort: str | None) -> Assessment:
        stamp = self.db.stamp()
        with self.db.errors(), self.db.transaction():
            cursor = self.db.conn.execute(
                "insert into assessments (respondent_id, questionnaire_id, questionnaire_version, channel, language, "
                "cohort, status, started_at, updated_at) values (?, ?, ?, ?, ?, ?, 'in_progress', ?, ?) returning *",
                [respondent_id, questionnaire_id, questionnaire_version, channel, language, cohort, stamp, stamp])
            return _assessment(dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True)))

    def get(self, assessment_id: int) -> Assessment | None:
        with self.db.errors():
            row = self.db.one("select * from assessments where id = ?", [assessment_id])
        return _assessment(row) if row else None

    def in_progress(self, respondent_id: int) -> Assessment | None:
        """The person's assessment in progress, if any (the latest, should there be more)."""
        with self.db.errors():
            row = self.db.one("select * from assessments where respondent_id = ? and status = 'in_progress' "
                              "order by id desc limit 1", [respondent_id])
        return _assessment(row) if row else None

    def latest_in_progress(self, channel: str, questionnaire_id: str) -> Assessment | None:
        """The newest assessment of a questionnaire in progress on a channel, whoever's it is."""
        with self.db.errors():
            row = self.db.one("select * from assessments where channel = ? and questionnaire_id = ? "
                              "and status = 'in_progress' order by id desc limit 1", [channel, questionnaire_id])
        return _assessment(row) if row else None

    def record_answer(self, assessment_id: int, question_id: str, value: Value, *, withdrawn: bool = False) -> None:
        """Commit one answer (or its withdrawal) before anything else happens."""
        stamp = self.db.stamp()
        encoded = None if withdrawn else encode(value)
        with self.db.errors(), self.db.transaction():
            self.db.conn.execute("insert into answers (assessment_id, question_id, value, withdrawn, at) "
                                 "values (?, ?, ?, ?, ?)", [assessment_id, question_id, encoded, int(withdrawn), stamp])
            self.db.conn.execute("update assessments set updated_at = ? where id = ?", [stamp, assessment_id])

    def answers(self, assessment_id: int) -> dict[str, Value]:
        """The current answers: the latest row per question, unless that row withdrew it."""
        sql = ("select question_id, value, withdrawn from answers where id in "
               "(select max(id) from answers where assessment_id = ? group by question_id) order by id")
        with self.db.errors():
            rows = self.db.conn.execute(sql, [assessment_id]).fetchall()
        return {qid: decode(value) for qid, value, withdrawn in rows if not withdrawn}

    def answer_history(self, assessment_id: int) -> list[dict[str, Any]]:
        with self.db.errors():
            return self.db.all("select question_id, value, withdrawn, at from answers where assessment_id = ? "
                               "order by id", [assessment_id])

    def close(self, assessment_id: int, status: str) -> None:
        """End an assessment without a result: 'abandoned' (begun again) or 'cancelled'."""
        with self.db.errors():
            self.db.execute("update assessments set status = ?, updated_at = ? where id = ? and status = 'in_progress'",
                            [status, self.db.stamp(), assessment_id])

    def complete(self, assessment_id: int, result: Result) -> None:
        """Store the result and close the assessment in one transaction."""
        stamp = self.db.stamp()
        detail = result.model_dump_json()
        with self.db.errors(), self.db.transaction():
            self.db.conn.execute(
                "insert or replace into results (assessment_id, questionnaire_id, questionnaire_version, level, points, "
                "max_points, percent, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [assessment_id, result.questionnaire, result.version, result.level, result.points, result.max_points,
                 result.percent, detail, stamp])
            self.db.conn.execute("update assessments set status = 'completed', completed_at = ?, updated_at = ? "
                                 "where id = ?", [stamp, stamp, assessment_id])
            write_result_rows(self.db.conn, assessment_id, json.loads(detail))

    def results(self, respondent_id: int, questionnaire_id: str | None = None) -> list[tuple[int, Result]]:
        """Every stored result of a respondent (of one questionnaire, if given), oldest first."""
        sql = ("select r.assessment_id, r.detail from results r join assessments a on a.id = r.assessment_id "
               "where a.respondent_id = ?")
        params: list[Any] = [respondent_id]
        if questionnaire_id is not None:
            sql += " and r.questionnaire_id = ?"
            params.append(questionnaire_id)
        with self.db.errors():
            rows = self.db.conn.execute(sql + " order by r.assessment_id", params).fetchall()
        return [(assessment_id, Result.model_validate_json(detail)) for assessment_id, detail in rows]

    def join(self, assessment_id: int, cohort: str) -> None:
        with self.db.errors():
            self.db.execute("update assessments set cohort = ? where id = ? and cohort is null", [cohort, assessment_id])

    def mark_reminded(self, assessment_id: int) -> None:
        with self.db.errors():
            self.db.execute("update assessments set reminded_at = ? where id = ?", [self.db.stamp(), assessment_id])

    def add_whole(self, *, channel: str, external_id: str, questionnaire_id: str, questionnaire_version: str,
                  language: str, cohort: str | None, started_at: datetime, last_at: datetime,
                  answers: dict[str, Value], result: Result | None, consent_version: str) -> None:
        """A whole assessment in one go (demo data, imports): completed when it has a result, else
        left in progress at its last answer. The caller batches the commits in a transaction."""
        started, last = (t.isoformat(timespec="seconds") for t in (started_at, last_at))
        conn = self.db.conn
        respondent = conn.execute("insert into respondents (channel, external_id, language, created_at) "
                                  "values (?, ?, ?, ?)", [channel, external_id, language, started]).lastrowid
        conn.executemany("insert into consents (respondent_id, text_version, agreed, at, purpose) values (?, ?, 1, ?, ?)",
                         [(respondent, consent_version, started, purpose) for purpose in ("result", "staff")])
        assessment = conn.execute(
            "insert into assessments (respondent_id, questionnaire_id, questionnaire_version, channel, language, "
            "cohort, status, started_at, updated_at, completed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [respondent, questionnaire_id, questionnaire_version, channel, language, cohort,
             "completed" if result else "in_progress", started, last, last if result else None]).lastrowid
        conn.executemany("insert into answers (assessment_id, question_id, value, withdrawn, at) values (?, ?, ?, 0, ?)",
                         [(assessment, qid, encode(value), last) for qid, value in answers.items()])
        if result is None:
            return
        detail = result.model_dump_json()
        conn.execute("insert into results (assessment_id, questionnaire_id, questionnaire_version, level, points, "
                     "max_points, percent, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [assessment, result.questionnaire, result.version, result.level, result.points,
                      result.max_points, result.percent, detail, last])
        write_result_rows(conn, int(assessment or 0), json.loads(detail))

    # -- cohorts and support ----------------------------------------------------------------------

    def cohort(self, code: str) -> dict[str, Any] | None:
        with self.db.errors():
            return self.db.one("select * from cohorts where code = ?", [code])

    def cohort_questionnaires(self) -> dict[str, str | None]:
        """Every cohort's code with its questionnaire (None: any), oldest first, without counting
        its assessments as StaffReads.cohorts does."""
        with self.db.errors():
            return {code: questionnaire for code, questionnaire in
                    self.db.conn.execute("select code, questionnaire from cohorts order by created_at")}

    def create_cohort(self, code: str, name: str, *, starts: str | None = None, ends: str | None = None,
                      questionnaire: str | None = None) -> bool:
        """False when the code is taken."""
        with self.db.errors():
            cursor = self.db.execute("insert or ignore into cohorts (code, name, starts, ends, created_at, questionnaire) "
                                     "values (?, ?, ?, ?, ?, ?)",
                                     [code, name, starts, ends, self.db.stamp(), questionnaire])
        return cursor.rowcount == 1

    def close_cohort(self, code: str) -> bool:
        """Mark a cohort closed (its rows stay); False when there is no such cohort open."""
        with self.db.errors():
            cursor = self.db.execute("update cohorts set closed_at = ? where code = ? and closed_at is null",
                                     [self.db.stamp(), code])
        return cursor.rowcount == 1

    def support_pending(self, assessment_id: int) -> bool:
        """Whether this assessment has a support request not yet closed."""
        with self.db.errors():
            return self.db.one("select id from support_requests where assessment_id = ? and status != 'closed'",
                               [assessment_id]) is not None

    def request_support(self, assessment_id: int, respondent_id: int, pillars: list[str],
                        contact: str | None) -> bool:
        """Record a support request; False when this assessment already has one not closed."""
        with self.db.errors(), self.db.transaction():
            if self.db.one("select id from support_requests where assessment_id = ? and status != 'closed'",
                           [assessment_id]):
                return False
            stamp = self.db.stamp()
            self.db.conn.execute("insert into support_requests (assessment_id, respondent_id, pillars, status, "
                                 "created_at, contact, updated_at) values (?, ?, ?, 'new', ?, ?, ?)",
                                 [assessment_id, respondent_id, json.dumps(pillars), stamp, contact, stamp])
        return True


def _assessment(row: dict[str, Any]) -> Assessment:
    return Assessment(id=row["id"], respondent_id=row["respondent_id"], questionnaire_id=row["questionnaire_id"],
                      questionnaire_version=row["questionnaire_version"], channel=row["channel"],
                      language=row["language"], cohort=row["cohort"], status=row["status"],
                      started_at=row["started_at"])
