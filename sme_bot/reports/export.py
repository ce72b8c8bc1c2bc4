"""One row per completed assessment, written as CSV (for Excel), XLSX or JSON.

Rows are pseudonymous by default: a stable keyed hash stands for the respondent (the key is kept
outside the database, see sme_bot.storage.keys), and typed free text - a business name, any
text question - is left out, since anything typed can name someone; staff allowed identities get
both with --with-identities. Files are
written beside their destination and moved into place only when complete, so a failure never
leaves half a file behind.

Headers and answers follow --labels: Vietnamese by default, English, or the column and option
ids ("codes"); the XLSX Codebook sheet maps every header to its id. JSON keys are always ids.

Names and typed answers are untrusted: every cell passes through sme_bot.reports.cells, so no
control character reaches a file and no text becomes a spreadsheet formula (see there).
"""

import csv
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sme_bot.errors import StaffError
from sme_bot.flows.answers import Value
from sme_bot.localtime import in_vietnam
from sme_bot.messages import LANGUAGES, say
from sme_bot.questionnaire import Question, Questionnaire, Text
from sme_bot.reports.cells import csv_cell, scrub

Labels = str  # "vi", "en" or "codes"


def pseudonym(salt: str, channel: str, external_id: str) -> str:
    return hashlib.sha256(f"{salt}:{channel}:{external_id}".encode()).hexdigest()[:16]


# The row's first columns, before any question: (id, key of its label in messages.toml).
_BASE = [("respondent", "export_col_respondent"), ("cohort", "export_col_cohort"),
         ("started_at", "export_col_started_at"), ("completed_at", "export_col_completed_at"),
         ("questionnaire", "export_col_questionnaire"), ("version", "export_col_version"),
         ("channel", "export_col_channel"), ("language", "export_col_language")]
_IDENTITIES = [("external_id", "export_col_external_id"), ("name", "export_col_name")]
_TOTALS = [("level", "export_col_level"), ("points", "export_col_points"), ("max_points", "export_col_max_points"),
           ("percent", "export_col_percent")]
# Where the stored UTC times are in a row: an XLSX shows them as Excel dates in Vietnam's time.
DATE_COLUMNS = (2, 3)
# A header is a readable name, not a paragraph: long question texts are cut at a word.
HEADER_MAX = 60


def columns(q: Questionnaire, *, with_identities: bool) -> list[tuple[str, Text]]:
    """Every column of the export: its id and its readable name in each language."""
    spec = [(cid, _said(key)) for cid, key in _BASE]
    if with_identities:
        spec += [(cid, _said(key)) for cid, key in _IDENTITIES]
    spec += [(x.id, _short(x.text)) for x in q.profile + q.derived if x.type != "multi" and _exported(x, with_identities)]
    for pillar in q.pillars:
        spec += [(f"{pillar.id}_{part}", _said(f"export_col_pillar_{part}", pillar=pillar.name))
                 for part in ("points", "percent", "level")]
    spec += [(cid, _said(key)) for cid, key in _TOTALS]
    for question in q.questions:
        if _exported(question, with_identities):
            spec += _answer_columns(question)
    return spec


def header(q: Questionnaire, *, with_identities: bool, labels: Labels = "codes") -> list[str]:
    """The header row: column ids with --labels codes, else each column's name in that language."""
    spec = columns(q, with_identities=with_identities)
    if labels == "codes":
        return [cid for cid, _ in spec]
    names = [text(labels) for _, text in spec]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    # Two questions cut to the same words would give two equal headers, which filters and
    # readers keyed by header confuse: those get their id too.
    return [f"{name} ({cid})" if seen[name] > 1 else name for name, (cid, _) in zip(names, spec, strict=True)]


def _said(key: str, **params: Text) -> Text:
    return Text(**{lang: say(key, lang, **{k: v(lang) for k, v in params.items()}) for lang in LANGUAGES})


def _short(text: Text) -> Text:
    return Text(**{lang: _cut(text(lang)) for lang in LANGUAGES})


def _cut(text: str) -> str:
    # A header names a column rather than asks: the question mark goes.
    text = " ".join(text.split()).rstrip("?:")
    if len(text) <= HEADER_MAX:
        return text
    return text[:HEADER_MAX].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _exported(question: Question, with_identities: bool) -> bool:
    """Typed text can name a person or a business: only in an export with identities."""
    return with_identities or question.type != "text"


def rows(q: Questionnaire, records: Iterable[tuple[dict[str, Any], dict[str, Value]]], *, salt: str,
         labels: Labels, with_identities: bool) -> Iterator[list[Any]]:
    profile = [(x.id, _namer(x, labels)) for x in q.profile + q.derived
               if x.type != "multi" and _exported(x, with_identities)]
    scored = [(x.id, _namer(x, labels), [o.id for o in x.options] if x.type == "multi" else None) for x in q.questions
              if _exported(x, with_identities)]
    for record, answers in records:
        row = [pseudonym(salt, record["channel"], record["external_id"]), record["cohort"], record["started_at"],
               record["completed_at"], record["questionnaire_id"], record["questionnaire_version"], record["channel"],
               record["language"]]
        if with_identities:
            row += [record["external_id"], record["name"]]
        row += [name(answers.get(qid)) for qid, name in profile]
        for pillar in q.pillars:
            row += list(record["pillars"].get(pillar.id, (None, None, None)))
        row += [record["level"], record["points"], record["max_points"], record["percent"]]
        for qid, name, options in scored:
            value = answers.get(qid)
            if options is None:
                row.append(name(value))
            elif isinstance(value, tuple):
                row += [int(option in value) for option in options]
            else:
                row += [None] * len(options)
        yield row


def codebook(q: Questionnaire, *, with_identities: bool = False, labels: Labels = "codes") -> Iterator[list[Any]]:
    """What every column means: its header, its id, and for a question its texts, type,
    options and their points; level columns list the level names."""
    heads = dict(zip((cid for cid, _ in columns(q, with_identities=with_identities)),
                     header(q, with_identities=with_identities, labels=labels), strict=True))
    yield ["header", "column", "question", "pillar", "type", "text_vi", "text_en", "option", "label_vi", "label_en",
           "points"]
    answers = {f"{x.id}__{o.id}" for x in q.all_questions for o in x.options} | set(q.question_by_id)
    pillar_of = {f"{p.id}_{part}": p.id for p in q.pillars for part in ("points", "percent", "level")}
    level_columns = {"level", *(f"{p.id}_level" for p in q.pillars)}
    for cid, text in columns(q, with_identities=with_identities):
        if cid in answers:
            continue  # listed with the questions below
        pillar = pillar_of.get(cid, "")
        if cid in level_columns:
            # Levels stay numbers in the data; their names are here (and in the Summary sheet).
            for level in q.levels:
                yield [heads[cid], cid, "", pillar, "level", text.vi, text.en, level.level, level.name.vi,
                       level.name.en, ""]
        else:
            yield [heads[cid], cid, "", pillar, "", text.vi, text.en, "", "", "", ""]
    for question in q.all_questions + q.derived:
        column = heads.get(question.id, "")
        if not question.options:
            yield [column, question.id if column else "", question.id, question.pillar, question.type,
                   question.text.vi, question.text.en, "", "", "", ""]
        for option in question.options:
            cid = f"{question.id}__{option.id}" if question.type == "multi" else question.id
            yield [heads.get(cid, ""), cid if cid in heads else "", question.id, question.pillar, question.type,
                   question.text.vi, question.text.en, option.id, option.label.vi, option.label.en, option.points]


def _answer_columns(question: Question) -> list[tuple[str, Text]]:
    text = _short(question.text)
    if question.type == "multi":
        # One 0/1 column per option, named by question and option as Excel users read it (by the
        # option's button label where it has one: a header, not a paragraph).
        return [(f"{question.id}__{option.id}",
                 Text(**{lang: f"{text(lang)} – {option.button_label(lang)}" for lang in LANGUAGES}))
                for option in question.options]
    return [(question.id, text)]


def _namer(question: Question, labels: Labels) -> Callable[[Value], Any]:
    """How one question's answers appear in a cell: the option's label, or the value as it is."""
    if not question.choices or labels == "codes":
        return lambda value: value
    names = {o.id: o.label(labels) for o in question.options}
    return lambda value: names.get(value, value) if isinstance(value, str) else value


def check_writable(path: Path) -> None:
    """Fail before any work is done when `path` cannot be written."""
    if not path.parent.is_dir():
        raise StaffError(f"cannot write {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise StaffError(f"cannot write {path}: permission denied")


@contextmanager
def replacing(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file that appears at `path` only once it is written whole."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, mode, **kwargs) as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_csv(path: Path, head: list[str], body: Iterable[list[Any]], tick: Callable[[], None], *,
              separator: str = ",") -> None:
    # The BOM makes Excel read the file as UTF-8, so Vietnamese shows as written. Excel set to a
    # Vietnamese or European locale splits a double-clicked CSV at ";", hence `separator`.
    with replacing(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, delimiter=separator)
        writer.writerow([csv_cell(v) for v in head])
        for row in body:
            writer.writerow([csv_cell(v) for v in row])
            tick()


def write_json(path: Path, head: list[str], body: Iterable[list[Any]], tick: Callable[[], None]) -> None:
    # Controls are scrubbed as in every file, but text that looks like a formula is kept as typed:
    # JSON is read by programs, not opened in a spreadsheet, and a quote prefix would corrupt it.
    with replacing(path, "w", encoding="utf-8") as stream:
        stream.write("[")
        for i, row in enumerate(body):
            record = dict(zip(head, map(scrub, row), strict=True))
            stream.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
            tick()
        stream.write("\n]\n")


def write_xlsx(path: Path, head: list[str], body: Iterable[list[Any]], tick: Callable[[], None], *,
               summary: list[list[Any]], codes: Iterable[list[Any]], dates: Iterable[int] = ()) -> None:
    """The Data sheet (header frozen, autofilter on), then Summary and Codebook. Columns at
    `dates` hold ISO UTC times and become Excel dates in Vietnam's time."""
    from sme_bot.reports.xlsx import HEADING, Workbook

    dates = tuple(dates)
    widths = [DATE_WIDTH if i in dates else _width(name) for i, name in enumerate(head)]
    with replacing(path, "wb") as stream:
        book = Workbook(stream)
        with book.sheet("Data", widths, frozen=True, filtered=True) as data:
            data.row(head, HEADING)
            for row in body:
                for i in dates:
                    row[i] = _local_time(row[i])
                data.row(row)
                tick()
        with book.sheet("Summary", [45, 12]) as sheet:
            for line in summary:
                sheet.row(line)
        with book.sheet("Codebook", [40, 24, 16, 14, 10, 40, 40, 14, 30, 30, 8], frozen=True) as sheet:
            for line in codes:
                sheet.row(line)
        book.close()


# Excel widths are in characters. A header decides its column's width (the rows stream by and are
# not measured), within bounds: wide enough for a number, never wider than a screen's third.
MIN_WIDTH, MAX_WIDTH, DATE_WIDTH = 10, 40, 17


def _width(name: Any) -> float:
    return min(max(len(str(name)) + 2, MIN_WIDTH), MAX_WIDTH)


def _local_time(value: Any) -> Any:
    """A stored ISO UTC time as Vietnam's local time, for an Excel date (Excel has no time zones:
    staff read times as Vietnam's, like the staff area); anything else as it is."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return in_vietnam(value)
    except ValueError:
        return value  # not a time after all: kept as (inert) text
