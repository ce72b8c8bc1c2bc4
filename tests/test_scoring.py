"""Scoring follows the questionnaire's stage model; for dbi-sme that is the national DBI rule."""

import re

import pytest
from conftest import REPO, TINY_FRAMEWORK, write_tiny
from hypothesis import given, settings
from hypothesis import strategies as st

from sme_bot import loader, render
from sme_bot.questionnaire import Text
from sme_bot.scoring import Result, compare, score

# The DBI 2021 rule as the decision states it, written out independently of the framework file.
PILLAR_BANDS = [(10, 1, True), (20, 2, False), (40, 3, False), (60, 4, False), (80, 5, False)]
OVERALL = [(5, 256, 6), (4, 192, 5), (3, 128, 4), (2, 64, 4), (1, 20, 4)]


def dbi_pillar_level(percent):
    level = 0
    for cut, lvl, inclusive in PILLAR_BANDS:
        if percent >= cut if inclusive else percent > cut:
            level = lvl
    return level


def dbi_level(points, max_points, pillar_percents):
    on_320 = points * 320 / max_points
    levels = [dbi_pillar_level(p) for p in pillar_percents]
    for lvl, above, pillars in OVERALL:
        if on_320 > above and sum(x >= lvl for x in levels) >= pillars:
            return lvl
    return 0


def answers_where(q, strong=(), middle=()):
    """Best options in `strong` pillars, middle ones in `middle`, the lowest elsewhere."""
    answers = {}
    for question in q.all_questions:
        if question.type == "number":
            # Profile numbers at their maximum, so every conditional question is asked.
            answers[question.id] = question.max if question.pillar in strong or not question.pillar else question.min
        elif question.type == "text":
            answers[question.id] = "x"
        elif question.type == "multi" and question.pillar in strong:
            answers[question.id] = tuple(o.id for o in question.options if not o.exclusive)
        else:
            ranked = sorted(question.options, key=lambda o: o.points)
            pick = ranked[-1] if question.pillar in strong else ranked[len(ranked) // 2] if question.pillar in middle else ranked[0]
            answers[question.id] = (pick.id,) if question.type == "multi" else pick.id
    return answers


@pytest.mark.parametrize("percent,level", [(0, 0), (9.9, 0), (10, 1), (20, 1), (20.1, 2), (40, 2), (40.1, 3),
                                           (60, 3), (60.1, 4), (80, 4), (80.1, 5), (100, 5)])
def test_pillar_levels_follow_the_dbi_cut_offs(dbi, percent, level):
    assert max(lv.level for lv in dbi.levels if lv.pillar_reached(percent)) == level == dbi_pillar_level(percent)


def test_maximum_points_are_the_official_ones(dbi):
    result = score(dbi, answers_where(dbi, strong={p.id for p in dbi.pillars}))
    assert [(p.id, p.max_points) for p in result.pillars] == [
        ("customer", 65), ("strategy", 25), ("infrastructure", 80), ("operations", 65), ("culture", 50), ("data", 35)]
    assert (result.points, result.max_points, result.level) == (320, 320, 5)


def test_one_strong_pillar_cannot_lift_a_weak_business(dbi):
    result = score(dbi, answers_where(dbi, strong={"infrastructure"}))
    infrastructure = next(p for p in result.pillars if p.id == "infrastructure")
    assert infrastructure.level == 5 and result.points > 64  # enough points on their own for level 2
    assert result.level == 0


def test_the_top_level_needs_every_pillar_at_the_top(dbi):
    answers = answers_where(dbi, strong={"customer", "strategy", "infrastructure", "operations", "data"},
                            middle={"culture"})
    result = score(dbi, answers)
    assert result.percent > 80
    assert result.level == 4


def test_a_question_skipped_by_its_condition_does_not_count_against_the_maximum(tiny):
    small = score(tiny, {"staff": 3, "channels": ("shop",), "books": "yes"})
    money = next(p for p in small.pillars if p.id == "money")
    assert (money.points, money.max_points, money.percent) == (4, 4, 100.0)
    large = score(tiny, {"staff": 9, "channels": ("shop",), "books": "yes", "payroll": "paper"})
    assert next(p for p in large.pillars if p.id == "money").max_points == 10


def test_an_answer_left_behind_by_a_changed_condition_is_not_scored(tiny):
    result = score(tiny, {"staff": 3, "channels": ("shop",), "updates": "weekly", "books": "no"})
    assert next(p for p in result.pillars if p.id == "sales").points == 3


def test_multi_choice_points_add_up(tiny):
    result = score(tiny, {"staff": 3, "channels": ("zalo", "shop"), "updates": "weekly", "books": "no"})
    assert next(p for p in result.pillars if p.id == "sales").points == 10


def test_roadmap_takes_one_step_per_pillar_largest_weighted_gap_first(tiny):
    result = score(tiny, {"staff": 3, "channels": ("none",), "books": "no"})
    assert [(s.pillar, s.text.en, s.priority) for s in result.roadmap] == [
        ("sales", "Sell online", 1), ("money", "Use accounting software", 2), ("sales", "Take transfers", 3)]
    assert result.shown == 3


def test_roadmap_steps_are_those_of_each_pillars_own_level(tiny):
    result = score(tiny, {"staff": 3, "channels": ("zalo",), "updates": "never", "books": "yes"})
    levels = {p.id: p.level for p in result.pillars}
    assert levels == {"sales": 1, "money": 2}
    assert [s.text.en for s in result.roadmap] == ["Open a marketplace shop"]  # level 2 is the top: no step


def test_json_has_the_keys_design_md_promises(dbi):
    data = score(dbi, answers_where(dbi)).to_json("en")
    assert {"questionnaire", "version", "level", "points", "max_points", "percent", "pillars", "roadmap"} <= data.keys()
    assert {"id", "points", "max_points", "percent", "level"} <= data["pillars"][0].keys()
    assert {"pillar", "text", "priority"} <= data["roadmap"][0].keys()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_complete_answers_get_the_level_the_dbi_rule_gives(dbi, data):
    answers = {}
    for question in dbi.all_questions:
        if question.type == "number":
            answers[question.id] = float(data.draw(st.integers(int(question.min), 200)))
        elif question.type == "text":
            answers[question.id] = "x"
        elif question.type == "multi":
            regular = [o.id for o in question.options if not o.exclusive]
            answers[question.id] = tuple(data.draw(st.lists(st.sampled_from(regular), min_size=1, unique=True)))
        else:
            answers[question.id] = data.draw(st.sampled_from([o.id for o in question.options]))
    result = score(dbi, answers)
    assert result.level == dbi_level(result.points, result.max_points, [p.points * 100 / p.max_points for p in result.pillars])
    assert result.roadmap and len(result.top_steps) == 5


# -- a result that helps: strengths, the next level's rule, the roadmap's first steps ------------------


def test_strengths_are_the_best_pillars_that_reached_a_level(dbi):
    result = score(dbi, answers_where(dbi, strong={"data"}, middle={"strategy", "culture"}))
    by_percent = sorted((p for p in result.pillars if p.level > 0), key=lambda p: -p.percent)
    assert [p.id for p in result.strengths] == [p.id for p in by_percent[:2]] and result.strengths[0].id == "data"
    nothing = score(dbi, answers_where(dbi))
    assert nothing.strengths == ()
    assert render.strengths_line(nothing, "vi") == "Chưa trụ cột nào đạt Mức 1: các bước dưới đây là nơi bắt đầu."


@pytest.mark.parametrize("strong,middle", [((), ()), ((), ("customer", "data")),
                                           (("customer",), ("data", "strategy", "culture", "operations")),
                                           (("customer", "strategy", "infrastructure"), ("operations", "culture"))])
def test_the_next_level_needs_what_the_decision_says(dbi, strong, middle):
    result = score(dbi, answers_where(dbi, strong=set(strong), middle=set(middle)))
    nxt = result.next_level
    above, pillars = {lvl: (above, pillars) for lvl, above, pillars in OVERALL}[result.level + 1]
    cut = {lvl: cut for cut, lvl, _ in PILLAR_BANDS}[result.level + 1]
    assert nxt.level == result.level + 1
    assert nxt.points_above == round(above * result.max_points / 320, 1) and nxt.min_pillars == pillars
    assert nxt.pillar_threshold == cut and nxt.points_met == (result.points > nxt.points_above)
    reached = [p for p in result.pillars if dbi_pillar_level(p.percent) > result.level]
    assert nxt.pillars_at == len(reached)
    # The closest are the pillars still below the cut-off, nearest first, as many as are missing.
    below = sorted((p for p in result.pillars if p not in reached), key=lambda p: -p.percent)
    assert len(nxt.closest) == max(0, pillars - len(reached))
    percents = {p.id: p.percent for p in result.pillars}
    assert [percents[pillar] for pillar in nxt.closest] == [p.percent for p in below[: len(nxt.closest)]]


def test_the_next_level_is_said_in_words_from_the_framework_data(tmp_path):
    q = loader.load(write_tiny(tmp_path))
    result = score(q, {"staff": 3, "channels": ("shop",), "books": "yes"})
    assert render.next_level_lines(result, "vi") == [
        ("Để đạt Mức 2 (Hai) cần trên 6 điểm (đã đủ: bạn có 7) và ít nhất 2 trụ cột ở Mức 2, tức mỗi trụ cột "
         "đạt trên 60% điểm tối đa của nó (bạn đang có 1)."),
        "1 trụ cột gần ngưỡng nhất là: Bán hàng (50%)."]
    assert render.next_level_lines(result, "en")[0].startswith("To reach level 2 (Two) you need more than 6 points")
    # Another rule in the file is another sentence: nothing of it is in Python.
    other = loader.load(write_tiny(tmp_path, framework=TINY_FRAMEWORK.replace(
        "pillar_percent_above = 60\ntotal_percent_above = 60\nmin_pillars = 2",
        "pillar_percent_above = 40\ntotal_percent_above = 40\nmin_pillars = 2")))
    result = score(other, {"staff": 3, "channels": ("shop",), "books": "yes"})
    assert result.level == 2 and result.at_top and result.next_level is None
    assert render.next_level_lines(result, "vi") == [
        "Bạn đã ở mức cao nhất của mô hình: hãy giữ vững và đánh giá lại định kỳ."]


def test_a_top_level_result_has_no_next_level_and_says_so(dbi):
    result = score(dbi, answers_where(dbi, strong={p.id for p in dbi.pillars}))
    assert result.level == 5 and result.next_level is None and result.at_top
    assert "mức cao nhất" in render.result_text(result, "vi")


def test_a_result_stored_before_the_rule_was_kept_still_reads(dbi):
    result = score(dbi, answers_where(dbi, middle={"customer"}))
    old = result.model_dump(mode="json")
    del old["next_level"], old["at_top"]
    stored = Result.model_validate(old)
    assert stored.next_level is None and render.next_level_lines(stored, "vi") == []
    assert "Bước tiếp theo nên làm" in render.result_text(stored, "vi")


def test_a_shop_at_the_start_gets_the_real_first_steps_first(dbi):
    # Nothing digital yet: the five steps shown first are the ones a small shop can take this week.
    first = [s.text("vi") for s in score(dbi, answers_where(dbi)).top_steps]
    for words in ("VietQR", "eTax Mobile", "hóa đơn điện tử", "đăng nhập hai bước", "binhdanhocvuso.gov.vn"):
        assert any(words in text for text in first), words
    steps = {(entry.pillar, entry.level): entry.steps for entry in dbi.framework.roadmap}
    schemes = [t for t in steps[("strategy", 0)] if "Nghị định 80/2021" in t.vi and "148/2025/QH15" in t.vi]
    assert schemes and "Decree 80/2021" in schemes[0].en and "148/2025/QH15" in schemes[0].en
    # Re-assessment is offered from Mức 1 on.
    assert any("đánh giá này" in t.vi and "again" in t.en for t in steps[("strategy", 1)])


def test_the_framework_spells_hoa_as_official_usage_does():
    text = (REPO / "questionnaires" / "frameworks" / "dbi-2021.toml").read_text(encoding="utf-8")
    # The mark on the main vowel of an open "oa"/"uy" syllable ("hóa", "thủy"), never "hoá".
    assert not re.search(r"[oO][áàảãạ](?!\w)|[^q]u[ýỳỷỹỵ](?!\w)", text) and "DNNVV" not in text and "hóa" in text


def test_peer_shares_and_place_and_nothing_under_the_minimum_group():
    names = (Text(vi="Bán lẻ", en="Retail"), Text(vi="Siêu nhỏ", en="Micro"))
    peers = compare({0: 2, 1: 3, 2: 4, 4: 1}, range(6), 2, groups=names, min_group=5)
    assert peers.total == 10
    assert peers.shares == ((0, 2, 20.0), (1, 3, 30.0), (2, 4, 40.0), (3, 0, 0.0), (4, 1, 10.0), (5, 0, 0.0))
    assert (peers.below, peers.same, peers.above) == (50.0, 40.0, 10.0)
    assert render.peers_lines(peers, "vi") == [
        "So với 10 doanh nghiệp cùng nhóm (Bán lẻ · Siêu nhỏ) đã hoàn thành bài đánh giá:",
        "Mức 0: 20% · Mức 1: 30% · Mức 2: 40% · Mức 3: 0% · Mức 4: 10% · Mức 5: 0%",
        "Bạn ở Mức 2: 50% doanh nghiệp cùng nhóm ở mức thấp hơn, 40% cùng mức, 10% ở mức cao hơn."]
    assert compare({0: 2, 1: 2}, range(6), 1, groups=names, min_group=5) is None
    assert compare({}, range(6), 0, groups=names, min_group=1) is None
