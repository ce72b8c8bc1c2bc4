"""Cohort codes as users type them: checked against the database with a helpful message."""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sme_bot.config import Config
from sme_bot.errors import StaffError, StaffRefused
from sme_bot.storage import Store
from sme_bot.text import clean

if TYPE_CHECKING:
    from sme_bot.service import Questionnaires


def check_cohort(store: Store, cohort: str | None) -> None:
    if cohort and store.assessments.cohort(cohort) is None:
        known = ", ".join(store.assessments.cohort_questionnaires()) or "none yet"
        raise StaffError(f"unknown cohort {cohort!r} (known: {known}); create it with `sme-bot cohort create`")


# -- creating a cohort (the staff area) --------------------------------------------------------------

CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # it goes into a Telegram link and a web path


@dataclass(frozen=True)
class Links:
    telegram: str
    web: str | None  # only with [web] public_url: an address owners' phones can reach
    code: str

    @property
    def qr(self) -> str:
        # The web page when there is one: every phone can open it, where Telegram is blocked.
        return self.web or self.telegram


def links(config: Config, store: Store, code: str) -> Links:
    """A cohort's ways in. The Telegram link names the bot as Telegram last reported it (when the
    bot has run on this database), else as bot.toml says."""
    web = f"{config.web.public_url.rstrip('/')}/c/{code}" if config.web.public_url else None
    username = store.chats("telegram").username() or config.telegram.username
    return Links(telegram=f"https://t.me/{username}?start={code}", web=web, code=code)


def create_cohort(store: Store, questionnaires: "Questionnaires", directory: Path | None, *, code: str, name: str, starts: str, ends: str,
                  questionnaire: str) -> None:
    """Record a cohort as typed in a form: dates as YYYY-MM-DD or empty."""
    code, name = code.strip(), clean(name)[:200]
    if not CODE_SHAPE.fullmatch(code):
        raise StaffRefused("staff_cohort_bad_code", "use 1 to 32 letters, digits, - or _ for the code")
    if not name:
        raise StaffRefused("staff_cohort_no_name", "give the cohort a name")
    try:
        first = date.fromisoformat(starts.strip()) if starts.strip() else None
        last = date.fromisoformat(ends.strip()) if ends.strip() else None
    except ValueError:
        raise StaffRefused("staff_cohort_bad_dates", "dates are YYYY-MM-DD") from None
    if first and last and last < first:
        raise StaffRefused("staff_cohort_bad_dates", "the cohort ends before it starts")
    if not available(questionnaire, questionnaires, directory):
        raise StaffRefused("staff_cohort_bad_questionnaire", f"no questionnaire {questionnaire!r}")
    if not store.assessments.create_cohort(code, name, starts=first.isoformat() if first else None,
                                           ends=last.isoformat() if last else None, questionnaire=questionnaire):
        raise StaffRefused("staff_cohort_taken", f"cohort {code} exists already", code=code)


def questionnaire_ids(default: str, directory: Path | None) -> list[str]:
    """The questionnaires a cohort can use: the default first, then every other file offered."""
    from sme_bot import loader

    others = {path.stem for path in loader.available(directory)}
    return [default, *sorted(others - {default})]


def available(questionnaire: str, questionnaires: "Questionnaires", directory: Path | None) -> bool:
    return (questionnaire in questionnaire_ids(questionnaires.default.id, directory)
            and questionnaires.get(questionnaire) is not None)
