"""bot.toml: everything but secrets. Paths in it are relative to the file itself."""

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sme_bot.errors import ConfigError

DEFAULT_FILE = "bot.toml"


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Programme(Section):
    name: str = "Chương trình hỗ trợ chuyển đổi số doanh nghiệp"
    contact: str = ""


class Assessment(Section):
    questionnaire: str = "dbi-sme"
    language: str = Field(default="vi", pattern="^(vi|en)$")
    # Where questionnaire files live; empty means the ones shipped with sme-bot.
    questionnaires: Path | None = None


class Storage(Section):
    database: Path = Path("sme-bot.db")


class Telegram(Section):
    # Telegram's own API by default; a self-hosted Bot API server or a local test server otherwise.
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: str = Field(default="polling", pattern="^(polling|webhook)$")
    webhook_url: str = ""  # the public https address Telegram posts to, in webhook mode
    listen: str = "127.0.0.1"
    port: int = 8443
    reminder_hours: float = Field(default=24, gt=0)
    admins: list[int] = []  # Telegram user ids of programme staff
    username: str = "sme_bot"  # the bot's @username, for join links


class Reports(Section):
    # Breakdown groups with fewer completed assessments are merged into "other".
    min_group: int = Field(default=5, ge=1)
    # Employees at most 10 / 100 / 200: micro, small, medium (Decree 80/2021); more is large.
    size_bands: list[int] = [10, 100, 200]


class Config(Section):
    programme: Programme = Programme()
    telegram: Telegram = Telegram()
    reports: Reports = Reports()
    assessment: Assessment = Assessment()
    storage: Storage = Storage()


def load_config(path: str | Path | None) -> Config:
    """The given file, else ./bot.toml if there is one, else the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return Config()
        path = DEFAULT_FILE
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        config = Config.model_validate(raw)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; pass an existing file with --config") from None
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
