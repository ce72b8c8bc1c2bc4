"""The SQLite store: committed answers with history, results, migrations, and clear errors."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from sme_bot.errors import StorageError
from sme_bot.scoring import score
from sme_bot.storage import MIGRATIONS, Store


def new_assessment(store, q, **extra):
    respondent = store.respondent("console", "r1", language="vi")
    return store.start_assessment(respondent, questionnaire_id=q.id, questionnaire_version=q.version,
                                  channel="console", language="vi", **extra)


def test_an_answer_is_readable_the_moment_it_is_recorded(store, tiny):
    a = new_assessment(store, tiny)
    store.record_answer(a.id, "staff", 3.0)
    store.record_answer(a.id, "channels", ("zalo", "shop"))
    assert store.answers(a.id) == {"staff": 3.0, "channels": ("zalo", "shop")}


def test_an_edited_answer_keeps_its_history(store, tiny):
    a = new_assessment(store, tiny)
    store.record_answer(a.id, "books", "no")
    store.record_answer(a.id, "books", None, withdrawn=True)
    assert store.answers(a.id) == {}
    store.record_answer(a.id, "books", "yes")
    assert store.answers(a.id) == {"books": "yes"}
    assert [(h["value"], h["withdrawn"]) for h in store.answer_history(a.id)] == [('"no"', 0), (None, 1), ('"yes"', 0)]


def test_a_skipped_optional_answer_is_kept_as_none(store, tiny):
    a = new_assessment(store, tiny)
    store.record_answer(a.id, "nickname", None)
    assert store.answers(a.id) == {"nickname": None}


def test_the_assessment_keeps_questionnaire_id_version_and_cohort(store, tiny):
    a = new_assessment(store, tiny, cohort="HN-2026")
    assert (a.questionnaire_id, a.questionnaire_version, a.cohort, a.status) == ("tiny", "1", "HN-2026", "in_progress")


def test_completing_stores_the_result_and_closes_the_assessment(store, tiny):
    a = new_assessment(store, tiny)
    result = score(tiny, {"staff": 3, "channels": ("zalo",), "updates": "weekly", "books": "yes"})
    store.complete(a.id, result)
    assert store.results(a.respondent_id) == [(a.id, result)]
    assert store.assessment(a.id).status == "completed"
    assert store.unfinished("console") is None


def test_unfinished_finds_the_latest_open_assessment(store, tiny):
    first = new_assessment(store, tiny)
    second = new_assessment(store, tiny)
    assert store.unfinished("console").id == second.id
    store.abandon(second.id)
    assert store.unfinished("console").id == first.id


def test_consent_is_stored_with_its_version(store):
    respondent = store.respondent("console", "r1", language="vi")
    assert not store.has_consent(respondent, "v1")
    store.record_consent(respondent, "v1", agreed=True)
    assert store.has_consent(respondent, "v1") and not store.has_consent(respondent, "v2")


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
    old.record_answer(a.id, "staff", 3.0)
    old.close()
    upgraded = Store(tmp_path / "old.db", migrations=[*MIGRATIONS, v2_add_notes])
    assert upgraded.answers(a.id) == {"staff": 3.0}
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


def test_a_locked_database_is_reported_after_waiting(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr("sme_bot.storage.BUSY_TIMEOUT", 0.2)
    path = tmp_path / "locked.db"
    store = Store(path)
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
