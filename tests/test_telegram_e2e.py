"""`sme-bot run` end to end: a real process polling a Bot API server on loopback, killed mid-way;
the refusals to start, which need no process of their own, run in this one."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from bot_api_server import BotAPIServer
from conftest import TINY, sme_bot, write_tiny
from fake_bot_api import TOKEN, unquoted

from sme_bot.config import CONTACT_PLACEHOLDER

OWNER = 4242


def start_bot(config: Path) -> subprocess.Popen:
    command = Path(sys.executable).with_name("sme-bot")
    return subprocess.Popen([str(command), "run", "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "SME_BOT_TOKEN": TOKEN})


def stop(bot: subprocess.Popen) -> str:
    """SIGTERM, as a service manager sends it; the bot's output once it has exited."""
    bot.send_signal(signal.SIGTERM)
    output, _ = bot.communicate(timeout=30)
    return output


def shown(db: Path, question: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(db)) as connection:
            # Shown means sent: the question is noted before sending, its message id after.
            if connection.execute("select prompt_question from chats where prompt_message_id is not null"
                                  ).fetchall() == [(question,)]:
                return
        time.sleep(0.05)
    raise TimeoutError(f"question {question} never recorded as shown")


def starts_with(prefix):
    return lambda message: unquoted(message["text"]).startswith(prefix)


def test_a_killed_bot_restarts_and_the_owner_finishes_with_nothing_lost(tmp_path):
    # The small questionnaire of conftest, not quick-check: the bot sends about one message a second
    # per chat (its rate limiter, which `sme-bot run` offers no way to change), so each question
    # costs two seconds here, and the whole quick-check flow is covered in-process in test_telegram.py.
    # Its last question is asked only of 5 people or more: an answer given before the kill decides it.
    questionnaire = write_tiny(tmp_path)
    with BotAPIServer() as server:
        config = tmp_path / "bot.toml"
        config.write_text(f'[programme]\nname = "Chương trình thử"\ncontact = "0900 000 000"\n'
                          f'[assessment]\nquestionnaire = "{questionnaire}"\n[storage]\ndatabase = "bot.db"\n'
                          f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_url}"\n')
        bot = start_bot(config)
        try:
            server.text(OWNER, "/start")
            consent = server.wait_for(OWNER, lambda m: any(d and d.startswith("c:1") for _, d in m["buttons"]))
            server.tap(OWNER, consent["buttons"][0][1])
            server.wait_for(OWNER, starts_with("Câu 1/6"))
            server.text(OWNER, "6")
            server.wait_for(OWNER, starts_with("Câu 2/6"))
            server.text(OWNER, "Ba")
            server.wait_for(OWNER, starts_with("Câu 3/6"))
            # Killed once the bot has noted that question 3 is on screen: killed earlier, it
            # would rightly show question 3 again rather than take the next text as its answer.
            shown(tmp_path / "bot.db", "channels")

            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=30)
            bot = start_bot(config)

            for answer, following in [("1", "Câu 4/6"), ("2", "Câu 5/6"), ("khong", "Câu 6/6")]:
                server.text(OWNER, answer)
                server.wait_for(OWNER, starts_with(following))
            server.text(OWNER, "2")
            result = server.wait_for(OWNER, starts_with("Kết quả: Mức"))
            assert any(data == "s:1" for _, data in result["buttons"])

            output = stop(bot)
        finally:
            if bot.poll() is None:
                bot.kill()
        assert bot.returncode == 0, output
        assert TOKEN.split(":")[1] not in output and "Traceback" not in output
        assert not server.errors
        # One line when it is up, a warning that bot.toml names another bot than Telegram does,
        # one line when it stops (the output of the bot started again after the kill).
        assert output.count("sme-bot: Telegram bot @sme_local_bot up (polling); questionnaire tiny 1") == 1
        assert 'bot.toml says [telegram] username = "sme_bot", Telegram says @sme_local_bot' in output
        assert output.rstrip().endswith("sme-bot: Telegram bot stopped")
        # Join links name the bot as Telegram reported it, not as bot.toml (mis)spells it.
        created = sme_bot("cohort", "create", "W1", "--name", "Hội thảo", "--qr", str(tmp_path / "w1.png"),
                          "--config", str(config))
        assert created.stdout.splitlines()[0] == "https://t.me/sme_local_bot?start=W1"
        menus = [params for method, params in server.introductions if method == "setMyCommands"]
        assert [m.get("language_code") for m in menus[:2]] == [None, "en"]
        assert [c["command"] for c in menus[0]["commands"]][:3] == ["start", "back", "skip"]

    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("select status from assessments").fetchall() == [("completed",)]
    answered = db.execute("select question_id, value from answers where withdrawn = 0 order by id").fetchall()
    assert answered == [("staff", "6.0"), ("nickname", '"Ba"'), ("channels", '["zalo"]'), ("updates", '"weekly"'),
                        ("books", '"no"'), ("payroll", '"app"')]
    assert db.execute("select count(*) from results").fetchone() == (1,)


def test_a_missing_or_malformed_token_is_one_line(tmp_path):
    for token in ("", "not-a-token"):
        result = sme_bot("run", "--db", str(tmp_path / "x.db"), env={"SME_BOT_TOKEN": token})
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1 and "SME_BOT_TOKEN" in result.stderr
        assert "not-a-token" not in result.stderr


def test_the_bot_will_not_start_on_bot_tomls_placeholder_contact(tmp_path):
    # bot.toml as shipped: its contact is a note to write the real one, never to be shown to owners.
    shipped = tomllib.loads((Path(__file__).parent.parent / "bot.toml").read_text())
    assert shipped["programme"]["contact"] == CONTACT_PLACEHOLDER
    for contact in (CONTACT_PLACEHOLDER, " "):
        config = tmp_path / "bot.toml"
        config.write_text(f'[programme]\ncontact = "{contact}"\n[storage]\ndatabase = "bot.db"\n')
        result = sme_bot("run", "--config", str(config), env={"SME_BOT_TOKEN": TOKEN})
        assert result.returncode == 1
        assert result.stderr.strip() == ("Error: set [programme] contact in bot.toml (the phone number and email "
                                         "owners are told to use) before a bot reaches owners")


def test_an_unreachable_bot_api_is_one_clear_line(tmp_path):
    # A process of its own: the bot gets as far as run_polling, which takes over signals and the event loop.
    config = tmp_path / "bot.toml"
    config.write_text('[programme]\ncontact = "0900 000 000"\n[telegram]\nbase_url = "http://127.0.0.1:9/bot"\n')
    command = str(Path(sys.executable).with_name("sme-bot"))
    result = subprocess.run([command, "run", "--config", str(config), "--db", str(tmp_path / "x.db")],
                            check=False, capture_output=True, text=True,
                            env={**os.environ, "SME_BOT_TOKEN": TOKEN}, timeout=60)
    assert result.returncode == 1
    assert "Error: cannot reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN.split(":")[1] not in result.stderr


def test_webhook_mode_takes_updates_with_the_secret_and_refuses_others(tmp_path):
    import json
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with BotAPIServer() as server:
        config = tmp_path / "bot.toml"
        config.write_text(f'[programme]\ncontact = "0900 000 000"\n[storage]\ndatabase = "bot.db"\n'
                          f'[telegram]\nbase_url = "{server.base_url}"\n'
                          f'mode = "webhook"\nwebhook_url = "https://bot.example.invalid/telegram"\n'
                          f'listen = "127.0.0.1"\nport = {port}\n')
        command = Path(sys.executable).with_name("sme-bot")
        bot = subprocess.Popen([str(command), "run", "--config", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "SME_BOT_TOKEN": TOKEN, "SME_BOT_WEBHOOK_SECRET": "s3cret-value"})
        try:
            update = {"update_id": 77, "message": {
                "message_id": 1, "date": int(time.time()), "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                "chat": {"id": OWNER, "type": "private"}, "from": {"id": OWNER, "is_bot": False, "first_name": "An"}}}

            def post(secret):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                                 headers={"Content-Type": "application/json",
                                                          "X-Telegram-Bot-Api-Secret-Token": secret})
                try:
                    return urllib.request.urlopen(request, timeout=5).status
                except urllib.error.HTTPError as error:
                    return error.code

            deadline = time.monotonic() + 30
            while True:
                try:
                    status = post("wrong")
                    break
                except urllib.error.URLError:
                    assert time.monotonic() < deadline, "the webhook server never started"
                    time.sleep(0.2)
            assert status == 403
            assert post("s3cret-value") == 200
            while len(server.messages(OWNER)) < 2 and time.monotonic() < deadline + 30:
                time.sleep(0.05)
            time.sleep(0.3)  # room for a wrongly processed duplicate to show up
            greeting, consent = server.messages(OWNER)  # once: the refused update was not processed
            assert greeting["text"].startswith("Xin chào") and consent["text"].startswith("Trước khi bắt đầu")
            output = stop(bot)
        finally:
            if bot.poll() is None:
                bot.kill()
        assert bot.returncode == 0, output
        assert "s3cret-value" not in output


def test_the_bot_never_starts_on_a_broken_questionnaire(tmp_path):
    broken = write_tiny(tmp_path, TINY.replace("money = 10", "money = 12"))
    config = tmp_path / "bot.toml"
    config.write_text(f'[assessment]\nquestionnaire = "{broken}"\n[storage]\ndatabase = "bot.db"\n')
    result = sme_bot("run", "--config", str(config), env={"SME_BOT_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "tiny.toml: pillar 'money': declares 12 points" in result.stderr and "Traceback" not in result.stderr
