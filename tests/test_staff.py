"""Staff tools on a real database file: cohorts, summaries, exports, the report, admin commands."""

import csv
import io
import json
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from conftest import sme_bot, unavailable
from staff_site import HIGH, LOW

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.reports import staff
from sme_bot.reports.export import header
from sme_bot.scoring import score
from sme_bot.storage import MIGRATIONS, Store

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def q():
    return loader.load("quick-check")


def add(store, q, i, answers, *, cohort=None, minutes=10, channel="telegram"):
    store.assessments.add_whole(channel=channel, external_id=str(1000 + i), questionnaire_id=q.id,
                         questionnaire_version=q.version, language="vi", cohort=cohort, started_at=START,
                         last_at=START + timedelta(minutes=minutes), answers=answers, result=score(q, answers),
                         consent_version="2026-11")


# Quick-check answers as a session stores them, the size class (Decree 80/2021) computed from them included.

@pytest.fixture
def db(tmp_path, q):
    path = tmp_path / "staff.db"
    store = Store(path)
    store.assessments.create_cohort("DX", "Đồng Xoài")
    with store.transaction():
        for i in range(6):
            add(store, q, i, LOW, cohort="DX", minutes=10 + i)
        for i in range(6, 8):
            add(store, q, i, HIGH, cohort="DX", minutes=30)
    store.close()
    return path


def test_summary_counts_levels_pillars_and_time(db, q):
    store = Store(db)
    result = staff.summary(store, q, Config(), cohort="DX", by=None)
    low, high = score(q, LOW), score(q, HIGH)
    assert (result.total.started, result.total.completed, result.total.completion_rate) == (8, 8, 100.0)
    assert result.total.levels[low.level] == 6 and result.total.levels[high.level] == 2
    assert result.total.median_minutes == pytest.approx(13.5)  # of 10, 11, 12, 13, 14, 15, 30, 30
    strategy = (6 * low.pillars[1].percent + 2 * high.pillars[1].percent) / 8
    assert result.total.pillars["strategy"] == pytest.approx(round(strategy, 1))


def test_small_groups_are_merged_into_other(db, q):
    result = staff.summary(Store(db), q, Config(), cohort=None, by="sector")
    assert [(g.group, g.completed) for g in result.groups] == [("retail", 6), ("(other)", 2)]
    by_size = staff.summary(Store(db), q, Config(), cohort=None, by="size").groups
    assert [(g.group, g.completed) for g in by_size] == [("micro", 6), ("(other)", 2)]


def test_summary_on_an_empty_database_is_zeros_not_an_error(tmp_path, q):
    result = staff.summary(Store(tmp_path / "empty.db"), q, Config(), cohort=None, by="sector")
    assert (result.total.started, result.total.completed, result.groups) == (0, 0, [])


def test_summary_cli_table_and_json(db):
    table = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--by", "cohort")
    assert table.returncode == 0 and "8 bắt đầu, 8 hoàn thành (100.0%)" in table.stdout
    data = json.loads(sme_bot("summary", "--db", str(db), "-q", "quick-check", "--format", "json").stdout)
    assert data["total"]["completed"] == 8 and data["top_steps"]


def test_breakdown_figures_stay_whole_in_an_80_column_terminal(db):
    # Piped output is 80 columns wide; long sector names wrap there, the figures must not.
    table = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--by", "sector", env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    header = next(line for line in table.splitlines() if "Hoàn thành" in line)
    assert header.split()[-6:] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    retail = next(line for line in table.splitlines() if line.strip().startswith("Bán lẻ"))
    assert "6" in retail.split() and "100%" in retail.split() and "…" not in table


def test_unknown_cohort_is_one_line(db):
    for command in (["summary"], ["export"], ["report", "-o", "r.html"]):
        result = sme_bot(*command, "--db", str(db), "--cohort", "NOPE", "-q", "quick-check")
        assert result.returncode == 1 and "unknown cohort 'NOPE' (known: DX)" in result.stderr
        assert "Traceback" not in result.stderr


def test_csv_export_has_a_bom_pseudonyms_and_every_answer(db, tmp_path):
    out = tmp_path / "out.csv"
    result = sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    # The header is in Vietnamese (the default labels); read each row by column id.
    ids = header(loader.load("quick-check"), with_identities=False)
    assert table[0] == header(loader.load("quick-check"), with_identities=False, labels="vi")
    rows = [dict(zip(ids, row, strict=True)) for row in table[1:]]
    assert len(rows) == 8
    first = rows[0]
    assert first["sector"] == "Bán lẻ, bán buôn, tạp hóa" and first["c_presence__none"] == "1"
    assert first["c_presence__maps"] == "0" and first["customer_level"] == str(score(loader.load("quick-check"), LOW).pillars[0].level)
    assert len(first["respondent"]) == 16 and "1000" not in first["respondent"]
    assert "external_id" not in first and "1000" not in raw.decode("utf-8-sig").split("\n", 1)[1].split(",")[0]
    again = tmp_path / "again.csv"
    sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(again), "--labels", "codes")
    second = list(csv.DictReader(io.StringIO(again.read_text("utf-8-sig"))))
    assert [r["respondent"] for r in second] == [r["respondent"] for r in rows]  # stable pseudonyms
    assert second[0]["sector"] == "retail"


def test_identities_only_on_request_and_recorded(db, tmp_path):
    out = tmp_path / "ids.csv"
    sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(out), "--with-identities", "--labels", "codes")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0]["external_id"] == "1000"
    sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(tmp_path / "plain.csv"))
    # Both in the one audit trail the staff area shows, with who asked (the command line and its user).
    audit = sqlite3.connect(db).execute("select account, action, detail from staff_audit order by id").fetchall()
    assert [(account.startswith("command line"), action, detail) for account, action, detail in audit] == [
        (True, "export_identities", "csv of all cohorts, quick-check 2026.2, to ids.csv"),
        (True, "export", "csv of all cohorts, quick-check 2026.2, to plain.csv")]


def test_xlsx_has_data_summary_and_codebook_sheets(db, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out.xlsx"
    assert sme_bot("export", "--db", str(db), "-q", "quick-check", "--format", "xlsx", "-o", str(out)).returncode == 0
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["Data", "Summary", "Codebook"]
    assert len(list(book["Data"].iter_rows(values_only=True))) == 9
    codebook = list(book["Codebook"].iter_rows(values_only=True))
    assert ("Cơ sở có kế hoạch chuyển đổi số không", "s_plan", "s_plan", "strategy", "single", "Cơ sở có kế hoạch chuyển đổi số không?",
            "Does the business have a plan for going digital?", "plan", "Có kế hoạch ghi rõ việc cần làm, thời hạn, ai làm",
            "A plan with tasks, deadlines and who does them", 8) in codebook


def test_json_export_is_a_list_of_objects(db, tmp_path):
    out = tmp_path / "out.json"
    sme_bot("export", "--db", str(db), "-q", "quick-check", "--format", "json", "-o", str(out), "--labels", "en")
    data = json.loads(out.read_text("utf-8"))
    assert len(data) == 8 and data[0]["sector"] == "Retail, wholesale, grocery"


def test_failed_exports_leave_no_file(db, tmp_path, tiny):
    result = sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(tmp_path / "no" / "out.csv"))
    assert result.returncode == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    Store(tmp_path / "empty.db").close()  # a database with no assessments (a missing one is refused earlier)
    empty = sme_bot("export", "--db", str(tmp_path / "empty.db"), "-q", "quick-check", "-o", str(tmp_path / "e.csv"))
    assert empty.returncode == 1 and "no completed quick-check 2026.2 assessments to export" in empty.stderr
    assert not (tmp_path / "e.csv").exists() and not list(tmp_path.glob(".e.csv*"))


def test_an_older_database_is_migrated_and_reported(tmp_path, q):
    path = tmp_path / "old.db"
    old = Store(path, migrations=MIGRATIONS[:2])
    respondent = old.assessments.add_respondent("telegram", "77", language="vi")
    assessment = old.assessments.start(respondent, questionnaire_id=q.id, questionnaire_version=q.version,
                                       channel="telegram", language="vi", cohort=None)
    result = json.loads(score(q, HIGH).model_dump_json())
    for step in result["roadmap"]:
        del step["index"]  # as results were stored before steps had one
    old.db.execute("insert into results (assessment_id, questionnaire_id, questionnaire_version, level, points, "
                   "max_points, percent, detail, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [assessment.id, q.id, q.version, result["level"], result["points"], result["max_points"],
                    result["percent"], json.dumps(result), START.isoformat()])
    old.db.execute("update assessments set status = 'completed', completed_at = started_at where id = ?", [assessment.id])
    old.close()
    summary = staff.summary(Store(path), q, Config(), cohort=None, by=None)
    assert summary.total.completed == 1 and summary.total.pillars["strategy"] == 100.0
    assert summary.top_steps


def test_cohort_create_prints_the_join_link_and_writes_a_qr_code(tmp_path):
    (tmp_path / "bot.toml").write_text('[telegram]\nusername = "binhphuoc_dx_bot"\n[storage]\ndatabase = "s.db"\n')
    result = sme_bot("cohort", "create", "DX2026", "--name", "Hội nghị Đồng Xoài", "--starts", "2026-11-20",
                     "--config", str(tmp_path / "bot.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://t.me/binhphuoc_dx_bot?start=DX2026"
    png = (tmp_path / "cohort-DX2026.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 300
    again = sme_bot("cohort", "create", "DX2026", "--name", "x", "--config", str(tmp_path / "bot.toml"), cwd=tmp_path)
    assert again.returncode == 1 and "exists already" in again.stderr
    nowhere = sme_bot("cohort", "create", "LATER", "--name", "x", "--qr", str(tmp_path / "no" / "qr.png"),
                      "--config", str(tmp_path / "bot.toml"), cwd=tmp_path)
    assert nowhere.returncode == 1 and "the folder" in nowhere.stderr and "does not exist" in nowhere.stderr
    assert len(nowhere.stderr.strip().splitlines()) == 1
    too_long = sme_bot("cohort", "create", "LATER", "--name", "x", "--qr", str(tmp_path / ("q" * 300 + ".png")),
                       "--config", str(tmp_path / "bot.toml"), cwd=tmp_path)
    assert too_long.returncode == 1 and "File name too long" in too_long.stderr
    assert len(too_long.stderr.strip().splitlines()) == 1
    bad = sme_bot("cohort", "create", "bad code!", "--name", "x", "--config", str(tmp_path / "bot.toml"), cwd=tmp_path)
    assert bad.returncode == 2 and "letters, digits" in bad.stderr
    listed = json.loads(sme_bot("cohort", "list", "--format", "json", "--config", str(tmp_path / "bot.toml"),
                                cwd=tmp_path).stdout)
    assert listed == [{"code": "DX2026", "name": "Hội nghị Đồng Xoài", "starts": "2026-11-20", "ends": None,
                       "questionnaire": "dbi-sme", "closed_at": None, "started": None, "completed": None}]


def test_cohort_list_counts_started_and_completed(db):
    listed = json.loads(sme_bot("cohort", "list", "--format", "json", "--db", str(db)).stdout)
    assert [(c["code"], c["started"], c["completed"]) for c in listed] == [("DX", 8, 8)]


def test_support_list_shows_open_requests(db):
    store = Store(db)
    store.assessments.request_support(1, 1, ["strategy", "data"], None)
    rows = list(csv.DictReader(io.StringIO(sme_bot("support", "list", "--db", str(db), "--format", "csv").stdout)))
    assert [(r["assessment_id"], json.loads(r["pillars"]), r["cohort"]) for r in rows] == [("1", ["strategy", "data"], "DX")]


def test_demo_data_is_repeatable_and_looks_like_a_province(tmp_path):
    for name in ("a.db", "b.db"):
        result = sme_bot("demo-data", "--n", "120", "--cohort", "DEMO", "--db", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    a, b = (sqlite3.connect(tmp_path / n).execute("select level, points from results order by assessment_id").fetchall()
            for n in ("a.db", "b.db"))
    assert a == b and 90 <= len(a) < 120  # some made-up owners stop part-way
    unfinished = sqlite3.connect(tmp_path / "a.db").execute(
        "select count(*) from assessments where status = 'in_progress'").fetchone()[0]
    assert unfinished == 120 - len(a)
    levels = {level for level, _ in a}
    assert len(levels) >= 4  # a spread, not one kind of business


def test_report_is_one_self_contained_page(db, tmp_path):
    out = tmp_path / "report.html"
    result = sme_bot("report", "--db", str(db), "-q", "quick-check", "-o", str(out), "--lang", "en")
    assert result.returncode == 0, result.stderr
    page = out.read_text("utf-8")
    assert page.count("<svg") == 2 and "SME digital readiness report" in page
    assert "src=\"http" not in page and "href=\"http" not in page and "<script" not in page
    assert "@media print" in page


def test_report_renders_with_its_charts_in_a_browser(db, tmp_path):
    import shutil

    from matplotlib.image import imread

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        unavailable("Chromium")
    out = tmp_path / "report.html"
    sme_bot("report", "--db", str(db), "-q", "quick-check", "-o", str(out))
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600", f"--screenshot={shot}",
                    out.as_uri()], check=False, capture_output=True, timeout=120)
    pixels = imread(shot)[:, :, :3]

    def present(colour):
        rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        return (abs(pixels - rgb).sum(axis=2) < 0.05).sum()

    from sme_bot.reports.html import LEVEL_COLOURS, PILLAR_COLOUR

    q = loader.load("quick-check")
    assert present(PILLAR_COLOUR) > 2000  # the pillar bars
    for answers in (LOW, HIGH):  # the bars of the two levels in the data
        assert present(LEVEL_COLOURS[score(q, answers).level]) > 500


def test_retakes_show_the_change_between_first_and_latest(tmp_path, q):
    store = Store(tmp_path / "retake.db")
    respondent = store.assessments.add_respondent("telegram", "5", language="vi")
    for answers in (LOW, HIGH):
        assessment = store.assessments.start(respondent, questionnaire_id=q.id, questionnaire_version=q.version,
                                             channel="telegram", language="vi", cohort=None)
        store.assessments.complete(assessment.id, score(q, answers))
    retakes = staff.summary(store, q, Config(), cohort=None, by=None).retakes
    assert retakes.businesses == 1
    assert retakes.level_change == {score(q, HIGH).level - score(q, LOW).level: 1}
    assert retakes.pillar_change["strategy"] == 100.0
    store.close()
    table = sme_bot("summary", "--db", str(tmp_path / "retake.db"), "-q", "quick-check", "--lang", "en",
                    env={"COLUMNS": "200"}).stdout
    assert "1 businesses retook it; average change (percent points): Digital customer experience +" in table
    assert "Strategy +100.0" in table


def test_bad_staff_input_is_one_line_and_leaves_no_file(db, tmp_path):
    empty_cohort = sme_bot("cohort", "create", "EMPTY", "--name", "x", "--db", str(db), "--qr", str(tmp_path / "q.png"))
    assert empty_cohort.returncode == 0
    for command in (["export", "-o", str(tmp_path / "e.csv")], ["report", "-o", str(tmp_path / "e.html")]):
        result = sme_bot(*command, "--db", str(db), "-q", "quick-check", "--cohort", "EMPTY")
        assert result.returncode == 1 and "no completed" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("e.*"))
    to_folder = sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(tmp_path))
    assert to_folder.returncode == 2 and "is a directory" in to_folder.stderr
    console = sme_bot("console", "--db", str(db), "--cohort", "NOPE", stdin="1\n")
    assert console.returncode == 1 and "unknown cohort 'NOPE'" in console.stderr


def test_a_closed_cohort_is_joined_by_no_one_new_on_a_chat_and_the_owner_is_told(tmp_path, q):
    from chat_channel import TestChat

    from sme_bot.messages import say

    store = Store(tmp_path / "closing.db")
    try:
        store.assessments.create_cohort("CL1", "Lớp tập huấn", questionnaire=q.id)
        chat = TestChat(store, q)
        chat.send("before", "CL1")
        assert any(say("cohort_joined", "vi", code="CL1") in text for text in chat.send("before", "1"))
        assert store.assessments.close_cohort("CL1") and not store.assessments.close_cohort("CL1")
        # Typed as on Zalo (a Telegram deep link carries it the same way): consent, then the word.
        chat.send("after", "CL1")
        told = chat.send("after", "1")
        assert say("cohort_closed", "vi", code="CL1") in told and "đã đóng" in say("cohort_closed", "vi", code="CL1")
        # Whoever joined before goes on in it; the newcomer answers outside it.
        assert store.db.execute("select r.external_id, a.cohort from assessments a join respondents r "
                                "on r.id = a.respondent_id order by a.id").fetchall() == [("before", "CL1"),
                                                                                           ("after", None)]
        opened = chat.service.open(store.db.execute("select id from respondents where external_id = 'before'")
                                   .fetchone()[0], channel="testchat", language="vi", code="CL1")
        assert opened.resumed and opened.joined == "CL1" and not opened.closed
    finally:
        store.close()


def test_the_xlsx_writer_keeps_markup_as_text_and_names_columns_past_z(tmp_path):
    from openpyxl import load_workbook

    from sme_bot.reports.export import write_xlsx
    from sme_bot.reports.xlsx import column_letter

    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
    head = [f"c{i}" for i in range(30)]
    values = ["a & b <i>x</i>", " leading space", 7, 2.5, None, "2026-03-02T08:00:00+00:00", *range(24)]
    out = tmp_path / "wide.xlsx"
    write_xlsx(out, head, iter([list(values), list(values)]), lambda: None, summary=[["n", 2]], codes=[["c"]],
               dates=[5])
    book = load_workbook(out)
    data = book["Data"]
    assert [c.value for c in data[1]] == head and data["AD1"].value == "c29"
    row = [c.value for c in data[2]]
    assert row[:5] == ["a & b <i>x</i>", " leading space", 7, 2.5, None] and row[6:] == list(range(24))
    assert row[5] == datetime(2026, 3, 2, 15, 0)  # Vietnam's time, as Excel shows it
    assert data.auto_filter.ref == "A1:AD3" and data.freeze_panes == "A2"
    assert dict(book["Summary"].values) == {"n": 2} and book.sheetnames == ["Data", "Summary", "Codebook"]


STAFF_COMMANDS = [["summary"], ["export"], ["report"], ["demo-data"], ["cohort"], ["cohort", "create"],
                  ["cohort", "list"], ["cohort", "close"], ["support"], ["support", "list"], ["support", "update"],
                  ["staff"], ["staff", "add"], ["staff", "list"], ["staff", "remove"], ["staff", "passwd"]]


@pytest.mark.parametrize("command", STAFF_COMMANDS, ids=" ".join)
def test_staff_help_is_vietnamese_unless_english_is_asked(command):
    from sme_bot.cli import Staff, main
    from sme_bot.messages import say

    found = main
    for word in command:
        found = found.commands[word]  # type: ignore[attr-defined]
    assert isinstance(found, Staff)
    for lang, options in (("vi", say("cli_options", "vi")), ("en", "Options")):
        shown = sme_bot(*command, "--help", *(["--lang", "en"] if lang == "en" else []))
        assert shown.returncode == 0, shown.stderr
        first = say(f"cli_{found.key}", lang).partition("\n")[0]
        assert " ".join(first.split()[:6]) in " ".join(shown.stdout.split()) and f"{options}:" in shown.stdout
        assert say("cli_opt_help", lang) in shown.stdout and "Usage: sme-bot" in shown.stdout
    # `sme-bot --help` lists it in Vietnamese, the first language.
    if len(command) == 1:
        assert say(f"cli_{found.key}", "vi")[:20] in sme_bot("--help").stdout


def test_cohort_close_from_the_command_line(tmp_path, q):
    from sme_bot.messages import say

    db = tmp_path / "close.db"
    store = Store(db)
    store.assessments.create_cohort("CL1", "Lớp tập huấn", questionnaire=q.id)
    store.close()
    closed = sme_bot("cohort", "close", "CL1", "--db", str(db))
    assert closed.returncode == 0 and closed.stderr == say("cli_cohort_closed", "vi", code="CL1") + "\n"
    again = sme_bot("cohort", "close", "CL1", "--db", str(db), "--lang", "en")
    assert again.returncode == 1 and "there is no open cohort CL1" in again.stderr
    table = sme_bot("cohort", "list", "--db", str(db), env={"COLUMNS": "200"}).stdout
    assert say("staff_col_state", "vi") in table and say("staff_state_closed", "vi", date="")[:6] in table
    assert json.loads(sme_bot("cohort", "list", "--db", str(db), "--format", "json").stdout)[0]["closed_at"]
    store = Store(db)
    try:
        assert store.db.execute("select action, detail from staff_audit").fetchall() == [("cohort_closed", "CL1")]
    finally:
        store.close()
