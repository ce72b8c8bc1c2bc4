"""Chat button data: short (Telegram allows 64 bytes) and carrying enough to reject a stale tap.

Question buttons name the assessment and the question's position, so a tap on a button from an
earlier question or an earlier assessment is recognised and refused.
"""

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class Tap:
    kind: str  # consent, language, pick, toggle, done, skip, back, confirm, support, continue
    assessment: int = 0
    position: int = 0
    option: int = 0
    agree: bool = False
    language: str | None = None
    code: str | None = None
    action: str = ""


_QUESTION_KINDS = {"a": "pick", "t": "toggle", "d": "done", "k": "skip", "b": "back"}


def _join(*parts: object) -> str:
    data = ":".join("" if p is None else str(p) for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data


def encode_consent(agree: bool, language: str, code: str | None) -> str:
    return _join("c", int(agree), language, code)


def encode_language(language: str, code: str | None) -> str:
    return _join("l", language, code)


def encode_pick(assessment: int, position: int, option: int) -> str:
    return _join("a", assessment, position, option)


def encode_toggle(assessment: int, position: int, option: int) -> str:
    return _join("t", assessment, position, option)


def encode_done(assessment: int, position: int) -> str:
    return _join("d", assessment, position)


def encode_skip(assessment: int, position: int) -> str:
    return _join("k", assessment, position)


def encode_back(assessment: int, position: int) -> str:
    return _join("b", assessment, position)


def encode_confirm(action: str, agree: bool) -> str:
    return _join(action, int(agree))


def encode_support(assessment: int) -> str:
    return _join("s", assessment)


def encode_continue(assessment: int) -> str:
    return _join("n", assessment)


def decode(data: str) -> Tap | None:
    """The tap a button's data stands for; None for data this bot never sent."""
    parts = data.split(":")
    try:
        head, rest = parts[0], parts[1:]
        if head == "c":
            return Tap("consent", agree=rest[0] == "1", language=_language(rest[1]), code=_code(rest[2:]))
        if head == "l":
            return Tap("language", language=_language(rest[0]), code=_code(rest[1:]))
        if head in ("r", "x"):
            return Tap("confirm", action=head, agree=rest[0] == "1")
        if head == "s":
            return Tap("support", assessment=int(rest[0]))
        if head == "n":
            return Tap("continue", assessment=int(rest[0]))
        if head in _QUESTION_KINDS:
            option = int(rest[2]) if head in ("a", "t") else 0
            return Tap(_QUESTION_KINDS[head], assessment=int(rest[0]), position=int(rest[1]), option=option)
    except (IndexError, ValueError):
        return None
    return None


def _code(rest: list[str]) -> str | None:
    """The cohort code riding in a button, if any (empty when there was none)."""
    return rest[0] or None if rest else None


def _language(value: str) -> str:
    if value not in ("vi", "en"):
        raise ValueError(value)
    return value
