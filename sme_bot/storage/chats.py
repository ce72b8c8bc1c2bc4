"""Where each chat stands, per channel: the narrow piece of storage a chat channel keeps itself."""

from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sme_bot.storage.assessments import Assessment, _assessment
from sme_bot.storage.database import Database


class ChatRows:
    """One channel's chats: language, the question on screen, multiple-choice ticks, updates seen."""

    def __init__(self, db: Database, channel: str):
        self.db = db
        self.channel = channel

    def get(self, external_id: str) -> dict[str, Any] | None:
        """A chat's row (with its respondent id) found by the outside id, in one query."""
        with self.db.errors():
            return self.db.one("select c.* from chats c join respondents r on r.id = c.respondent_id "
                               "where r.channel = ? and r.external_id = ?", [self.channel, external_id])

    def save(self, respondent_id: int, **fields: Any) -> None:
        """Create or update a chat's row, changing only the given fields."""
        values = {"respondent_id": respondent_id, **fields, "updated_at": self.db.stamp()}
        unknown = values.keys() - self._columns
        if unknown:
            raise ValueError(f"chats has no column {', '.join(sorted(unknown))}")
        names = ", ".join(values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "respondent_id")
        sql = (f"insert into chats ({names}) values ({', '.join('?' * len(values))}) "
               f"on conflict(respondent_id) do update set {updates}")
        with self.db.errors():
            self.db.execute(sql, list(values.values()))

    @cached_property
    def _columns(self) -> set[str]:
        return set(self.db.db.table("chats").columns_dict)

    def remember_username(self, username: str) -> None:
        """The bot's @username, as the channel's own server reported it at start-up."""
        with self.db.errors():
            self.db.execute("insert into meta (key, value) values (?, ?) on conflict(key) do update set value = "
                            "excluded.value", [f"{self.channel}_username", username])

    def username(self) -> str | None:
        """The bot's @username as last reported, if the bot has run on this database."""
        with self.db.errors():
            row = self.db.one("select value from meta where key = ?", [f"{self.channel}_username"])
        return row["value"] if row else None

    def first_time(self, update_id: str | int) -> bool:
        """Record an incoming update; False when this channel delivered it before."""
        with self.db.errors():
            cursor = self.db.execute("insert or ignore into processed_updates (channel, update_id, at) values (?, ?, ?)",
                                     [self.channel, str(update_id), self.db.stamp()])
        return cursor.rowcount == 1

    def forget_updates(self, *, older_than: timedelta) -> int:
        """Forget this channel's updates marked before `older_than` ago (by the store's clock,
        which stamped them); how many."""
        cutoff = (self.db.now() - older_than).isoformat(timespec="seconds")
        with self.db.errors():
            cursor = self.db.execute("delete from processed_updates where channel = ? and at < ?",
                                     [self.channel, cutoff])
        return cursor.rowcount

    def idle(self, since: datetime) -> list[tuple[Assessment, dict[str, Any]]]:
        """Assessments in progress on this channel, untouched since `since`, never reminded, in a
        chat that has not blocked the bot."""
        sql = ("select a.*, c.chat_id, c.language as chat_language from assessments a "
               "join chats c on c.respondent_id = a.respondent_id where a.channel = ? and a.status = 'in_progress' "
               "and a.reminded_at is null and a.updated_at < ? and coalesce(c.blocked, 0) = 0 order by a.id")
        with self.db.errors():
            rows = self.db.all(sql, [self.channel, since.isoformat(timespec="seconds")])
        return [(_assessment(row), row) for row in rows]
