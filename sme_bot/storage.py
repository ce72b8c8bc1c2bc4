"""The only code that speaks SQL: one SQLite file (WAL) through sqlite-utils.

Answers are append-only rows, each committed as it is given: an edited or withdrawn answer
leaves its earlier rows in place, and the current answers are the latest row per question.
"""

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sme_bot.errors import StorageError
from sme_bot.flows.answers import Value
from sme_bot.scoring import Result
from sme_bot.startup import numpy_hidden

with numpy_hidden():
    import sqlite_utils

Clock = Callable[[], datetime]
Migration = Callable[[sqlite_utils.Database], None]

# Seconds to wait for another writer before reporting the database as locked.
BUSY_TIMEOUT = 5


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("respondents").create({"id": int, "channel": str, "external_id": str, "name": str, "language": str,
                              "created_at": str}, pk="id", not_null={"channel", "external_id", "created_at"})
    db.table("respondents").create_index(["channel", "external_id"], unique=True)
    db.table("consents").create({"id": int, "respondent_id": int, "text_version": str, "agreed": int, "at": str,
                           "withdrawn_at": str}, pk="id", foreign_keys=[("respondent_id", "respondents")])
    db.table("assessments").create({"id": int, "respondent_id": int, "questionnaire_id": str, "questionnaire_version": str,
                              "channel": str, "language": str, "cohort": str, "status": str, "started_at": str,
                              "updated_at": str, "completed_at": str}, pk="id",
                             foreign_keys=[("respondent_id", "respondents")],
                             not_null={"questionnaire_id", "questionnaire_version", "status", "started_at"})
    db.table("assessments").create_index(["respondent_id", "status"])
    db.table("answers").create({"id": int, "assessment_id": int, "question_id": str, "value": str, "withdrawn": int,
                          "at": str}, pk="id", foreign_keys=[("assessment_id", "assessments")],
                         not_null={"assessment_id", "question_id", "at"})
    db.table("answers").create_index(["assessment_id", "question_id"])
    db.table("results").create({"assessment_id": int, "questionnaire_id": str, "questionnaire_version": str, "level": int,
                          "points": int, "max_points": int, "percent": float, "detail": str, "created_at": str},
                         pk="assessment_id", foreign_keys=[("assessment_id", "assessments")])


def _v2_chats(db: sqlite_utils.Database) -> None:
    """What a chat channel needs beyond answers: where the chat stands, reminders, support, deletions."""
    db.table("chats").create({"respondent_id": int, "chat_id": int, "language": str, "pending": str, "draft": str,
                        "prompt_message_id": int, "prompt_text": str, "prompt_question": str, "blocked": int, "updated_at": str},
                       pk="respondent_id", foreign_keys=[("respondent_id", "respondents")])
    db.table("assessments").add_column("reminded_at", str)
    db.table("support_requests").create({"id": int, "assessment_id": int, "respondent_id": int, "pillars": str,
                                   "status": str, "created_at": str}, pk="id",
                                  foreign_keys=[("assessment_id", "assessments"), ("respondent_id", "respondents")])
    # Telegram may deliver an update twice; its id is kept to process it once.
    db.table("processed_updates").create({"update_id": int, "at": str}, pk="update_id")
    db.table("deletions").create({"id": int, "channel": str, "rows": int, "at": str}, pk="id")
    # Cohorts are created by staff; a join link carries the code.
    db.table("cohorts").create({"code": str, "name": str, "starts": str, "ends": str, "created_at": str}, pk="code")


def _v3_reporting(db: sqlite_utils.Database) -> None:
    """Per-pillar rows and shown roadmap steps of each result, so staff summaries aggregate in
    SQL instead of parsing every result; filled in for results stored before."""
    db.table("result_pillars").create({"assessment_id": int, "pillar": str, "points": int, "max_points": int,
                                       "percent": float, "level": int}, pk=("assessment_id", "pillar"))
    db.table("result_steps").create({"assessment_id": int, "priority": int, "pillar": str, "level": int,
                                     "step": int}, pk=("assessment_id", "priority"))
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("assessments").create_index(["status", "cohort"])
    for assessment_id, detail in db.execute("select assessment_id, detail from results").fetchall():
        _write_result_rows(db, assessment_id, json.loads(detail))


def _write_result_rows(db: sqlite_utils.Database, assessment_id: int, result: dict[str, Any]) -> None:
    db.execute("delete from result_pillars where assessment_id = ?", [assessment_id])
    db.execute("delete from result_steps where assessment_id = ?", [assessment_id])
    db.conn.executemany("insert into result_pillars values (?, ?, ?, ?, ?, ?)",
                        [(assessment_id, p["id"], p["points"], p["max_points"], p["percent"], p["level"])
                         for p in result["pillars"]])
    seen: dict[str, int] = {}
    steps = []
    for step in result["roadmap"][: result.get("shown", 5)]:
        # Results stored before steps had an index are in round order: the n-th of a pillar is its n-th.
        index = step.get("index", seen.get(step["pillar"], 0))
        seen[step["pillar"]] = index + 1
        steps.append((assessment_id, step["priority"], step["pillar"], step["level"], index))
    db.conn.executemany("insert into result_steps values (?, ?, ?, ?, ?)", steps)


# Append only: a released file's schema is changed by a new function here, never by editing one.
MIGRATIONS: list[Migration] = [_v1_initial, _v2_chats, _v3_reporting]


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


class Store:
    def __init__(self, path: str | Path, *, now: Clock = lambda: datetime.now(UTC),
                 migrations: list[Migration] | None = None):
        self.path = str(path)
        self._now = now
        with self._errors():
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
            self.db = sqlite_utils.Database(connection)
            migrate(self.db, MIGRATIONS if migrations is None else migrations)
            if self.path != ":memory:":
                self.db.enable_wal()
                # In WAL mode NORMAL still survives a killed process; only a power cut can drop
                # the last commits, and it saves an fsync per answer.
                self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self.db.close()

    # -- respondents and consent ------------------------------------------------------------

    def respondent(self, channel: str, external_id: str, *, language: str, name: str | None = None) -> int:
        with self._errors():
            row = self._one("select id from respondents where channel = ? and external_id = ?", [channel, external_id])
            if row:
                return int(row["id"])
            table = self.db.table("respondents").insert({"channel": channel, "external_id": external_id, "name": name,
                                                         "language": language, "created_at": self._stamp()})
            return int(table.last_rowid or 0)

    def record_consent(self, respondent_id: int, text_version: str, *, agreed: bool) -> None:
        with self._errors():
            self.db.table("consents").insert({"respondent_id": respondent_id, "text_version": text_version,
                                        "agreed": int(agreed), "at": self._stamp()})

    def has_consent(self, respondent_id: int, text_version: str) -> bool:
        with self._errors():
            row = self._one("select agreed from consents where respondent_id = ? and text_version = ? "
                            "and withdrawn_at is null order by id desc limit 1", [respondent_id, text_version])
            return bool(row and row["agreed"])

    # -- assessments and answers ------------------------------------------------------------

    def start_assessment(self, respondent_id: int, *, questionnaire_id: str, questionnaire_version: str,
                         channel: str, language: str, cohort: str | None = None) -> Assessment:
        stamp = self._stamp()
        row = {"respondent_id": respondent_id, "questionnaire_id": questionnaire_id,
               "questionnaire_version": questionnaire_version, "channel": channel, "language": language,
               "cohort": cohort, "status": "in_progress", "started_at": stamp, "updated_at": stamp}
        with self._errors():
            table = self.db.table("assessments").insert(row)
            return self.assessment(int(table.last_rowid or 0))

    def assessment(self, assessment_id: int) -> Assessment:
        with self._errors():
            row = self._one("select * from assessments where id = ?", [assessment_id])
        if row is None:
            raise StorageError(f"no assessment {assessment_id} in {self.path}")
        return _assessment(row)

    def unfinished(self, channel: str, respondent_id: int | None = None) -> Assessment | None:
        """The latest assessment in progress on `channel` (for one respondent, if given)."""
        sql = "select * from assessments where channel = ? and status = 'in_progress'"
        params: list[Any] = [channel]
        if respondent_id is not None:
            sql += " and respondent_id = ?"
            params.append(respondent_id)
        with self._errors():
            row = self._one(sql + " order by id desc limit 1", params)
        return _assessment(row) if row else None

    def record_answer(self, assessment_id: int, question_id: str, value: Value, *, withdrawn: bool = False) -> None:
        """Commit one answer (or its withdrawal) before anything else happens."""
        stamp = self._stamp()
        encoded = None if withdrawn else _encode(value)
        # Plain statements: this is the hot path of every conversation.
        with self._errors(), self.db.atomic():
            self.db.execute("insert into answers (assessment_id, question_id, value, withdrawn, at) "
                            "values (?, ?, ?, ?, ?)", [assessment_id, question_id, encoded, int(withdrawn), stamp])
            self.db.execute("update assessments set updated_at = ? where id = ?", [stamp, assessment_id])

    def answers(self, assessment_id: int) -> dict[str, Value]:
        """The current answers: the latest row per question, unless that row withdrew it."""
        sql = ("select question_id, value, withdrawn from answers where id in "
               "(select max(id) from answers where assessment_id = ? group by question_id) order by id")
        with self._errors():
            rows = self.db.execute(sql, [assessment_id]).fetchall()
        return {qid: _decode(value) for qid, value, withdrawn in rows if not withdrawn}

    def answer_history(self, assessment_id: int) -> list[dict[str, Any]]:
        with self._errors():
            return list(self.db.query("select question_id, value, withdrawn, at from answers "
                                      "where assessment_id = ? order by id", [assessment_id]))

    def abandon(self, assessment_id: int) -> None:
        with self._errors():
            self.db.execute("update assessments set status = 'abandoned', updated_at = ? where id = ?",
                            [self._stamp(), assessment_id])

    def complete(self, assessment_id: int, result: Result) -> None:
        """Store the result and close the assessment in one transaction."""
        stamp = self._stamp()
        detail = result.model_dump_json()
        with self._errors(), self.db.atomic():
            self.db.table("results").insert({"assessment_id": assessment_id, "questionnaire_id": result.questionnaire,
                                       "questionnaire_version": result.version, "level": result.level,
                                       "points": result.points, "max_points": result.max_points,
                                       "percent": result.percent, "detail": detail, "created_at": stamp},
                                      replace=True)
            self.db.execute("update assessments set status = 'completed', completed_at = ?, updated_at = ? "
                            "where id = ?", [stamp, stamp, assessment_id])
            _write_result_rows(self.db, assessment_id, json.loads(detail))

    def cancel(self, assessment_id: int) -> None:
        with self._errors():
            self.db.execute("update assessments set status = 'cancelled', updated_at = ? where id = ?",
                            [self._stamp(), assessment_id])

    def results(self, respondent_id: int) -> list[tuple[int, Result]]:
        """Every stored result of a respondent with its assessment id, oldest first."""
        with self._errors():
            rows = self.db.execute("select r.assessment_id, r.detail from results r join assessments a "
                                   "on a.id = r.assessment_id where a.respondent_id = ? order by r.assessment_id",
                                   [respondent_id]).fetchall()
        return [(assessment_id, Result.model_validate_json(detail)) for assessment_id, detail in rows]

    def add_assessment(self, *, channel: str, external_id: str, questionnaire_id: str, questionnaire_version: str,
                       language: str, cohort: str | None, started_at: datetime, last_at: datetime,
                       answers: dict[str, Value], result: Result | None, consent_version: str) -> None:
        """A whole assessment in one go (demo data, imports): completed when it has a result, else
        left in progress at its last answer. The caller batches the commits."""
        started, last = (t.isoformat(timespec="seconds") for t in (started_at, last_at))
        conn = self.db.conn
        respondent = conn.execute("insert into respondents (channel, external_id, language, created_at) "
                                  "values (?, ?, ?, ?)", [channel, external_id, language, started]).lastrowid
        conn.execute("insert into consents (respondent_id, text_version, agreed, at) values (?, ?, 1, ?)",
                     [respondent, consent_version, started])
        assessment = conn.execute(
            "insert into assessments (respondent_id, questionnaire_id, questionnaire_version, channel, language, "
            "cohort, status, started_at, updated_at, completed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [respondent, questionnaire_id, questionnaire_version, channel, language, cohort,
             "completed" if result else "in_progress", started, last, last if result else None]).lastrowid
        conn.executemany("insert into answers (assessment_id, question_id, value, withdrawn, at) values (?, ?, ?, 0, ?)",
                         [(assessment, qid, _encode(value), last) for qid, value in answers.items()])
        if result is None:
            return
        detail = result.model_dump_json()
        conn.execute("insert into results (assessment_id, questionnaire_id, questionnaire_version, level, points, "
                     "max_points, percent, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [assessment, result.questionnaire, result.version, result.level, result.points,
                      result.max_points, result.percent, detail, last])
        _write_result_rows(self.db, int(assessment or 0), json.loads(detail))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around many writes."""
        with self._errors(), self.db.atomic():
            yield

    # -- staff reports ------------------------------------------------------------------------

    def aggregates(self, *, cohort: str | None, by: str | None, size_bands: list[int]) -> dict[str, list[tuple]]:
        """Raw counts and sums for a summary, per group (None: one group); linear in the rows."""
        group = _group_sql(by, size_bands)
        where = "a.status in ('in_progress', 'completed', 'cancelled')" + (" and a.cohort = ?" if cohort else "")
        params = [cohort] if cohort else []
        # The assessments in scope, with their group, worked out once: every query below reads them.
        base = f"create temp table base as select a.id, a.status, a.started_at, a.completed_at, a.respondent_id, " \
               f"a.questionnaire_id, {group} as grp from assessments a where {where}"
        # Businesses that completed the same questionnaire more than once: their first and latest.
        retaken = ("(select respondent_id, questionnaire_id, min(id) first, max(id) last from base "
                   "where status = 'completed' group by respondent_id, questionnaire_id having count(*) > 1) t")
        queries = {
            "counts": "select grp, count(*), sum(status = 'completed') from base group by grp",
            "durations": "select grp, (julianday(completed_at) - julianday(started_at)) * 1440 from base "
                         "where status = 'completed' order by grp",
            "levels": "select grp, r.level, count(*) from base join results r on r.assessment_id = base.id "
                      "group by grp, r.level",
            "pillars": "select grp, p.pillar, sum(p.percent), count(*) from base "
                       "join result_pillars p on p.assessment_id = base.id group by grp, p.pillar",
            "steps": "select s.pillar, s.level, s.step, count(*) from base join result_steps s "
                     "on s.assessment_id = base.id group by 1, 2, 3 order by 4 desc, 1, 2, 3 limit 10",
            "support": "select j.value, count(*) from base join support_requests sr on sr.assessment_id = base.id, "
                       "json_each(sr.pillars) j group by j.value order by 2 desc",
            "retakes": f"select p2.pillar, avg(p2.percent - p1.percent), count(*) from {retaken} "
                       "join result_pillars p1 on p1.assessment_id = t.first "
                       "join result_pillars p2 on p2.assessment_id = t.last and p2.pillar = p1.pillar "
                       "group by p2.pillar",
            "retake_levels": f"select r2.level - r1.level, count(*) from {retaken} "
                             "join results r1 on r1.assessment_id = t.first "
                             "join results r2 on r2.assessment_id = t.last group by 1 order by 1",
        }
        with self._errors():
            if self.path == ":memory:":
                return _run_on(self.db.conn, base, params, queries)
            # SQLite releases the GIL while it works: the heavy scans run side by side, each
            # thread on a connection of its own (a temp table belongs to one connection).
            halves = [dict(list(queries.items())[i::2]) for i in range(2)]
            with ThreadPoolExecutor(max_workers=2) as pool:
                done = pool.map(lambda part: _run_on(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT), base,
                                                     params, part, close=True), halves)
                return {name: rows for part in done for name, rows in part.items()}

    def count_completed(self, questionnaire_id: str, cohort: str | None) -> int:
        sql, params = _completed_filter(questionnaire_id, cohort)
        with self._errors():
            return int(self.db.execute(f"select count(*) from assessments a where {sql}", params).fetchone()[0])

    def iter_completed(self, questionnaire_id: str, cohort: str | None) -> Iterator[tuple[dict[str, Any], dict[str, Value]]]:
        """Completed assessments with their respondent, result and current answers, streamed in
        id order: cursors walked side by side, so memory does not grow with the rows."""
        sql, params = _completed_filter(questionnaire_id, cohort)
        rows = self.db.conn.execute(
            "select a.id, a.cohort, a.started_at, a.completed_at, a.questionnaire_id, a.questionnaire_version, "
            "a.channel, a.language, r.external_id, r.name, res.level, res.points, res.max_points, res.percent "
            f"from assessments a join respondents r on r.id = a.respondent_id "
            f"join results res on res.assessment_id = a.id where {sql} order by a.id", params)
        columns = [c[0] for c in rows.description]
        owned = f"(select a.id from assessments a where {sql})"
        # Cursors of one connection each step through their own statement: three streams at once.
        answers = iter(self.db.conn.execute("select assessment_id, question_id, value, withdrawn from answers "
                                            f"where assessment_id in {owned} order by assessment_id, id", params))
        pillars = iter(self.db.conn.execute("select assessment_id, pillar, points, percent, level from "
                                            f"result_pillars where assessment_id in {owned} order by assessment_id",
                                            params))
        pending_answer = next(answers, None)
        pending_pillar = next(pillars, None)
        with self._errors():
            for values in rows:
                row = dict(zip(columns, values, strict=True))
                current: dict[str, Value] = {}
                while pending_answer is not None and pending_answer[0] == row["id"]:
                    _, qid, value, withdrawn = pending_answer
                    if withdrawn:
                        current.pop(qid, None)
                    else:
                        current[qid] = _decode(value)
                    pending_answer = next(answers, None)
                row["pillars"] = {}
                while pending_pillar is not None and pending_pillar[0] == row["id"]:
                    row["pillars"][pending_pillar[1]] = pending_pillar[2:]
                    pending_pillar = next(pillars, None)
                yield row, current

    def salt(self) -> str:
        """The secret mixed into pseudonymous ids; made once per database, never exported."""
        with self._errors():
            row = self._one("select value from meta where key = 'pseudonym_salt'", [])
            if row:
                return str(row["value"])
            value = secrets.token_hex(16)
            self.db.execute("insert into meta (key, value) values ('pseudonym_salt', ?)", [value])
            return value

    def audit(self, action: str, detail: str) -> None:
        with self._errors():
            self.db.execute("insert into meta (key, value) values (?, ?)",
                            [f"audit:{self._stamp()}:{secrets.token_hex(4)}", f"{action}: {detail}"])

    # -- chat channels --------------------------------------------------------------------------

    def create_cohort(self, code: str, name: str, starts: str | None, ends: str | None) -> bool:
        """False when the code is taken."""
        with self._errors():
            cursor = self.db.execute("insert or ignore into cohorts (code, name, starts, ends, created_at) "
                                     "values (?, ?, ?, ?, ?)", [code, name, starts, ends, self._stamp()])
        return cursor.rowcount == 1

    def cohorts(self) -> list[dict[str, Any]]:
        sql = ("select c.code, c.name, c.starts, c.ends, "
               "sum(a.status in ('in_progress', 'completed', 'cancelled')) as started, "
               "sum(a.status = 'completed') as completed "
               "from cohorts c left join assessments a on a.cohort = c.code group by c.code order by c.created_at")
        with self._errors():
            return list(self.db.query(sql))

    def support_requests(self, *, status: str = "open") -> list[dict[str, Any]]:
        sql = ("select s.id, s.created_at, s.pillars, a.cohort, a.id as assessment_id, r.channel, r.external_id, "
               "r.name, res.level from support_requests s join assessments a on a.id = s.assessment_id "
               "join respondents r on r.id = s.respondent_id left join results res on res.assessment_id = a.id "
               "where s.status = ? order by s.id")
        with self._errors():
            return list(self.db.query(sql, [status]))

    def cohort_exists(self, code: str) -> bool:
        with self._errors():
            return self._one("select code from cohorts where code = ?", [code]) is not None

    def consented(self, channel: str, external_id: str, text_version: str) -> int | None:
        """The respondent behind an outside id, if they have consented to this text (one query)."""
        sql = ("select r.id, (select agreed from consents c where c.respondent_id = r.id and c.text_version = ? "
               "and c.withdrawn_at is null order by c.id desc limit 1) as agreed "
               "from respondents r where r.channel = ? and r.external_id = ?")
        with self._errors():
            row = self.db.execute(sql, [text_version, channel, external_id]).fetchone()
        return int(row[0]) if row and row[1] else None

    def chat_of(self, channel: str, external_id: str) -> dict[str, Any] | None:
        """A chat's row (with its respondent id) found by the outside id, in one query."""
        with self._errors():
            return self._one("select c.* from chats c join respondents r on r.id = c.respondent_id "
                             "where r.channel = ? and r.external_id = ?", [channel, external_id])

    def chat(self, respondent_id: int) -> dict[str, Any] | None:
        with self._errors():
            return self._one("select * from chats where respondent_id = ?", [respondent_id])

    def save_chat(self, respondent_id: int, **fields: Any) -> None:
        """Create or update a chat's row, changing only the given fields."""
        values = {"respondent_id": respondent_id, **fields, "updated_at": self._stamp()}
        unknown = values.keys() - self._chat_columns
        if unknown:
            raise ValueError(f"chats has no column {', '.join(sorted(unknown))}")
        names = ", ".join(values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "respondent_id")
        sql = (f"insert into chats ({names}) values ({', '.join('?' * len(values))}) "
               f"on conflict(respondent_id) do update set {updates}")
        with self._errors():
            self.db.execute(sql, list(values.values()))

    @cached_property
    def _chat_columns(self) -> set[str]:
        return set(self.db.table("chats").columns_dict)

    def first_time(self, update_id: int) -> bool:
        """Record an incoming update; False when it was seen before."""
        with self._errors():
            cursor = self.db.execute("insert or ignore into processed_updates (update_id, at) values (?, ?)",
                                     [update_id, self._stamp()])
        return cursor.rowcount == 1

    def request_support(self, assessment_id: int, respondent_id: int, pillars: list[str]) -> bool:
        """Record a support request; False when this assessment already has an open one."""
        with self._errors(), self.db.atomic():
            if self._one("select id from support_requests where assessment_id = ? and status = 'open'", [assessment_id]):
                return False
            self.db.table("support_requests").insert({"assessment_id": assessment_id, "respondent_id": respondent_id,
                                                "pillars": json.dumps(pillars), "status": "open",
                                                "created_at": self._stamp()})
        return True

    def due_reminders(self, channel: str, idle_since: datetime) -> list[tuple[Assessment, dict[str, Any]]]:
        """Assessments in progress, untouched since `idle_since`, never reminded, in a chat not blocked."""
        sql = ("select a.*, c.chat_id, c.language as chat_language from assessments a "
               "join chats c on c.respondent_id = a.respondent_id where a.channel = ? and a.status = 'in_progress' "
               "and a.reminded_at is null and a.updated_at < ? and coalesce(c.blocked, 0) = 0 order by a.id")
        with self._errors():
            rows = list(self.db.query(sql, [channel, idle_since.isoformat(timespec="seconds")]))
        return [(_assessment(row), row) for row in rows]

    def mark_reminded(self, assessment_id: int) -> None:
        with self._errors():
            self.db.execute("update assessments set reminded_at = ? where id = ?", [self._stamp(), assessment_id])

    def delete_respondent(self, respondent_id: int) -> int:
        """Remove every personal row of one respondent; record that (not who) in deletions."""
        owned = "(select id from assessments where respondent_id = ?)"
        statements = [
            f"delete from answers where assessment_id in {owned}",
            f"delete from results where assessment_id in {owned}",
            "delete from support_requests where respondent_id = ?",
            "delete from assessments where respondent_id = ?",
            "delete from consents where respondent_id = ?",
            "delete from chats where respondent_id = ?",
            "delete from respondents where id = ?",
        ]
        with self._errors(), self.db.atomic():
            channel = self._one("select channel from respondents where id = ?", [respondent_id])
            removed = sum(self.db.execute(sql, [respondent_id]).rowcount for sql in statements)
            self.db.table("deletions").insert({"channel": channel["channel"] if channel else None, "rows": removed,
                                         "at": self._stamp()})
        return removed

    # -- plumbing -------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        # A plain cursor: sqlite-utils' query() wraps each read in a savepoint, two more
        # statements on the path of every message.
        cursor = self.db.execute(sql, params)
        row = cursor.fetchone()
        return dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None

    def _stamp(self) -> str:
        return self._now().isoformat(timespec="seconds")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            raise StorageError(_explain(self.path, str(error))) from None
        except sqlite3.DatabaseError as error:
            raise StorageError(f"{self.path} is not an sme-bot database ({error}); pass another file with --db") from None


def migrate(db: sqlite_utils.Database, migrations: list[Migration]) -> None:
    """Bring an older file up to date, one recorded step at a time; refuse a newer one."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise StorageError(f"the database was written by a newer sme-bot (schema {version}, this one knows "
                           f"{len(migrations)}); upgrade sme-bot to open it")
    for number, step in enumerate(migrations[version:], start=version + 1):
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")


def _explain(path: str, message: str) -> str:
    if "locked" in message or "busy" in message:
        return f"the database {path} is locked by another program; close it or wait, then try again"
    if "readonly" in message or "read-only" in message:
        return f"the database {path} is read-only; make it writable or pass another file with --db"
    if "unable to open" in message:
        return f"cannot open the database {path}; check that its folder exists and is writable"
    return f"database error in {path}: {message}"


def _run_on(conn: sqlite3.Connection, base: str, params: list[Any], queries: dict[str, str], *,
            close: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    try:
        conn.execute("drop table if exists temp.base")
        conn.execute(base, params)
        results = {name: conn.execute(sql).fetchall() for name, sql in queries.items()}
        conn.execute("drop table temp.base")
        return results
    finally:
        if close:
            conn.close()


def _completed_filter(questionnaire_id: str, cohort: str | None) -> tuple[str, list[Any]]:
    sql = "a.status = 'completed' and a.questionnaire_id = ?"
    return (sql + " and a.cohort = ?", [questionnaire_id, cohort]) if cohort else (sql, [questionnaire_id])


def _profile_sql(question_id: str) -> str:
    """The current answer to a profile question, straight from the answers table."""
    return (f"(select json_extract(value, '$') from answers where assessment_id = a.id and question_id = "
            f"'{question_id}' order by id desc limit 1)")


def _group_sql(by: str | None, size_bands: list[int]) -> str:
    if by is None:
        return "'all'"
    if by == "cohort":
        return "coalesce(a.cohort, '-')"
    if by in ("sector", "district"):
        return f"coalesce({_profile_sql(by)}, '-')"
    if by == "size":
        employees = _profile_sql("employees")
        labels = ["micro", "small", "medium"]
        # Up to three bands are named; the last group is "large".
        cases = " ".join(f"when {employees} <= {int(limit)} then '{label}'"
                         for limit, label in zip(size_bands, labels, strict=False))
        return f"case when {employees} is null then '-' {cases} else 'large' end"
    raise ValueError(f"cannot group by {by!r}")


def _encode(value: Value) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def _decode(value: str | None) -> Value:
    if value is not None and value[:1] == '"' and "\\" not in value:
        return value[1:-1]  # a plain option id or text: most answers, and exports read millions
    decoded = json.loads(value) if value is not None else None
    return tuple(decoded) if isinstance(decoded, list) else decoded


def _assessment(row: dict[str, Any]) -> Assessment:
    return Assessment(id=row["id"], respondent_id=row["respondent_id"], questionnaire_id=row["questionnaire_id"],
                      questionnaire_version=row["questionnaire_version"], channel=row["channel"],
                      language=row["language"], cohort=row["cohort"], status=row["status"],
                      started_at=row["started_at"])
