"""What every writer does to a value before it reaches a file or a terminal.

Business names, Telegram display names and typed answers are untrusted text. Two rules live
here, once, and every writer calls them:

- `scrub`: C0/C1 control characters are dropped. XLSX (XML) cannot hold most of them
  (an XLSX would not open) and a terminal obeys them (ESC sequences recolour,
  move the cursor, or make OSC 8 links). Files keep TAB and LF, which are text there (a
  multi-line answer stays multi-line in Excel); `one_line` (terminals) turns them into spaces
  too, so a name cannot fake an extra table row.
- `inert`: OWASP's CSV-injection rule. Text starting with = + - @ TAB or CR is a formula to
  a spreadsheet, so it gets a leading apostrophe, which Excel and LibreOffice take as "this
  is text" and do not display: "'-5%" shows as -5%. Only text is touched; numbers stay numbers.

Both are called once per cell of a 100,000-row export, so each tests the cheapest thing first:
the type, then (for `inert`) the first character, and (for `scrub`) str.isprintable(), which
runs in C and is true for nearly every real value.
"""

import re
from typing import Any

# OWASP: "=", "+", "-", "@", TAB (0x09) and CR (0x0D) start a formula. The full-width forms
# (＝ ＋ － ＠) are a precaution: phone keyboards with an East Asian layout type them, we cannot
# check every spreadsheet's parser, no Vietnamese answer or name begins with one, and the set
# lookup costs the same.
FORMULA_START = frozenset("=+-@\t\r＝＋－＠")

# C0 controls other than TAB and LF, DEL, and the C1 block. CR goes too: alone in a cell it is
# not a line break anywhere, and in a terminal it moves the cursor back over the text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LAYOUT = re.compile("[\t\n]")


def scrub(value: Any) -> Any:
    """`value` with control characters removed if it is text (TAB and LF kept), else as it is."""
    if value.__class__ is not str or value.isprintable():
        return value
    return _CONTROLS.sub("", value)


def looks_like_formula(value: Any) -> bool:
    """True for text a spreadsheet would take as a formula."""
    return value.__class__ is str and value[:1] in FORMULA_START


def inert(value: Any) -> Any:
    """`value` as a spreadsheet shows it but never evaluates it (OWASP CSV injection)."""
    if value.__class__ is str and value[:1] in FORMULA_START:
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """One CSV cell: `inert(scrub(value))`. Controls go first, so "\\x00=1" cannot slip past the
    formula check and become "=1". Written out in one function: it runs for every cell of every
    row (~9 million in a 100,000-row export) and each nested call would cost more than the checks."""
    if value.__class__ is str:
        if not value.isprintable():
            value = _CONTROLS.sub("", value)
        if value[:1] in FORMULA_START:
            return "'" + value
    return value


def one_line(text: str) -> str:
    """Text for a terminal: no control characters at all; TAB and LF become spaces."""
    if text.isprintable():
        return text
    return _LAYOUT.sub(" ", _CONTROLS.sub("", text))
