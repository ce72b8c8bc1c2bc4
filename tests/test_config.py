"""bot.toml: wrong values are one line, older files still load with a line saying what moved."""

import pytest
from conftest import sme_bot

from sme_bot.config import load_config
from sme_bot.errors import ConfigError


@pytest.mark.parametrize(("content", "message"), [
    (b"[programme]\nname = \"Ch\xffng tr\xecnh\"\n", "is not UTF-8 text"),
    (b"[assessment]\nreminder_hours = inf\n", "assessment.reminder_hours"),
    (b"[assessment]\nreminder_hours = 1e300\n", "assessment.reminder_hours"),
    (b"[staff]\ntelegram = [\"123\", true]\n", "staff.telegram"),
    (b"[telegram]\nadmins = [123, true]\n", "staff.telegram"),
    (b"[telegram]\nnot_a_setting = 1\n", "telegram.not_a_setting"),
])
def test_a_wrong_value_is_one_line_naming_it(tmp_path, content, message):
    (tmp_path / "bot.toml").write_bytes(content)
    result = sme_bot("cohort", "list", "--config", str(tmp_path / "bot.toml"))
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 + result.stderr.count("has moved to")


def test_an_older_file_loads_and_says_once_where_each_key_moved(tmp_path):
    (tmp_path / "bot.toml").write_text("[telegram]\nadmins = [12345]\nreminder_hours = 6\nusername = \"dx_bot\"\n"
                                       "[reports]\nsize_bands = [10, 100, 200]\n", encoding="utf-8")
    said = []
    config = load_config(tmp_path / "bot.toml", warn=said.append)
    assert config.staff.telegram == [12345] and config.assessment.reminder_hours == 6
    assert config.telegram.username == "dx_bot"
    assert said == [
        f"{tmp_path / 'bot.toml'}: [telegram] admins has moved to [staff] telegram; please move it there",
        f"{tmp_path / 'bot.toml'}: [telegram] reminder_hours has moved to [assessment] reminder_hours; please move it there",
        f"{tmp_path / 'bot.toml'}: [reports] size_bands is no longer read (the questionnaire holds it now); remove it",
    ]


def test_the_new_place_wins_over_the_old_one(tmp_path):
    (tmp_path / "bot.toml").write_text("[staff]\ntelegram = [1]\n[telegram]\nadmins = [2]\n", encoding="utf-8")
    assert load_config(tmp_path / "bot.toml", warn=lambda _: None).staff.telegram == [1]


def test_the_shipped_bot_toml_loads_without_a_word(tmp_path):
    from conftest import REPO

    said = []
    config = load_config(REPO / "bot.toml", warn=said.append)
    assert said == [] and config.assessment.questionnaire == "dbi-sme"


def test_a_missing_file_is_one_line():
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/bot.toml")
