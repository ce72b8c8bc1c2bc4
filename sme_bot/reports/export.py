"""One row per completed assessment, written as CSV (for Excel), XLSX or JSON.

Rows are pseudonymous by default: a stable keyed hash stands for the respondent (the key is kept
outside the database, see sme_bot.storage.keys), and typed free text - a business name, any
text question - is left out, since anything typed can name someone; staff allowed identities get
both with --with-identities. Files are
written beside their destination and moved into place only when complete, so a failure never
leaves half a file behind.

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
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.reports.cells import csv_cell, looks_like_formula, scrub

Labels = str  # "vi", "en" or "codes"


def pseudonym(salt: str, channel: str, external_id: str) -> str:
    return hashlib.sha256(f"{salt}:{channel}:{external_id}".encode()).hexdigest()[:16]


def header(q: Questionnaire, *, with_identities: bool) -> list[str]:
    columns = ["respondent", "cohort", "started_at", "completed_at", "questionnaire", "version", "channel", "language"]
    if with_identities:
        columns += ["external_id", "name"]
    columns += [x.id for x in q.profile if x.type != "multi" and _exported(x, with_identities)]
    for pillar in q.pillars:
        columns += [f"{pillar.id}_points", f"{pillar.id}_percent", f"{pillar.id}_level"]
    columns += ["level", "points", "max_points", "percent"]
    for question in q.questions:
        if _exported(question, with_identities):
            columns += _answer_columns(question)
    return columns


def _exported(question: Question, with_identities: bool) -> bool:
    """Typed text can name a person or a business: only in an export with identities."""
    return with_identities or question.type != "text"


def rows(q: Questionnaire, records: Iterable[tuple[dict[str, Any], dict[str, Value]]], *, salt: str,
         labels: Labels, with_identities: bool) -> Iterator[list[Any]]:
    profile = [(x.id, _namer(x, labels)) for x in q.profile if x.type != "multi" and _exported(x, with_identities)]
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


def codebook(q: Questionnaire) -> Iterator[list[Any]]:
    """Question id, texts, type, options and their points: what every column means."""
    yield ["question", "pillar", "type", "text_vi", "text_en", "option", "label_vi", "label_en", "points"]
    for question in q.all_questions:
        if not question.options:
            yield [question.id, question.pillar, question.type, question.text.vi, question.text.en, "", "", "", ""]
        for option in question.options:
            yield [question.id, question.pillar, question.type, question.text.vi, question.text.en, option.id,
                   option.label.vi, option.label.en, option.points]


def _answer_columns(question: Question) -> list[str]:
    if question.type == "multi":
        return [f"{question.id}__{option.id}" for option in question.options]
    return [question.id]


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


def write_csv(path: Path, head: list[str], body: Iterable[list[Any]], tick: Callable[[], None]) -> None:
    # The BOM makes Excel read the file as UTF-8, so Vietnamese shows as written.
    with replacing(path, "w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
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
               summary: list[list[Any]], codes: Iterable[list[Any]]) -> None:
    from openpyxl import Workbook  # heavy: only when a spreadsheet is asked for

    # write_only streams rows to disk instead of holding the sheet in memory.
    book = Workbook(write_only=True)
    data = book.create_sheet("Data")
    data.append(_sheet_row(data, head))
    for row in body:
        data.append(_sheet_row(data, row))
        tick()
    sheet = book.create_sheet("Summary")
    for line in summary:
        sheet.append(_sheet_row(sheet, line))
    code_sheet = book.create_sheet("Codebook")
    for line in codes:
        code_sheet.append(_sheet_row(code_sheet, line))
    with replacing(path, "wb") as stream:
        book.save(stream)


# What openpyxl turns into an error value rather than text when given as a plain str.
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def _sheet_row(sheet: Any, row: list[Any]) -> list[Any]:
    return [_sheet_cell(sheet, value) for value in row]


def _sheet_cell(sheet: Any, value: Any) -> Any:
    """A value as openpyxl should store it: text with no control characters (XML cannot hold
    them), and text that reads as a formula stored as a string cell.

    openpyxl makes a str starting with "=" a formula. A CSV-style apostrophe would show in Excel
    (an .xlsx string is displayed as stored), so instead the cell gets type "s" - the exact text
    is displayed and never evaluated - plus Excel's quotePrefix style, which keeps it text even
    when someone edits the cell and presses Enter. Error-code texts ("#N/A") are kept as text too.
    """
    if value.__class__ is not str:
        return value
    value = scrub(value)
    if not (looks_like_formula(value) or (value[:1] == "#" and value in _ERROR_CODES)):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
