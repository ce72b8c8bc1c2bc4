"""Staff breakdowns come from the questionnaire: which profile answers, and a number's bands."""

from conftest import TINY, sme_bot, write_tiny

from sme_bot import loader
from sme_bot.config import Config
from sme_bot.reports import staff
from sme_bot.scoring import score
from sme_bot.storage import Store

BANDED = TINY.replace('max = 500\ntext = { vi = "Số người?"', '''max = 500
breakdown = "size"
groups = [
  { id = "few", at_most = 4, label = { vi = "Ít người", en = "Few" } },
  { id = "many", label = { vi = "Đông người", en = "Many" } },
]
text = { vi = "Số người?"''')


def test_a_number_breakdown_groups_by_the_bands_the_file_gives(tmp_path):
    q = loader.load(write_tiny(tmp_path, BANDED))
    store = Store(tmp_path / "b.db")
    for i, people in enumerate([2, 3, 4, 9]):
        respondent = store.assessments.add_respondent("console", str(i), language="vi")
        assessment = store.assessments.start(respondent, questionnaire_id=q.id, questionnaire_version=q.version,
                                             channel="console", language="vi", cohort=None)
        answers = {"staff": people, "channels": ("shop",), "books": "yes", "payroll": "app"}
        for qid, value in answers.items():
            store.assessments.record_answer(assessment.id, qid, value)
        store.assessments.complete(assessment.id, score(q, answers))
    # Console rows are left out of staff figures unless asked for; this test is about the bands.
    summary = staff.summary(store, q, Config(reports={"min_group": 1}), cohort=None, by="size", include_demo=True)
    assert {g.group: g.completed for g in summary.groups} == {"few": 3, "many": 1}
    assert staff.breakdowns(q) == ["size", "cohort"]
    store.close()


def test_bands_that_do_not_rise_are_refused_with_their_place(tmp_path):
    path = write_tiny(tmp_path, BANDED.replace('{ id = "many", label', '{ id = "many", at_most = 2, label').replace(
        '  { id = "many", at_most = 2', '  { id = "mid", at_most = 2, label = { vi = "Vừa", en = "Mid" } },\n'
        '  { id = "many", at_most = 2'))
    result = sme_bot("validate", str(path))
    assert result.returncode == 1 and "staff" in result.stderr and "must rise" in result.stderr


def test_an_unknown_breakdown_names_the_ones_there_are(tmp_path):
    q = loader.load(write_tiny(tmp_path, BANDED))
    Store(tmp_path / "x.db").close()  # a missing database is refused before the breakdown is looked at
    result = sme_bot("summary", "--by", "district", "-q", str(tmp_path / "tiny.toml"), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1 and "use one of size, cohort" in result.stderr
    assert q.breakdowns["size"].id == "staff"


def aggregates(counts):
    """What storage hands a summary: here only assessments started and completed per group."""
    rows = [row for name, started, completed in counts
            for row in ((name, 1, 12.5, completed), (name, 0, None, started - completed))]
    return {"assessments": rows, "levels": [], "pillars": [], "steps": [], "support": [], "retakes": [],
            "retake_levels": []}


def test_groups_come_in_the_questionnaires_order_and_a_real_other_is_kept_apart(quick):
    from sme_bot.reports.summary import summarise

    by_size = summarise(aggregates([("small", 3, 3), ("large", 3, 3), ("micro", 3, 3), ("medium", 3, 3)]), quick,
                        cohort=None, by="size", min_group=2)
    assert [g.group for g in by_size.groups] == ["micro", "small", "medium", "large"]
    # quick-check's sectors include one called "other": the merged small groups are not it.
    by_sector = summarise(aggregates([("other", 3, 3), ("retail", 3, 3), ("food", 1, 1)]), quick,
                          cohort=None, by="sector", min_group=2)
    assert [(g.group, g.completed) for g in by_sector.groups] == [("retail", 3), ("other", 3), ("(other)", 1)]
