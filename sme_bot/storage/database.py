"""One SQLite connection (WAL) shared by every storage concern: opening, errors, transactions."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sme_bot.errors import DatabaseBusy, StorageError
from sme_bot.startup import numpy_hidden

with numpy_hidden():
    import sqlite_utils

Clock = Callable[[], datetime]

# Seconds to wait for another writer before reporting the database as locked.
BUSY_TIMEOUT = 5


class Database:
    """The connection, the clock and the one way SQLite errors become a user's message."""

    def __init__(self, path: str | Path, *, now: Clock = lambda: datetime.now(UTC), busy_timeout: float = BUSY_TIMEOUT):
        self.path = str(path)
        self.now = now
        with self.errors():
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout)
            self.db = sqlite_utils.Database(self.conn)
        self._after_commit: list[Callable[[], None]] = []

    def configure(self) -> None:
        with self.errors():
            if self.path != ":memory:":
                self.db.enable_wal()
                # In WAL mode NORMAL still survives a killed process; only a power cut can drop
                # the last commits, and it saves an fsync per answer.
                self.execute("PRAGMA synchronous = NORMAL")
            self.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten, not just unlinked: a person's deleted data must not
            # survive in free pages.
            self.execute("PRAGMA secure_delete = ON")

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """A statement on the shared connection: inside a transaction if one is open, else committed."""
        return self.db.execute(sql, list(params))

    def one(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> dict[str, Any] | None:
        # A plain cursor: sqlite-utils' query() wraps each read in a savepoint, two more
        # statements on the path of every message.
        cursor = self.conn.execute(sql, params)
        row = cursor.fetchone()
        return dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None

    def all(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all; nested blocks join the outer one.

        BEGIN IMMEDIATE takes the write lock up front: a transaction that reads first and
        writes later could otherwise fail at once when another process wrote in between.
        """
        if self.conn.in_transaction:
            yield
            return
        with self.errors():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._after_commit.clear()
                self.conn.rollback()
                raise
            self.conn.commit()
            while self._after_commit:
                self._after_commit.pop(0)()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the transaction in progress has committed (at once if there is none):
        for what SQLite refuses inside a transaction."""
        if self.conn.in_transaction:
            self._after_commit.append(action)
        else:
            with self.errors():
                action()

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            message = str(error)
            busy = "locked" in message or "busy" in message
            raise (DatabaseBusy if busy else StorageError)(_explain(self.path, message)) from None
        except sqlite3.IntegrityError as error:
            raise StorageError(f"database error in {self.path}: {error}") from None
        except sqlite3.DatabaseError as error:
            raise StorageError(_explain_failure(self.path, error)) from None


def _explain_failure(path: str, error: sqlite3.DatabaseError) -> str:
    """What a DatabaseError other than an operational or integrity one means to whoever ran sme-bot."""
    message = str(error)
    if type(error) is sqlite3.DatabaseError and "not a database" in message:
        return f"{path} is not an sme-bot database ({message}); pass another file with --db"
    if "malformed" in message or "corrupt" in message:
        return (f"the database {path} is damaged ({message}); restore it from a backup "
                "(sqlite3's .recover command can save what is left)")
    return f"database error in {path}: {message}"


def _explain(path: str, message: str) -> str:
    if "malformed" in message or "corrupt" in message:
        return (f"the database {path} is damaged ({message}); restore it from a backup "
                "(sqlite3's .recover command can save what is left)")
    if "locked" in message or "busy" in message:
        return f"the database {path} is locked by another program; close it or wait, then try again"
    if "readonly" in message or "read-only" in message:
        return f"the database {path} is read-only; make it writable or pass another file with --db"
    if "unable to open" in message:
        return f"cannot open the database {path}; check that its folder exists and is writable"
    return f"database error in {path}: {message}"
