"""Chat button data: short (Telegram allows 64 bytes) and carrying enough to reject a stale tap.

Question buttons name the assessment and the question's position, so a tap on a button from an
earlier question or an earlier assessment is recognised and refused. Data is read back only in
exactly the shape the encoders write (ASCII digits, the right number of parts): anything else a
client sends is data this bot never sent.
"""

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class Tap:
    kind: str  # consent, language, pick, toggle, done, skip, back, confirm, support, reach_here, continue, steps
    assessment: int = 0
    position: int = 0
    option: int = 0
    agree: bool = False
    share: bool = True  # consent: with programme staff too, not only for the owner's own result
    language: str | None = None
    code: str | None = None
    action: str = ""


_QUESTION_KINDS = {"a": "pick", "t": "toggle", "d": "done", "k": "skip", "b": "back"}


def _join(*parts: object) -> str:
    data = ":".join("" if p is None else str(p) for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data


def _with_code(*parts: object, code: str | None) -> str:
    """Data ending with a cohort code, or with none when the code would not fit."""
    data = ":".join([*map(str, parts), code or ""])
    return data if len(data.encode()) <= MAX_BYTES else _join(*parts, None)


def encode_consent(agree: bool, language: str, code: str | None, *, share: bool = True) -> str:
    """1: agreed to every purpose; 2: to the owner's own result only; 0: declined."""
    return _with_code("c", (1 if share else 2) if agree else 0, language, code=code)


def encode_language(language: str, code: str | None) -> str:
    return _with_code("l", language, code=code)


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


def encode_reach_here(assessment: int) -> str:
    return _join("h", assessment)


def encode_continue(assessment: int) -> str:
    return _join("n", assessment)


def encode_steps(assessment: int) -> str:
    """The rest of a result's roadmap."""
    return _join("m", assessment)


# Parts after the head, per head: what the encoders above write.
_ARITY = {"c": 3, "l": 2, "r": 1, "x": 1, "s": 1, "h": 1, "n": 1, "m": 1, "a": 3, "t": 3, "d": 2, "k": 2, "b": 2}


def decode(data: str) -> Tap | None:
    """The tap a button's data stands for; None for data this bot never sent."""
    parts = data.split(":")
    head, rest = parts[0], parts[1:]
    if _ARITY.get(head) != len(rest):
        return None
    try:
        if head == "c":
            if rest[0] not in ("0", "1", "2"):
                return None
            return Tap("consent", agree=rest[0] != "0", share=rest[0] == "1", language=_language(rest[1]),
                       code=rest[2] or None)
        if head == "l":
            return Tap("language", language=_language(rest[0]), code=rest[1] or None)
        if head in ("r", "x"):
            return Tap("confirm", action=head, agree=_flag(rest[0]))
        if head == "s":
            return Tap("support", assessment=_number(rest[0]))
        if head == "h":
            return Tap("reach_here", assessment=_number(rest[0]))
        if head == "n":
            return Tap("continue", assessment=_number(rest[0]))
        if head == "m":
            return Tap("steps", assessment=_number(rest[0]))
        option = _number(rest[2]) if head in ("a", "t") else 0
        return Tap(_QUESTION_KINDS[head], assessment=_number(rest[0]), position=_number(rest[1]), option=option)
    except ValueError:
        return None


def _number(text: str) -> int:
    """A count as the encoders write it: ASCII digits only (int() would also take "-1", "+1",
    " 1", "1_0" and other scripts' digits)."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(text)
    return text == "1"


def _language(value: str) -> str:
    if value not in ("vi", "en"):
        raise ValueError(value)
    return value
