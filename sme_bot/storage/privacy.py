"""Deleting a person, driven by the schema: every table that holds rows of a respondent or of
their assessments is found by its columns, so a new table with personal data cannot be missed."""

import json

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
        """Remove every person of one channel (`demo`: made-up rows) with all of theirs, a batch
        of people per transaction so a bot writing to the same file never waits long.
        Returns (people, rows) removed."""
        people = rows = 0
        while True:
            with self.db.errors(), self.db.transaction():
                ids = [row[0] for row in self.db.conn.execute(
                    "select id from respondents where channel = ? order by id limit ?", [channel, batch])]
                if ids:
                    rows += self._remove(ids, channel)
            if not ids:
                break
            people += len(ids)
        if people and self.db.path != ":memory:":
            self.db.after_commit(self._checkpoint)
        return people, rows

    def _remove(self, respondent_ids: list[int], channel: str | None) -> int:
        """Every row of these people, inside the caller's transaction; one deletions record."""
        # The ids as one JSON parameter: any number of them, no SQL built from values.
        people = "(select value from json_each(?))"
        owned = f"(select id from assessments where respondent_id in {people})"
        ids = [json.dumps(respondent_ids)]
        removed = 0
        # Rows hanging off assessments first, then the person's own, then the person.
        for table, column in sorted(personal_tables(self.db).items(), key=lambda item: item[1]):
            where = f"{column} in {owned}" if column == _ASSESSMENT else f"{column} in {people}"
            removed += self.db.conn.execute(f"delete from {table} where {where}", ids).rowcount
        removed += self.db.conn.execute(f"delete from assessments where respondent_id in {people}", ids).rowcount
        removed += self.db.conn.execute(f"delete from respondents where id in {people}", ids).rowcount
        self.db.conn.execute("insert into deletions (channel, rows, at) values (?, ?, ?)",
                             [channel, removed, self.db.stamp()])
        return removed

    def _checkpoint(self) -> None:
        self.db.conn.execute("pragma wal_checkpoint(truncate)").fetchall()
