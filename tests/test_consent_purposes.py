"""Consent per purpose and how long data is kept: staff see nothing of an owner who did not
agree to share with them, and `sme-bot purge` removes people idle longer than bot.toml keeps them."""

from datetime import UTC, datetime, timedelta

from conftest import rows, sme_bot
from staff_site import CAFE

from sme_bot.scoring import score
from sme_bot.service import CONSENT_VERSION
from sme_bot.storage import Store


def add_business(store, q, external_id, *, last_seen: datetime):
    with store.transaction():
        store.assessments.add_whole(channel="web", external_id=external_id, questionnaire_id=q.id,
                                    questionnaire_version=q.version, language="vi", cohort=None,
                                    started_at=last_seen - timedelta(minutes=9), last_at=last_seen, answers=CAFE,
                                    result=score(q, CAFE), consent_version=CONSENT_VERSION)
    return store.db.execute("select id from respondents where external_id = ?", [external_id]).fetchone()[0]


def test_staff_figures_and_exports_leave_out_an_owner_who_did_not_agree_to_share(tmp_path, quick):
    db = tmp_path / "bot.db"
    store = Store(db)
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    add_business(store, quick, "shares", last_seen=now)
    private = add_business(store, quick, "keeps-to-self", last_seen=now)
    later = add_business(store, quick, "changed-mind", last_seen=now)
    store.assessments.record_consent(private, CONSENT_VERSION, {"staff": False})
    # A no that was later turned into a yes counts as a yes: the latest answer decides.
    store.assessments.record_consent(later, CONSENT_VERSION, {"staff": False})
    store.assessments.record_consent(later, CONSENT_VERSION, {"staff": True})
    assert sum(store.staff.versions(quick.id, None).values()) == 2
    store.close()
    exported = sme_bot("export", "--format", "csv", "-q", quick.id, "--output", str(tmp_path / "rows.csv"),
                       "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    lines = (tmp_path / "rows.csv").read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 2  # the header and the two who share


def test_purge_removes_people_idle_longer_than_bot_toml_keeps_them(tmp_path, quick):
    db = tmp_path / "bot.db"
    store = Store(db)
    now = datetime.now(UTC)
    add_business(store, quick, "idle-three-years", last_seen=now - timedelta(days=3 * 365))
    add_business(store, quick, "seen-last-month", last_seen=now - timedelta(days=30))
    store.close()
    config = tmp_path / "bot.toml"
    config.write_text('[storage]\ndatabase = "bot.db"\n[privacy]\nkeep_months = 24\n')
    counted = sme_bot("purge", "--dry-run", "--config", str(config))
    assert counted.returncode == 0 and "Sẽ xóa 1 người không hoạt động quá 24 tháng" in counted.stderr
    assert rows(db, "select count(*) from respondents") == [(2,)]
    purged = sme_bot("purge", "--lang", "en", "--config", str(config))
    assert purged.returncode == 0 and "1 people idle for over 24 months removed" in purged.stderr
    assert rows(db, "select external_id from respondents") == [("seen-last-month",)]
    assert rows(db, "select count(*) from assessments") == [(1,)]
    # Run again (it is meant to run daily): nothing more to do.
    assert "0 people" in sme_bot("purge", "--lang", "en", "--config", str(config)).stderr


def test_purge_refuses_a_database_that_does_not_exist(tmp_path):
    result = sme_bot("purge", "--db", str(tmp_path / "missing.db"))
    assert result.returncode == 1 and "missing.db" in result.stderr
    assert not (tmp_path / "missing.db").exists()
