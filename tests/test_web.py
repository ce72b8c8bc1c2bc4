"""The owners' web pages, through a real uvicorn server on loopback and plain HTTP (httpx).

Each test starts the real app (`sme_bot.web.app.create_app`) under uvicorn in a thread over a
temporary SQLite file, with the quick-check questionnaire, and reads the database as staff would.
"""

import html
import logging
import re
import signal

import httpx
import pytest
from conftest import Clock, rows, sme_bot, write_tiny
from peer_fixtures import PEER_TINY, complete
from starlette.routing import Route
from web_server import Owner, ServeProcess, serving

from sme_bot import loader
from sme_bot.config import Config, Web
from sme_bot.scoring import score
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store
from sme_bot.web.app import create_app
from sme_bot.web.security import HideResumeCodes, RateLimit, owner_id, read_code, session_secret
from sme_bot.web.serve import phone_urls

SECRET = "a test key that is long enough to sign cookies"
# One whole quick-check, as a form sends it: option ids, lists of them, typed numbers.
ANSWERS = {"sector": "retail", "employees": "1.000", "legal_form": "enterprise", "revenue": "to_50", "capital": "to_20",
           "c_presence": ["zalo_oa", "maps"], "c_payments": ["transfer"], "c_egov": ["etax"], "s_plan": "in_head",
           "i_internet": ["fibre"], "i_accounting": "excel", "i_einvoice": "typed", "i_safety": ["none"], "o_sales": "pos",
           "o_tasks": "zalo_groups", "o_learning": "videos", "k_scams": ["no_otp"], "k_new": "no", "d_customers": "phone",
           "d_consent": "yes"}
# The same answers as the engine stores them, with the size class computed from them (Decree 80/2021: trade with
# over 100 people is large, whatever the revenue), stored as soon as the number of people is known.
VALUES = {**ANSWERS, "employees": 1000.0, "size": "large",
          **{k: tuple(v) for k, v in ANSWERS.items() if isinstance(v, list)}}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "web.db"


@pytest.fixture
def clock():
    return Clock(1000.0)


@pytest.fixture
def site(quick, db, clock):
    """The app's base URL, over the quick-check questionnaire."""
    with serving(create_app(Config(), quick, database=db, secret=SECRET, clock=clock)) as url:
        yield url


@pytest.fixture
def owner(site):
    person = Owner(site)
    yield person
    person.close()


def count(db, table):
    return rows(db, f"select count(*) from {table}")[0][0]


def answer_rows(db, question):
    return rows(db, f"select value, withdrawn from answers where question_id = '{question}' order by id")


def latest_result(db, quick, code):
    store = Store(db)
    try:
        service = AssessmentService(store, Questionnaires(quick))
        person = service.person("web", owner_id(code))
        return service.latest(person.respondent_id)
    finally:
        store.close()


# -- security ------------------------------------------------------------------------------------------


def test_every_post_is_refused_without_the_sessions_csrf_token(quick, db, clock):
    app = create_app(Config(), quick, database=db, secret=SECRET, clock=clock)
    posts = [r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())]
    assert {"/consent", "/answer", "/begin", "/support", "/delete", "/r"} <= set(posts)
    with serving(app) as url:
        owner = Owner(url)
        owner.agree()
        assert owner.question == "sector"
        code = owner.code
        stranger = Owner(url)
        stranger.get("/consent")
        for path in posts:
            for token in ("", "forged", stranger.csrf):  # none, made up, another session's
                refused = owner.post(path, {"question": "sector", "value": "retail", "result": "yes",
                                            "action": "agree", "code": code}, csrf=token)
                assert refused.status_code == 403, path
                assert "Trang đã hết hạn" in refused.text
        owner.get("/q")
        assert owner.question == "sector"
    assert count(db, "answers") == 0 and count(db, "respondents") == 1


def test_every_response_carries_the_security_headers(site, owner):
    owner.agree()
    owner.answer("retail")
    responses = [owner.http.get(path) for path in ("/", "/consent", "/q", "/privacy", "/delete", "/r", "/r/ABCDE",
                                                   "/c/NOPE", "/nowhere", "/static/style.css")]
    responses += [owner.http.post("/answer", data={"csrf": "wrong"}), owner.http.put("/q"),
                  owner.http.post("/answer", content=b"x" * 70_000)]
    for response in responses:
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe" not in policy and "http" not in policy and "script-src" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "server" not in headers
        if response.headers["content-type"].startswith("text/html"):
            assert headers["cache-control"] == "no-store"
            # Nothing the policy would have to allow: no script, no inline style, nothing from elsewhere.
            assert not re.search(r"<script|style=|\bon[a-z]+=|(src|href|action)=\"(https?:)?//", response.text)


def test_the_cookie_is_httponly_samesite_and_secure_over_https(site):
    plain = httpx.get(site + "/")
    assert re.fullmatch(r"sme_bot=[^;]+; Path=/; Max-Age=\d+; HttpOnly; SameSite=Lax", plain.headers["set-cookie"])
    # Behind a reverse proxy on this machine that says the owner came over https.
    proxied = httpx.get(site + "/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["set-cookie"].endswith("; HttpOnly; SameSite=Lax; Secure")
    assert proxied.headers["strict-transport-security"].startswith("max-age=")


def test_a_body_over_64_kb_is_refused_before_it_is_read(site, owner, db):
    owner.agree()
    big = {"csrf": owner.csrf, "question": "sector", "value": "retail", "padding": "x" * 70_000}
    assert owner.http.post("/answer", data=big).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield b"csrf=" + owner.csrf.encode() + b"&question=sector&value=retail&padding="
        for _ in range(40):
            yield b"x" * 4096

    assert owner.http.post("/answer", content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
    assert count(db, "answers") == 0
    owner.answer("retail")
    assert owner.question == "employees"


def test_starting_assessments_is_limited_per_address(quick, db, clock):
    config = Config(web=Web(starts_per_address=3, limit_window_minutes=10))
    with serving(create_app(config, quick, database=db, secret=SECRET, clock=clock)) as url:
        for _ in range(3):
            assert Owner(url).agree().status_code == 200
        refused = Owner(url).agree()
        assert refused.status_code == 429 and refused.headers["retry-after"] == "600"
        assert "10 phút" in refused.text
        assert count(db, "respondents") == 3
        clock.now += 601
        assert Owner(url).agree().status_code == 200
    assert count(db, "assessments") == 4


def test_wrong_resume_codes_are_limited_per_address(quick, db, clock):
    config = Config(web=Web(wrong_codes_per_address=3))
    with serving(create_app(config, quick, database=db, secret=SECRET, clock=clock)) as url:
        owner = Owner(url)
        owner.agree()
        code = owner.code
        guesser = Owner(url)
        guesser.get("/r")
        for guess in ("ABCDEFGHJK", "23456789AB", "not a code"):
            guesser.post("/r", {"code": guess})
            assert guesser.notice == "Mã này không đúng. Hãy kiểm tra lại từng ký tự."
        # Even the right code waits now: otherwise guessing could go on.
        assert guesser.post("/r", {"code": code}).status_code == 429
        clock.now += 601
        guesser.get("/r")
        guesser.post("/r", {"code": code.lower()[:5] + "-" + code.lower()[5:]})
        assert guesser.question == "sector"


def test_a_failure_gets_a_friendly_page_with_the_same_headers(site, owner, monkeypatch):
    owner.agree()

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(AssessmentService, "latest", broken)
    failed = owner.http.get("/result")
    assert failed.status_code == 500 and "Có lỗi xảy ra" in failed.text and "disk" not in failed.text
    assert failed.headers["content-security-policy"].startswith("default-src 'none'")
    assert failed.headers["cache-control"] == "no-store"


def test_the_access_log_never_shows_a_resume_code():
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/r/K7M2Q9XRHT?lang=en", "1.1", 200), None)
    HideResumeCodes().filter(record)
    assert "K7M2" not in record.getMessage() and "/r/…?lang=en" in record.getMessage()


def test_the_cookie_key_is_made_once_and_kept_beside_the_database(tmp_path):
    key = session_secret(tmp_path / "a.db", environ={})
    assert key == session_secret(tmp_path / "a.db", environ={}) and len(key) >= 32
    assert (tmp_path / "a.db.web-key").stat().st_mode & 0o777 == 0o600
    assert session_secret(tmp_path / "a.db", environ={"SME_BOT_WEB_SECRET": SECRET}) == SECRET
    with pytest.raises(ValueError, match="too short"):
        session_secret(tmp_path / "a.db", environ={"SME_BOT_WEB_SECRET": "short"})


def test_rate_limit_forgets_old_events_and_old_addresses():
    clock = Clock(1000.0)
    limit = RateLimit(2, 60, now=clock, keys=2)
    for _ in range(2):
        limit.record("a")
    assert limit.exceeded("a") and not limit.exceeded("b")
    clock.now += 61
    assert not limit.exceeded("a")
    limit.record("b"), limit.record("c"), limit.record("d")
    assert len(limit._events) == 2


# -- consent, cohorts, language ------------------------------------------------------------------------


def test_declining_stores_nothing(site, owner, db):
    owner.get("/consent")
    declined = owner.post("/consent", {"result": "yes", "staff": "yes", "action": "decline"})
    assert declined.url.path == "/" and owner.notice.startswith("Không có gì được lưu.")
    owner.get("/consent")
    owner.post("/consent", {"staff": "yes", "action": "agree"})  # the required purpose left unticked
    assert owner.http.get("/q").url.path == "/"
    assert all(count(db, table) == 0 for table in ("respondents", "consents", "assessments", "answers"))


def test_consent_is_stored_per_purpose(site, owner, db):
    form = owner.get("/consent").text
    # Who holds the data and how long it is kept, before anything is stored.
    assert "quản lý dữ liệu của bài đánh giá này" in form and "24 tháng không hoạt động" in form
    owner.agree(staff=False)
    assert sorted(rows(db, "select purpose, agreed from consents")) == [("result", 1), ("staff", 0)]
    page = owner.get("/privacy").text
    assert "lưu để tính kết quả — Có; chia sẻ với cán bộ chương trình — Không" in page


def test_a_consent_form_sent_twice_makes_one_person(site, owner, db):
    owner.get("/consent")
    form = {"result": "yes", "staff": "yes", "action": "agree"}
    owner.post("/consent", form)
    owner.post("/consent", form)
    assert count(db, "respondents") == 1 and count(db, "assessments") == 1


def test_an_unknown_cohort_code_gets_a_friendly_page(site, owner):
    page = owner.get("/c/NOPE-2026")
    assert page.status_code == 404
    assert "Mã nhóm “NOPE-2026” không có trong danh sách" in page.text and 'href="/"' in page.text
    assert owner.get("/c/<script>").status_code == 404


def test_a_cohort_link_joins_the_cohort_and_its_questionnaire(tmp_path, db, clock):
    dbi = loader.load("dbi-sme")
    store = Store(db)
    store.assessments.create_cohort("DX2026", "Hội nghị Đồng Xoài", questionnaire="quick-check")
    store.close()
    with serving(create_app(Config(), dbi, database=db, secret=SECRET, clock=clock)) as url:
        owner = Owner(url)
        assert "khoảng 15 phút" in owner.get("/").text
        landing = owner.get("/c/DX2026")
        assert landing.url.path == "/" and "khoảng 5 phút" in landing.text
        assert "Bạn tham gia qua: Hội nghị Đồng Xoài" in landing.text
        owner.agree()
        assert owner.notice == "Bài đánh giá được ghi vào nhóm DX2026." and owner.heading == "Câu 1/20 · Thông tin doanh nghiệp"
    assert rows(db, "select questionnaire_id, cohort from assessments") == [("quick-check", "DX2026")]


def test_english_is_one_tap_away_and_remembered(site, owner):
    switched = owner.get("/?lang=en")
    assert switched.url.path == "/" and "Quick digital-readiness check" in switched.text
    owner.agree()
    assert owner.heading == "Question 1/20 · About the business"
    assert 'lang="en"' in owner.page and "Tiếng Việt" in owner.page


# -- answering ------------------------------------------------------------------------------------------


def test_a_double_submit_records_one_answer(site, owner, db):
    owner.agree()
    owner.answer("retail")
    again = owner.answer("retail", question="sector")
    assert again.url.path == "/q" and owner.question == "employees"
    assert owner.notice.startswith("Trang vừa gửi là của một câu hỏi trước")
    assert answer_rows(db, "sector") == [('"retail"', 0)]


def test_a_stale_page_records_nothing_and_shows_the_current_question(site, owner, db):
    owner.agree()
    owner.answer("retail")
    owner.answer("3")
    assert owner.heading == "Câu 3/20 · Thông tin doanh nghiệp"
    owner.answer("food", question="sector")  # the first page, still open in another tab
    owner.answer(action="back", question="sector")
    assert owner.heading == "Câu 3/20 · Thông tin doanh nghiệp"
    assert answer_rows(db, "sector") == [('"retail"', 0)] and count(db, "answers") == 2


def test_back_sent_twice_goes_back_once(site, owner, db):
    owner.agree()
    owner.answer("retail")
    owner.answer("3")
    owner.answer(action="back")
    owner.answer(action="back", question="legal_form")
    assert owner.question == "employees"
    assert answer_rows(db, "employees") == [("3.0", 0), (None, 1)] and answer_rows(db, "sector") == [('"retail"', 0)]


def test_refused_answers_say_why_and_keep_what_was_ticked(site, owner, db):
    owner.agree()
    owner.answer()
    assert owner.notice == "Hãy chọn một đáp án." and owner.question == "sector"
    owner.answer("retail")
    owner.answer("a lot")
    assert owner.notice.startswith("\"a lot\" không phải là một số.") and 'value="a lot"' in owner.page
    owner.answer("3")
    owner.answer("household")
    owner.answer("to_3")
    owner.answer(["zalo_oa", "none"])
    assert owner.notice == "\"Chưa có ở đâu\" không thể chọn cùng các đáp án khác."
    assert len(re.findall(r'value="(zalo_oa|none)" checked', owner.page)) == 2
    # Sector, people, legal form, revenue and the size class computed from them; nothing of c_presence.
    assert answer_rows(db, "c_presence") == [] and count(db, "answers") == 5


def test_a_whole_assessment_stores_the_result_score_gives(site, owner, db, quick):
    owner.agree()
    for question, value in ANSWERS.items():
        assert owner.question == question
        owner.answer(value)
    assert owner.http.get("/q").url.path == "/result"
    code = re.search(r"Mã tiếp tục: ([A-Z0-9 ]+)<", owner.page).group(1).replace(" ", "")
    latest = latest_result(db, quick, code)
    assert latest.result == score(quick, VALUES)
    page = owner.page
    assert f"Kết quả: Mức {latest.result.level}" in page and page.count("<rect") == 12
    assert page.count('<li value="') == len(latest.result.roadmap) + max(0, len(latest.result.roadmap) - 5)
    assert "<details" in page and "@media print" in owner.http.get("/static/style.css").text


def test_a_retake_shows_the_change_and_support_is_recorded_with_a_contact(site, owner, db):
    owner.agree()
    for value in ANSWERS.values():
        owner.answer(value)
    owner.post("/begin")
    for question, value in ANSWERS.items():
        owner.answer("plan" if question == "s_plan" else value)
    assert "So với lần trước: Mức" in owner.page and "Chiến lược: 30.0% → 80.0% (+50.0)" in owner.page
    assessment = re.search(r'name="assessment" value="(\d+)"', owner.page).group(1)
    owner.post("/support", {"assessment": assessment, "contact": " 0912 345 678 \x07"})
    assert owner.notice.startswith("Đã ghi nhận đề nghị hỗ trợ về:")
    owner.post("/support", {"assessment": assessment})
    assert owner.notice == "Đề nghị hỗ trợ cho kết quả này đã được ghi nhận trước đó."
    owner.post("/support", {"assessment": "1"})  # the first result: also this owner's
    assert rows(db, "select assessment_id, contact from support_requests order by id") == [
        (int(assessment), "0912 345 678"), (1, None)]


def test_resume_by_code_on_another_phone_lands_on_the_same_question(site, owner, db):
    owner.agree()
    first = owner.get("/q").text
    code = owner.code
    assert re.fullmatch(r"[2-9A-HJKMNP-TW-Z]{10}", code) and f"/r/{code}" in first
    owner.answer("retail")
    other = Owner(site)
    form = other.get(f"/r/{code}")
    assert form.url.path == f"/r/{code}" and count(db, "respondents") == 1
    other.post("/r", {"code": read_code(code[:5] + " " + code[5:])})
    assert other.notice == "Đã mở bài đánh giá của bạn trên máy này." and other.question == "employees"
    assert rows(db, "select external_id from respondents") == [(owner_id(code),)]
    assert code not in str(rows(db, "select * from respondents"))


def test_delete_asks_first_then_removes_every_row(site, owner, db):
    owner.agree()
    owner.answer("retail")
    assert "Xóa toàn bộ dữ liệu của bạn" in owner.get("/delete").text
    assert count(db, "answers") == 1
    owner.post("/delete")
    assert owner.notice == "Đã xóa toàn bộ dữ liệu của bạn. Bạn có thể bắt đầu lại bất cứ lúc nào."
    assert all(count(db, table) == 0 for table in ("respondents", "consents", "assessments", "answers"))
    assert owner.http.get("/q").url.path == "/"


# -- the server process ------------------------------------------------------------------------------------


def test_kill_9_mid_assessment_loses_nothing(tmp_path, quick):
    (tmp_path / "bot.toml").write_text('[assessment]\nquestionnaire = "quick-check"\n', encoding="utf-8")
    server = ServeProcess("--config", "bot.toml", "--db", "kill.db", cwd=tmp_path)
    owner = Owner(server.url)
    try:
        owner.agree()
        for value in list(ANSWERS.values())[:8]:
            owner.answer(value)
        assert owner.question == "s_plan"
        server.kill()
        server = ServeProcess("--config", "bot.toml", "--db", "kill.db", cwd=tmp_path)
        owner.http.base_url = httpx.URL(server.url)
        owner.get("/q")
        assert owner.question == "s_plan" and owner.heading == "Câu 9/20 · Chiến lược"
        for value in list(ANSWERS.values())[8:]:
            owner.answer(value)
        assert owner.http.get("/q").url.path == "/result"
    finally:
        code, logged = server.stop()
    # uvicorn finishes, closes the app (and its database), then dies of the SIGTERM it caught.
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in logged
    assert (tmp_path / "kill.db.web-key").exists()
    stored = rows(tmp_path / "kill.db", "select question_id from answers order by id")
    assert [q for (q,) in stored] == ["sector", "employees", "size", *list(ANSWERS)[2:]]


def test_cohort_create_prints_the_web_link_when_there_is_a_public_url(tmp_path):
    config = tmp_path / "bot.toml"
    config.write_text('[web]\npublic_url = "https://dx.example.vn/"\n', encoding="utf-8")
    made = sme_bot("cohort", "create", "DX2026", "--name", "x", "--config", str(config), "--db", str(tmp_path / "c.db"),
                   "--qr", str(tmp_path / "qr.png"), "--lang", "en")
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == ["https://t.me/sme_bot?start=DX2026", "https://dx.example.vn/c/DX2026"]
    assert "QR code (the web link)" in made.stderr


@pytest.mark.parametrize(("host", "urls"), [
    ("127.0.0.1", []), ("localhost", []), ("0.0.0.0", ["http://192.168.1.20:8000"]),
    ("192.168.1.20", ["http://192.168.1.20:8000"]), ("::", ["http://192.168.1.20:8000"]),
])
def test_a_phone_is_given_a_lan_address_only(host, urls):
    assert phone_urls(host, 8000, ["192.168.1.20"]) == urls


@pytest.mark.parametrize("others", [5, 3])
def test_the_result_page_names_strengths_the_next_level_and_how_similar_businesses_did(tmp_path, db, clock, others):
    q = loader.load(write_tiny(tmp_path, PEER_TINY))
    for number in range(others):  # the same sector and size band, levels 0, 1, 2, 0, 1
        complete(db, q, level=number % 3, external_id=f"peer-{number}")
    with serving(create_app(Config(), q, database=db, secret=SECRET, clock=clock)) as url:
        owner = Owner(url)
        owner.agree()
        for value in ("12", "shop", None, ["zalo", "shop"], "weekly", "yes", "app"):
            owner.answer(value, action="skip" if value is None else "answer")
        page = html.unescape(owner.page)
        owner.close()
    assert "Kết quả: Mức 2 · Hai" in page
    assert "Điểm mạnh: Bán hàng (Mức 2, 100%), Tài chính (Mức 2, 100%)." in page
    assert "Bạn đã ở mức cao nhất của mô hình" in page
    # The chart's cut-offs are named under it.
    assert "M1 Một từ 25% · M2 Hai trên 60%" in page
    if others + 1 >= 5:  # the owner counts among their group
        assert "Doanh nghiệp cùng ngành, cùng quy mô" in page
        assert "So với 6 doanh nghiệp cùng nhóm (Cửa hàng · Nhỏ) đã hoàn thành bài đánh giá:" in page
        assert "Mức 0: 33% · Mức 1: 33% · Mức 2: 33%" in page
        assert "Bạn ở Mức 2: 67% doanh nghiệp cùng nhóm ở mức thấp hơn, 33% cùng mức, 0% ở mức cao hơn." in page
    else:
        assert "cùng nhóm" not in page and "Doanh nghiệp cùng ngành" not in page


def test_the_result_page_says_what_the_next_level_needs(tmp_path, db, clock):
    q = loader.load(write_tiny(tmp_path))
    with serving(create_app(Config(), q, database=db, secret=SECRET, clock=clock)) as url:
        owner = Owner(url)
        owner.agree()
        for value in ("3", None, ["shop"], "yes"):
            owner.answer(value, action="skip" if value is None else "answer")
        page = html.unescape(owner.page)
        owner.close()
    assert "Để lên mức tiếp theo" in page
    assert ("Để đạt Mức 2 (Hai) cần trên 6 điểm (đã đủ: bạn có 7) và ít nhất 2 trụ cột ở Mức 2, tức mỗi trụ cột "
            "đạt trên 60% điểm tối đa của nó (bạn đang có 1).") in page
    assert "1 trụ cột gần ngưỡng nhất là: Bán hàng (50%)." in page
