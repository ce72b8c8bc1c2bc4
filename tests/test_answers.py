"""Typed input becomes an answer, or a clear reason to ask again."""

import pytest

from sme_bot.flows.answers import Reason, accept, parse
from sme_bot.questionnaire import Question, Text


def q(questionnaire, question_id):
    return questionnaire.question_by_id[question_id]


@pytest.mark.parametrize("typed", ["khong", "KHÔNG", "Không", "2", " no "])
def test_yes_no_matches_number_label_and_either_language(tiny, typed):
    assert parse(q(tiny, "books"), typed) == "no"


@pytest.mark.parametrize("typed,expected", [("1", "never"), ("hang tuan", "weekly"), ("WEEKLY", "weekly"),
                                            ("tuần", "weekly")])
def test_single_choice_by_number_or_label(tiny, typed, expected):
    assert parse(q(tiny, "updates"), typed) == expected


def test_partial_label_matching_more_than_one_option_asks_for_a_number(dbi):
    reason = parse(q(dbi, "i_accounting"), "phần mềm")
    assert isinstance(reason, Reason) and reason.key == "ambiguous"
    assert "more than one option" in reason.render("en")


@pytest.mark.parametrize("typed,key", [("", "empty"), ("   ", "empty"), ("\x00\x1b", "empty"), ("0", "out_of_range"),
                                       ("3", "out_of_range"), ("maybe", "no_match"), ("x" * 5000, "no_match")])
def test_bad_choice_input_gives_a_reason(tiny, typed, key):
    reason = parse(q(tiny, "books"), typed)
    assert isinstance(reason, Reason) and reason.key == key
    assert reason.render("vi") and reason.render("en")
    assert len(reason.render("en")) < 200  # a 5,000-character message is not echoed back whole


@pytest.mark.parametrize("typed,expected", [("1,2", ("zalo", "shop")), ("2 1", ("zalo", "shop")),
                                            ("Cửa hàng; zalo", ("zalo", "shop")), ("1, 1", ("zalo",)), ("3", ("none",))])
def test_multi_choice_takes_numbers_or_labels_in_the_questionnaires_order(tiny, typed, expected):
    assert parse(q(tiny, "channels"), typed) == expected


@pytest.mark.parametrize("typed,key", [("1,3", "exclusive_mix"), ("1,9", "out_of_range"), ("zalo, fax", "no_match")])
def test_bad_multi_choice_input_gives_a_reason(tiny, typed, key):
    reason = parse(q(tiny, "channels"), typed)
    assert isinstance(reason, Reason) and reason.key == key


@pytest.mark.parametrize("typed,expected", [("12", 12), ("1.000", 1000), ("1 000", 1000), ("7 người", 7)])
def test_whole_numbers_accept_vietnamese_thousands_and_the_unit(dbi, typed, expected):
    assert parse(q(dbi, "employees"), typed) == expected


# A number that need not be whole (the shipped questionnaires ask none since 2026.2, when the
# internet speed in Mbps became a choice of kinds of connection).
SPEED = Question(id="speed", type="number", min=0, max=10000, text=Text(vi="Tốc độ?", en="Speed?"),
                 unit=Text(vi="Mbps", en="Mbps"))


@pytest.mark.parametrize("typed,expected", [("100", 100), ("1,5", 1.5), ("2.5", 2.5), ("150 Mbps", 150)])
def test_decimal_numbers_accept_comma_or_point(typed, expected):
    assert parse(SPEED, typed) == expected


@pytest.mark.parametrize("typed,expected", [("bu dang", "x_bu_dang"), ("Xã Bù Đăng", "x_bu_dang"),
                                            ("dong xoai", "p_dong_xoai"), ("loc thanh", None)])
def test_a_commune_is_found_by_its_name_typed_without_accents(dbi, typed, expected):
    # Lộc Thành and Lộc Thạnh differ only in a tone mark: typed without it, the owner is asked for the number.
    found = parse(q(dbi, "commune_bp"), typed)
    assert found == expected if expected else (isinstance(found, Reason) and found.key == "ambiguous")


@pytest.mark.parametrize("typed,key", [("0", "number_range"), ("10001", "number_range"), ("nhiều", "not_a_number"),
                                       ("-3", "not_a_number"), ("2,5", "whole_number")])
def test_bad_numbers_give_a_reason_with_the_allowed_range(dbi, typed, key):
    reason = parse(q(dbi, "employees"), typed)
    assert isinstance(reason, Reason) and reason.key == key
    assert "1" in reason.render("en") and "10000" in reason.render("en")


def test_free_text_is_cleaned_and_length_checked(tiny):
    assert parse(q(tiny, "nickname"), "  Cô\x07 Ba ") == "Cô Ba"
    reason = parse(q(tiny, "nickname"), "x" * 21)
    assert isinstance(reason, Reason) and reason.key == "too_long"


@pytest.mark.parametrize("given,ok", [("zalo", True), (["zalo"], True), (["zalo", "none"], False), ("fax", False),
                                      ([1], False)])
def test_values_given_directly_are_checked_like_typed_ones(tiny, given, ok):
    assert isinstance(accept(q(tiny, "channels"), given), Reason) is not ok


def test_label_words_in_another_order_still_match(quick):
    assert parse(q(quick, "o_tasks"), "zalo groups") == "zalo_groups"
    assert parse(q(quick, "o_tasks"), "nhom zalo") == "zalo_groups"
