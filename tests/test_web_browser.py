"""The owners' pages in a real browser, as an owner's phone shows them: Debian's Chromium driven
by Playwright at a 360×740 viewport, finding everything by role and accessible name (so every
input is labelled), against the real app under uvicorn on loopback.

Nothing is downloaded: Playwright drives the system's Chromium (`.ci/run` installs it).
"""

import re

import pytest
from web_server import serving

from sme_bot.config import Config
from sme_bot.messages import say
from sme_bot.scoring import score
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store
from sme_bot.web.app import create_app
from sme_bot.web.security import owner_id

PHONE = {"width": 360, "height": 740}
# A café on the quick-check, as an owner would tick it.
ANSWERS = {"sector": "food", "employees": 6, "legal_form": "household", "revenue": "to_3",
           "c_presence": ["zalo_oa", "maps"], "c_payments": ["transfer", "ewallet"], "c_egov": ["etax"], "s_plan": "in_head",
           "i_internet": ["fibre", "wifi"], "i_accounting": "cloud", "i_einvoice": "cash_register", "i_safety": ["none"],
           "o_sales": "pos", "o_tasks": "zalo_groups", "o_learning": "one_course", "k_scams": ["no_otp"], "k_new": "once",
           "d_customers": "spreadsheet", "d_consent": "no"}


@pytest.fixture(scope="module")
def site(tmp_path_factory, quick):
    """The app's base URL and its database file."""
    db = tmp_path_factory.mktemp("web") / "browser.db"
    with serving(create_app(Config(), quick, database=db, secret="a browser test key of enough length")) as url:
        yield url, db


class Phone:
    """One owner's phone: a fresh browser context (its own cookies) and every URL it asked for."""

    def __init__(self, browser, url: str, lang: str = "vi"):
        self.context = browser.new_context(viewport=PHONE)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.url = url
        self.lang = lang
        self.requested: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))

    def open(self, path: str) -> None:
        self.page.goto(self.url + path)

    def button(self, key: str, **params: object):
        return self.page.get_by_role("button", name=say(key, self.lang, **params), exact=True)

    def begin(self) -> None:
        self.open("/")
        if self.lang == "en":
            self.page.get_by_role("link", name="English").click()
        self.page.get_by_role("link", name=say("web_start", self.lang), exact=True).click()
        self.page.get_by_role("checkbox", name=say("web_purpose_result", self.lang)).check()
        self.page.get_by_role("checkbox", name=say("web_purpose_staff", self.lang, programme=Config().programme.name)).check()
        self.button("web_agree_start").click()

    def answer(self, q, question_id: str, value: object) -> None:
        """Answer the question on screen, which must be `question_id`, as a person would: by its labels."""
        from playwright.sync_api import expect

        expect(self.page.locator("input[name=question]")).to_have_value(question_id)
        question = q.question_by_id[question_id]
        if question.type == "number":
            self.page.get_by_role("textbox", name=question.text(self.lang)).fill(str(value))
        elif question.type == "multi":
            for option in value:  # type: ignore[attr-defined]
                self.page.get_by_role("checkbox", name=question.option(option).label(self.lang), exact=True).check()
        else:
            self.page.get_by_role("radio", name=question.option(value).label(self.lang), exact=True).check()
        # Done when the next page has loaded (post, redirect, get): a browser Back right after a
        # click that is still navigating is a race, not what a person does.
        with self.page.expect_navigation():
            self.button("web_next").click()

    @property
    def question(self) -> str:
        return self.page.locator("input[name=question]").input_value()

    @property
    def code(self) -> str:
        footer = self.page.locator("footer .code").inner_text()
        return re.sub(r"[^A-Z0-9]", "", footer.split(":")[1])

    def close(self) -> None:
        self.context.close()


def stored(db, quick, code):
    """The owner's latest stored result, as the service reads it."""
    store = Store(db)
    try:
        service = AssessmentService(store, Questionnaires(quick))
        return service.latest(service.person("web", owner_id(code)).respondent_id)
    finally:
        store.close()


def expected(quick):
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in ANSWERS.items()}
    return score(quick, {**values, "employees": float(ANSWERS["employees"])})


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_whole_assessment_on_a_phone(browser, site, quick, lang):
    url, db = site
    phone = Phone(browser, url, lang)
    try:
        phone.begin()
        first = phone.page.locator("#progress").inner_text()
        assert first == ("Câu 1/20 · Thông tin doanh nghiệp" if lang == "vi" else "Question 1/20 · About the business")
        for question, value in ANSWERS.items():
            phone.answer(quick, question, value)
        page = phone.page
        page.wait_for_url("**/result")
        result = expected(quick)
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == say("result_title", lang, level=result.level, name=result.level_name(lang))
        chart = page.get_by_role("img", name=say("chart_title", lang))
        assert chart.is_visible() and chart.locator("rect").count() == 2 * len(result.pillars)
        assert chart.bounding_box()["width"] <= PHONE["width"]  # type: ignore[index]
        steps = page.locator("ol.steps").first.locator("li")
        assert steps.count() == result.shown and steps.first.inner_text() == result.roadmap[0].text(lang)
        page.get_by_text(say("more_steps", lang, count=len(result.roadmap) - result.shown)).click()
        assert page.locator("details ol li").last.inner_text() == result.roadmap[-1].text(lang)
        latest = stored(db, quick, phone.code)
        assert latest.result == result and latest.previous is None
        # The page, its stylesheet and its forms: nothing from anywhere else.
        assert phone.requested and all(u.startswith((url + "/", "data:")) for u in phone.requested)
    finally:
        phone.close()


def test_browser_back_then_resubmit_records_nothing_twice(browser, site, quick):
    from playwright.sync_api import expect

    url, db = site
    phone = Phone(browser, url)
    try:
        phone.begin()
        phone.answer(quick, "sector", "food")
        phone.answer(quick, "employees", 6)
        phone.answer(quick, "legal_form", "household")
        phone.answer(quick, "revenue", "to_3")
        # Back in the browser shows the question the owner is on, never an earlier form to send again.
        phone.page.go_back()
        assert phone.question == "c_presence"
        phone.answer(quick, "c_presence", ["maps"])
        for _ in range(2):
            phone.page.go_back()
            # Each Back reloads the page (it is no-store); the next Back waits until it is there,
            # or Chromium may be asked for a history of a page it is still replacing.
            expect(phone.page.locator("input[name=question]")).to_have_value("c_payments")
        # A page left open in a second tab is an old form: sending it changes nothing.
        other_tab = phone.context.new_page()
        other_tab.goto(url + "/q")
        phone.answer(quick, "c_payments", ["transfer"])
        other_tab.get_by_role("checkbox", name="Chỉ tiền mặt", exact=True).check()
        other_tab.get_by_role("button", name="Tiếp tục", exact=True).click()
        assert other_tab.get_by_role("status").inner_text() == say("web_stale", "vi")
        assert other_tab.locator("input[name=question]").input_value() == "c_egov"
        # The page's own Back withdraws the last answer, once.
        phone.page.get_by_role("button", name="Quay lại").click()
        assert phone.question == "c_payments"
        phone.page.go_back()
        assert phone.question == "c_payments"
        assert stored(db, quick, phone.code) is None
        store = Store(db)
        try:
            history = store.db.execute("select question_id, value, withdrawn from answers where assessment_id = "
                                       "(select max(id) from assessments) order by id").fetchall()
        finally:
            store.close()
        assert history == [("sector", '"food"', 0), ("employees", "6.0", 0), ("legal_form", '"household"', 0),
                           ("revenue", '"to_3"', 0), ("size", '"micro"', 0), ("c_presence", '["maps"]', 0),
                           ("c_payments", '["transfer"]', 0), ("c_payments", None, 1)]
    finally:
        phone.close()


def test_resume_by_code_on_another_phone(browser, site, quick):
    url, _ = site
    first, second = Phone(browser, url), Phone(browser, url)
    try:
        first.begin()
        code = first.page.locator("aside .code").inner_text().replace(" ", "")
        assert first.page.get_by_text(f"{url}/r/{code}").is_visible()
        first.answer(quick, "sector", "retail")
        first.answer(quick, "employees", 2)
        second.open("/")
        second.page.get_by_role("link", name=say("web_have_code", "vi")).click()
        second.page.get_by_role("textbox", name=say("web_resume_label", "vi")).fill(code.lower())
        second.button("web_resume_button").click()
        assert second.page.get_by_role("status").inner_text() == say("web_resumed", "vi")
        assert second.question == first.question == "legal_form"
        assert second.page.locator("#progress").inner_text() == "Câu 3/20 · Thông tin doanh nghiệp"
    finally:
        first.close()
        second.close()
