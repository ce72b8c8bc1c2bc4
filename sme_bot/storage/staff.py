"""What programme staff read: summaries, exports, cohorts and support requests, over all rows.

Everything here is linear in the rows and streams where rows go out one by one.
"""

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sme_bot.errors import StorageError
from sme_bot.flows.answers import Value
from sme_bot.questionnaire import Question
from sme_bot.storage import keys
from sme_bot.storage.database import Database
from sme_bot.storage.results import decode
from sme_bot.storage.support import SupportRows


@dataclass(frozen=True)
class Grouping:
    """How a summary splits assessments: by cohort, by the answer to a profile question, or by
    bands of a number answer ((at most, name) in rising order; beyond the last, `rest`)."""

    cohort: bool = False
    question: str | None = None
    bands: tuple[tuple[float, str], ...] = ()
    rest: str = ""

    @classmethod
    def of(cls, question: Question) -> "Grouping":
        """A breakdown question as the storage groups by it: its answer, or its number bands."""
        bands = tuple((g.at_most, g.id) for g in question.groups if g.at_most is not None)
        return cls(question=question.id, bands=bands, rest=question.groups[-1].id if question.groups else "")


class StaffReads:
    def __init__(self, db: Database):
        self.db = db
        self._memory_key: str | None = None

    def versions(self, questionnaire_id: str, cohort: str | None, *, include_demo: bool = False) -> dict[str, int]:
        """Completed assessments of each version of a questionnaire (each has figures of its own)."""
        sql, params = _completed_filter(questionnaire_id, cohort, include_demo)
        with self.db.errors():
            rows = self.db.conn.execute(f"select a.questionnaire_version, count(*) from assessments a where {sql} "
                                        "group by 1", params).fetchall()
        return {str(version): int(count) for version, count in rows}

    def aggregates(self, questionnaire_id: str, version: str, *, cohort: str | None, by: Grouping | None,
                   include_demo: bool = False) -> dict[str, list[tuple]]:
        """Raw counts and sums for a summary of one version of a questionnaire, per group (None:
        one group); linear in the rows. Counts are of assessments; levels, pillars and needs count
        each business once, by its latest completed result of the questionnaire in scope, when that
        result is of this version (so a business is in one version's figures, never two)."""
        group = _group_sql(by)
        where = (f"a.status in ('in_progress', 'completed', 'cancelled') and a.questionnaire_id = ? "
                 f"and {real_rows(include_demo)}") + (" and a.cohort = ?" if cohort else "")
        params = [questionnaire_id, cohort] if cohort else [questionnaire_id]
        # The assessments in scope with their group, worked out once (a group by a profile answer
        # is a lookup per row), then each business's latest completed one with its first (by id,
        # as retakes' first and latest are): what every figure below reads.
        scope = (f"select a.id, a.respondent_id, {group}, a.questionnaire_version, a.status = 'completed', "
                 "case when a.status = 'completed' then round((julianday(a.completed_at) - "
                 f"julianday(a.started_at)) * 1440, 1) end from assessments a where {where}")
        latest = ("select t.id, t.first, s.grp from (select max(id) as id, min(case when version = :version then id end) "
                  "as first from temp.scope where done group by respondent) t join temp.scope s on s.id = t.id "
                  "where s.version = :version")
        # Without a breakdown, grouped by the figure alone: a group column, even a constant one, is sorted on.
        grp, keys = ("l.grp", "1, 2") if by else (group, "2")
        queries = {
            # Minutes to 0.1, counted: the median needs the spread, not every row.
            "assessments": "select grp, done, minutes, count(*) from temp.scope where version = :version group by 1, 2, 3",
            "support": "select j.value, count(*) from temp.scope s join support_requests sr on sr.assessment_id = s.id, "
                       "json_each(sr.pillars) j where s.version = :version group by j.value order by 2 desc",
            # CROSS JOIN keeps the result rows outside: read along an index in the order they are
            # grouped in, each looked up in `latest` by id, they need no sort (at 100,000 results,
            # 0.05 s against 0.3 s the other way round); a scope of any size costs at most that pass.
            "levels": f"select {grp}, r.level, count(*) from results r cross join temp.latest l "
                      f"on l.id = r.assessment_id group by {keys}",
            "pillars": f"select {grp}, p.pillar, sum(p.percent), count(*) from result_pillars p "
                       f"cross join temp.latest l on l.id = p.assessment_id group by {keys}",
            "steps": "select s.pillar, s.level, s.step, count(*) from result_steps s cross join temp.latest l "
                     "on l.id = s.assessment_id group by 1, 2, 3 order by 4 desc, 1, 2, 3 limit 10",
            # Businesses that completed it more than once: their first result against their latest.
            "retakes": "select p2.pillar, avg(p2.percent - p1.percent), count(*) from temp.latest l "
                       "join result_pillars p1 on p1.assessment_id = l.first "
                       "join result_pillars p2 on p2.assessment_id = l.id and p2.pillar = p1.pillar "
                       "where l.first < l.id group by p2.pillar",
            "retake_levels": "select r2.level - r1.level, count(*) from temp.latest l "
                             "join results r1 on r1.assessment_id = l.first "
                             "join results r2 on r2.assessment_id = l.id where l.first < l.id group by 1 order by 1",
        }
        conn = self.db.conn
        outer = conn.in_transaction
        with self.db.errors():
            try:
                # Tables of this connection's own: the web app gives each request a connection.
                conn.execute("create temp table scope (id integer primary key, respondent integer, grp, version, "
                             "done, minutes)")
                conn.execute(f"insert into temp.scope {scope}", params)
                conn.execute("create temp table latest (id integer primary key, first integer, grp)")
                conn.execute(f"insert into temp.latest {latest}", {"version": version})
                return {name: conn.execute(sql, {"version": version}).fetchall() for name, sql in queries.items()}
            finally:
                conn.execute("drop table if exists temp.scope")
                conn.execute("drop table if exists temp.latest")
                if not outer:
                    conn.commit()  # sqlite3 began a transaction for the inserts: no snapshot held after

    def count_left_out(self, questionnaire_id: str, cohort: str | None) -> int:
        """Completed assessments staff figures leave out (demo and console ones): said beside a
        figure, so a database of demo data does not look empty without a word."""
        sql, params = _completed_filter(questionnaire_id, cohort, True)
        with self.db.errors():
            return int(self.db.execute(f"select count(*) from assessments a where {sql} and not ({real_rows()})",
                                       params).fetchone()[0])

    def iter_completed(self, questionnaire_id: str, cohort: str | None, *, include_demo: bool = False,
                       version: str | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Value]]]:
        """Completed assessments (of one version, when given) with their respondent, result and
        current answers, streamed in id order: cursors walked side by side, so memory does not grow
        with the rows."""
        sql, params = _completed_filter(questionnaire_id, cohort, include_demo, version)
        # Every step reads the file, and a damaged page can turn up at any row: all of it inside
        # errors(), so it ends as one line, never a traceback.
        with self.db.errors():
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
            for values in rows:
                row = dict(zip(columns, values, strict=True))
                current: dict[str, Value] = {}
                while pending_answer is not None and pending_answer[0] == row["id"]:
                    _, qid, value, withdrawn = pending_answer
                    if withdrawn:
                        current.pop(qid, None)
                    else:
                        current[qid] = decode(value)
                    pending_answer = next(answers, None)
                row["pillars"] = {}
                while pending_pillar is not None and pending_pillar[0] == row["id"]:
                    row["pillars"][pending_pillar[1]] = pending_pillar[2:]
                    pending_pillar = next(pillars, None)
                yield row, current

    def pseudonym_key(self) -> str:
        """The secret mixed into pseudonymous ids: from the environment or a file beside the
        database, never from the database itself (sme_bot.storage.keys). Reads only, unless a
        salt left by an older release is to be moved out: a read-only database exports too."""
        if self.db.path == ":memory:":
            if self._memory_key is None:
                self._memory_key = os.environ.get(keys.ENVIRONMENT, "").strip() or secrets.token_hex(32)
            return self._memory_key
        with self.db.errors():
            row = self.db.one("select value from meta where key = 'pseudonym_salt'", [])
        legacy = str(row["value"]) if row else None
        key = keys.pseudonym_key(self.db.path, legacy)
        if legacy is not None:
            try:
                with self.db.errors():
                    self.db.execute("delete from meta where key = 'pseudonym_salt'")
                    # Out of the write-ahead log too, not only the database pages.
                    self.db.conn.execute("pragma wal_checkpoint(truncate)").fetchall()
            except StorageError:
                pass  # a read-only database: the salt leaves it the next time it can be written
        return key

    def cohorts(self, *, include_demo: bool = False) -> list[dict[str, Any]]:
        """Each cohort with its assessments started and completed: of the cohort's questionnaire
        only (when it names one), real rows only unless told."""
        sql = ("select c.code, c.name, c.starts, c.ends, c.questionnaire, c.closed_at, "
               "sum(a.status in ('in_progress', 'completed', 'cancelled')) as started, "
               "sum(a.status = 'completed') as completed "
               "from cohorts c left join assessments a on a.cohort = c.code "
               f"and (c.questionnaire is null or a.questionnaire_id = c.questionnaire) and {real_rows(include_demo)} "
               "group by c.code order by c.created_at")
        with self.db.errors():
            return self.db.all(sql)

    def group_keys(self, assessment_id: int, by: tuple[Grouping, ...]) -> tuple[str, ...] | None:
        """The groups an assessment falls in, one per grouping (its sector, its size band); None
        when it is not in one for every grouping (a profile answer skipped)."""
        keys = ", ".join(_group_sql(g) for g in by)
        with self.db.errors():
            own = self.db.conn.execute(f"select {keys} from assessments a where a.id = ?", [assessment_id]).fetchone()
        if own is None or any(key is None or key == "-" for key in own):
            return None
        return tuple(str(key) for key in own)

    def levels_by_group(self, questionnaire_id: str, version: str,
                        by: tuple[Grouping, ...]) -> dict[tuple[str, ...], dict[int, int]]:
        """For every combination of groups (see group_keys), how many businesses stand at each
        level: real rows only, each business once by its latest completed result of the
        questionnaire, counted when that result is of this version (one figure never mixes
        versions). One pass over the completed assessments, whichever group is asked about."""
        groups = ", ".join(f"{_group_sql(g)} as g{i}" for i, g in enumerate(by))
        keys = ", ".join(f"g{i}" for i in range(len(by)))
        with self.db.errors():
            rows = self.db.conn.execute(
                f"with latest as (select max(a.id) as id from assessments a where a.status = 'completed' "
                f"and a.questionnaire_id = ? and {real_rows()} group by a.respondent_id), "
                f"grouped as (select a.id, {groups} from assessments a join latest on latest.id = a.id "
                f"where a.questionnaire_version = ?) "
                f"select {keys}, r.level, count(*) from grouped join results r on r.assessment_id = grouped.id "
                f"group by {keys}, r.level", [questionnaire_id, version]).fetchall()
        table: dict[tuple[str, ...], dict[int, int]] = {}
        for *key, level, count in rows:
            table.setdefault(tuple(str(k) for k in key), {})[int(level)] = int(count)
        return table

    def median_minutes(self, questionnaire_id: str, version: str) -> tuple[float, int] | None:
        """The median time real businesses took, start to result, on this questionnaire version,
        and how many it is the median of; None when none finished it yet."""
        sql = ("select (julianday(a.completed_at) - julianday(a.started_at)) * 1440 as m from assessments a "
               f"where a.status = 'completed' and a.questionnaire_id = ? and a.questionnaire_version = ? and "
               f"{real_rows()} and a.completed_at is not null")
        with self.db.errors():
            count = self.db.conn.execute(f"select count(*) from ({sql})", [questionnaire_id, version]).fetchone()[0]
            if not count:
                return None
            middle = self.db.conn.execute(f"{sql} order by m limit 1 offset ?",
                                          [questionnaire_id, version, (count - 1) // 2]).fetchone()[0]
        return float(middle), int(count)

    def support_requests(self) -> list[dict[str, Any]]:
        """The support requests not closed (store.support has the rest)."""
        return SupportRows(self.db).requests(closed=False)


# Rows no business made: `sme-bot demo-data`'s made-up ones and staff trying the console. Every
# staff figure leaves them out through this one fragment (on the assessments aliased `a`).
NOT_REAL = ("demo", "console")
# People whose latest answer on sharing with staff is no (or withdrawn): staff see nothing of
# their assessments. Not correlated with `a`, so SQLite works it out once per query.
NOT_SHARED = ("a.respondent_id not in (select respondent_id from consents c where purpose = 'staff' "
              "and id = (select max(id) from consents where respondent_id = c.respondent_id and purpose = 'staff') "
              "and (agreed = 0 or withdrawn_at is not null))")


def real_rows(include_demo: bool = False) -> str:
    """The SQL condition that keeps staff figures to real businesses that agreed to share with
    staff (demo and console rows too, when told)."""
    if include_demo:
        return NOT_SHARED
    return f"a.channel not in ({', '.join(repr(channel) for channel in NOT_REAL)}) and {NOT_SHARED}"


def _completed_filter(questionnaire_id: str, cohort: str | None, include_demo: bool,
                      version: str | None = None) -> tuple[str, list[Any]]:
    sql, params = f"a.status = 'completed' and a.questionnaire_id = ? and {real_rows(include_demo)}", [questionnaire_id]
    for column, value in (("cohort", cohort), ("questionnaire_version", version)):
        if value:
            sql, params = f"{sql} and a.{column} = ?", [*params, value]
    return sql, params


def _profile_sql(question_id: str) -> str:
    """The current answer to a profile question, straight from the answers table."""
    return (f"(select json_extract(value, '$') from answers where assessment_id = a.id and question_id = "
            f"'{question_id}' order by id desc limit 1)")


def _group_sql(by: Grouping | None) -> str:
    if by is None:
        return "'all'"
    if by.cohort:
        return "coalesce(a.cohort, '-')"
    assert by.question is not None
    answer = _profile_sql(by.question)
    if not by.bands:
        return f"coalesce({answer}, '-')"
    cases = " ".join(f"when {answer} <= {float(limit)} then '{name}'" for limit, name in by.bands)
    return f"case when {answer} is null then '-' {cases} else '{by.rest}' end"
