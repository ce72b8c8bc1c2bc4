"""Text normalisation shared by every way in: NFC, no control characters, folding for matching."""

import unicodedata

# How much of a rejected input is echoed back: enough to recognise it, never a wall of text.
QUOTE_CHARS = 40


def clean(text: str) -> str:
    """NFC-normalise, drop control characters and squeeze whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if ch in "\t\n\r" else ch for ch in text if _printable(ch))
    return " ".join(text.split())


def quote(text: str) -> str:
    """A short form of user input for messages that repeat it."""
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def fold(text: str) -> str:
    """A key for matching typed text to labels: lower case, no diacritics ("Không" -> "khong")."""
    # đ/Đ is a letter of its own in Unicode, not d with a combining mark, so NFD leaves it.
    decomposed = unicodedata.normalize("NFD", clean(text).casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _printable(ch: str) -> bool:
    return ch in "\t\n\r" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
