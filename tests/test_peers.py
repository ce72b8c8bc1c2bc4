"""How similar businesses did: real businesses of the same sector and size band, each once by its
latest result of the same questionnaire version, shown only for a group of at least min_group."""

import pytest
from conftest import TINY, write_tiny
from peer_fixtures import PEER_TINY, complete

from sme_bot import loader
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store


@pytest.fixture
def q(tmp_path):
    return loader.load(write_tiny(tmp_path, PEER_TINY))


def peers(db, q, assessment_id, *, min_group=5):
    store = Store(db)
    try:
        return AssessmentService(store, Questionnaires(q), min_group=min_group).peers(assessment_id)
    finally:
        store.close()


def test_shares_count_each_real_business_once_by_its_latest_result_of_the_same_version(tmp_path, q):
    db = tmp_path / "peers.db"
    for number, level in enumerate([0, 1, 1, 2, 2, 2]):
        complete(db, q, level=level, external_id=f"shop-{number}")
    # A business that retook it counts once, at its latest level.
    complete(db, q, level=0, external_id="retaker")
    complete(db, q, level=2, external_id="retaker")
    # Not counted: another sector, another size band, staff trying the console, made-up demo rows,
    # and answers to another version of the questionnaire.
    complete(db, q, level=0, sector="2", external_id="cafe")
    for channel in ("console", "demo"):
        complete(db, q, level=0, channel=channel, external_id=f"{channel}-1")
    (tmp_path / "v2").mkdir()
    newer = loader.load(write_tiny(tmp_path / "v2", PEER_TINY.replace('version = "1"', 'version = "2"')))
    for number in range(3):
        complete(db, newer, level=0, external_id=f"newer-{number}")
    owner = complete(db, q, level=1, external_id="owner")

    found = peers(db, q, owner)
    # Levels 0, 1, 1, 2, 2, 2, the retaker's 2 and the owner's 1.
    assert found is not None and found.total == 8
    assert found.shares == ((0, 1, 12.5), (1, 3, 37.5), (2, 4, 50.0))
    assert (found.level, found.below, found.same, found.above) == (1, 12.5, 37.5, 50.0)
    assert [name("vi") for name in found.groups] == ["Cửa hàng", "Nhỏ"]


def test_a_group_under_min_group_is_never_shown(tmp_path, q):
    db = tmp_path / "peers.db"
    for number in range(3):
        complete(db, q, level=2, external_id=f"shop-{number}")
    for number in range(10):  # a large group, but not the owner's
        complete(db, q, level=0, sector="2", external_id=f"cafe-{number}")
    owner = complete(db, q, level=1, external_id="owner")
    assert peers(db, q, owner) is None  # 4 in the owner's group
    assert peers(db, q, owner, min_group=4).total == 4
    complete(db, q, level=2, external_id="one-more")
    assert peers(db, q, owner).total == 5


def test_no_comparison_without_sector_and_size_questions(tmp_path):
    db = tmp_path / "peers.db"
    plain = loader.load(write_tiny(tmp_path, TINY))
    store = Store(db)
    try:
        service = AssessmentService(store, Questionnaires(plain), min_group=1)
        session = service.start(service.agree("web", "owner", language="vi"), channel="web", language="vi")
        for text in ("3", "Ba", "2", "1"):
            session.answer(text)
        assert service.peers(session.assessment.id) is None
    finally:
        store.close()


def test_the_counts_are_read_once_every_few_minutes_not_for_every_result(tmp_path, q):
    # Reading them scans every completed assessment: a good part of a second on a province's
    # database, which each finishing owner's message would otherwise wait for.
    from datetime import timedelta

    from conftest import Clock

    from sme_bot.service import FIGURES_KEPT

    db = tmp_path / "peers.db"
    for number in range(5):
        complete(db, q, level=2, external_id=f"shop-{number}")
    clock = Clock()
    store = Store(db, now=clock)
    service = AssessmentService(store, Questionnaires(q), min_group=5, now=clock)
    first = service.peers(1)
    assert first is not None and first.total == 5
    later = complete(db, q, level=0, external_id="later")
    assert service.peers(later).total == 5  # the counts read a moment ago
    clock.now += FIGURES_KEPT + timedelta(seconds=1)
    assert service.peers(later).total == 6 and service.peers(later).below == 0
    store.close()
