import unicodedata

import pytest

from sme_bot.text import clean, fold, quote


def test_input_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Không")
    assert decomposed != "Không"
    assert clean(decomposed) == "Không"


def test_control_characters_and_extra_spaces_are_removed():
    assert clean("  Có\x00\x07 \u200b\t lẽ\r\n ") == "Có lẽ"


@pytest.mark.parametrize("typed", ["khong", "KHÔNG", "Không", "  không ", "Khoˆng".replace("ˆ", "")])
def test_fold_ignores_case_and_diacritics(typed):
    assert fold(typed) == "khong"


def test_fold_treats_d_with_stroke_as_d():
    assert fold("Đồng Xoài") == "dong xoai"


def test_quote_shortens_long_input():
    assert quote("x" * 5000) == "x" * 39 + "…"
    assert quote("ngắn") == "ngắn"
