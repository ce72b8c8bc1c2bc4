"""The staff area (/staff) through the real app under uvicorn on loopback and plain HTTP (httpx):
who may see what, CSRF on every form, sign-in, lockout, session expiry, cohorts, downloads, audit."""

import csv
import io
import re
import tempfile
import time

import httpx
import pytest
from conftest import Clock, rows
from staff_site import CHEAP, PASSWORDS, add_accounts, add_completed
from starlette.routing import Route
from web_server import Owner, serving

from sme_bot.config import Config, Web
from sme_bot.messages import say
from sme_bot.storage import Store
from sme_bot.web.app import create_app

SECRET = "a staff test key that is long enough to sign"
START = 1_800_000_000.0  # the staff area's clock: seconds, as time.time gives
# Reached without signing in: the sign-in form and the form's own post.
OPEN = {"/staff", "/staff/signin"}


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "staff.db"
    add_accounts(path)
    return path


def app_for(quick, db, clock, config=None):
    return create_app(config or Config(), quick, database=db, secret=SECRET, staff_clock=clock,
                      password_hasher=CHEAP)


@pytest.fixture
def site(quick, db, clock):
    with serving(app_for(quick, db, clock)) as url:
        yield url


def signed_in(url, name="lan", password=None):
    person = Owner(url)
    person.get("/staff")
    person.post("/staff/signin", {"name": name, "password": password or PASSWORDS[name]})
    return person


def audit(db):
    return rows(db, "select account, action, detail from staff_audit order by id")


def staff_routes(app):
    return [(route.path, method) for route in app.routes if isinstance(route, Route) and route.path.startswith("/staff")
            for method in sorted(route.methods or ()) if method != "HEAD"]


# -- who may reach what ------------------------------------------------------------------------------


def test_every_staff_route_refuses_without_a_signed_in_session(quick, db, clock):
    app = app_for(quick, db, clock)
    routes = staff_routes(app)
    # Taken from the app's own routes: a page added later is checked without a line here.
    assert {("/staff/cohorts", "GET"), ("/staff/cohorts", "POST"), ("/staff/export", "GET"), ("/staff/audit", "GET"),
            ("/staff/export", "POST"), ("/staff/signout", "POST"), ("/staff/cohorts/{code}/qr.png", "GET")} <= set(routes)
    add_completed(db, quick)
    with serving(app) as url:
        stranger = Owner(url)
        stranger.get("/staff")
        token = stranger.csrf  # a valid token of this anonymous session: the session is what is missing
        for path, method in routes:
            if path in OPEN:
                continue
            address = path.replace("{code}", "DX2026") + ("?format=csv" if "export" in path else "")
            data = {"csrf": token, "code": "DX2026", "name": "x", "questionnaire": "quick-check", "format": "csv"}
            response = stranger.http.request(method, address, data=data if method == "POST" else None,
                                             follow_redirects=False)
            assert response.status_code in (303, 403), (method, path)
            if response.status_code == 303:
                assert response.headers["location"] == "/staff", (method, path)
            assert "text/csv" not in response.headers.get("content-type", "")
    assert rows(db, "select count(*) from cohorts") == [(0,)]


def test_every_staff_post_is_refused_without_the_sessions_csrf_token(quick, db, clock):
    app = app_for(quick, db, clock)
    posts = [path for path, method in staff_routes(app) if method == "POST"]
    assert {"/staff/signin", "/staff/signout", "/staff/cohorts", "/staff/export"} <= set(posts)
    add_completed(db, quick)
    with serving(app) as url:
        admin = signed_in(url)
        other = Owner(url)
        other.get("/staff")
        for path in posts:
            for token in ("", "forged", other.csrf):  # none, made up, another session's
                refused = admin.http.post(path, data={"csrf": token, "code": "DX2026", "name": "x", "format": "csv",
                                                      "questionnaire": "quick-check", "password": PASSWORDS["lan"]},
                                          follow_redirects=False)
                assert refused.status_code == 403, path
        # Still signed in (sign-out was refused too), and nothing was made.
        assert admin.get("/staff/cohorts").url.path == "/staff/cohorts"
    assert rows(db, "select count(*) from cohorts") == [(0,)]
    assert [action for _, action, _ in audit(db)].count("export") == 0


def test_signing_in_makes_a_new_session_and_signing_out_ends_it(site, db):
    person = Owner(site)
    person.get("/staff")
    before, token = person.http.cookies["sme_bot"], person.csrf
    person.post("/staff/signin", {"name": " LAN ", "password": PASSWORDS["lan"]})
    assert person.page and "Tài khoản: lan (quản trị)" in person.page
    assert person.http.cookies["sme_bot"] != before and person.csrf != token
    # The cookie from before signing in is worth nothing after.
    planted = httpx.Client(base_url=site, cookies={"sme_bot": before}, follow_redirects=False)
    assert planted.get("/staff/cohorts").headers["location"] == "/staff"
    person.post("/staff/signout")
    assert person.notice == "Bạn đã đăng xuất."
    assert person.http.get("/staff/cohorts").url.path == "/staff"
    assert [action for _, action, _ in audit(db)][-2:] == ["signed_in", "signed_out"]


def test_a_wrong_password_says_nothing_about_which_part_was_wrong(site, db):
    for name, password in (("lan", "not-the-password"), ("nobody", "whatever-it-is")):
        person = Owner(site)
        person.get("/staff")
        person.post("/staff/signin", {"name": name, "password": password})
        assert person.notice == "Tên tài khoản hoặc mật khẩu không đúng." and person.http.get(
            "/staff/cohorts").url.path == "/staff"
    assert [row[:2] for row in audit(db)][-2:] == [("lan", "sign_in_failed"), ("nobody", "sign_in_failed")]


def test_five_failures_lock_the_account_for_15_minutes(site, db, clock):
    person = Owner(site)
    person.get("/staff")
    token = person.csrf
    for attempt in range(5):
        failed = person.post("/staff/signin", {"name": "lan", "password": "guess-guess-guess"}, csrf=token)
        assert failed.status_code == (429 if attempt == 4 else 200)  # the fifth locks it at once
    # Locked: even the right password is refused, and it says how long to wait.
    locked = person.post("/staff/signin", {"name": "lan", "password": PASSWORDS["lan"]}, csrf=token)
    assert locked.status_code == 429 and "15 phút" in locked.text
    assert rows(db, "select locked_until is not null from staff_accounts where name = 'lan'") == [(1,)]
    # Another account is not locked with it.
    assert "Tài khoản: minh" in signed_in(site, "minh").page
    clock.now += 15 * 60 + 1
    assert "Tài khoản: lan" in signed_in(site).page
    details = [detail for account, action, detail in audit(db) if account == "lan" and action == "sign_in_failed"]
    assert len(details) == 6 and "locked for 15 minutes" in details[4] and details[5].startswith("account locked")


def test_failed_sign_ins_are_limited_per_address_whatever_names_are_tried(quick, db, clock):
    with serving(app_for(quick, db, clock, Config(web=Web(staff_signins_per_address=3)))) as url:
        guesser = Owner(url)
        guesser.get("/staff")
        token = guesser.csrf
        for name in ("an", "binh", "chi"):
            guesser.post("/staff/signin", {"name": name, "password": "guess-guess-1"}, csrf=token)
        waited = guesser.post("/staff/signin", {"name": "lan", "password": PASSWORDS["lan"]}, csrf=token)
        assert waited.status_code == 429 and waited.headers["retry-after"] == "600" and "10 phút" in waited.text
        clock.now += 601
        assert "Tài khoản: lan" in signed_in(url).page
    # The refused attempt was not even tried: three failures recorded, then the sign-in.
    assert [action for _, action, _ in audit(db)][2:] == ["sign_in_failed"] * 3 + ["signed_in"]


def test_a_session_ends_after_8_idle_hours_and_with_a_new_password(site, db, clock):
    person = signed_in(site)
    clock.now += 7 * 3600
    assert person.get("/staff/cohorts").url.path == "/staff/cohorts"  # seen: the idle time starts again
    clock.now += 8 * 3600 + 1
    assert person.get("/staff/cohorts").url.path == "/staff"
    assert person.notice == "Phiên làm việc đã hết hạn hoặc chưa đăng nhập. Hãy đăng nhập."
    person = signed_in(site)
    store = Store(db)
    try:
        from sme_bot.accounts import Accounts

        Accounts(store, password_hasher=CHEAP).set_password("lan", "Another-pass-77", by="test")
    finally:
        store.close()
    assert person.get("/staff/cohorts").url.path == "/staff"


# -- roles -------------------------------------------------------------------------------------------


def test_a_viewer_cannot_create_cohorts_download_identities_or_read_the_audit(site, db, quick):
    add_completed(db, quick)
    viewer = signed_in(site, "minh")
    page = viewer.page
    assert "Tài khoản: minh (chỉ xem)" in page and 'name="identities"' not in page and 'action="/staff/cohorts"' not in page
    token = viewer.csrf
    assert viewer.post("/staff/cohorts", {"code": "V1", "name": "x", "questionnaire": "quick-check"}).status_code == 403
    assert viewer.post("/staff/export", {"format": "csv", "identities": "yes"}, csrf=token).status_code == 403
    assert viewer.http.get("/staff/audit").status_code == 403
    # A download by address never has identities, whatever it asks for.
    pseudonymous = viewer.http.get("/staff/export?format=csv&identities=yes&with_identities=1")
    assert pseudonymous.status_code == 200 and "external_id" not in pseudonymous.text
    assert "84912345678" not in pseudonymous.text and "Cà phê Hạnh" not in pseudonymous.text
    assert rows(db, "select count(*) from cohorts") == [(0,)]
    assert [action for account, action, _ in audit(db) if account == "minh"] == ["account_added", "signed_in", "export"]


# -- cohorts, downloads, audit ---------------------------------------------------------------------------


def test_an_admin_creates_a_cohort_and_gets_its_links_and_qr_code(quick, db, clock):
    config = Config(web=Web(public_url="https://dx.example.vn/"))
    with serving(app_for(quick, db, clock, config)) as url:
        admin = signed_in(url)
        admin.post("/staff/cohorts", {"code": "DX2026", "name": "Hội nghị Đồng Xoài", "starts": "2026-11-20",
                                      "ends": "2026-11-21", "questionnaire": "quick-check"})
        page = admin.page
        assert admin.notice == "Đã tạo nhóm DX2026."
        for line in ("https://dx.example.vn/c/DX2026", "https://t.me/sme_bot?start=DX2026", "gõ mã DX2026"):
            assert line in page
        assert re.search(r"<td>0</td><td>0</td><td>–</td>", page)
        admin.post("/staff/cohorts", {"code": "DX2026", "name": "again", "questionnaire": "quick-check"})
        assert admin.notice == "Mã nhóm DX2026 đã có; hãy chọn mã khác."
        for bad, notice in (({"code": "có dấu"}, "Mã nhóm chỉ gồm"), ({"name": " "}, "Hãy đặt tên"),
                            ({"ends": "2026-01-01"}, "Ngày không hợp lệ"), ({"questionnaire": "../x"}, "Không có bộ")):
            form = {"code": "NEW1", "name": "n", "starts": "2026-02-01", "ends": "", "questionnaire": "quick-check", **bad}
            admin.post("/staff/cohorts", form)
            assert admin.notice.startswith(notice), bad
        qr = admin.http.get("/staff/cohorts/DX2026/qr.png")
        assert qr.headers["content-type"] == "image/png" and qr.content.startswith(b"\x89PNG")
        assert admin.http.get("/staff/cohorts/NOPE/qr.png").status_code == 404
    assert rows(db, "select code, name, starts, ends, questionnaire from cohorts") == [
        ("DX2026", "Hội nghị Đồng Xoài", "2026-11-20", "2026-11-21", "quick-check")]
    assert ("lan", "cohort_created", "DX2026 (quick-check)") in audit(db)


def test_cohort_figures_and_downloads_with_and_without_identities(site, db, quick, monkeypatch, tmp_path):
    # The app runs in this process: its temporary files go here, where the test can see them go.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    admin = signed_in(site)
    admin.post("/staff/cohorts", {"code": "HN1", "name": "Hà Nội", "questionnaire": "quick-check"})
    add_completed(db, quick, cohort="HN1")
    add_completed(db, quick, external_id="84900000001", name="Other")
    page = admin.get("/staff/cohorts").text
    assert re.search(r"<td>1</td><td>1</td><td>100%</td>", page)
    token = admin.csrf  # the page read last is a download from here on
    plain = admin.post("/staff/export", {"format": "csv", "cohort": "HN1", "questionnaire": ""}, csrf=token)
    assert plain.headers["content-disposition"] == 'attachment; filename="sme-bot-HN1-quick-check.csv"'
    table = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert len(table) == 2 and "external_id" not in table[0] and table[1][1] == "HN1"
    named = admin.post("/staff/export", {"format": "json", "identities": "yes"}, csrf=token)
    assert named.status_code == 200 and {row["name"] for row in named.json()} == {"Cà phê Hạnh", "Other"}
    # Each file is deleted once sent: by a task that runs just after the last byte went out.
    deadline = time.monotonic() + 5
    while list((tmp_path / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list((tmp_path / "tmp").iterdir()) == []
    none = admin.post("/staff/export", {"format": "csv", "questionnaire": "dbi-sme"}, csrf=token)
    assert none.headers["content-type"].startswith("text/html") and "Chưa có bài đánh giá hoàn thành" in none.text
    # A cohort made by `sme-bot demo-data`, whose code nothing checked, still downloads.
    store = Store(db)
    try:
        store.assessments.create_cohort("Hà Nội/2", "demo", questionnaire="quick-check")
    finally:
        store.close()
    add_completed(db, quick, cohort="Hà Nội/2", external_id="84900000002")
    odd = admin.post("/staff/export", {"format": "csv", "cohort": "Hà Nội/2"}, csrf=token)
    assert odd.headers["content-disposition"] == 'attachment; filename="sme-bot-cohort-quick-check.csv"'
    assert admin.http.get("/staff/cohorts/Hà Nội/qr.png").status_code == 404
    trail = admin.get("/staff/audit").text
    for shown in ("Tải dữ liệu (ẩn danh)", "Tải dữ liệu kèm danh tính", "Tạo nhóm", "Đăng nhập", "Thêm tài khoản"):
        assert shown in trail
    assert [(a, d) for _, a, d in audit(db) if a.startswith("export")] == [
        ("export", f"csv of HN1, quick-check {quick.version}, to sme-bot-HN1-quick-check.csv"),
        ("export_identities", f"json of all cohorts, quick-check {quick.version}, to sme-bot-all-quick-check.json"),
        ("export", f"csv of Hà Nội/2, quick-check {quick.version}, to sme-bot-cohort-quick-check.csv")]


def test_the_staff_pages_switch_to_english(site):
    admin = signed_in(site)
    admin.get("/staff/cohorts?lang=en")
    assert "Account: lan (admin)" in admin.page and "Create a cohort" in admin.page
    admin.get("/staff?lang=vi")
    assert "Tạo nhóm mới" in admin.page


# -- data requests --------------------------------------------------------------------------------------


def add_support_request(db, external_id, contact):
    """The owner of `external_id` asks for help with their result and says how to reach them."""
    store = Store(db)
    try:
        respondent, assessment = store.db.execute(
            "select r.id, a.id from respondents r join assessments a on a.respondent_id = r.id "
            "where r.external_id = ?", [external_id]).fetchone()
        assert store.assessments.request_support(assessment, respondent, ["customers"], contact)
    finally:
        store.close()


def test_an_admin_finds_a_person_by_pseudonym_or_contact_and_deletes_them_on_request(site, db, quick):
    add_completed(db, quick, external_id="84912345678", name="Cà phê Hạnh")
    add_completed(db, quick, external_id="84900000001", name="Tiệm khác")
    add_support_request(db, "84912345678", "Zalo 0912 345 678 (chị Hạnh)")
    admin = signed_in(site)
    assert 'href="/staff/data"' in admin.page
    # The id the owner quotes is the one in the rows staff downloaded.
    download = admin.http.get("/staff/export?format=csv&separator=%3B&questionnaire=quick-check")
    table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert len(table) == 3 and len(table[0]) > 20  # split at ";": the separator asked for
    pseudonyms = [row[0] for row in table[1:]]
    admin.get("/staff/data")
    admin.post("/staff/data", {"find": pseudonyms[0].upper()})
    assert "84912345678" in admin.page and "Cà phê Hạnh" in admin.page and "Zalo 0912 345 678" in admin.page
    assert "84900000001" not in admin.page and admin.page.count('action="/staff/data/delete"') == 1
    # The same person by the contact they left, written another way.
    admin.post("/staff/data", {"find": "+84 912.345.678"})
    assert pseudonyms[0] in admin.page and admin.page.count('action="/staff/data/delete"') == 1
    admin.post("/staff/data", {"find": "0999 999 999"})
    assert say("staff_data_none_found", "vi") in admin.page and 'action="/staff/data/delete"' not in admin.page
    admin.post("/staff/data", {"find": "0912"})  # too short to name one person
    assert say("staff_data_none_found", "vi") in admin.page

    respondent = rows(db, "select id from respondents where external_id = '84912345678'")[0][0]
    admin.post("/staff/data/delete", {"id": str(respondent)})
    assert admin.notice == say("staff_data_confirm_needed", "vi")
    assert rows(db, "select count(*) from respondents") == [(2,)]
    store = Store(db)
    try:
        held = sum(store.privacy.held(respondent)["rows"].values())  # as the page listed them, table by table
    finally:
        store.close()
    admin.post("/staff/data/delete", {"id": str(respondent), "confirm": "yes"})
    assert admin.notice == say("staff_data_deleted", "vi", id=pseudonyms[0], rows=held)
    for table_name, column in (("respondents", "id"), ("assessments", "respondent_id"), ("consents", "respondent_id"),
                               ("support_requests", "respondent_id")):
        assert rows(db, f"select count(*) from {table_name} where {column} = {respondent}") == [(0,)], table_name
    assert rows(db, "select count(*) from answers") == rows(db, "select count(*) from answers a join assessments s "
                                                                "on s.id = a.assessment_id")
    assert rows(db, "select external_id from respondents") == [("84900000001",)]
    admin.post("/staff/data/delete", {"id": str(respondent), "confirm": "yes"})
    assert admin.notice == say("staff_data_gone", "vi")
    trail = [(action, detail) for account, action, detail in audit(db) if account == "lan"]
    assert ("data_searched", "by pseudonymous id: 1 found") in trail and ("data_searched", "by contact: 0 found") in trail
    deleted = [detail for action, detail in trail if action == "data_deleted"]
    assert deleted == [f"{pseudonyms[0]}: {held} rows"]
    # The audit names what was done, never the contact that was typed.
    assert not any("0912" in (detail or "") for _, _, detail in audit(db))
    assert say("staff_action_data_deleted", "vi") in admin.get("/staff/audit").text


def test_a_viewer_has_nothing_to_find_or_delete(site, db, quick):
    add_completed(db, quick)
    add_support_request(db, "84912345678", "0912345678")
    viewer = signed_in(site, "minh")
    assert 'href="/staff/data"' not in viewer.page
    token = viewer.csrf
    assert viewer.http.get("/staff/data").status_code == 403
    found = viewer.post("/staff/data", {"find": "0912345678"}, csrf=token)
    assert found.status_code == 403 and "84912345678" not in found.text
    respondent = rows(db, "select id from respondents")[0][0]
    deleted = viewer.post("/staff/data/delete", {"id": str(respondent), "confirm": "yes"}, csrf=token)
    assert deleted.status_code == 403
    assert rows(db, "select count(*) from respondents") == [(1,)]
    assert not [action for account, action, _ in audit(db) if account == "minh" and action.startswith("data_")]


# -- closing a cohort ---------------------------------------------------------------------------------


def test_a_closed_cohort_takes_no_new_owners_and_keeps_its_figures(site, db, quick):
    admin = signed_in(site)
    admin.post("/staff/cohorts", {"code": "CL1", "name": "Lớp tập huấn", "questionnaire": "quick-check"})
    add_completed(db, quick, cohort="CL1")
    admin.post("/staff/cohorts/close", {"code": "CL1"})
    assert admin.notice == say("staff_close_confirm_needed", "vi")
    assert 'action="/staff/cohorts/close"' in admin.page and rows(db, "select closed_at from cohorts") == [(None,)]
    admin.post("/staff/cohorts/close", {"code": "CL1", "confirm": "yes"})
    assert admin.notice == say("staff_closed", "vi", code="CL1")
    # Listed as closed, with its figures; nothing left to close.
    closed = re.escape(say("staff_state_closed", "vi", date="DATE")).replace("DATE", r"\d{4}-\d\d-\d\d")
    assert re.search(rf"<td>1</td><td>1</td><td>100%</td>\s*<td>{closed}</td>", admin.page)
    assert 'action="/staff/cohorts/close"' not in admin.page
    admin.post("/staff/cohorts/close", {"code": "CL1", "confirm": "yes"})
    assert admin.notice == say("staff_close_unknown", "vi", code="CL1")
    assert ("lan", "cohort_closed", "CL1") in audit(db)
    summary = admin.get("/staff/summary?questionnaire=quick-check&cohort=CL1").text
    assert re.search(r"<dd>1</dd>", summary)

    # An owner with the cohort's link is told, before consenting, and answers outside it.
    owner = Owner(site)
    told = owner.get("/c/CL1")
    assert told.status_code == 410 and say("web_cohort_closed", "vi", name="Lớp tập huấn") in told.text
    owner.agree()
    assert owner.page and owner.question
    assert rows(db, "select cohort from assessments where channel = 'web'") == [(None,)]
    viewer = signed_in(site, "minh")
    assert viewer.post("/staff/cohorts/close", {"code": "CL1", "confirm": "yes"}).status_code == 403


# -- downloads from the summary ------------------------------------------------------------------------


def test_the_summary_page_offers_the_html_report_and_a_csv_for_excel_in_vietnamese(site, db, quick):
    admin = signed_in(site)
    admin.post("/staff/cohorts", {"code": "HN1", "name": "Hà Nội", "questionnaire": "quick-check"})
    for number in range(3):
        add_completed(db, quick, cohort="HN1", external_id=f"8490000000{number}")
    page = admin.get("/staff/summary?cohort=HN1").text
    report_link = "/staff/report?questionnaire=quick-check&amp;cohort=HN1"
    assert report_link in page and "/staff/export?format=csv&amp;separator=%3B&amp;questionnaire=quick-check" in page
    report = admin.http.get(report_link.replace("&amp;", "&"))
    assert report.headers["content-disposition"] == 'attachment; filename="sme-bot-report-HN1-quick-check.html"'
    assert report.text.startswith("<!DOCTYPE html>") and "HN1" in report.text and "<svg" in report.text
    english = signed_in(site, "minh")
    english.get("/staff/summary?lang=en")
    assert "<html lang='en'>" in english.http.get("/staff/report?cohort=HN1").text  # viewers too, in their language
    semicolons = admin.http.get("/staff/export?format=csv&separator=%3B&cohort=HN1")
    text = semicolons.content.decode("utf-8")
    assert text.startswith("\ufeff") and len(text.splitlines()) == 4
    assert text.splitlines()[0].count(";") > 20 and text.splitlines()[1].split(";")[1] == "HN1"
    refused = admin.get("/staff/export?format=csv&separator=%7C")
    assert refused.url.path == "/staff/cohorts" and admin.notice and "|" not in text.splitlines()[0]
    empty = admin.get("/staff/report?questionnaire=dbi-sme")
    assert empty.url.path == "/staff/summary" and say("staff_export_none", "vi") in empty.text
    assert [detail for account, action, detail in audit(db) if action == "report"] == [
        "HN1, quick-check", "HN1, quick-check"]
