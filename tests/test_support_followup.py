"""Following support requests up: the migration from "open", the rules of sme_bot.support, the staff
page at /staff/support (list, filters, the update form, the CSV) and `sme-bot support list|update`."""

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Clock, sme_bot
from staff_site import CAFE, add_accounts, add_completed
from test_staff_web import app_for, audit, rows, signed_in, staff_routes
from web_server import Owner, serving

from sme_bot import support
from sme_bot.localtime import in_vietnam, local_time
from sme_bot.scoring import score
from sme_bot.service import weakest
from sme_bot.storage import Store

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 25, 16, 5, tzinfo=UTC).timestamp()
FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def db(tmp_path, quick):
    """Two accounts and one café that asked for help, leaving a contact that looks like a formula."""
    path = tmp_path / "support.db"
    add_accounts(path)
    result = add_completed(path, quick, cohort="HN1")
    store = Store(path)
    try:
        store.assessments.record_answer(1, "business_name", "Tiệm cà phê Hạnh Phúc")
        store.assessments.request_support(1, 1, [p.id for p in weakest(result)], FORMULA)
    finally:
        store.close()
    return path


def weakest_names(quick, lang="vi"):
    """The café's two weakest pillars by name, in the order the request names them."""
    by_id = {p.id: p.name(lang) for p in quick.pillars}
    return [by_id[p.id] for p in weakest(score(quick, CAFE))]


def test_the_migration_carries_an_open_request_to_new(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "release-0.1.db", path)
    store = Store(path)
    try:
        (row,) = store.support.requests()
        assert (row["status"], row["assignee"], row["notes"]) == ("new", None, None)
        assert row["updated_at"] == row["created_at"]
    finally:
        store.close()


def test_the_rules_forward_only_or_reopened_to_helping():
    assert support.allowed("new", "closed") and support.allowed("open", "contacted")
    assert not support.allowed("helping", "contacted") and not support.allowed("closed", "new")
    assert support.allowed("closed", "helping") and not support.allowed("new", "done")
    assert support.next_statuses("closed") == ["helping", "closed"]



def test_times_read_as_vietnams():
    assert local_time("2026-11-25T16:05:00+00:00") == "2026-11-25 23:05" and local_time(None) == ""
    assert in_vietnam("2026-11-25T16:05:00") == datetime(2026, 11, 25, 23, 5)  # no zone: stored as UTC


def test_the_page_lists_a_request_with_its_contact_and_pillar_names(db, quick):
    clock = Clock(NOW)
    with serving(app_for(quick, db, clock)) as url:
        viewer = signed_in(url, "minh")
        page = viewer.get("/staff/support").text
        assert "Tiệm cà phê Hạnh Phúc" in page and "HN1" in page
        assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in page  # escaped, as text
        assert ", ".join(weakest_names(quick)) in page
        assert "mới" in page and "cập nhật được" in page  # viewers may update: the page says so
        # Filters: nothing closed yet, nothing in another cohort.
        assert "Không có đề nghị" in viewer.get("/staff/support?status=closed").text
        assert "Không có đề nghị" in viewer.get("/staff/support?cohort=OTHER").text
        viewer.get("/staff/support?lang=en")
        assert ", ".join(weakest_names(quick, "en")) in viewer.get("/staff/support").text


def test_a_status_change_and_a_note_are_stored_and_audited(db, quick):
    clock = Clock(NOW)
    with serving(app_for(quick, db, clock)) as url:
        viewer = signed_in(url, "minh")
        viewer.get("/staff/support")
        viewer.post("/staff/support", {"id": "1", "status": "contacted", "assignee": "lan",
                                       "note": "Đã gọi,\nhẹn thứ Hai", "status_filter": "", "cohort_filter": ""})
        assert viewer.notice == "Đã cập nhật đề nghị #1."
        assert "đã liên hệ" in viewer.page and "[2026-11-25 23:05 minh] Đã gọi, hẹn thứ Hai" in viewer.page
        # Back is refused, with the statuses in words.
        viewer.post("/staff/support", {"id": "1", "status": "new", "assignee": "lan"})
        assert viewer.notice.startswith('Không thể chuyển từ "đã liên hệ" về "mới"')
        viewer.post("/staff/support", {"id": "99", "status": "closed"})
        assert viewer.notice == "Không có đề nghị hỗ trợ #99."
        viewer.post("/staff/support", {"id": "1", "status": "closed", "assignee": "lan", "note": "Xong"})
        viewer.post("/staff/support", {"id": "1", "status": "helping", "assignee": "lan"})  # reopened
    (status, assignee, notes), = rows(db, "select status, assignee, notes from support_requests")
    assert (status, assignee) == ("helping", "lan")
    assert notes.splitlines() == ["[2026-11-25 23:05 minh] Đã gọi, hẹn thứ Hai", "[2026-11-25 23:05 minh] Xong"]
    assert [entry for entry in audit(db) if entry[1] == "support_updated"] == [
        ("minh", "support_updated", "#1: new → contacted, assignee lan, note added"),
        ("minh", "support_updated", "#1: contacted → closed, note added"),
        ("minh", "support_updated", "#1: closed → helping")]


def test_the_csv_has_a_bom_and_a_formula_looking_contact_or_note_is_inert(db, quick):
    clock = Clock(NOW)
    with serving(app_for(quick, db, clock)) as url:
        admin = signed_in(url)
        admin.get("/staff/support")
        admin.post("/staff/support", {"id": "1", "status": "helping", "note": "@SUM(1+1)"})
        download = admin.http.get("/staff/support.csv?status=helping&cohort=HN1")
        assert download.headers["content-type"].startswith("text/csv")
        assert download.content.startswith(b"\xef\xbb\xbf")
        (row,) = csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))
        assert row["contact"] == "'" + FORMULA and row["status"] == "đang hỗ trợ"
        assert row["business_name"] == "Tiệm cà phê Hạnh Phúc" and row["notes"].startswith("[2026-11-25 23:05 lan]")
        assert row["pillars"] == ", ".join(weakest_names(quick))
        # A formula at the start of the notes cell is made inert too.
        store = Store(db)
        store.db.execute("update support_requests set notes = '-2+3'")
        store.close()
        (row,) = csv.DictReader(io.StringIO(admin.http.get("/staff/support.csv").content.decode("utf-8-sig")))
        assert row["notes"] == "'-2+3"
    assert ("lan", "support_export", "1 requests, status helping, HN1") in audit(db)


def test_a_post_without_the_sessions_csrf_token_changes_nothing(db, quick):
    app = app_for(quick, db, Clock(NOW))
    # The route-table tests in test_staff_web.py take the routes from the app: these are among them.
    assert {("/staff/support", "GET"), ("/staff/support", "POST"), ("/staff/support.csv", "GET")} <= set(
        staff_routes(app))
    with serving(app) as url:
        viewer = signed_in(url, "minh")
        for token in ("", "forged"):
            refused = viewer.http.post("/staff/support", data={"csrf": token, "id": "1", "status": "closed"},
                                       follow_redirects=False)
            assert refused.status_code == 403
        stranger = Owner(url)
        stranger.get("/staff")
        stranger.post("/staff/support", {"id": "1", "status": "closed"})
        assert stranger.http.get("/staff/support.csv", follow_redirects=False).headers["location"] == "/staff"
    assert rows(db, "select status from support_requests") == [("new",)]


def test_the_command_line_lists_and_updates(db, tmp_path):
    listed = sme_bot("support", "list", "--db", str(db), "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["status"], row["contact"], row["business_name"]) == ("new", FORMULA, "Tiệm cà phê Hạnh Phúc")
    done = sme_bot("support", "update", "1", "--status", "contacted", "--assignee", "LAN", "--note", "gọi lại",
                   "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "#1: new → contacted, assignee lan, note added" in done.stderr
    (status, assignee, notes), = rows(db, "select status, assignee, notes from support_requests")
    assert (status, assignee) == ("contacted", "lan") and "command line" in notes and notes.endswith("gọi lại")
    # Not closed: listed by default; not among the closed ones.
    assert json.loads(sme_bot("support", "list", "--db", str(db), "--format", "json", cwd=tmp_path).stdout)
    closed = sme_bot("support", "list", "--status", "closed", "--db", str(db), "--format", "json", cwd=tmp_path)
    assert json.loads(closed.stdout) == []
    for args, said in ((["1", "--status", "done"], "unknown status 'done'"),
                       (["42", "--status", "closed"], "no support request #42"),
                       (["1", "--status", "new"], "cannot go back"),
                       (["1", "--assignee", "nobody"], "no staff account named 'nobody'")):
        refused = sme_bot("support", "update", *args, "--db", str(db), cwd=tmp_path)
        assert refused.returncode == 1 and said in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert rows(db, "select status from support_requests") == [("contacted",)]
    helped = sme_bot("support", "update", "--help", cwd=tmp_path)
    assert "sme-bot support update 12 --status contacted" in helped.stdout
