"""Owners on Zalo: `sme-bot zalo run` against a loopback fake Zalo Bot API, and single events in-process."""

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import sme_bot
from zalo_api_server import FakeZaloAPI

from sme_bot import loader
from sme_bot.channels.zalo.bot import build_bot
from sme_bot.channels.zalo.client import ZaloClient
from sme_bot.config import CONTACT_PLACEHOLDER, Config, Staff
from sme_bot.messages import say as say_
from sme_bot.scoring import score
from sme_bot.storage import Store

CHAT = "a1b2c3d4e5"
# quick-check answered by typing: numbers, several choices, a label without diacritics.
ANSWERS = ["1", "4", "1", "1", "1,2", "1", "1", "3", "1", "2", "2", "1,2", "3", "3", "3", "1", "3", "3", "khong"]

def wait_for(api: FakeZaloAPI, predicate, *, after: int = 0, timeout: float = 20) -> str:
    """The text of the first message delivered to CHAT after the `after`-th that matches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = [call.body["text"] for call in api.delivered if call.method == "sendMessage"][after:]
        for text in texts:
            if predicate(text):
                return text
        time.sleep(0.02)
    raise TimeoutError(f"no matching message; last: {[c.body.get('text') for c in api.delivered[-2:]]}")


def delivered(api: FakeZaloAPI) -> int:
    return len([call for call in api.delivered if call.method == "sendMessage"])


def start_bot(config: Path, api: FakeZaloAPI) -> subprocess.Popen:
    """`sme-bot zalo run`, once it says it is polling."""
    command = Path(sys.executable).with_name("sme-bot")
    bot = subprocess.Popen([str(command), "zalo", "run", "--config", str(config)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env={**os.environ, "SME_BOT_ZALO_TOKEN": api.token})
    assert bot.stdout is not None
    for line in bot.stdout:
        if line.startswith("sme-bot: Zalo bot ") and "polling;" in line:
            return bot
    raise AssertionError(f"sme-bot zalo run did not start: exit {bot.wait()}")


def write_config(tmp_path: Path, api: FakeZaloAPI) -> Path:
    config = tmp_path / "bot.toml"
    config.write_text(f'[programme]\ncontact = "0900 000 000"\n[assessment]\nquestionnaire = "quick-check"\n'
                      f'[storage]\ndatabase = "bot.db"\n[zalo]\nbase_url = "{api.base_url}"\n')
    return config


def shown(db: Path, question: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as connection:
            if connection.execute("select prompt_question from chats where prompt_message_id is not null"
                                  ).fetchall() == [(question,)]:
                return
        time.sleep(0.02)
    raise TimeoutError(f"question {question} never noted as delivered")


def say(api: FakeZaloAPI, text: str, expect: str) -> str:
    before = delivered(api)
    api.push_text(CHAT, text, user_id="zalo-owner-1", name="Chị Lan")
    return wait_for(api, lambda message: message.startswith(expect) or expect in message, after=before)


@pytest.mark.parametrize(("language", "agree", "question", "result"), [
    # The total shown falls from 20 to 19 once revenue is answered (capital is then not asked).
    ("vi", "1", "Câu {n}/", "Kết quả: Mức"), ("en", "agree", "Question {n}/", "Result: Level")])
def test_a_whole_assessment_through_zalo_run_with_a_kill_9_half_way(tmp_path, language, agree, question, result):
    with FakeZaloAPI() as api:
        config = write_config(tmp_path, api)
        bot = start_bot(config, api)
        try:
            say(api, "Xin chào", "Trước khi bắt đầu")
            if language == "en":
                say(api, "EN", "Before we start")
            say(api, agree, question.format(n=1))
            for n, answer in enumerate(ANSWERS[:4], start=2):
                say(api, answer, question.format(n=n))
            # Killed once question 5 is noted as delivered: killed earlier, the restarted bot would
            # rightly show it again rather than take the next text as its answer.
            shown(tmp_path / "bot.db", "c_presence")
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=30)
            # The dead bot's long poll is still open at the fake API and would take (and lose, as
            # Zalo would: there are no offsets) the next message: let it run out first.
            time.sleep(api.poll_cap * 2)
            bot = start_bot(config, api)
            for n, answer in enumerate(ANSWERS[4:-1], start=6):
                say(api, answer, question.format(n=n))
            before = delivered(api)
            say(api, ANSWERS[-1], result)
            # A long result comes as more than one message (Zalo's 2,000-character limit): the way
            # to ask for help is in it or follows it.
            wait_for(api, lambda text: "hỗ trợ" in text or "support" in text, after=before)
            bot.send_signal(signal.SIGTERM)
            output = bot.communicate(timeout=30)[0]
        finally:
            if bot.poll() is None:
                bot.kill()
    assert bot.returncode == 0, output
    assert "Zalo bot stopped" in output and api.token not in output and "Traceback" not in output
    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("select channel, language, status from assessments").fetchall() == [
        ("zalo", language, "completed")]
    (level, points), = db.execute("select level, points from results").fetchall()
    store = Store(tmp_path / "bot.db")
    stored = store.assessments.answers(1)
    store.close()
    # Nineteen answers and the size class computed from them.
    assert len(stored) == 20 and stored["sector"] == "retail" and stored["d_consent"] == "no" and stored["size"] == "micro"
    expected = score(loader.load("quick-check"), stored)
    assert (level, points) == (expected.level, expected.points)


@pytest.fixture
def zalo(tmp_path):
    """One bot in-process: each call hands it one event pushed through the fake API."""
    with FakeZaloAPI() as api:
        loop = asyncio.new_event_loop()
        store = Store(tmp_path / "zalo.db")
        client = ZaloClient(api.token, base_url=api.base_url, retry_pauses=())
        config = Config(assessment={"questionnaire": "quick-check"}, staff=Staff(zalo=["staff-1"]))
        bot = build_bot(config, loader.load("quick-check"), store, client)

        def event(name="message.text.received", message=None, **text):
            if text:
                api.push_text(CHAT, text["text"], user_id=text.get("user", "owner-1"),
                              chat_type=text.get("chat_type", "PRIVATE"))
            else:
                api.push_event(name, message)
            before = delivered(api)
            loop.run_until_complete(bot.handle(loop.run_until_complete(client.get_updates(1))))
            return [call.body["text"] for call in api.delivered if call.method == "sendMessage"][before:]

        event.api, event.store = api, store  # type: ignore[attr-defined]
        yield event
        loop.run_until_complete(client.aclose())
        loop.close()
        store.close()


def message(kind: str, **fields):
    return {"from": {"id": "owner-1", "display_name": "Chị Lan", "is_bot": False},
            "chat": {"id": CHAT, "chat_type": "PRIVATE"}, "message_id": f"m-{kind}", "date": 1, **fields}


def test_pictures_stickers_and_voice_get_a_short_reply_and_change_nothing(zalo):
    zalo(text="Xin chào")
    zalo(text="1")
    for name, fields in [("image", {"photo_url": "https://example.invalid/p.jpg"}), ("sticker", {"sticker": "x"}),
                         ("voice", {"voice_url": "https://example.invalid/v.aac"})]:
        assert zalo(f"message.{name}.received", message(name, **fields)) == [
            "Bot chỉ đọc chữ. Hãy gõ số của đáp án hoặc gõ câu trả lời."]
    assert zalo.store.db.execute("select count(*) from answers").fetchone() == (0,)


def test_a_message_zalo_could_not_show_gets_a_polite_reply_and_an_unknown_event_none(zalo):
    assert zalo("message.unsupported.received", message("protected")) == [
        "Bot không đọc được tin nhắn này. Hãy gõ câu trả lời bằng chữ hoặc số."]
    assert zalo("message.reaction.received", message("future")) == []


def test_the_same_message_twice_is_answered_once(zalo):
    zalo(text="Xin chào")
    zalo(text="1")
    repeated = message("again", text="1")
    assert zalo("message.text.received", repeated)[0].startswith("Câu 2/20")
    assert zalo("message.text.received", repeated) == []
    assert zalo.store.db.execute("select question_id from answers").fetchall() == [("sector",)]


def test_a_group_chat_gets_one_line_and_no_questions(zalo):
    assert zalo(text="Xin chào", chat_type="GROUP") == [
        "Bài đánh giá chỉ làm trong tin nhắn riêng với bot, không trong nhóm."]
    assert zalo.store.db.execute("select count(*) from respondents").fetchone() == (0,)


def test_staff_commands_only_for_the_staff_listed_for_zalo(zalo):
    assert zalo(text="/stats") == [say_("staff_refused", "vi")]
    assert zalo(text="/stats", user="staff-1")[0].startswith("tất cả các nhóm: 0 bắt đầu, 0 hoàn thành")
    assert "sme-bot export" in zalo(text="/export", user="staff-1")[0]


def test_words_on_a_phone_keyboard_work_as_commands(zalo):
    zalo(text="Xin chào")
    zalo(text="1")
    zalo(text="1")
    assert zalo(text="quay lai")[-1].startswith("Câu 1/20")
    assert zalo(text="tro giup")[0].startswith("Gõ số của đáp án")


def test_a_missing_or_malformed_token_is_one_line(tmp_path):
    for token, message_part in (("", "SME_BOT_ZALO_TOKEN is not set"), ("has space/slash", "does not look like")):
        result = sme_bot("zalo", "run", "--db", str(tmp_path / "z.db"), env={"SME_BOT_ZALO_TOKEN": token})
        assert result.returncode == 1 and message_part in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_bot_will_not_start_without_the_programmes_contact(tmp_path):
    for contact in ("", CONTACT_PLACEHOLDER):
        config = tmp_path / "bot.toml"
        config.write_text(f'[programme]\ncontact = "{contact}"\n[storage]\ndatabase = "bot.db"\n')
        result = sme_bot("zalo", "run", "--config", str(config), env={"SME_BOT_ZALO_TOKEN": "1234:ZaloTokenForTests"})
        assert result.returncode == 1 and "set [programme] contact in bot.toml" in result.stderr


def test_a_refused_token_is_one_line_without_the_token(tmp_path):
    with FakeZaloAPI() as api:
        config = write_config(tmp_path, api)
        wrong = "9999999:WrongTokenForTestsOnly"
        result = sme_bot("zalo", "run", "--config", str(config), env={"SME_BOT_ZALO_TOKEN": wrong})
    assert result.returncode == 1 and "Zalo refused SME_BOT_ZALO_TOKEN" in result.stderr
    assert wrong not in result.stderr + result.stdout


def test_webhook_commands_set_show_and_delete(tmp_path):
    with FakeZaloAPI() as api:
        config = write_config(tmp_path, api)
        env = {"SME_BOT_ZALO_TOKEN": api.token, "SME_BOT_ZALO_WEBHOOK_SECRET": "s3cret-for-tests"}
        url = "https://dx.example.vn/zalo/webhook"
        assert sme_bot("zalo", "webhook", "set", url, "--config", str(config), env=env).stdout.strip() == url
        assert api.webhook_secret == "s3cret-for-tests"
        assert sme_bot("zalo", "webhook", "info", "--config", str(config), env=env).stdout.strip() == url
        assert sme_bot("zalo", "webhook", "delete", "--config", str(config), env=env).stdout.strip() == "(no webhook set)"
        short = sme_bot("zalo", "webhook", "set", url, "--config", str(config), env={**env, "SME_BOT_ZALO_WEBHOOK_SECRET": "x"})
        assert short.returncode == 1 and "8 to 256" in short.stderr and json.dumps(api.token) not in short.stderr


def test_with_a_public_web_address_the_result_comes_with_its_page_and_chart(tmp_path):
    with FakeZaloAPI() as api:
        loop = asyncio.new_event_loop()
        store = Store(tmp_path / "zalo.db")
        client = ZaloClient(api.token, base_url=api.base_url, retry_pauses=())
        config = Config(web={"public_url": "https://dx.example.vn/"})
        bot = build_bot(config, loader.load("quick-check"), store, client)
        for text in ["Xin chào", "1", *ANSWERS]:
            api.push_text(CHAT, text, user_id="owner-1")
            loop.run_until_complete(bot.handle(loop.run_until_complete(client.get_updates(1))))
        loop.run_until_complete(client.aclose())
        loop.close()
        store.close()
    texts = [call.body["text"] for call in api.delivered if call.method == "sendMessage"]
    photos = [call.body for call in api.delivered if call.method == "sendPhoto"]
    # The result (in one or two messages, by its length), the way to ask for help, then the link.
    assert any(text.startswith("Kết quả: Mức") for text in texts[-4:-1])
    page = texts[-1].split(": ", 1)[1]
    assert page.startswith("https://dx.example.vn/k/")
    assert [(photo["chat_id"], photo["photo"]) for photo in photos] == [(CHAT, page + "/chart.png")]
    # Captioned: the level reached and every level's threshold, named.
    caption = photos[0]["caption"]
    assert caption.startswith("Kết quả Mức") and "M1 Khởi động từ 10%; M2 Bắt đầu trên 20%" in caption
    # The link is signed with the web app's key beside the database: the web app will open it.
    from sme_bot.web.security import session_secret
    from sme_bot.web.shared import assessment_in

    assert assessment_in(session_secret(tmp_path / "zalo.db"), page.rsplit("/", 1)[1]) == 1


def test_one_poller_per_token(tmp_path):
    from sme_bot.channels.zalo.bot import only_poller
    from sme_bot.errors import SmeBotError

    with only_poller("token-a", tmp_path):
        with pytest.raises(SmeBotError, match="one poller per token"), only_poller("token-a", tmp_path):
            pass
        with only_poller("token-b", tmp_path):  # another bot's token is another slot
            pass
    with only_poller("token-a", tmp_path):  # free again once the first has stopped
        pass
    assert not any("token-a" in path.name for path in tmp_path.iterdir())


def test_a_second_zalo_run_with_the_same_token_is_one_line(tmp_path):
    with FakeZaloAPI() as api:
        config = write_config(tmp_path, api)
        first = start_bot(config, api)
        try:
            second = sme_bot("zalo", "run", "--config", str(config), env={"SME_BOT_ZALO_TOKEN": api.token})
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
    assert second.returncode == 1 and "already polling with this token" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_logs_name_events_but_never_what_an_owner_wrote(zalo, caplog):
    caplog.set_level(logging.DEBUG)
    zalo(text="Xin chào")
    zalo(text="1")
    zalo(text="Cửa hàng bí mật 0912 345 678")
    assert caplog.records and "message.text.received" in caplog.text
    assert "bí mật" not in caplog.text and "0912" not in caplog.text and "Xin chào" not in caplog.text
