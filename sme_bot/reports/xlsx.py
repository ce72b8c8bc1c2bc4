"""A small streaming XLSX writer: sheets of text, numbers and dates, each row written to the zip
as it comes, so a 100,000-row export takes flat memory and costs little more than its CSV.

Spreadsheet libraries build an object per cell: openpyxl, even write-only, took ~17 µs a cell
here (an export 6 to 9 times its CSV), XlsxWriter's constant-memory mode ~4 µs; a row here is one
string. It writes what the exports need and nothing
else: a bold wrapped header style, a date style, Excel's quotePrefix style for text that must
stay text (it is shown exactly as stored and never evaluated, even after someone edits the cell),
column widths, a frozen first row and a filter.
"""

import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from sme_bot.reports.cells import looks_like_formula, scrub

# Style ids, in the order of cellXfs in STYLES.
PLAIN, HEADING, DATE, TEXT = 0, 1, 2, 3
_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
# Text Excel would turn into an error value when someone edits the cell, even stored as text.
ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

STYLES = (_XML + f'<styleSheet xmlns="{_MAIN}">'
          '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
          '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
          '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
          '<alignment vertical="top" wrapText="1"/></xf>'
          '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def column_letter(index: int) -> str:
    """A 0-based column number as Excel names it: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_date(moment: datetime) -> float:
    """A naive local time as Excel stores it: days since its epoch."""
    return (moment - _EPOCH).total_seconds() / 86400


class Sheet:
    """One worksheet being written: rows go out as they are given, in order."""

    def __init__(self, stream: IO[bytes], widths: list[float], *, frozen: bool, filtered: bool):
        self._stream = stream
        self._filtered = filtered
        self.rows = 0
        self.columns = 0
        self._letters: list[str] = []
        head = f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheetViews><sheetView workbookViewId="0">'
        if frozen:
            head += '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        head += "</sheetView></sheetViews>"
        if widths:
            head += "<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                                       for i, w in enumerate(widths, start=1)) + "</cols>"
        stream.write((head + "<sheetData>").encode())

    def row(self, values: Iterable[Any], style: int = PLAIN) -> None:
        """Text as text (control characters dropped; text a spreadsheet would evaluate kept as
        text), int and float as numbers, datetime as a date, None as an empty cell."""
        self.rows += 1
        number, cells = self.rows, []
        for column, value in enumerate(values):
            if value is None:
                continue
            while column >= len(self._letters):
                self._letters.append(column_letter(len(self._letters)))
            ref = f"{self._letters[column]}{number}"
            kind = value.__class__
            if kind is str:
                cells.append(_text(ref, scrub(value), style))
            elif kind is datetime:
                cells.append(f'<c r="{ref}" s="{DATE}"><v>{excel_date(value)!r}</v></c>')
            else:
                styled = f' s="{style}"' if style else ""
                cells.append(f'<c r="{ref}"{styled}><v>{int(value) if kind is bool else value!r}</v></c>')
            self.columns = max(self.columns, column + 1)
        self._stream.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())

    @property
    def filter_range(self) -> tuple[str, int] | None:
        """The last column's letter and the last row of the filter, if there is one."""
        return (column_letter(self.columns - 1), max(self.rows, 1)) if self._filtered and self.columns else None

    def close(self) -> None:
        tail = "</sheetData>"
        if self.filter_range:
            letter, last = self.filter_range
            tail += f'<autoFilter ref="A1:{letter}{last}"/>'
        self._stream.write((tail + "</worksheet>").encode())


def _text(ref: str, value: str, style: int) -> str:
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if looks_like_formula(value) or (value[:1] == "#" and value in ERROR_CODES):
        style = TEXT
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


class Workbook:
    """Sheets written one after another into a zip at `stream`; `close` adds the parts that list them."""

    def __init__(self, stream: IO[bytes]):
        # Level 1: the sheets are repetitive XML that compresses well even so, in a third of the time.
        self._zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: list[str] = []
        self._filters: list[str] = []

    @contextmanager
    def sheet(self, name: str, widths: list[float], *, frozen: bool = False,
              filtered: bool = False) -> Iterator[Sheet]:
        self._names.append(name)
        number = len(self._names)
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as stream:
            sheet = Sheet(stream, widths, frozen=frozen, filtered=filtered)
            yield sheet
            sheet.close()
        if sheet.filter_range:
            # Excel keeps a sheet's filter under this name too; without it, it offers to repair the file.
            letter, last = sheet.filter_range
            self._filters.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{number - 1}" '
                                 f"hidden=\"1\">'{name}'!$A$1:${letter}${last}</definedName>")

    def close(self) -> None:
        count = len(self._names)
        sheets = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(self._names, start=1))
        names = f"<definedNames>{''.join(self._filters)}</definedNames>" if self._filters else ""
        parts = {
            "[Content_Types].xml": (
                f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                          f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                          for i in range(1, count + 1)) + "</Types>"),
            "_rels/.rels": (f'{_XML}<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
                            f'Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
            "xl/workbook.xml": f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>{sheets}</sheets>{names}'
                               "</workbook>",
            "xl/_rels/workbook.xml.rels": (
                f'{_XML}<Relationships xmlns="{_PACKAGE}">'
                + "".join(f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                          for i in range(1, count + 1))
                + f'<Relationship Id="rId{count + 1}" Type="{_RELS}/styles" Target="styles.xml"/></Relationships>'),
            "xl/styles.xml": STYLES,
        }
        for name, text in parts.items():
            self._zip.writestr(name, text)
        self._zip.close()
