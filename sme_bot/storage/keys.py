"""The key behind pseudonymous respondent ids, kept outside the database.

An export names each respondent by a hash of the key, the channel and the channel's id. Chat
ids can be listed or guessed, so whoever holds the database and the key can undo the
pseudonyms: the key must not travel with the database. It comes from SME_BOT_PSEUDONYM_KEY
when that is set, else from a file beside the database (`<database>.key`, made on first use,
readable by its owner only). Releases before this one kept it in the database's `meta` table:
on first use it moves to the file (so earlier exports keep their pseudonyms) and leaves the
database.
"""

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from sme_bot.errors import StaffError

ENVIRONMENT = "SME_BOT_PSEUDONYM_KEY"


def key_file(database: str | Path) -> Path:
    return Path(f"{database}.key")


def read_key(path: Path) -> str | None:
    """The key in `path`; None when there is no such file."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StaffError(f"cannot read the pseudonym key {path}: {error.strerror}") from None
    if not key:
        raise StaffError(f"the pseudonym key file {path} is empty; restore it from a backup, or remove it to "
                         "start new pseudonyms")
    return key


def create_key(path: Path, value: str | None = None) -> str:
    """Write `value` (else a new random key) to `path`, mode 0600, unless another process made the
    file first; the key the file holds."""
    value = value or secrets.token_hex(32)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise StaffError(f"cannot write the pseudonym key {path}: {error.strerror}; set {ENVIRONMENT} or make "
                         f"the folder writable") from None
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(value + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        # A hard link appears whole or not at all, and never replaces a file another process made.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    key = read_key(path)
    assert key is not None
    return key


def pseudonym_key(database: str, legacy: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The key for this database: the environment's, else its key file's (made from `legacy`,
    the salt an older release stored in the database, or new)."""
    given = environ.get(ENVIRONMENT, "").strip()
    path = key_file(database)
    stored = read_key(path)
    if stored is None and (legacy or not given):
        stored = create_key(path, legacy)
    return given or str(stored)
