"""Staff figures reconcile (design rule 11): a business counts once, by its latest result; one
figure never mixes questionnaires, and says when it spans versions; demo and console rows stay
out unless asked for; a missing database is said, never made."""

import csv
import io
import json
import sqlite3

import pytest
from conftest import sme_bot
from staff_site import HIGH, LOW

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.reports import staff
from sme_bot.scoring import score
from sme_bot.storage import Store

# Quick-check answers as a session stores them, the size class (Decree 80/2021) computed from them included.

@pytest.fixture(scope="module")
def q():
    return loader.load("quick-check")


def take(store, q, channel, external_id, answers, *, version=None, complete=True):
    respondent = store.assessments.add_respondent(channel, external_id, language="vi")
    assessment = store.assessments.start(respondent, questionnaire_id=q.id, questionnaire_version=version or q.version,
                                         channel=channel, language="vi", cohort="DX")
    for qid, value in answers.items():
        store.assessments.record_answer(assessment.id, qid, value)
    if complete:
        store.assessments.complete(assessment.id, score(q, answers))


@pytest.fixture
def db(tmp_path, q):
    """Real businesses A (took it twice: LOW, then HIGH), B (LOW) and C (stopped part-way) on
    quick-check; D on dbi-sme (another questionnaire); one demo row and one console try (HIGH)."""
    path = tmp_path / "figures.db"
    store = Store(path)
    store.assessments.create_cohort("DX", "Đồng Xoài", questionnaire=q.id)
    take(store, q, "telegram", "A", LOW)
    take(store, q, "telegram", "A", HIGH)
    take(store, q, "telegram", "B", LOW)
    take(store, q, "web", "C", LOW, complete=False)
    take(store, loader.load("dbi-sme"), "telegram", "D", {})
    take(store, q, "demo", "E", HIGH)
    take(store, q, "console", "F", HIGH)
    store.close()
    return path


def test_the_summary_is_what_a_person_counts_by_hand(db, q):
    low, high = score(q, LOW), score(q, HIGH)
    assert low.level != high.level
    result = staff.summary(Store(db), q, Config(), cohort=None, by=None)
    # Assessments of quick-check by real businesses: A twice, B, C = 4 started; A twice, B = 3 completed.
    # D (dbi-sme), E (demo) and F (console) are not in them.
    assert (result.total.started, result.total.completed) == (4, 3)
    assert result.total.completion_rate == 75.0  # 3 / 4
    # Businesses by their latest result: A at HIGH's level (not LOW's as well), B at LOW's: 1 + 1.
    assert {level: n for level, n in result.total.levels.items() if n} == {low.level: 1, high.level: 1}
    # Strategy average over A's latest and B: (HIGH's + LOW's) / 2, not (LOW + HIGH + LOW) / 3.
    strategy = (high.pillars[1].percent + low.pillars[1].percent) / 2
    assert result.total.pillars["strategy"] == pytest.approx(round(strategy, 1))
    # A's retake is reported apart, as ever: first result against latest.
    assert result.retakes.businesses == 1
    assert result.retakes.level_change == {high.level - low.level: 1}
    change = high.pillars[1].percent - low.pillars[1].percent
    assert result.retakes.pillar_change["strategy"] == pytest.approx(round(change, 1))
    assert result.versions == {q.version: 3}


def test_a_summary_leaves_its_connection_as_it_found_it(db, q):
    store = Store(db)
    first = staff.summary(store, q, Config(), cohort=None, by="size")
    # No transaction left open: it would hold a read snapshot and keep the log from being checkpointed.
    assert not store.db.conn.in_transaction
    assert staff.summary(store, q, Config(), cohort=None, by="size") == first  # its temporary table gone
    store.close()


def test_a_summary_reads_each_result_index_in_order_without_sorting(db, q):
    """What keeps the all-cohorts summary fast at 100,000 results (bench/staff_bench.py): levels,
    pillars and steps are each one pass along an index, grouped as they are read."""
    store = Store(db)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    staff.summary(store, q, Config(), cohort=None, by=None)
    store.db.conn.set_trace_callback(None)
    passes = [sql for sql in statements if "cross join temp.latest" in sql]
    assert len(passes) == 3
    store.db.conn.execute("create temp table latest (id integer primary key, first integer, grp)")
    for sql in passes:
        plan = " / ".join(row[3] for row in store.db.conn.execute(f"explain query plan {sql}"))
        assert "USING COVERING INDEX" in plan and "TEMP B-TREE FOR GROUP BY" not in plan, plan
    store.close()


def test_include_demo_brings_demo_and_console_rows_back(db, q):
    low, high = score(q, LOW), score(q, HIGH)
    result = staff.summary(Store(db), q, Config(), cohort=None, by=None, include_demo=True)
    # 4 real + E + F = 6 started, 3 + 2 = 5 completed; levels: A, E, F at HIGH's, B at LOW's.
    assert (result.total.started, result.total.completed) == (6, 5)
    assert {level: n for level, n in result.total.levels.items() if n} == {low.level: 1, high.level: 3}
    data = json.loads(sme_bot("summary", "--db", str(db), "-q", "quick-check", "--format", "json",
                              "--include-demo").stdout)
    assert (data["total"]["started"], data["total"]["completed"]) == (6, 5)
    without = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--format", "json")
    plain = json.loads(without.stdout)
    assert (plain["total"]["started"], plain["total"]["completed"]) == (4, 3)
    # What is left out is said beside the figure (E and F), so demo data never looks like none.
    assert "counted: 3 (2 demo or console ones left out; --include-demo counts them)" in without.stderr


def test_cohort_list_and_export_count_the_same_rows(db, tmp_path):
    listed = json.loads(sme_bot("cohort", "list", "--db", str(db), "--format", "json").stdout)
    # Of the cohort's questionnaire only (D's dbi-sme left out), real rows only.
    assert [(c["code"], c["started"], c["completed"]) for c in listed] == [("DX", 4, 3)]
    everything = json.loads(sme_bot("cohort", "list", "--db", str(db), "--format", "json", "--include-demo").stdout)
    assert [(c["started"], c["completed"]) for c in everything] == [(6, 5)]
    out = tmp_path / "out.csv"
    assert sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(out)).returncode == 0
    assert len(list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))) == 3  # one row per assessment
    assert sme_bot("export", "--db", str(db), "-q", "quick-check", "-o", str(out), "--include-demo").returncode == 0
    assert len(list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))) == 5


def test_each_version_has_figures_and_files_of_its_own(db, q, tmp_path):
    """One figure never mixes versions: an assessment counts in its own version's figures, a
    business in the version of its latest result (so in one version's, never two)."""
    older = loader.load_version(q.id, "2026.1")
    store = Store(db)
    take(store, older, "telegram", "G", {})  # G: only on the earlier file
    take(store, older, "telegram", "H", {})  # H: on the earlier file, then on the current one
    take(store, q, "telegram", "H", LOW)
    current = staff.summary(store, q, Config(), cohort=None, by=None)
    earlier = staff.summary(store, q, Config(), cohort=None, by=None, version="2026.1")
    store.close()
    low, high = score(q, LOW), score(q, HIGH)
    # The current file's, by default: A twice, B and H completed; businesses A at HIGH's level, B and H at LOW's.
    assert (current.version, current.total.completed) == (q.version, 4)
    assert {level: n for level, n in current.total.levels.items() if n} == {low.level: 2, high.level: 1}
    assert current.versions == {"2026.1": 2, q.version: 4}
    # The earlier file's: G's and H's first completed; one business, G (H's latest is on the current file).
    assert (earlier.version, earlier.total.completed, sum(earlier.total.levels.values())) == ("2026.1", 2, 1)
    assert earlier.retakes.businesses == 0
    # In the CLI: the other version named, and chosen with --version; one nobody kept is refused.
    table = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--lang", "en", env={"COLUMNS": "200"}).stdout
    assert f"These figures are of version {q.version} only" in table and "2026.1: 2" in table
    chosen = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--version", "2026.1", "--format", "json")
    assert (json.loads(chosen.stdout)["version"], json.loads(chosen.stdout)["total"]["completed"]) == ("2026.1", 2)
    unknown = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--version", "1999.1")
    assert unknown.returncode == 1 and "version '1999.1' here; versions with some: 2026.1 (2), 2026.2 (4)" in unknown.stderr
    # A version with results but no file kept to read them with is said, not guessed at.
    store = Store(db)
    take(store, q, "telegram", "J", LOW, version="0.9")
    store.close()
    lost = sme_bot("summary", "--db", str(db), "-q", "quick-check", "--version", "0.9")
    assert lost.returncode == 1 and "no copy of quick-check 0.9 is kept" in lost.stderr
    # Files too: a version's rows under its own questions' columns.
    out = tmp_path / "old.csv"
    assert sme_bot("export", "--db", str(db), "-q", "quick-check", "--version", "2026.1", "--labels", "codes",
                   "-o", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [row["version"] for row in rows] == ["2026.1", "2026.1"] and "k_skills" in rows[0]
    default = sme_bot("export", "--db", str(db), "-q", "quick-check", "--labels", "codes", "-o", str(out), "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == 4 and "k_skills" not in rows[0] and "2026.1: 2" in default.stderr


@pytest.mark.parametrize("command", [["summary"], ["export", "-o", "x.csv"], ["report", "-o", "x.html"],
                                     ["cohort", "list"], ["support", "list"]])
def test_a_missing_database_is_one_line_and_no_file_appears(tmp_path, command):
    missing = tmp_path / "typo.db"
    result = sme_bot(*command, "--db", str(missing), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"no database at {missing}" in result.stderr and "--db" in result.stderr
    assert not list(tmp_path.iterdir())


def test_demo_data_purge_leaves_no_demo_row_and_keeps_the_real_ones(db):
    sme_bot("demo-data", "--n", "30", "--db", str(db), "-q", "quick-check")
    result = sme_bot("demo-data", "--purge", "--db", str(db), "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "31 made-up businesses removed" in result.stderr  # E and the 30 just made
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from respondents where channel = 'demo'").fetchone() == (0,)
    assert conn.execute("select count(*) from assessments where channel = 'demo'").fetchone() == (0,)
    orphans = conn.execute("select count(*) from answers where assessment_id not in (select id from assessments)")
    assert orphans.fetchone() == (0,)
    assert conn.execute("select count(*) from results where assessment_id not in (select id from assessments)"
                        ).fetchone() == (0,)
    # A, B, C, D and the console try stay.
    assert conn.execute("select count(*) from respondents").fetchone() == (5,)
    assert conn.execute("select count(*) from assessments").fetchone() == (6,)
    conn.close()
    again = sme_bot("demo-data", "--purge", "--db", str(db), "--lang", "en")
    assert again.returncode == 0 and "0 made-up businesses removed" in again.stderr
    neither = sme_bot("demo-data", "--db", str(db))
    assert neither.returncode == 2 and "--purge" in neither.stderr
