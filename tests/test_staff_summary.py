"""The summary in the staff area (/staff/summary): the figures a person counts by hand, the level
and pillar charts as inline SVG with their figures in words, breakdowns by name, and a plain 400
for a questionnaire, cohort or breakdown that is not there."""

import html
import re
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Clock
from staff_site import CHEAP, add_accounts
from test_figures import HIGH, LOW, take
from test_staff_web import SECRET, START, signed_in
from web_server import serving

from sme_bot import loader
from sme_bot.config import Config, Reports
from sme_bot.render import level_colour
from sme_bot.scoring import score
from sme_bot.service import CONSENT_VERSION
from sme_bot.storage import Store
from sme_bot.web.app import create_app

# Retail businesses at LOW, food ones at HIGH, and how long each took.
RETAIL_MINUTES, FOOD_MINUTES = (5, 7, 9), (10, 20)


def add(store, q, channel, external_id, answers, *, minutes=7, complete=True, version=None):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    store.assessments.add_whole(channel=channel, external_id=external_id, questionnaire_id=q.id,
                                questionnaire_version=version or q.version, language="vi", cohort="DX",
                                started_at=start, last_at=start + timedelta(minutes=minutes), answers=answers,
                                result=score(q, answers) if complete else None, consent_version=CONSENT_VERSION)


@pytest.fixture
def db(tmp_path, quick):
    """On quick-check, in cohort DX: three retail businesses at LOW and two food ones at HIGH,
    completed on real channels, and one web visitor who stopped part-way; one dbi-sme assessment
    (another questionnaire) and one demo row, which the figures leave out."""
    path = tmp_path / "summary.db"
    add_accounts(path)
    store = Store(path)
    try:
        store.assessments.create_cohort("DX", "Đồng Xoài", questionnaire=quick.id)
        with store.transaction():
            for i, minutes in enumerate(RETAIL_MINUTES):
                add(store, quick, "telegram", f"R{i}", LOW, minutes=minutes)
            for i, minutes in enumerate(FOOD_MINUTES):
                add(store, quick, "zalo", f"F{i}", HIGH, minutes=minutes)
            add(store, quick, "web", "W", LOW, complete=False)
            add(store, quick, "demo", "E", HIGH)
            dbi = loader.load("dbi-sme")
            add(store, dbi, "telegram", "D", {}, complete=False)
    finally:
        store.close()
    return path


def site(quick, db, min_group=3):
    config = Config(reports=Reports(min_group=min_group))
    return serving(create_app(config, quick, database=db, secret=SECRET, staff_clock=Clock(START), password_hasher=CHEAP))


def cells(page):
    return [html.unescape(cell) for cell in re.findall(r"<td>([^<]*)</td>", page)]


def test_the_page_shows_what_a_person_counts_by_hand(quick, db):
    low, high = score(quick, LOW), score(quick, HIGH)
    assert low.level != high.level
    with site(quick, db) as url:
        staff = signed_in(url, "minh")  # a viewer may read it
        assert '<a href="/staff/summary">Số liệu tổng hợp</a>' in staff.page
        page = staff.get("/staff/summary").text
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    # Six started (five completed and the web visitor), 5 / 6 = 83%; the median of 5, 7, 9, 10, 20 minutes is 9.
    assert figures == {"Bắt đầu": "6", "Hoàn thành": "5", "Tỷ lệ": "83%", "Thời gian trung vị": "9 phút"}
    # Businesses by level, in the table and in the chart's words; every level is listed.
    table = cells(page)
    assert f"{low.level} · {quick.level(low.level).name('vi')}" in table
    counts = {level.level: 0 for level in quick.levels} | {low.level: 3, high.level: 2}
    label = "Phân bố theo mức: " + "; ".join(f"Mức {n} ({quick.level(n).name('vi')}): {c}" for n, c in counts.items())
    assert f'role="img" aria-label="{html.escape(label)}"' in page and f"<title>{html.escape(label)}</title>" in page
    # Each bar in its level's colour, labelled with its count.
    assert f'fill="{level_colour(low.level)}"' in page and f'fill="{level_colour(high.level)}"' in page
    svgs = re.findall(r"<svg .*?</svg>", page)
    assert len(svgs) == 2 and ">3</text>" in svgs[0] and ">2</text>" in svgs[0]
    # Pillar averages over five businesses, with names and percents, in the chart and the table.
    strategy = (3 * low.pillars[1].percent + 2 * high.pillars[1].percent) / 5
    name = quick.pillars[1].name("vi")
    assert f"{name}: {round(strategy, 1):.0f}%" in html.unescape(svgs[1])
    assert f">{html.escape(name)}</text>" in svgs[1] and f"{round(strategy, 1):.1f}" in table
    assert "<script" not in page and "<img" not in page
    # One version only: no versions line; no retakes.
    assert "phiên bản" not in page and "làm lại" not in page


def test_a_breakdown_by_sector_names_its_groups_in_words(quick, db):
    with site(quick, db) as url:
        staff = signed_in(url)
        page = staff.get("/staff/summary?questionnaire=quick-check&cohort=DX&by=sector").text
        staff.get("/staff/summary?lang=en")  # the switch, as on the other staff pages
        english = staff.get("/staff/summary?by=sector").text
    assert "Theo ngành" in page
    table = cells(page)
    # Retail (3 completed, and the web visitor who stopped: 4 started) shown by its name; food (2,
    # under min_group 3) merged into "other".
    retail = table.index("Bán lẻ, bán buôn, tạp hóa")
    assert table[retail + 1: retail + 4] == ["4", "3", "75%"]
    other = table.index("Khác (nhóm nhỏ gộp lại)")
    assert table[other + 1: other + 4] == ["2", "2", "100%"]
    assert "food" not in table and "retail" not in table
    assert "By sector" in english and "Retail, wholesale, grocery" in english and "Started" in english


def test_an_unknown_questionnaire_cohort_or_breakdown_is_a_plain_400(quick, db):
    with site(quick, db) as url:
        staff = signed_in(url)
        for query in ("by=district", "by=nothing", "questionnaire=../bot", "questionnaire=nope", "cohort=NOPE",
                      "version=../../bot"):
            refused = staff.http.get("/staff/summary?" + query)
            assert refused.status_code == 400, query
            assert "Không có bộ câu hỏi, nhóm, phiên bản hoặc cách chia này" in refused.text and "<svg" not in refused.text
            assert "Traceback" not in refused.text and 'action="/staff/summary"' in refused.text


def test_each_version_has_figures_of_its_own_and_a_choice_between_them(quick, db):
    store = Store(db)
    try:
        with store.transaction():
            add(store, loader.load_version(quick.id, "2026.1"), "telegram", "OLD", {})  # only on the earlier file
            take(store, quick, "telegram", "R0", HIGH)  # R0 again, LOW then HIGH, on the current one
    finally:
        store.close()
    with site(quick, db) as url:
        staff = signed_in(url)
        page = html.unescape(staff.get("/staff/summary").text)
        older = html.unescape(staff.get("/staff/summary?version=2026.1").text)
        unknown = staff.get("/staff/summary?version=1999.1")
        report = html.unescape(staff.get("/staff/report?questionnaire=quick-check&version=2026.1").text)
    completed = re.compile(r"<dt>Hoàn thành</dt><dd>(\d+)</dd>")
    # The current version's figures: R, F and R0's retake, not OLD; the other version named, to be chosen.
    assert completed.findall(page) == ["6"] and "chỉ của phiên bản 2026.2" in page and ": 2026.1: 1." in page
    assert '<option value="2026.1">2026.1</option>' in page and "1 doanh nghiệp đã làm lại" in page
    assert "version=2026.2" in page  # the report and files of the same figures
    # The earlier version's: OLD alone, read with the earlier file.
    assert completed.findall(older) == ["1"] and "chỉ của phiên bản 2026.1" in older and "2026.2: 6" in older
    assert "version=2026.1" in older and "làm lại" not in older
    assert unknown.status_code == 400 and "Traceback" not in unknown.text
    assert "(quick-check 2026.1)" in report and "chỉ của phiên bản 2026.1" in report


def test_without_completed_assessments_the_page_says_so(quick, db):
    with site(quick, db) as url:
        page = signed_in(url).get("/staff/summary?questionnaire=dbi-sme").text
    assert "Chưa có bài đánh giá nào hoàn thành." in page and "<svg" not in page


@pytest.mark.parametrize("minutes", [[7.0], [3.0, 9.0], [12.5, 3.0, 3.0], [1.0, 2.0, 2.0, 8.0], [5.0] * 4 + [60.0] * 5])
def test_the_median_from_counted_minutes_is_the_median_of_the_minutes(minutes):
    # Summaries read how many assessments took each 0.1 minute, not a row per assessment, so their
    # memory stays flat at 100,000 assessments; the median is the same.
    from collections import Counter

    from sme_bot.reports.summary import _median

    assert _median(Counter(minutes)) == round(statistics.median(minutes), 1)
    assert _median(Counter()) is None
