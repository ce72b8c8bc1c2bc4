"""Deleting a person, driven by the schema: every table that holds rows of a respondent or of
their assessments is found by its columns, so a new table with personal data cannot be missed."""

import json
from collections.abc import Iterator
from typing import Any

from sme_bot.storage.database import Database

# Columns that tie a row to a person, directly or through one of their assessments.
_PERSON = "respondent_id"
_ASSESSMENT = "assessment_id"


def personal_tables(db: Database) -> dict[str, str]:
    """Each table holding a person's rows, with the column that ties them to the person (beside
    respondents and assessments themselves, which go last)."""
    tables = [row[0] for row in db.conn.execute("select name from sqlite_master where type = 'table' and name "
                                                 "not like 'sqlite_%' and name not in ('respondents', 'assessments')")]
    found = {}
    for table in tables:
        columns = {row[1] for row in db.conn.execute(f"pragma table_info('{table}')")}
        # A row tied to both (a support request) goes with the person.
        if _PERSON in columns:
            found[table] = _PERSON
        elif _ASSESSMENT in columns:
            found[table] = _ASSESSMENT
    return found


class Privacy:
    def __init__(self, db: Database):
        self.db = db

    # -- finding a person and what is held of them (a data request) --------------------------------

    def people(self) -> Iterator[tuple[int, str, str]]:
        """Every respondent's (id, channel, outside id), streamed: a pseudonym is found by
        hashing each, since the hash cannot be undone."""
        with self.db.errors():
            yield from self.db.conn.execute("select id, channel, external_id from respondents order by id")

    def contacts(self) -> list[tuple[int, str]]:
        """(respondent id, contact) of every support request that gave a contact."""
        with self.db.errors():
            return self.db.conn.execute("select respondent_id, contact from support_requests "
                                        "where contact is not null and contact != '' order by id").fetchall()

    def held(self, respondent_id: int) -> dict[str, Any] | None:
        """What is held of one person: their row, consents, assessments, support requests, and
        how many rows each table holds of them (found as deletion finds them); None if no one."""
        with self.db.errors():
            person = self.db.one("select id, channel, external_id, name, language, created_at from respondents "
                                 "where id = ?", [respondent_id])
            if person is None:
                return None
            ids = [json.dumps([respondent_id])]
            assessments = self.db.all(
                "select a.id, a.questionnaire_id, a.questionnaire_version, a.cohort, a.status, a.started_at, "
                "a.completed_at, r.level from assessments a left join results r on r.assessment_id = a.id "
                "where a.respondent_id = ? order by a.id", [respondent_id])
            rows = {"respondents": 1, "assessments": len(assessments)}
            for table, column in sorted(personal_tables(self.db).items()):
                rows[table] = self.db.conn.execute(f"select count(*) from {table} where {_where(column)}",
                                                   ids).fetchone()[0]
            return {**person, "rows": {table: count for table, count in rows.items() if count},
                    "consents": self.db.all("select purpose, agreed, at, withdrawn_at from consents "
                                            "where respondent_id = ? order by id", [respondent_id]),
                    "assessments": assessments,
                    "support": self.db.all("select id, contact, status, created_at from support_requests "
                                           "where respondent_id = ? order by id", [respondent_id])}

    # -- deleting ------------------------------------------------------------------------------------

    def delete_respondent(self, respondent_id: int) -> int:
        """Remove every row of one person; record that a deletion happened (not whose)."""
        with self.db.errors(), self.db.transaction():
            channel = self.db.one("select channel from respondents where id = ?", [respondent_id])
            removed = self._remove([respondent_id], channel["channel"] if channel else None)
        # The write-ahead log still holds the deleted rows until it is copied back and emptied.
        if self.db.path != ":memory:":
            self.db.after_commit(self._checkpoint)
        return removed

    def delete_channel(self, channel: str, *, batch: int = 200) -> tuple[int, int]:
        """Remove every person of one channel (`demo`: made-up rows) with all of theirs.
        Returns (people, rows) removed."""
        return self._delete_batches("select id, channel from respondents where channel = ?", [channel], batch)

    def idle_since(self, before: str) -> int:
        """How many people have done nothing since `before` (an ISO time): what a purge removes."""
        with self.db.errors():
            return int(self.db.conn.execute(f"select count(*) from ({_IDLE})", [before]).fetchone()[0])

    def delete_idle(self, before: str, *, batch: int = 200) -> tuple[int, int]:
        """Remove every person who has done nothing since `before` (an ISO time): the data kept
        no longer than bot.toml says. Returns (people, rows) removed."""
        return self._delete_batches(_IDLE, [before], batch)

    def _delete_batches(self, select: str, params: list[Any], batch: int) -> tuple[int, int]:
        """Remove the people `select` finds (id, channel), a batch per transaction, so a bot
        writing to the same file never waits long; (people, rows) removed."""
        people = rows = 0
        while True:
            with self.db.errors(), self.db.transaction():
                found = self.db.conn.execute(f"{select} order by id limit ?", [*params, batch]).fetchall()
                for channel in {channel for _, channel in found}:
                    rows += self._remove([id_ for id_, of in found if of == channel], channel)
            if not found:
                break
            people += len(found)
        if people and self.db.path != ":memory:":
            self.db.after_commit(self._checkpoint)
        return people, rows

    def _remove(self, respondent_ids: list[int], channel: str | None) -> int:
        """Every row of these people, inside the caller's transaction; one deletions record."""
        ids = [json.dumps(respondent_ids)]
        removed = 0
        # Rows hanging off assessments first, then the person's own, then the person.
        for table, column in sorted(personal_tables(self.db).items(), key=lambda item: item[1]):
            removed += self.db.conn.execute(f"delete from {table} where {_where(column)}", ids).rowcount
        removed += self.db.conn.execute(f"delete from assessments where respondent_id in {_PEOPLE}", ids).rowcount
        removed += self.db.conn.execute(f"delete from respondents where id in {_PEOPLE}", ids).rowcount
        self.db.conn.execute("insert into deletions (channel, rows, at) values (?, ?, ?)",
                             [channel, removed, self.db.stamp()])
        return removed

    def _checkpoint(self) -> None:
        self.db.conn.execute("pragma wal_checkpoint(truncate)").fetchall()


# People (id, channel) whose last trace is older than the one parameter: their own row, their
# consents, their assessments.
_IDLE = ("select id, channel from respondents r where max(r.created_at, "
         "coalesce((select max(at) from consents where respondent_id = r.id), ''), "
         "coalesce((select max(updated_at) from assessments where respondent_id = r.id), '')) < ?")

# People's ids as one JSON parameter: any number of them, no SQL built from values.
_PEOPLE = "(select value from json_each(?))"


def _where(column: str) -> str:
    """The condition on a personal table's tie column for the people in the one JSON parameter."""
    if column == _ASSESSMENT:
        return f"{column} in (select id from assessments where respondent_id in {_PEOPLE})"
    return f"{column} in {_PEOPLE}"
