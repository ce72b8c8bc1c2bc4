"""How long an assessment takes, as owners are told before they start: measured once enough real
businesses have finished it, the file's estimate until then."""

from datetime import UTC, datetime, timedelta

from conftest import Clock
from staff_site import CAFE

from sme_bot.channels.chat import Capabilities, Conversation, Programme, User
from sme_bot.scoring import score
from sme_bot.service import CONSENT_VERSION, FIGURES_KEPT, AssessmentService, Questionnaires
from sme_bot.storage import Store


def finished(store, q, external_id, minutes, *, channel="web"):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with store.transaction():
        store.assessments.add_whole(channel=channel, external_id=external_id, questionnaire_id=q.id,
                                    questionnaire_version=q.version, language="vi", cohort=None, started_at=start,
                                    last_at=start + timedelta(minutes=minutes), answers=CAFE, result=score(q, CAFE),
                                    consent_version=CONSENT_VERSION)


def test_owners_are_told_the_median_time_once_min_group_businesses_took_it(tmp_path, quick):
    clock = Clock()
    store = Store(tmp_path / "bot.db", now=clock)
    service = AssessmentService(store, Questionnaires(quick), now=clock, min_group=5)
    greeting = Conversation(service, Programme("P", "C"), Capabilities("testbuttons")).start
    for i, minutes in enumerate([6, 7, 8, 9]):
        finished(store, quick, f"b{i}", minutes)
    finished(store, quick, "trainer", 1, channel="console")  # a demo at the console does not count
    assert service.minutes(quick) == quick.minutes == 5  # four real businesses: the file's estimate
    finished(store, quick, "b4", 31)
    assert service.minutes(quick) == 5  # the figure read a moment ago
    clock.now += FIGURES_KEPT + timedelta(seconds=1)
    assert service.minutes(quick) == 8  # the median of 6, 7, 8, 9 and 31 minutes
    assert "khoảng 8 phút" in greeting(User("u1", "u1"), None).messages[0].text
    store.close()
