"""`sme-bot score`, `sme-bot show` and the help texts, run as a user runs them with the output piped."""

import json

import pytest
from conftest import sme_bot, sme_bot_process


def write(tmp_path, data, name="answers.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


QUICK_ANSWERS = {"sector": "food", "employees": 6, "legal_form": "household", "revenue": "to_3",
                 "c_presence": ["zalo_oa", "maps"], "c_payments": ["transfer"], "c_egov": ["etax"], "s_plan": "written",
                 "i_internet": ["fibre"], "i_accounting": "excel", "i_einvoice": "typed", "i_safety": ["backup"],
                 "o_sales": "pos", "o_tasks": "zalo_groups", "o_learning": "one_course", "k_scams": ["no_otp"],
                 "k_new": "once", "d_customers": "phone", "d_consent": "no"}


def test_score_prints_the_json_design_md_promises(tmp_path):
    result = sme_bot("score", "quick-check", "--answers", write(tmp_path, QUICK_ANSWERS), "--lang", "en")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["questionnaire"], data["version"], data["max_points"]) == ("quick-check", "2026.2", 95)
    assert [p["id"] for p in data["pillars"]] == ["customer", "strategy", "infrastructure", "operations", "culture", "data"]
    assert data["points"] == sum(p["points"] for p in data["pillars"]) == (5 + 3 + 2) + 5 + (2 + 2 + 3 + 2) + (3 + 3 + 5) + (1 + 2) + (5 + 0)
    assert data["roadmap"][0]["priority"] == 1 and data["roadmap"][0]["text"]


def test_score_as_text_shows_the_level_the_pillars_and_the_whole_roadmap(tmp_path):
    result = sme_bot("score", "quick-check", "--answers", write(tmp_path, QUICK_ANSWERS), "--format", "text",
                     "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Result: Level" in result.stdout and "Digital customer experience" in result.stdout
    assert "more steps in the full roadmap" not in result.stdout


def test_score_notes_unanswered_questions(tmp_path):
    result = sme_bot("score", "quick-check", "--answers", write(tmp_path, {"sector": "food"}))
    assert result.returncode == 0
    assert "unanswered, counted as 0 points" in result.stderr and "employees" in result.stderr
    assert json.loads(result.stdout)["points"] == 0


@pytest.mark.parametrize("content,message", [
    ({"nope": 1}, "question 'nope' is not in quick-check"),
    ({"sector": "bakery"}, "question 'sector': That matches no option: \"bakery\""),
    ({"employees": 0}, "question 'employees': 0 is outside the allowed range"),
    ({"c_presence": ["none", "maps"]}, "cannot be combined with other answers"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
])
def test_score_rejects_a_bad_answers_file_in_one_line(tmp_path, content, message):
    result = sme_bot("score", "quick-check", "--answers", write(tmp_path, content))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_score_on_an_unknown_questionnaire_says_so(tmp_path):
    result = sme_bot("score", "dbi-2099", "--answers", write(tmp_path, {}))
    assert result.returncode == 1
    assert result.stderr.strip() == ("dbi-2099: no such questionnaire — use one of dbi-sme, quick-check, "
                                     "or the path of a .toml file")
    by_path = sme_bot("score", str(tmp_path / "mine.toml"), "--answers", write(tmp_path, {}))
    assert by_path.returncode == 1 and "mine.toml: file not found" in by_path.stderr


def test_show_prints_a_paper_form_with_points():
    result = sme_bot("show", "dbi-sme", "--lang", "en")
    assert result.returncode == 0
    assert "DIGITAL CUSTOMER EXPERIENCE (UP TO 65 PTS)" in result.stdout
    assert "[ ] 4. At least weekly (8 pts)" in result.stdout
    assert "Asked only when question 11 is:" in result.stdout and "Asked only when question 4 is from 2 to 10000" in result.stdout


def test_show_markdown_has_headings_and_checkboxes():
    result = sme_bot("show", "quick-check", "--format", "markdown")
    assert result.stdout.startswith("# Kiểm tra nhanh")
    assert "## Chiến lược (tối đa 10 điểm)" in result.stdout and "- [ ] 1." in result.stdout


def test_show_json_has_every_id_option_and_point():
    data = json.loads(sme_bot("show", "dbi-sme", "--format", "json").stdout)
    assert data["max_points"] == 320 and len(data["pillars"]) == 6
    question = next(x for p in data["pillars"] for x in p["questions"] if x["id"] == "c_updates")
    assert question["max_points"] == 10 and question["options"][3] == {
        "id": "weekly", "label": {"vi": "Ít nhất mỗi tuần", "en": "At least weekly"}, "points": 8, "exclusive": False}
    assert sum(x["max_points"] for p in data["pillars"] for x in p["questions"]) == 320


@pytest.mark.parametrize("command", [[], ["console"], ["validate"], ["show"], ["score"]])
def test_every_command_explains_itself_with_an_example(command):
    result = sme_bot(*command, "--help")
    assert result.returncode == 0
    assert "sme-bot" in result.stdout and "Usage:" in result.stdout


def test_the_console_starts_without_heavy_libraries(tmp_path):
    # A process of its own: what a fresh interpreter imports is the point, and pytest has imported everything.
    result = sme_bot_process("console", "--db", str(tmp_path / "x.db"), stdin="1\n",
                             env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "sme_bot.channels.console" in imported  # the probe works
    # Nor the web app's libraries, nor the staff area's password hashing (design rule 10).
    heavy = {"telegram", "matplotlib", "openpyxl", "httpx", "numpy", "starlette", "uvicorn", "jinja2", "argon2"}
    assert not {name for name in imported if name.split(".")[0] in heavy}


def test_every_channel_text_exists_in_vietnamese_and_english():
    import tomllib
    from importlib import resources

    catalogue = tomllib.loads(resources.files("sme_bot").joinpath("messages.toml").read_text("utf-8"))
    assert len(catalogue) > 50
    for key, texts in catalogue.items():
        assert set(texts) == {"vi", "en"}, key
        assert texts["vi"].strip() and texts["en"].strip(), key


def test_help_imports_neither_telegram_nor_charts():
    # A process of its own, as above: import-time behaviour.
    result = sme_bot_process("--help", env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "click" in imported
    assert not {name for name in imported if name.split(".")[0] in
                {"telegram", "matplotlib", "sqlite_utils", "starlette", "uvicorn", "jinja2", "httpx", "argon2"}}
