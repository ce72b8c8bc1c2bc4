"""The few exceptions sme-bot raises on purpose; each becomes a one-line message for a user."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file: where, what, and how to fix it."""

    file: str
    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        place = f"{self.file}: {self.where}: " if self.where else f"{self.file}: "
        return place + self.what + (f" — {self.fix}" if self.fix else "")


class SmeBotError(Exception):
    """Base of the errors that are reported to the user without a traceback."""


class QuestionnaireError(SmeBotError):
    """A questionnaire file is missing or wrong; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


class AnswersError(SmeBotError):
    """An answers file given to `sme-bot score` does not fit its questionnaire."""


class StorageError(SmeBotError):
    """The database cannot be opened or written (read-only, locked, not a database)."""


class DatabaseBusy(StorageError):
    """Another writer held the database longer than the busy timeout; trying again may work."""


class ConfigError(SmeBotError):
    """bot.toml is missing a value or holds a wrong one."""


class StaffError(SmeBotError):
    """A staff command cannot do what was asked: an unknown cohort, nothing to export."""


class StaffRefused(StaffError):
    """A change staff asked for that cannot be made (a cohort, a support request); `key` names the
    message that says why in a browser, `params` fill it in."""

    def __init__(self, key: str, text: str, **params: str):
        super().__init__(text)
        self.key = key
        self.params = params
