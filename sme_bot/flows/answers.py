"""Turn what a person typed (or a stored/JSON value) into an answer value, or a reason to re-ask.

Typed text matches options by number, or by label in either language ignoring case and
diacritics, so "khong", "KHÔNG" and "Không" all pick "Không".
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sme_bot import messages
from sme_bot.questionnaire import Option, Question, Text
from sme_bot.text import ascii_digits, clean, fold, quote

# An answer: an option id, option ids (multi), a number, free text, or None for an optional
# question left out.
Value = str | tuple[str, ...] | float | None

# Substring matches need a few letters, or "a" would match half the options.
_MIN_PARTIAL = 3
# Numbers are ASCII digits only ([0-9], not \d): other scripts' digits are mapped to ASCII first
# (text.ascii_digits), and what is left - "²", "①" - is not a number but text to match or reject.
_NUMBER_LIST = re.compile(r"^[0-9]+([\s,;]+[0-9]+)*$")
# int() refuses more than 4,300 digits (ValueError); no question has a millionth option anyway.
_MAX_OPTION_DIGITS = 6


@dataclass(frozen=True)
class Reason:
    """Why an input was not accepted: a message key and its parameters, rendered per language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        def resolve(value: object) -> object:
            if isinstance(value, Text):
                return value(lang)
            if isinstance(value, Reason):
                return value.render(lang)
            return value

        return messages.say(self.key, lang, **{k: resolve(v) for k, v in self.params.items()})


def parse(question: Question, raw: str) -> Value | Reason:
    """The value a typed input gives `question`, or why it gives none."""
    text = clean(raw)
    if not text:
        return Reason("empty")
    # Choices and numbers read digits of any script as ASCII; free text is kept as typed.
    if question.type == "multi":
        return _parse_multi(question, ascii_digits(text))
    if question.choices:
        return _match_one(question, ascii_digits(text))
    if question.type == "number":
        return _parse_number(question, ascii_digits(text))
    if len(text) > question.max_length:
        return Reason("too_long", {"length": len(text), "max_length": question.max_length})
    return text


def accept(question: Question, value: object) -> Value | Reason:
    """Check a value given directly (JSON file, button) rather than typed."""
    if question.type == "multi":
        ids = (value,) if isinstance(value, str) else value
        if not isinstance(ids, list | tuple) or not all(isinstance(i, str) for i in ids):
            return Reason("no_match", {"text": quote(str(value)), "count": len(question.options)})
        picked = []
        for option_id in ids:
            option = question.option(option_id)
            if option is None:
                return Reason("no_match", {"text": quote(option_id), "count": len(question.options)})
            picked.append(option)
        return _check_multi(question, picked)
    if question.choices:
        if isinstance(value, str) and question.option(value) is not None:
            return value
        return Reason("no_match", {"text": quote(str(value)), "count": len(question.options)})
    if question.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Reason("not_a_number", {"text": quote(str(value)), "hint": number_hint(question)})
        return _check_number(question, float(value))
    if not isinstance(value, str):
        return Reason("empty")
    return parse(question, value)


def number_hint(question: Question) -> Reason:
    bounds = {"min": _fmt(question.min), "max": _fmt(question.max)}
    if question.unit:
        return Reason("number_hint_unit", {**bounds, "unit": question.unit})
    return Reason("number_hint", bounds)


def _match_one(question: Question, text: str) -> str | Reason:
    found = _by_number(question.options, text)
    if found is None:
        found = _match_label(question.options, text)
    if isinstance(found, Reason):
        return found
    return found.id


def _by_number(options: tuple[Option, ...], text: str) -> Option | Reason | None:
    """The option a typed number picks, a reason when it is out of range, None when not a number."""
    # str.isdigit() alone is true for "²" and "①", which int() refuses: ASCII digits only.
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    number = int(digits) if 0 < len(digits) <= _MAX_OPTION_DIGITS else 0
    if 1 <= number <= len(options):
        return options[number - 1]
    return Reason("out_of_range", {"number": quote(text), "count": len(options)})


def _match_label(options: tuple[Option, ...], text: str) -> Option | Reason:
    key = fold(text)
    exact = [o for o in options if key in (fold(o.label.vi), fold(o.label.en), o.id)]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [o for o in options if _resembles(key, o)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        return Reason("ambiguous", {"text": quote(text)})
    return Reason("no_match", {"text": quote(text), "count": len(options)})


def _resembles(key: str, option: Option) -> bool:
    """Part of a label ("excel" in "File Excel"), or its words in another order ("zalo groups")."""
    for label in (fold(option.label.vi), fold(option.label.en)):
        if len(key) >= _MIN_PARTIAL and key in label:
            return True
        if set(key.split()) <= set(label.split()):
            return True
    return False


def _parse_multi(question: Question, text: str) -> tuple[str, ...] | Reason:
    options = question.options
    parts = re.split(r"[\s,;]+" if _NUMBER_LIST.match(text) else r"[,;]+", text)
    picked: list[Option] = []
    for part in filter(None, (p.strip() for p in parts)):
        found = _by_number(options, part)
        if found is None:
            found = _match_label(options, part)
        if isinstance(found, Reason):
            return found
        picked.append(found)
    return _check_multi(question, picked)


def _check_multi(question: Question, picked: list[Option]) -> tuple[str, ...] | Reason:
    if not picked:
        return Reason("empty")
    chosen = {o.id for o in picked}
    exclusive = next((o for o in picked if o.exclusive), None)
    if exclusive is not None and len(chosen) > 1:
        return Reason("exclusive_mix", {"label": exclusive.label})
    if question.max_choices is not None and len(chosen) > question.max_choices:
        return Reason("too_many", {"limit": question.max_choices})
    # Stored in the questionnaire's order, so equal answers compare equal however they were typed.
    return tuple(o.id for o in question.options if o.id in chosen)


def _parse_number(question: Question, text: str) -> float | Reason:
    if question.unit:
        for unit in (question.unit.vi, question.unit.en):
            if fold(text).endswith(fold(unit)):
                text = text[: len(text) - len(unit)].strip()
    compact = text.replace(" ", "")
    match = re.fullmatch(r"([0-9]+)(?:[.,]([0-9]+))?", compact)
    if not match:
        return Reason("not_a_number", {"text": quote(text), "hint": number_hint(question)})
    whole, fraction = match.groups()
    # Vietnamese writes thousands as 1.000 and decimals as 1,5: three digits after the mark on
    # a whole-number question are thousands.
    if fraction is not None and question.integer and len(fraction) == 3:
        value = float(whole + fraction)
    elif fraction is not None:
        value = float(f"{whole}.{fraction}")
    else:
        value = float(whole)
    return _check_number(question, value)


def _check_number(question: Question, value: float) -> float | Reason:
    assert question.min is not None and question.max is not None
    if not question.min <= value <= question.max:
        return Reason("number_range", {"value": _fmt(value), "hint": number_hint(question)})
    if question.integer and value != int(value):
        return Reason("whole_number", {"hint": number_hint(question)})
    return value


def _fmt(number: float | None) -> str:
    return f"{number:g}" if number is not None else ""
