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


def ascii_digits(text: str) -> str:
    """Decimal digits of any script as ASCII: "５" (full-width) and "٣" (Arabic-Indic) become "5" and "3".

    Only Unicode decimal digits (category Nd) are mapped: each is one positional digit, so "１２"
    is twelve in any script and the mapping never changes a number. Not NFKC: it would also turn
    superscripts and circled numbers into digits, making "10²" a hundred and two and "①" a 1;
    those stay as typed and are not numbers (the question is asked again with the reason).
    """
    if text.isascii():
        return text
    return "".join(_ascii_digit(ch) for ch in text)


def _ascii_digit(ch: str) -> str:
    digit = unicodedata.decimal(ch, None)
    return ch if digit is None else str(digit)


def _printable(ch: str) -> bool:
    return ch in "\t\n\r" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
