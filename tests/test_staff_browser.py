"""The staff area in a real browser on a laptop: Debian's Chromium driven by Playwright, finding
everything by role and accessible name, against the real app under uvicorn on loopback.
Nothing is downloaded to run it: Playwright drives the system's Chromium (never `playwright install`).
"""


from staff_site import CHEAP, PASSWORDS, add_accounts, add_completed
from web_server import serving

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.messages import say
from sme_bot.reports.export import header
from sme_bot.web.app import create_app

LAPTOP = {"width": 1280, "height": 800}


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
                                                          "1", "1", "100%", "PNG"])

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
