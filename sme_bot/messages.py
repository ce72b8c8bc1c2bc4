"""The channels' own texts (messages.toml), in the user's language."""

import tomllib
from functools import cache
from importlib import resources

LANGUAGES = ("vi", "en")


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    return tomllib.loads(resources.files("sme_bot").joinpath("messages.toml").read_text("utf-8"))


def say(key: str, lang: str, /, **params: object) -> str:
    """The text for `key` in `lang`, with {placeholders} filled from params."""
    return _catalogue()[key][lang].format(**params)


def both(key: str) -> dict[str, str]:
    """The text for `key` in every language, as questionnaire texts are stored."""
    return dict(_catalogue()[key])
