"""Staff accounts for the staff area, and its audit trail: rows only, no rules (sme_bot.accounts has them)."""

from typing import Any

from sme_bot.storage.database import Database


class AccountRows:
    def __init__(self, db: Database):
        self.db = db

    def get(self, name: str) -> dict[str, Any] | None:
        with self.db.errors():
            return self.db.one("select name, role, password_hash, created_at, failed, locked_until "
                               "from staff_accounts where name = ?", [name])

    def all(self) -> list[dict[str, Any]]:
        with self.db.errors():
            return self.db.all("select name, role, created_at, failed, locked_until from staff_accounts order by name")

    def add(self, name: str, role: str, password_hash: str) -> bool:
        """False when the name is taken."""
        with self.db.errors():
            cursor = self.db.execute("insert or ignore into staff_accounts (name, role, password_hash, created_at, "
                                     "failed) values (?, ?, ?, ?, 0)", [name, role, password_hash, self.db.stamp()])
        return cursor.rowcount == 1

    def remove(self, name: str) -> bool:
        with self.db.errors():
            return self.db.execute("delete from staff_accounts where name = ?", [name]).rowcount == 1

    def set_password(self, name: str, password_hash: str) -> bool:
        # A new password also lifts a lockout: whoever set it can run the command line.
        with self.db.errors():
            return self.db.execute("update staff_accounts set password_hash = ?, failed = 0, locked_until = null "
                                   "where name = ?", [password_hash, name]).rowcount == 1

    def record_failure(self, name: str, *, limit: int, locked_until: str) -> int:
        """Count a failed sign-in; at `limit` failures in a row the account is locked until
        `locked_until` and the count starts again. Returns the count after this failure."""
        with self.db.errors(), self.db.transaction():
            self.db.execute("update staff_accounts set failed = failed + 1 where name = ?", [name])
            row = self.db.one("select failed from staff_accounts where name = ?", [name])
            failed = int(row["failed"]) if row else 0
            if failed >= limit:
                self.db.execute("update staff_accounts set failed = 0, locked_until = ? where name = ?",
                                [locked_until, name])
        return failed

    def record_success(self, name: str) -> None:
        with self.db.errors():
            self.db.execute("update staff_accounts set failed = 0, locked_until = null where name = ?", [name])

    def audit(self, account: str | None, action: str, detail: str = "") -> None:
        with self.db.errors():
            self.db.execute("insert into staff_audit (at, account, action, detail) values (?, ?, ?, ?)",
                            [self.db.stamp(), account, action, detail])

    def audit_trail(self, *, limit: int = 500) -> list[dict[str, Any]]:
        """The latest entries first."""
        with self.db.errors():
            return self.db.all("select at, account, action, detail from staff_audit order by at desc, id desc "
                               "limit ?", [limit])
