"""The SQLite store: committed answers with history, results, migrations, deletion, clear errors."""

import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sme_bot.errors import StorageError
from sme_bot.scoring import score
from sme_bot.storage import MIGRATIONS, Store

FIXTURES = Path(__file__).parent / "fixtures"


def new_assessment(store, q, **extra):
    respondent = store.assessments.add_respondent("console", "r1", language="vi")
    return store.assessments.start(respondent, questionnaire_id=q.id, questionnaire_version=q.version,
                                   channel="console", language="vi", cohort=extra.get("cohort"))


def test_an_answer_is_readable_the_moment_it_is_recorded(store, tiny):
    a = new_assessment(store, tiny)
    store.assessments.record_answer(a.id, "staff", 3.0)
    store.assessments.record_answer(a.id, "channels", ("zalo", "shop"))
    assert store.assessments.answers(a.id) == {"staff": 3.0, "channels": ("zalo", "shop")}


def test_an_edited_answer_keeps_its_history(store, tiny):
    a = new_assessment(store, tiny)
    rows = store.assessments
    rows.record_answer(a.id, "books", "no")
    rows.record_answer(a.id, "books", None, withdrawn=True)
    assert rows.answers(a.id) == {}
    rows.record_answer(a.id, "books", "yes")
    assert rows.answers(a.id) == {"books": "yes"}
    assert [(h["value"], h["withdrawn"]) for h in rows.answer_history(a.id)] == [('"no"', 0), (None, 1), ('"yes"', 0)]


def test_a_skipped_optional_answer_is_kept_as_none(store, tiny):
    a = new_assessment(store, tiny)
    store.assessments.record_answer(a.id, "nickname", None)
    assert store.assessments.answers(a.id) == {"nickname": None}


def test_the_assessment_keeps_questionnaire_id_version_and_cohort(store, tiny):
    a = new_assessment(store, tiny, cohort="HN-2026")
    assert (a.questionnaire_id, a.questionnaire_version, a.cohort, a.status) == ("tiny", "1", "HN-2026", "in_progress")


def test_completing_stores_the_result_and_closes_the_assessment(store, tiny):
    a = new_assessment(store, tiny)
    result = score(tiny, {"staff": 3, "channels": ("zalo",), "updates": "weekly", "books": "yes"})
    store.assessments.complete(a.id, result)
    assert store.assessments.results(a.respondent_id) == [(a.id, result)]
    assert store.assessments.get(a.id).status == "completed"
    assert store.assessments.in_progress(a.respondent_id) is None


def test_the_latest_assessment_in_progress_is_found(store, tiny):
    first = new_assessment(store, tiny)
    second = new_assessment(store, tiny)
    assert store.assessments.latest_in_progress("console", "tiny").id == second.id
    store.assessments.close(second.id, "abandoned")
    assert store.assessments.latest_in_progress("console", "tiny").id == first.id
    assert store.assessments.in_progress(first.respondent_id).id == first.id


def test_consent_is_stored_per_purpose_with_its_version(store):
    respondent = store.assessments.add_respondent("console", "r1", language="vi")
    assert not store.assessments.person("console", "r1", "v1").consented
    store.assessments.record_consent(respondent, "v1", {"result": True, "staff": False})
    assert store.assessments.person("console", "r1", "v1").consented
    assert not store.assessments.person("console", "r1", "v2").consented
    assert store.assessments.consents(respondent) == {"result": True, "staff": False}


def test_deleting_a_person_removes_their_rows_from_every_table_that_holds_them(tmp_path, tiny):
    def v_extra_notes(db):
        # A table added later with a person's data: deletion finds it by its column.
        db.table("notes").create({"id": int, "assessment_id": int, "note": str}, pk="id")

    store = Store(tmp_path / "d.db", migrations=[*MIGRATIONS, v_extra_notes])
    keep, gone = new_assessment(store, tiny), None
    other = store.assessments.add_respondent("telegram", "42", language="vi", name="Cô Ba Bán Bún")
    store.assessments.record_consent(other, "v1", {"result": True, "staff": True})
    gone = store.assessments.start(other, questionnaire_id="tiny", questionnaire_version="1", channel="telegram",
                                   language="vi", cohort=None)
    store.assessments.record_answer(gone.id, "nickname", "Cô Ba Bán Bún")
    store.assessments.complete(gone.id, score(tiny, {"staff": 3, "channels": ("zalo",), "books": "yes"}))
    store.assessments.request_support(gone.id, other, ["sales"], "0900 000 000")
    store.chats("telegram").save(other, chat_id="42", language="vi")
    store.db.execute("insert into notes (assessment_id, note) values (?, 'Cô Ba Bán Bún')", [gone.id])
    store.privacy.delete_respondent(other)
    # Not in the file, nor in its write-ahead log, nor in freed pages, while the bot still runs.
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("d.db*"))
    assert "Cô Ba Bán Bún".encode() not in raw and b"0900 000 000" not in raw
    store.close()
    conn = sqlite3.connect(tmp_path / "d.db")
    by_assessment = ("answers", "results", "result_pillars", "result_steps", "notes")
    for table in by_assessment:
        assert conn.execute(f"select count(*) from {table} where assessment_id = ?", [gone.id]).fetchone() == (0,)
    for table in ("support_requests", "consents", "chats"):
        assert conn.execute(f"select count(*) from {table} where respondent_id = ?", [other]).fetchone() == (0,)
    assert conn.execute("select count(*) from respondents where id = ?", [other]).fetchone() == (0,)
    assert conn.execute("select count(*) from assessments where id = ?", [keep.id]).fetchone() == (1,)
    assert conn.execute("select channel from deletions").fetchall() == [("telegram",)]


def test_a_database_from_release_0_1_is_carried_forward(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "release-0.1.db", path)
    store = Store(path)
    rows = store.assessments
    telegram = rows.person("telegram", "1001", "2026-11")
    assert telegram.consented and rows.consents(telegram.respondent_id) == {"result": True, "staff": True}
    assert rows.in_progress(telegram.respondent_id).questionnaire_id == "quick-check"
    assert [r.level for _, r in rows.results(telegram.respondent_id)] == [rows.results(telegram.respondent_id)[0][1].level]
    chat = store.chats("telegram").get("1001")
    assert (chat["chat_id"], chat["prompt_question"], chat["prompt_message_id"]) == ("1001", "c_presence", 55)
    assert not store.chats("telegram").first_time(900001) and store.chats("zalo").first_time(900001)
    assert rows.cohort("DX2026")["name"] == "Hội nghị thử"
    assert store.staff.support_requests()[0]["pillars"] == '["strategy"]'
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_exports_recorded_in_meta_by_an_earlier_release_join_the_audit_trail(tmp_path):
    path = tmp_path / "v8.db"
    Store(path, migrations=MIGRATIONS[:8]).close()  # as the release before the one audit trail left it
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("insert into meta values ('audit:2026-11-20T08:00:00+00:00:1a2b3c4d', "
                     "'export with identities: xlsx of DX to ids.xlsx')")
        conn.execute("insert into staff_audit (at, account, action, detail) "
                     "values ('2026-11-21T09:00:00+00:00', 'lan', 'signed_in', 'from 127.0.0.1')")
    conn.close()
    store = Store(path)
    assert store.accounts.audit_trail() == [  # newest first, by when it happened
        {"at": "2026-11-21T09:00:00+00:00", "account": "lan", "action": "signed_in", "detail": "from 127.0.0.1"},
        {"at": "2026-11-20T08:00:00+00:00", "account": "command line", "action": "export_identities",
         "detail": "xlsx of DX to ids.xlsx"}]
    assert store.db.execute("select count(*) from meta where key like 'audit:%'").fetchone() == (0,)
    store.close()


def test_times_come_from_the_injected_clock(tmp_path, tiny):
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    ticks = iter(start + timedelta(minutes=i) for i in range(10))
    store = Store(tmp_path / "clock.db", now=lambda: next(ticks))
    a = new_assessment(store, tiny)
    assert a.started_at == "2026-03-01T08:01:00+00:00"


def test_the_file_uses_wal_and_records_its_schema_version(tmp_path):
    Store(tmp_path / "w.db").close()
    conn = sqlite3.connect(tmp_path / "w.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_older_file_is_migrated_and_keeps_its_rows(tmp_path, tiny):
    def v2_add_notes(db):
        db["assessments"].add_column("notes", str)

    old = Store(tmp_path / "old.db")
    a = new_assessment(old, tiny)
    old.assessments.record_answer(a.id, "staff", 3.0)
    old.close()
    upgraded = Store(tmp_path / "old.db", migrations=[*MIGRATIONS, v2_add_notes])
    assert upgraded.assessments.answers(a.id) == {"staff": 3.0}
    assert "notes" in upgraded.db["assessments"].columns_dict
    assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


def test_a_file_from_a_newer_release_is_refused_clearly(tmp_path):
    sqlite3.connect(tmp_path / "new.db").execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    with pytest.raises(StorageError, match="newer sme-bot"):
        Store(tmp_path / "new.db")


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    (tmp_path / "notes.db").write_text("just some notes\n" * 100)
    with pytest.raises(StorageError, match="is not an sme-bot database"):
        Store(tmp_path / "notes.db")


def test_a_read_only_database_is_reported_not_crashed_on(tmp_path, tiny):
    # SQLite's own read-only mode refuses writes whoever asks, root included (CI runs as root,
    # where a chmod would not stop a write).
    Store(tmp_path / "ro.db").close()
    store = Store(tmp_path / "ro.db")
    store.db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageError, match="read-only|readonly"):
        new_assessment(store, tiny)


def test_a_locked_database_is_reported_after_waiting(tmp_path, tiny):
    path = tmp_path / "locked.db"
    store = Store(path, busy_timeout=0.2)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StorageError, match="locked by another program"):
            new_assessment(store, tiny)
    finally:
        holder.kill()
        holder.wait()


def test_a_session_shows_the_question_again_after_a_refused_answer(store, tiny):
    from sme_bot.flows.engine import Ask, Reject
    from sme_bot.session import Session

    session = Session.open(store.assessments, tiny, new_assessment(store, tiny))
    first = session.step()
    assert isinstance(session.answer("không phải số"), Reject)
    # The refusal is said once; what is on screen is still the question (worked out once per state).
    assert isinstance(session.step(), Ask) and session.step() == first
    assert isinstance(session.answer("3"), Ask) and session.step() != first
    assert store.assessments.answers(session.assessment.id) == {"staff": 3.0}
