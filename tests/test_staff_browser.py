"""The staff area in a real browser on a laptop: Debian's Chromium driven by Playwright, finding
everything by role and accessible name, against the real app under uvicorn on loopback.
Nothing is downloaded to run it: Playwright drives the system's Chromium (never `playwright install`).
"""


from conftest import rows
from staff_site import CHEAP, PASSWORDS, add_accounts, add_completed
from web_server import serving

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.messages import say
from sme_bot.reports.export import header
from sme_bot.web.app import create_app

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def sign_in(browser, url, name):
    """A staff member's own browser window (its own cookies), signed in and on the cohorts page."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(url + "/staff")
    page.get_by_role("textbox", name=say("staff_name", "vi")).fill(name)
    page.get_by_label(say("staff_password", "vi")).fill(PASSWORDS[name])
    page.get_by_role("button", name=say("staff_signin", "vi"), exact=True).click()
    page.wait_for_url("**/staff/cohorts")
    return context, page


def answer_on_screen(page, q) -> None:
    """Answer whatever question the page shows, as a person would, by its labels: the first option,
    or a plausible number or text (any answer will do; the questionnaire may change)."""
    question = q.question_by_id[page.locator("input[name=question]").input_value()]
    if question.type == "number":
        page.get_by_role("textbox", name=question.text("vi")).fill("6")
    elif question.type == "text":
        page.get_by_role("textbox", name=question.text("vi")).fill("Cà phê Thử")
    else:
        kind = "checkbox" if question.type == "multi" else "radio"
        page.get_by_role(kind, name=question.options[0].label("vi"), exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name=say("web_next", "vi"), exact=True).click()


def cohort_cells(page, code):
    """The cells of a cohort's row on a freshly loaded cohorts page."""
    page.goto(page.url.split("/staff")[0] + "/staff/cohorts")
    return page.get_by_role("row").filter(has_text=code).get_by_role("cell")


def test_an_admin_signs_in_creates_a_cohort_and_downloads_its_xlsx(browser, tmp_path):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    quick = loader.load("quick-check")
    db = tmp_path / "staff-browser.db"
    add_accounts(db)
    # A café that answered in the cohort's code before staff opened the page.
    result = add_completed(db, quick, cohort="DX2026")
    app = create_app(Config(), quick, database=db, secret="a browser test key of enough length", password_hasher=CHEAP)
    with serving(app) as url:
        context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            page.goto(url + "/staff")
            page.get_by_role("textbox", name=say("staff_name", "vi")).fill("lan")
            page.get_by_label(say("staff_password", "vi")).fill(PASSWORDS["lan"])
            page.get_by_role("button", name=say("staff_signin", "vi"), exact=True).click()
            page.wait_for_url("**/staff/cohorts")

            create = page.get_by_role("form", name=say("staff_create_title", "vi"))
            create.get_by_role("textbox", name=say("staff_field_code", "vi")).fill("DX2026")
            create.get_by_role("textbox", name=say("staff_field_name", "vi")).fill("Hội nghị Đồng Xoài")
            create.get_by_label(say("staff_field_starts", "vi")).fill("2026-11-20")
            create.get_by_role("combobox", name=say("staff_field_questionnaire", "vi")).select_option("quick-check")
            create.get_by_role("button", name=say("staff_create", "vi")).click()
            expect(page.get_by_role("status")).to_have_text(say("staff_created", "vi", code="DX2026"))
            expect(page.get_by_text("https://t.me/sme_bot?start=DX2026")).to_be_visible()

            page.get_by_role("link", name=say("staff_cohorts", "vi"), exact=True).click()
            row = page.get_by_role("row").filter(has_text="DX2026")
            expect(row).to_contain_text("Hội nghị Đồng Xoài")
            expect(row.get_by_role("cell")).to_have_text(["DX2026", "Hội nghị Đồng Xoài", "2026-11-20", "quick-check",
                                                          "1", "1", "100%", say("staff_state_open", "vi"), "PNG"])

            download_form = page.get_by_role("form", name=say("staff_download_title", "vi"))
            download_form.get_by_role("combobox", name=say("staff_field_format", "vi")).select_option("xlsx")
            download_form.get_by_role("combobox", name=say("staff_field_cohort", "vi")).select_option("DX2026")
            with page.expect_download() as started:
                download_form.get_by_role("button", name=say("staff_download", "vi")).click()
            download = started.value
            assert download.suggested_filename == "sme-bot-DX2026-quick-check.xlsx"
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
        finally:
            context.close()
    sheet = load_workbook(saved, read_only=True)["Data"]
    head, *body = [list(values) for values in sheet.iter_rows(values_only=True)]
    assert head == header(quick, with_identities=False, labels="vi")  # the page's language
    assert len(body) == 1
    cafe = dict(zip(header(quick, with_identities=False), body[0], strict=True))
    assert cafe["cohort"] == "DX2026" and cafe["questionnaire"] == "quick-check" and cafe["channel"] == "telegram"
    assert cafe["level"] == result.level and cafe["points"] == result.points
    assert cafe["sector"] == quick.question_by_id["sector"].option("food").label("vi")
    assert len(cafe["respondent"]) == 16 and "external_id" not in cafe


def test_an_owner_finishes_through_a_cohort_link_while_staff_watch_and_follow_up(browser, tmp_path):
    from playwright.sync_api import expect

    quick = loader.load("quick-check")
    db = tmp_path / "staff-browser.db"
    add_accounts(db)
    app = create_app(Config(), quick, database=db, secret="a browser test key of enough length", password_hasher=CHEAP)
    with serving(app) as url:
        staff, page = sign_in(browser, url, "lan")
        phone = browser.new_context(viewport=PHONE)
        phone.set_default_timeout(10_000)
        owner = phone.new_page()
        try:
            create = page.get_by_role("form", name=say("staff_create_title", "vi"))
            create.get_by_role("textbox", name=say("staff_field_code", "vi")).fill("WEB1")
            create.get_by_role("textbox", name=say("staff_field_name", "vi")).fill("Tập huấn Chơn Thành")
            create.get_by_role("combobox", name=say("staff_field_questionnaire", "vi")).select_option("quick-check")
            create.get_by_role("button", name=say("staff_create", "vi")).click()
            expect(page.get_by_role("status")).to_have_text(say("staff_created", "vi", code="WEB1"))
            expect(cohort_cells(page, "WEB1").nth(4)).to_have_text("0")

            # The owner opens the cohort's link on a phone, agrees and answers the first question.
            owner.goto(url + "/c/WEB1")
            owner.get_by_role("link", name=say("web_start", "vi"), exact=True).click()
            owner.get_by_role("checkbox", name=say("web_purpose_result", "vi")).check()
            owner.get_by_role("checkbox", name=say("web_purpose_staff", "vi", programme=Config().programme.name)).check()
            owner.get_by_role("button", name=say("web_agree_start", "vi"), exact=True).click()
            answer_on_screen(owner, quick)
            cells = cohort_cells(page, "WEB1")
            expect(cells.nth(4)).to_have_text("1")  # started
            expect(cells.nth(5)).to_have_text("0")  # completed
            for _ in range(len(quick.all_questions)):
                if not owner.url.endswith("/q"):
                    break
                answer_on_screen(owner, quick)
            owner.wait_for_url("**/result")
            cells = cohort_cells(page, "WEB1")
            expect(cells.nth(4)).to_have_text("1")
            expect(cells.nth(5)).to_have_text("1")
            expect(cells.nth(6)).to_have_text("100%")

            # The owner asks for help and says how to be reached; staff follow it up.
            owner.get_by_role("textbox", name=say("web_contact_label", "vi")).fill("0912 345 678")
            owner.get_by_role("button", name=say("support_button", "vi"), exact=True).click()
            page.get_by_role("link", name=say("staff_support_title", "vi"), exact=True).click()
            request = page.locator("article.support-request").filter(has_text="0912 345 678")
            expect(request.locator("dd.status")).to_have_text(say("support_status_new", "vi"))
            request.get_by_role("combobox", name=say("staff_col_status", "vi")).select_option("contacted")
            request.get_by_role("textbox", name=say("staff_support_note", "vi")).fill("Đã gọi, hẹn thứ Hai")
            request.get_by_role("button", name=say("staff_support_save", "vi"), exact=True).click()
            expect(page.get_by_role("status")).to_contain_text(say("staff_support_saved", "vi", id=1))
            request = page.locator("article.support-request").filter(has_text="0912 345 678")
            expect(request.locator("dd.status")).to_have_text(say("support_status_contacted", "vi"))
            expect(request.locator("pre.notes")).to_contain_text("Đã gọi, hẹn thứ Hai")
        finally:
            phone.close()
            staff.close()
    assert rows(db, "select a.channel, a.cohort, a.status from assessments a") == [("web", "WEB1", "completed")]
    assert rows(db, "select status, contact from support_requests") == [("contacted", "0912 345 678")]


def test_a_viewer_has_no_way_to_delete_or_download_identities(browser, tmp_path):
    from playwright.sync_api import expect

    quick = loader.load("quick-check")
    db = tmp_path / "staff-browser.db"
    add_accounts(db)
    add_completed(db, quick)
    app = create_app(Config(), quick, database=db, secret="a browser test key of enough length", password_hasher=CHEAP)
    with serving(app) as url:
        context, page = sign_in(browser, url, "minh")
        try:
            expect(page.get_by_role("form", name=say("staff_download_title", "vi"))).to_be_visible()
            expect(page.get_by_role("checkbox", name=say("staff_field_identities", "vi"))).to_have_count(0)
            expect(page.get_by_role("link", name=say("staff_data_title", "vi"))).to_have_count(0)
            expect(page.get_by_role("button", name=say("staff_close", "vi"))).to_have_count(0)
            # Typed into the address bar: refused, with nothing to find or delete on the page.
            page.goto(url + "/staff/data")
            expect(page.get_by_role("heading", level=1)).to_have_text(say("staff_forbidden_title", "vi"))
            expect(page.get_by_role("button", name=say("staff_data_delete", "vi"))).to_have_count(0)
            expect(page.get_by_role("textbox")).to_have_count(0)
        finally:
            context.close()
    assert rows(db, "select count(*) from respondents") == [(1,)]
