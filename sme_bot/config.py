"""bot.toml: everything but secrets. Paths in it are relative to the file itself."""

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from sme_bot.errors import ConfigError

DEFAULT_FILE = "bot.toml"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# What bot.toml ships with as [programme] contact: a note to write the real one. Owners must never
# be told to call it, so a bot refuses to start on it (test_config checks bot.toml still says it).
CONTACT_PLACEHOLDER = "Tổ hỗ trợ chuyển đổi số (số điện thoại và email của chương trình)"


class Programme(Section):
    name: str = "Chương trình hỗ trợ chuyển đổi số doanh nghiệp"
    contact: str = ""

    @property
    def contact_given(self) -> bool:
        """Whether owners can be told how to reach the programme: neither empty nor the placeholder."""
        return self.contact.strip() not in ("", CONTACT_PLACEHOLDER)


class Assessment(Section):
    questionnaire: str = "dbi-sme"
    language: str = Field(default="vi", pattern="^(vi|en)$")
    # Where questionnaire files live; empty means the ones shipped with sme-bot.
    questionnaires: Path | None = None
    # One reminder, on chat channels, for an assessment left this long (at most a year).
    reminder_hours: float = Field(default=24, gt=0, le=24 * 366, allow_inf_nan=False)


class Storage(Section):
    database: Path = Path("sme-bot.db")


class Staff(Section):
    """Who may use the staff commands in each chat channel: the channel's own user ids."""

    telegram: list[StrictInt] = []
    zalo: list[StrictStr] = []


class Telegram(Section):
    # Telegram's own API by default; a self-hosted Bot API server or a local test server otherwise.
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = Field(default="polling", pattern="^(polling|webhook)$")
    webhook_url: str = ""  # the public https address Telegram posts to, in webhook mode
    listen: str = "127.0.0.1"
    port: int = 8443
    username: str = "sme_bot"  # the bot's @username, for join links


class Zalo(Section):
    # Zalo's Bot API by default (the token is appended, as on Telegram); a local test server otherwise.
    base_url: str = "https://bot-api.zaloplatforms.com/bot"


class Privacy(Section):
    # Everything of a person who has done nothing for this long is removed by `sme-bot purge`
    # (run it daily); the consent text tells owners so.
    keep_months: int = Field(default=24, ge=1, le=120)


class Reports(Section):
    # Breakdown groups with fewer completed assessments are merged into "other".
    min_group: int = Field(default=5, ge=1)


class Web(Section):
    """`sme-bot serve`: where it listens, the address owners are given, and its limits."""

    # The address owners reach from outside (https://dx.example.vn); cohort links use it.
    public_url: str = Field(default="", pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$")
    host: str = "127.0.0.1"  # 0.0.0.0 lets phones on the same Wi-Fi in
    port: int = Field(default=8000, ge=0, le=65535)
    # Only a reverse proxy at these addresses is believed about the client's address and https.
    forwarded_allow_ips: str = "127.0.0.1"
    access_log: bool = False  # it prints each client's address: personal data, so off unless asked
    body_limit: int = Field(default=64 * 1024, ge=1024)  # bytes; a larger request gets 413
    # Per client address and window: new assessments started, and wrong resume codes tried.
    starts_per_address: int = Field(default=30, ge=1)
    wrong_codes_per_address: int = Field(default=10, ge=1)
    limit_window_minutes: float = Field(default=10, gt=0, allow_inf_nan=False)
    # A staff session ends after this long without a page (the staff area, /staff).
    staff_idle_hours: float = Field(default=8, gt=0, le=24 * 30, allow_inf_nan=False)
    # Failed staff sign-ins per client address and window, whichever names they try (argon2 costs CPU).
    staff_signins_per_address: int = Field(default=20, ge=1)


class Config(Section):
    programme: Programme = Programme()
    assessment: Assessment = Assessment()
    storage: Storage = Storage()
    staff: Staff = Staff()
    telegram: Telegram = Telegram()
    zalo: Zalo = Zalo()
    reports: Reports = Reports()
    web: Web = Web()
    privacy: Privacy = Privacy()


# Keys that moved: (section, key) → (new section, new key), or None when the setting now lives
# elsewhere than bot.toml. Old files keep working, with one line saying what to change.
_MOVED: dict[tuple[str, str], tuple[str, str] | None] = {
    ("telegram", "admins"): ("staff", "telegram"),
    ("telegram", "reminder_hours"): ("assessment", "reminder_hours"),
    ("reports", "size_bands"): None,
}


def load_config(path: str | Path | None, *, warn: Callable[[str], None] | None = None) -> Config:
    """The given file, else ./bot.toml if there is one, else the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return Config()
        path = DEFAULT_FILE
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
        config = Config.model_validate(_carry_forward(raw, str(path), warn or _stderr))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; pass an existing file with --config") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder; pass the settings file with --config") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    base = path.parent
    storage = config.storage.model_copy(update={"database": base / config.storage.database})
    questionnaires = config.assessment.questionnaires
    assessment = config.assessment.model_copy(update={"questionnaires": base / questionnaires if questionnaires else None})
    return config.model_copy(update={"storage": storage, "assessment": assessment})


def _carry_forward(raw: dict[str, Any], file: str, warn: Callable[[str], None]) -> dict[str, Any]:
    raw = {name: dict(value) if isinstance(value, dict) else value for name, value in raw.items()}
    for (section, key), target in _MOVED.items():
        old = raw.get(section)
        if not isinstance(old, dict) or key not in old:
            continue
        value = old.pop(key)
        if target is None:
            warn(f"{file}: [{section}] {key} is no longer read (the questionnaire holds it now); remove it")
            continue
        new_section, new_key = target
        warn(f"{file}: [{section}] {key} has moved to [{new_section}] {new_key}; please move it there")
        raw.setdefault(new_section, {}).setdefault(new_key, value)
    return raw


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
