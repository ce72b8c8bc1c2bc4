"""The only code that speaks SQL: one SQLite file (WAL) through sqlite-utils, split by concern.

`Store` opens the file, brings its schema up to date and hands out each concern on the one
connection: `assessments` (people, consent, answers, results, cohorts, support), `chats(channel)`
(a chat channel's own state), `staff` (reads over all rows), `privacy` (deletion), `accounts`
(staff accounts, audit) and `support` (following support requests up).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sme_bot.storage.accounts import AccountRows
from sme_bot.storage.assessments import Assessment, AssessmentRows, Person
from sme_bot.storage.chats import ChatRows
from sme_bot.storage.database import BUSY_TIMEOUT, Clock, Database
from sme_bot.storage.privacy import Privacy
from sme_bot.storage.schema import MIGRATIONS, Migration, migrate
from sme_bot.storage.staff import Grouping, StaffReads
from sme_bot.storage.support import SupportRows

__all__ = ["Assessment", "Grouping", "Person", "Store"]


class Store:
    def __init__(self, path: str | Path, *, now: Clock | None = None, migrations: list[Migration] | None = None,
                 busy_timeout: float = BUSY_TIMEOUT):
        self._database = Database(path, busy_timeout=busy_timeout, **({"now": now} if now else {}))
        with self._database.errors():
            migrate(self._database.db, MIGRATIONS if migrations is None else migrations)
        self._database.configure()
        self.assessments = AssessmentRows(self._database)
        self.staff = StaffReads(self._database)
        self.privacy = Privacy(self._database)
        self.accounts = AccountRows(self._database)
        self.support = SupportRows(self._database)
        self._chats: dict[str, ChatRows] = {}

    @property
    def path(self) -> str:
        return self._database.path

    @property
    def db(self):  # type: ignore[no-untyped-def]
        """The sqlite-utils database, for tests and one-off inspection."""
        return self._database.db

    def chats(self, channel: str) -> ChatRows:
        if channel not in self._chats:
            self._chats[channel] = ChatRows(self._database, channel)
        return self._chats[channel]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One commit around everything inside (an update's marker, answer and chat state)."""
        with self._database.transaction():
            yield

    def close(self) -> None:
        self._database.close()
