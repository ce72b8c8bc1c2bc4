"""The trainer's console, run as a user runs it, on a real database file: `sme-bot console` with its input
and output piped, in this process, or in a process of its own where a real process is the point."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, sme_bot, sme_bot_process
from rich.console import Console

from sme_bot.channels import console as channel
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store

GOLDEN = REPO / "tests" / "golden"


def persona(name):
    return (EXAMPLES / name).read_text(encoding="utf-8")


def answer_lines(text):
    return [line for line in text.splitlines() if not line.startswith("#")]


def rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_scripted_persona_prints_the_golden_transcript(tmp_path):
    # A process of its own: the transcript a trainer gets from `sme-bot console < file`, byte for byte.
    result = sme_bot_process("console", "--db", str(tmp_path / "demo.db"), stdin=persona("persona-small-shop.txt"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (GOLDEN / "persona-small-shop.vi.txt").read_text(encoding="utf-8")
    assert "\x1b[" not in result.stdout  # plain text when stdin is not a terminal


@pytest.mark.parametrize("name,args,level,size", [
    # A one-person grocery (Facebook page, VietQR, eTax, paper books, phone only): five pillars pass 10 %
    # but infrastructure stays at Mức 0, and only three pillars pass 20 % (Mức 2 needs four), so Mức 1.
    # Its staff questions are not asked, so operations and culture count out of 40 and 45, not 65 and 50.
    ("persona-small-shop.txt", [], 1, "micro"),
    # A 45-person cashew processor (cloud accounting, Shopee, e-invoices from its software): 85 % in total,
    # above Mức 5's 80 %, but strategy and operations sit at exactly 80 %, not above, and Mức 5 needs all
    # six pillars there, so Mức 4 (five pillars above 60 % and over 60 % in total). Small: manufacturing,
    # ≤ 100 people and revenue ≤ 50 billion VND.
    ("persona-manufacturer.txt", [], 4, "small"),
    # A six-person café on the quick-check (Zalo/Maps, transfers, fibre, a POS, e-invoices from the cash
    # register): 54 % in total and four pillars above 40 %, so Mức 3; Mức 4 needs over 60 % and five
    # pillars above 60 %, and culture and data stay at Mức 2. Micro: food service, ≤ 10 people, ≤ 10 bn.
    ("persona-cafe-quick-en.txt", ["--questionnaire", "quick-check", "--lang", "en"], 3, "micro"),
])
def test_each_persona_is_stored_with_the_same_result_sme_bot_score_gives(tmp_path, name, args, level, size):
    db = tmp_path / "demo.db"
    result = sme_bot("console", "--db", str(db), *args, stdin=persona(name))
    assert result.returncode == 0, result.stderr
    (assessment_id, questionnaire, version, status), = rows(
        db, "select id, questionnaire_id, questionnaire_version, status from assessments")
    assert status == "completed"
    answers = {qid: json.loads(value) for qid, value in rows(
        db, f"select question_id, value from answers where id in (select max(id) from answers "
            f"where assessment_id = {assessment_id} group by question_id) and withdrawn = 0")}
    (tmp_path / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    scored = sme_bot("score", questionnaire, "--answers", str(tmp_path / "answers.json"))
    assert scored.returncode == 0, scored.stderr
    expected = json.loads(scored.stdout)
    (stored_level, stored_points, stored_version), = rows(db, "select level, points, questionnaire_version from results")
    assert (stored_level, stored_points, stored_version) == (expected["level"], expected["points"], version)
    assert stored_level == level and version == "2026.2"
    assert answers["size"] == size  # computed from the answers and stored with them, for staff breakdowns


def test_declining_consent_stores_nothing(tmp_path):
    db = tmp_path / "demo.db"
    result = sme_bot("console", "--db", str(db), stdin="3\n1\n1\n")
    assert result.returncode == 0
    assert "Không có gì được lưu" in result.stdout
    assert rows(db, "select count(*) from respondents") == [(0,)]
    assert rows(db, "select count(*) from answers") == [(0,)]


def test_consent_is_recorded_with_its_version_before_any_answer(tmp_path):
    db = tmp_path / "demo.db"
    sme_bot("console", "--db", str(db), stdin="1\nBa\n")
    assert rows(db, "select purpose, text_version, agreed from consents") == [("result", "2026-11-25", 1), ("staff", "2026-11-25", 1)]


def test_quit_keeps_progress_and_the_next_run_resumes_at_the_same_question(tmp_path):
    db = tmp_path / "demo.db"
    lines = answer_lines(persona("persona-small-shop.txt"))
    first = sme_bot("console", "--db", str(db), stdin="\n".join(lines[:6] + ["/quit"]) + "\n")
    assert first.returncode == 0 and "Đã lưu tiến độ" in first.stdout
    # Five answers, and the size class (Decree 80/2021) computed from sector, people and revenue.
    assert rows(db, "select question_id from answers order by id") == [
        ("business_name",), ("sector",), ("legal_form",), ("employees",), ("revenue",), ("size",)]
    second = sme_bot("console", "--db", str(db), "--resume", stdin="\n".join(lines[6:]) + "\n")
    assert second.returncode == 0, second.stderr
    assert second.stdout.index("Câu 6/") < second.stdout.index("Câu 7/")
    assert "Câu 5/" not in second.stdout and "Kết quả: Mức 1" in second.stdout
    assert rows(db, "select status from assessments") == [("completed",)]


def test_end_of_input_mid_way_keeps_every_answer(tmp_path):
    db = tmp_path / "demo.db"
    result = sme_bot("console", "--db", str(db), stdin="1\nBa\n1\n3\n")
    assert result.returncode == 0
    assert "3 câu trả lời đã được lưu" in result.stdout
    assert rows(db, "select question_id from answers order by id") == [("business_name",), ("sector",), ("legal_form",)]


def test_ctrl_c_mid_way_keeps_every_answer(tmp_path):
    # A process of its own: Ctrl-C is SIGINT to the process.
    db = tmp_path / "demo.db"
    command = Path(sys.executable).with_name("sme-bot")
    lines: list[str] = []
    waiting = threading.Event()
    with subprocess.Popen([str(command), "console", "--db", str(db)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:

        def read_stdout():
            for line in process.stdout:
                lines.append(line)
                if line.startswith("Câu 3/"):
                    waiting.set()

        reader = threading.Thread(target=read_stdout, daemon=True)
        reader.start()
        try:
            process.stdin.write("1\nBa\n1\n")
            process.stdin.flush()
            # Pressed as a person presses it: with question 3 on screen and the console waiting for
            # its answer. rich flushes each print once written, so seeing it means rich is done with
            # it. Sent as soon as the second answer was committed instead, the signal could land
            # while rich was still printing question 3 (about 1 run in 100): a KeyboardInterrupt there
            # leaves rich's console buffering for good and "Đã lưu tiến độ" never appears, a bug of the
            # console's that is not this test's subject.
            assert waiting.wait(timeout=30), "question 3 never shown:\n" + "".join(lines)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(timeout=30)
        err = process.stderr.read()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Đã lưu tiến độ" in "".join(lines)
    assert rows(db, "select question_id, value from answers") == [("business_name", '"Ba"'), ("sector", '"retail"')]


@pytest.mark.parametrize("bad", ["", "   ", "99", "0", "not an option", "\x1b[31m\x00", "x" * 5000, "/unknown"])
def test_bad_input_is_re_asked_and_nothing_is_stored(tmp_path, bad):
    db = tmp_path / "demo.db"
    result = sme_bot("console", "--db", str(db), stdin=f"1\nBa\n{bad}\n1\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stdout.count("Lĩnh vực hoạt động chính?") == 2
    assert "⚠" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 200
    assert rows(db, "select question_id, value from answers order by id") == [("business_name", '"Ba"'),
                                                                           ("sector", '"retail"')]


@pytest.mark.parametrize("bad", ["²", "①", "[/bold]", "[link=http://x.example]x[/link]"])
def test_odd_input_at_the_consent_prompt_is_re_asked(tmp_path, bad):
    db = tmp_path / "demo.db"
    result = sme_bot("console", "--db", str(db), stdin=f"{bad}\n3\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f'"{bad}"' in result.stdout or bad in result.stdout
    assert "Không có gì được lưu" in result.stdout and rows(db, "select count(*) from respondents") == [(0,)]


def test_back_restart_and_skip_work_from_the_console(tmp_path):
    db = tmp_path / "demo.db"
    script = "1\n/skip\n/back\nBa\n/skip\n1\n/restart\n1\nAn\n2\n"
    result = sme_bot("console", "--db", str(db), "--lang", "en", stdin=script)
    assert result.returncode == 0, result.stderr
    assert "This question is required" in result.stdout
    assert "Started again from the first question." in result.stdout
    assert rows(db, "select status from assessments order by id") == [("abandoned",), ("in_progress",)]
    (second,), = rows(db, "select max(id) from assessments")
    assert rows(db, f"select question_id, value from answers where assessment_id = {second}") == [
        ("business_name", '"An"'), ("sector", '"food"')]


def test_a_locked_database_is_one_line_not_a_traceback(tmp_path):
    db = tmp_path / "demo.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        result = sme_bot("console", "--db", str(db), stdin="1\nBa\n")
    finally:
        conn.rollback()
        conn.close()
    assert result.returncode == 1
    assert result.stderr.strip().endswith("is locked by another program; close it or wait, then try again")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_missing_database_folder_is_one_line(tmp_path):
    result = sme_bot("console", "--db", str(tmp_path / "no" / "such" / "dir.db"), stdin="1\n")
    assert result.returncode == 1
    assert "check that its folder exists" in result.stderr and "Traceback" not in result.stderr


def test_interactive_runs_offer_to_resume(tmp_path, tiny):
    store = Store(tmp_path / "demo.db")
    out = io.StringIO()

    def run(script):
        terminal = channel.Terminal(console=Console(file=out, width=100), stdin=io.StringIO(script), interactive=True)
        return channel.run(AssessmentService(store, Questionnaires(tiny)), terminal, lang="en", programme="P", keep_months=24)

    assert run("1\n3\n") == 0  # consent, one answer, then Ctrl-D
    assert run("1\nBa\n") == 0  # "Continue", then the next question
    assert "There is an unfinished assessment (1 questions answered)" in out.getvalue()
    assert store.assessments.answers(store.assessments.latest_in_progress("console", "tiny").id) == {"staff": 3.0, "nickname": "Ba"}


def test_an_assessment_begun_on_another_version_is_not_resumed(tmp_path, tiny):
    from conftest import TINY, write_tiny

    db = tmp_path / "demo.db"
    first = sme_bot("console", "--questionnaire", str(write_tiny(tmp_path)), "--db", str(db), stdin="1\n3\n")
    assert first.returncode == 0
    newer = write_tiny(tmp_path, TINY.replace('version = "1"', 'version = "2"'))
    second = sme_bot("console", "--questionnaire", str(newer), "--db", str(db), "--resume", stdin="1\n4\n")
    assert second.returncode == 0
    # One rule on every channel: an assessment goes on only under the version it was begun with;
    # the older one is closed, so one assessment is in progress, not two.
    assert rows(db, "select questionnaire_version, status from assessments order by id") == [
        ("1", "abandoned"), ("2", "in_progress")]
    assert rows(db, "select assessment_id, value from answers order by id") == [(1, "3.0"), (2, "4.0")]


def test_a_missing_config_or_questionnaire_is_one_line(tmp_path):
    for args, message in ((["--config", str(tmp_path / "nope.toml")], "not found"),
                          (["--questionnaire", "nope"], "no such questionnaire")):
        result = sme_bot("console", "--db", str(tmp_path / "x.db"), *args, stdin="1\n")
        assert result.returncode == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_bot_toml_sets_the_language_and_the_database_beside_it(tmp_path):
    (tmp_path / "bot.toml").write_text('[assessment]\nlanguage = "en"\n[storage]\ndatabase = "data/sme.db"\n')
    (tmp_path / "data").mkdir()
    result = sme_bot("console", "--config", str(tmp_path / "bot.toml"), stdin="1\n", cwd=REPO)
    assert "Before we start" in result.stdout
    assert (tmp_path / "data" / "sme.db").exists()


def test_a_wrong_value_in_bot_toml_is_named(tmp_path):
    (tmp_path / "bot.toml").write_text('[assessment]\nlanguage = "fr"\n')
    result = sme_bot("console", "--config", str(tmp_path / "bot.toml"), stdin="1\n")
    assert result.returncode == 1 and "assessment.language" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_while_the_console_is_printing_still_saves_and_says_so(tmp_path, tiny, monkeypatch):
    """A Ctrl-C that lands while rich is writing is taken at the next prompt: nothing is lost."""
    screen = io.StringIO()
    printing = Console(file=screen, width=100)
    leave_buffer = Console._exit_buffer
    interrupted = []

    def ctrl_c_as_rich_leaves_its_buffer(self):
        # The worst moment (found by tracing): rich has not yet closed its output buffer, and a
        # KeyboardInterrupt here left it open, swallowing everything printed afterwards.
        if not interrupted and "Số người?" in screen.getvalue():
            interrupted.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        leave_buffer(self)

    monkeypatch.setattr(Console, "_exit_buffer", ctrl_c_as_rich_leaves_its_buffer)
    store = Store(tmp_path / "demo.db")
    terminal = channel.Terminal(console=printing, stdin=io.StringIO("1\n3\nBa\n"), interactive=False)
    code = channel.run(AssessmentService(store, Questionnaires(tiny)), terminal, lang="vi", programme="P", keep_months=24)
    assert code == channel.EXIT_INTERRUPTED and interrupted
    assert screen.getvalue().rstrip().endswith("Đã lưu tiến độ. Chạy lại `sme-bot console` để tiếp tục.")
    store.close()
