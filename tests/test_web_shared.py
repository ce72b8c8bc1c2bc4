"""A result shown by a signed link, for owners who answered in a chat and have no web session."""

import httpx
from web_server import serving

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.scoring import score
from sme_bot.storage import Store
from sme_bot.web.app import create_app
from sme_bot.web.shared import result_path

SECRET = "a-web-secret-for-tests-only-0123456789"


def finished(db, q, answers, respondent=None):
    store = Store(db)
    rows = store.assessments
    respondent = respondent or rows.add_respondent("zalo", "owner-1", language="vi")
    assessment = rows.start(respondent, questionnaire_id=q.id, questionnaire_version=q.version, channel="zalo",
                            language="vi", cohort=None)
    rows.complete(assessment.id, score(q, answers))
    store.close()
    return respondent, assessment.id


def test_a_signed_link_shows_that_result_and_its_chart_and_nothing_to_change(tmp_path):
    q = loader.load("quick-check")
    db = tmp_path / "web.db"
    respondent, first = finished(db, q, {"sector": "retail", "employees": 3, "s_plan": "none"})
    _, second = finished(db, q, {"sector": "retail", "employees": 3, "s_plan": "tied"}, respondent)
    with serving(create_app(Config(), q, database=db, secret=SECRET)) as url:
        page = httpx.get(url + result_path(SECRET, second))
        chart = httpx.get(url + result_path(SECRET, second) + "/chart.png")
        forged = httpx.get(url + result_path("another-secret-of-someone-else-000000", second))
        tampered = httpx.get(url + result_path(SECRET, first)[:-2] + "xx")
    assert page.status_code == 200 and "<svg" in page.text
    assert "Chiến lược" in page.text and "So với lần trước" in page.text  # the change since the first
    assert 'action="/support"' not in page.text and 'action="/begin"' not in page.text
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    assert forged.status_code == 404 and tampered.status_code == 404
