"""A broken questionnaire is refused with the file, the place and how to fix it."""

import pytest
from conftest import TINY, TINY_FRAMEWORK, sme_bot, write_tiny

from sme_bot import loader
from sme_bot.errors import QuestionnaireError


def problems(tmp_path, questionnaire=TINY, framework=TINY_FRAMEWORK):
    path = write_tiny(tmp_path, questionnaire, framework)
    with pytest.raises(QuestionnaireError) as caught:
        loader.load(path)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_questionnaires_are_valid():
    result = sme_bot("validate")
    assert result.returncode == 0, result.stderr
    # The shipped files, and the earlier versions kept in questionnaires/archive/.
    assert result.stdout.startswith("4 valid: dbi-sme 2026.2") and "quick-check 2026.2" in result.stdout
    assert "dbi-sme 2026.1" in result.stdout and "quick-check 2026.1" in result.stdout


def test_the_inline_questionnaire_is_valid(tmp_path):
    assert loader.load(write_tiny(tmp_path)).id == "tiny"


BROKEN = [
    ("duplicate question id", ('id = "books"', 'id = "channels"'), "question 'channels': the id is used by 2 questions"),
    ("condition on a later question", ('ask_if = { question = "channels", any_of = ["zalo"] }',
                                       'ask_if = { question = "books", any_of = ["yes"] }'),
     "question 'updates': ask_if names 'books', which is not asked before it"),
    ("condition on an unknown question", ('question = "staff", min = 5', 'question = "staf", min = 5'),
     "question 'payroll': ask_if names an unknown question 'staf'"),
    ("condition on an unknown option", ('any_of = ["zalo"]', 'any_of = ["zalo_oa"]'),
     "ask_if names option 'zalo_oa', which 'channels' does not have"),
    ("option without English", ('{ vi = "Cửa hàng", en = "Shop" }', '{ vi = "Cửa hàng" }'),
     "question 'channels' › option 'shop': label.en is missing — add the English text"),
    ("points that cannot reach the maximum", ("money = 10", "money = 12"),
     "pillar 'money': declares 12 points but its questions can reach 10"),
    ("unknown key", ("max_length = 20", "max_lenght = 20"), "question 'nickname': unknown key 'max_lenght'"),
    ("unknown pillar", ('pillar = "money"\ntype = "yesno"', 'pillar = "cash"\ntype = "yesno"'),
     "question 'books': pillar 'cash' is not in the framework"),
    ("number without a range", ("min = 1\nmax = 500\n", "min = 1\n"), "question 'staff': a number question needs min and max"),
    ("mixed condition", ('question = "staff", min = 5', 'question = "staff", min = 5, any_of = ["x"]'),
     "give either any_of (option ids) or min/max"),
    ("exclusive mix in multi with a single option", ("""  { id = "shop", points = 3, label = { vi = "Cửa hàng", en = "Shop" } },
  { id = "none", exclusive = true, label = { vi = "Không có kênh nào", en = "No channel" } },
""", ""), "a multi question needs at least two options"),
]


@pytest.mark.parametrize("case,change,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_questionnaire_names_the_place_and_the_fix(tmp_path, case, change, message):
    old, new = change
    assert old in TINY
    found = problems(tmp_path, questionnaire=TINY.replace(old, new, 1))
    assert any(message in p for p in found), found
    assert all(p.startswith((str(tmp_path), "tiny.toml")) or "tiny.toml" in p for p in found)


BROKEN_FRAMEWORK = [
    ("thresholds out of order", ("pillar_percent_above = 60", "pillar_percent_above = 20"),
     "level 2: pillar threshold 20 % is not above the level below (25 %)"),
    ("total thresholds out of order", ("total_percent_above = 60", "total_percent_above = 10"),
     "level 2: total threshold 10 % is not above the level below (20 %)"),
    ("roadmap gap", ('pillar = "money"\nlevel = 1', 'pillar = "money"\nlevel = 2'),
     "roadmap for 'money' level 1: has no steps"),
    ("level without a name in English", ('name = { vi = "Hai", en = "Two" }', 'name = { vi = "Hai" }'),
     "level 2: name.en is missing — add the English text"),
]


@pytest.mark.parametrize("case,change,message", BROKEN_FRAMEWORK, ids=[b[0] for b in BROKEN_FRAMEWORK])
def test_a_broken_framework_is_reported_in_its_own_file(tmp_path, case, change, message):
    old, new = change
    assert old in TINY_FRAMEWORK
    found = problems(tmp_path, framework=TINY_FRAMEWORK.replace(old, new, 1))
    assert any(message in p and "frameworks/tiny.toml" in p for p in found), found


def test_a_toml_syntax_error_gives_the_line(tmp_path):
    found = problems(tmp_path, questionnaire=TINY.replace('version = "1"', 'version = "1'))
    assert len(found) == 1 and "is not valid TOML" in found[0] and "line" in found[0]


def test_a_missing_framework_file_is_named(tmp_path):
    found = problems(tmp_path, questionnaire=TINY.replace('framework = "tiny"', 'framework = "dbi-2099"'))
    assert found == [(f"{tmp_path}/frameworks/dbi-2099.toml: file not found — check the path, or run "
                     "`sme-bot validate` to list the shipped questionnaires")]


def test_every_problem_is_reported_at_once(tmp_path):
    broken = TINY.replace("money = 10", "money = 12").replace('id = "books"', 'id = "channels"')
    assert len(problems(tmp_path, questionnaire=broken)) >= 2


def test_validate_exits_1_with_located_messages_and_no_traceback(tmp_path):
    good = write_tiny(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("money = 10", "money = 12"), encoding="utf-8")
    result = sme_bot("validate", str(good), str(bad), str(tmp_path / "missing.toml"))
    assert result.returncode == 1
    assert "bad.toml: pillar 'money': declares 12 points" in result.stderr
    assert "missing.toml: file not found" in result.stderr
    assert "2 problem(s) in 2 of 3 file(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_exits_0_with_a_one_line_summary(tmp_path):
    result = sme_bot("validate", str(write_tiny(tmp_path)))
    assert result.returncode == 0
    assert result.stdout == "1 valid: tiny 1 (6 questions, 20 points)\n"


def test_the_console_refuses_to_start_on_a_broken_questionnaire(tmp_path):
    bad = write_tiny(tmp_path, TINY.replace("money = 10", "money = 12"))
    result = sme_bot("console", "--questionnaire", str(bad), "--db", str(tmp_path / "x.db"), stdin="1\n")
    assert result.returncode == 1
    assert "declares 12 points" in result.stderr and "Traceback" not in result.stderr
    assert "Câu 1" not in result.stdout
