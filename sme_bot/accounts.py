"""Staff accounts and their rules, for the command line and the staff area alike: names, roles,
passwords (argon2), signing in with a lockout, and the audit trail of what accounts did.

Signing in costs the same whatever goes wrong (an unknown name, a wrong password, a locked
account): one argon2 verification each time, so the time taken tells nothing about which.
"""

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sme_bot.errors import StaffError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from sme_bot.storage import Store

ROLES = ("admin", "viewer")
MIN_PASSWORD = 10
# Failed sign-ins in a row before an account is locked, and for how long.
LOCK_AFTER = 5
LOCK_MINUTES = 15
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


@dataclass(frozen=True)
class Account:
    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class SignIn:
    """What signing in gave: the account, or why not (`locked_until` when it is locked)."""

    account: Account | None
    locked_until: float | None = None
    # Changes whenever the password does, so a session made before a change ends with it.
    key: str = ""


def hasher() -> "PasswordHasher":
    from argon2 import PasswordHasher  # only where passwords are handled

    return PasswordHasher()


def normal_name(typed: str) -> str:
    """A name as stored: NFC, lower case, no surrounding spaces."""
    return unicodedata.normalize("NFC", typed).strip().lower()


def check_name(typed: str) -> str:
    name = normal_name(typed)
    if not _NAME.match(name):
        raise StaffError(f"the name {typed[:64]!r} cannot be used: give 2 to 64 letters a-z, digits, '.', '_', '-' "
                         "or '@', starting with a letter or digit")
    return name


def check_password(name: str, password: str) -> None:
    if not password:
        raise StaffError("the password is empty; give one of at least 10 characters")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password is too short ({len(password)} characters); give at least {MIN_PASSWORD}")
    if len(set(password)) < 5 or name in password.lower():
        raise StaffError("the password is too easy to guess (too few different characters, or it holds the name); "
                         "give another")


class Accounts:
    def __init__(self, store: "Store", *, password_hasher: "PasswordHasher | None" = None,
                 now: Callable[[], float] = time.time):
        self.rows = store.accounts
        self.hasher = password_hasher or hasher()
        self.now = now
        self._dummy: str | None = None

    # -- changes, from the command line --------------------------------------------------------------

    def add(self, name: str, role: str, password: str, *, by: str) -> Account:
        name = check_name(name)
        if role not in ROLES:
            raise StaffError(f"unknown role {role!r}; use {' or '.join(ROLES)}")
        check_password(name, password)
        self.ensure_new(name)
        if not self.rows.add(name, role, self.hasher.hash(password)):  # made meanwhile by another command
            raise StaffError(_taken(name))
        self.rows.audit(name, "account_added", f"role {role}, {by}")
        return Account(name, role)

    def remove(self, name: str, *, by: str) -> None:
        name = normal_name(name)
        if not self.rows.remove(name):
            raise StaffError(self._unknown(name))
        self.rows.audit(name, "account_removed", by)

    def set_password(self, name: str, password: str, *, by: str) -> None:
        name = normal_name(name)
        if self.rows.get(name) is None:
            raise StaffError(self._unknown(name))
        check_password(name, password)
        self.rows.set_password(name, self.hasher.hash(password))
        self.rows.audit(name, "password_changed", by)

    def ensure_new(self, name: str) -> None:
        """Fail with one line before a password is asked for a name that cannot be added."""
        name = check_name(name)
        if self.rows.get(name) is not None:
            raise StaffError(_taken(name))

    def ensure(self, name: str) -> None:
        """Fail with one line before a password is asked for an account that is not there."""
        if self.rows.get(normal_name(name)) is None:
            raise StaffError(self._unknown(normal_name(name)))

    def _unknown(self, name: str) -> str:
        known = ", ".join(row["name"] for row in self.rows.all()) or "none yet"
        return f"no account named {name[:64]!r} (accounts: {known}); `sme-bot staff add` makes one"

    def all(self) -> list[dict[str, Any]]:
        return self.rows.all()

    # -- signing in --------------------------------------------------------------------------------------

    def sign_in(self, typed_name: str, password: str, *, address: str) -> SignIn:
        from argon2.exceptions import InvalidHashError, VerificationError

        name = normal_name(typed_name)[:64]
        row = self.rows.get(name) if name else None
        now = self.now()
        locked = _seconds(row["locked_until"]) if row and row["locked_until"] else None
        verified: bool
        try:
            # Verified even when the name is unknown or the account locked, against a hash of nothing
            # anyone knows: every failure takes as long as a wrong password.
            verified = bool(self.hasher.verify(row["password_hash"] if row else self._dummy_hash(), password))
        except (VerificationError, InvalidHashError):
            verified = False
        if row is None:
            self.rows.audit(name or "-", "sign_in_failed", f"unknown name, from {address}")
            return SignIn(None)
        if locked is not None and locked > now:
            self.rows.audit(name, "sign_in_failed", f"account locked, from {address}")
            return SignIn(None, locked_until=locked)
        if not verified:
            until = now + LOCK_MINUTES * 60
            failed = self.rows.record_failure(name, limit=LOCK_AFTER, locked_until=_stamp(until))
            if failed >= LOCK_AFTER:
                self.rows.audit(name, "sign_in_failed", f"wrong password, from {address}; locked for {LOCK_MINUTES} "
                                                        "minutes")
                return SignIn(None, locked_until=until)
            self.rows.audit(name, "sign_in_failed", f"wrong password, from {address}")
            return SignIn(None)
        self.rows.record_success(name)
        self.rows.audit(name, "signed_in", f"from {address}")
        return SignIn(Account(name, row["role"]), key=session_key(row["password_hash"]))

    def current(self, name: object, key: object) -> Account | None:
        """The account a session names, while it exists and its password is the one signed in with."""
        row = self.rows.get(name) if isinstance(name, str) else None
        if row is None or key != session_key(row["password_hash"]):
            return None
        return Account(row["name"], row["role"])

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            import secrets

            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # -- the audit trail ---------------------------------------------------------------------------------

    def record(self, account: Account, action: str, detail: str = "") -> None:
        self.rows.audit(account.name, action, detail)

    def trail(self) -> list[dict[str, Any]]:
        return self.rows.audit_trail()


def _taken(name: str) -> str:
    return f"an account named {name} exists already; `sme-bot staff list` shows it"


def session_key(password_hash: str) -> str:
    import hashlib

    return hashlib.sha256(f"sme-bot staff session {password_hash}".encode()).hexdigest()[:16]


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
