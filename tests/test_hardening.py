"""Hardening (issue 14): what an attacker and a crash found, each through the real entry point.

The Telegram bot is the real python-telegram-bot Application over the fake Bot API (or over the
loopback Bot API server where a library's own HTTP logging is the point); staff commands run
through the `sme-bot` command and their files are read back. Processes of their own (`sme-bot
run` killed, webhooks) are in test_hardening_e2e.py.
"""

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_api_server import BotAPIServer
from click.testing import CliRunner
from conftest import ADMIN, sme_bot, unavailable
from fake_bot_api import TOKEN, FakeBotAPI, Owner, asked, buttons, texts
from telegram import Update
from telegram.error import InvalidToken

from sme_bot import loader
from sme_bot.channels.telegram.app import build_application, configure_logging
from sme_bot.config import Config, Telegram
from sme_bot.messages import say
from sme_bot.scoring import score
from sme_bot.storage import Store

SECRET = "webhook-secret-made-up-0123456789"
TOKEN_SECRET = TOKEN.split(":")[1]
# Every library that logs in the bot's process: at DEBUG, none may show the token or the secret.
LOGGERS = ("", "telegram", "telegram.ext", "telegram.Bot", "httpx", "httpcore", "apscheduler", "tornado", "asyncio",
           "sme_bot")


def counts(store):
    """Rows in every table: what an input stored, whatever table it went to."""
    tables = [row[0] for row in store.db.execute("select name from sqlite_master where type = 'table'")]
    return {table: store.db.execute(f"select count(*) from [{table}]").fetchone()[0] for table in tables}


def agree(bot, owner, code=None):
    start = bot.say(owner, "/start" + (f" {code}" if code else ""))
    consent = dict(buttons(start[-1]))
    return bot.tap(owner, consent["Tôi đồng ý"])


def group_message(owner, update_id, text, *, chat_type="group", chat_id=-1001):
    data = owner.message(update_id, text)
    data["message"]["chat"] = {"id": chat_id, "type": chat_type, "title": "Hội doanh nghiệp"}
    return data


def logged(caplog) -> str:
    """Every line the captured records make: message, traceback and stack."""
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    return "\n".join(parts)


# -- 2. the token and the webhook secret in no log line ------------------------------------------

def test_the_token_and_the_webhook_secret_are_in_no_log_line_at_any_level(tmp_path, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with BotAPIServer() as server:
        config = Config(telegram=Telegram(base_url=server.base_url, base_file_url=server.base_url))
        store = Store(tmp_path / "bot.db")
        # As `sme-bot run` does: the real HTTP layer (httpx, which logs each URL), its logging set up.
        app = build_application(config, loader.load("quick-check"), store, token=TOKEN, webhook_secret=SECRET,
                                reminders=False, retry_pauses=(0, 0, 0))
        configure_logging()
        for name in LOGGERS:
            caplog.set_level(logging.DEBUG, logger=name)

        async def provoke():
            for status in (401, 404):  # a revoked token; a malformed one
                server.fail("getMe", status)
                with pytest.raises(InvalidToken):
                    await app.initialize()
            await app.initialize()
            await app.start()
            server.fail("sendMessage", 429, "drop")  # flood control, then a dropped connection
            await app.process_update(Update.de_json(Owner(7).message(1, "/help"), app.bot))
            await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="telegram",
                                            webhook_url="https://bot.example.invalid/telegram", secret_token=SECRET)
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

        try:
            asyncio.run(provoke())
        finally:
            store.close()
        assert server.messages(7)[-1]["text"] == say("help_buttons", "vi")  # answered in the end
    everything = logged(caplog)
    assert "HTTP Request" in everything and "setWebhook" in everything  # the libraries did log, at DEBUG too
    assert TOKEN_SECRET not in everything and SECRET not in everything


def test_a_library_exception_carrying_the_token_is_redacted_wherever_it_is_logged(caplog, make_bot):
    make_bot()  # the token is known to the process once a bot is built
    caplog.set_level(logging.DEBUG)
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken:
        logging.getLogger("telegram.ext.Updater").exception("Invalid token %s", TOKEN)
    assert "Invalid token" in caplog.text and TOKEN_SECRET not in logged(caplog)


# -- 3. one chat cannot starve the others ----------------------------------------------------------

FLOODER, OTHER = 501, 502


class GatedAPI(FakeBotAPI):
    """Sends to one chat wait until the test opens the gate: that chat's updates stay in hand."""

    def __init__(self, chat_id):
        super().__init__()
        self.chat_id = chat_id
        self.gate = asyncio.Event()
        self.answered: dict[int, asyncio.Event] = {}

    async def do_request(self, url, method, request_data=None, **kwargs):
        params = dict(request_data.parameters) if request_data else {}
        chat = int(params.get("chat_id", 0) or 0)
        if url.endswith("/sendMessage") and chat == self.chat_id:
            await self.gate.wait()
        answer = await super().do_request(url, method, request_data, **kwargs)
        if url.endswith("/sendMessage"):
            self.answered.setdefault(chat, asyncio.Event()).set()
        return answer


def test_a_chat_sending_hundreds_of_messages_cannot_hold_up_another_chats_help(make_bot, caplog):
    from sme_bot.channels.telegram.updates import MAX_WAITING

    api = GatedAPI(FLOODER)
    bot = make_bot(api=api)
    flooder, other = Owner(FLOODER), Owner(OTHER)

    async def scenario():
        # Through the update queue, as polling feeds it: the update processor decides.
        for i in range(600):
            await bot.app.update_queue.put(Update.de_json(flooder.message(bot.next_id(), f"spam {i}"), bot.app.bot))
        await bot.app.update_queue.put(Update.de_json(other.message(bot.next_id(), "/help"), bot.app.bot))
        # Answered while the flooder's very first update is still waiting on its send.
        answered = api.answered.setdefault(OTHER, asyncio.Event())
        try:
            await asyncio.wait_for(answered.wait(), timeout=5)
            assert not [c for c in api.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == FLOODER]
        finally:
            api.gate.set()
        await bot.app.update_queue.join()
        for _ in range(500):  # the slow-down notice is a task of its own
            if say("slow_down", "vi") in flooder_texts():
                break
            await asyncio.sleep(0.01)

    def flooder_texts():
        return [c.params["text"] for c in api.calls if c.method == "sendMessage" and int(c.params["chat_id"]) == FLOODER]

    with caplog.at_level(logging.INFO):
        bot.loop.run_until_complete(scenario())
    to_flooder = flooder_texts()
    assert to_flooder.count(say("slow_down", "vi")) == 1
    assert len(to_flooder) == MAX_WAITING + 1  # the updates it had waiting, each answered, and the notice
    assert texts([c for c in api.calls if int(c.params.get("chat_id", 0) or 0) == OTHER]) == [say("help_buttons", "vi")]
    flood_lines = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(flood_lines) == 1 and "spam" not in caplog.text


def test_taps_dropped_from_a_flooding_chat_are_still_acknowledged(make_bot):
    api = GatedAPI(FLOODER)
    bot = make_bot(api=api)
    flooder = Owner(FLOODER)
    taps = [flooder.tap(bot.next_id(), "zz") for _ in range(30)]

    async def scenario():
        # The first update waits on its send, so the taps pile up behind it and most are dropped.
        await bot.app.update_queue.put(Update.de_json(flooder.message(bot.next_id(), "/help"), bot.app.bot))
        for tap in taps:
            await bot.app.update_queue.put(Update.de_json(tap, bot.app.bot))
        for _ in range(500):
            if len([c for c in api.calls if c.method == "answerCallbackQuery"]) >= 20:
                break
            await asyncio.sleep(0.01)
        api.gate.set()
        await bot.app.update_queue.join()
        for _ in range(500):  # the acknowledgements of dropped taps are tasks of their own
            if len([c for c in api.calls if c.method == "answerCallbackQuery"]) == len(taps):
                break
            await asyncio.sleep(0.01)

    bot.loop.run_until_complete(scenario())
    acknowledged = sorted(c.params["callback_query_id"] for c in api.calls if c.method == "answerCallbackQuery")
    assert acknowledged == sorted(tap["callback_query"]["id"] for tap in taps)


def test_a_chat_under_its_share_keeps_every_update_in_order(make_bot):
    from sme_bot.channels.telegram.updates import MAX_WAITING

    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)

    async def typed_ahead():
        for text in ["1", "4", "1"][:MAX_WAITING]:
            await bot.app.update_queue.put(Update.de_json(owner.message(bot.next_id(), text), bot.app.bot))
        await bot.app.update_queue.join()

    bot.loop.run_until_complete(typed_ahead())
    assert bot.store.assessments.answers(1) == {"sector": "retail", "employees": 4, "legal_form": "household"}
    assert say("slow_down", "vi") not in texts(bot.api.calls)


# -- 5. group chats --------------------------------------------------------------------------------

def test_an_owner_in_a_group_gets_one_line_and_nothing_is_stored(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)  # a consented owner, with a question on screen in the private chat
    before = counts(bot.store)
    for chat_type in ("group", "supergroup"):
        for text in ("/start", "/help", "1", "/delete"):
            calls = bot.process(group_message(owner, bot.next_id(), text, chat_type=chat_type))
            assert [(c.method, int(c.params["chat_id"]), c.params["text"]) for c in calls] == [
                ("sendMessage", -1001, say("private_only", "vi"))]
    assert counts(bot.store) == before


def test_a_tap_on_a_button_in_a_group_changes_nothing(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    before = counts(bot.store)
    tap = owner.tap(bot.next_id(), "a:1:0:0")
    tap["callback_query"]["message"]["chat"] = {"id": -1001, "type": "supergroup", "title": "Hội"}
    calls = bot.process(tap)
    assert [c.method for c in calls] == ["answerCallbackQuery", "sendMessage"]
    assert texts(calls) == [say("private_only", "vi")] and counts(bot.store) == before


def test_staff_commands_in_a_group_deliver_nothing_but_the_line(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    for text in ["1", "4", "1", "1", "1,2", "1", "1", "3", "1", "2", "2", "1", "3", "3", "3", "1", "3", "3", "1"]:
        bot.say(owner, text)
    before = counts(bot.store)
    for command in ("/stats", "/export", "/stats@sme_test_bot DX"):
        calls = bot.process(group_message(Owner(ADMIN), bot.next_id(), command, chat_type="supergroup"))
        assert [(c.method, c.params.get("text")) for c in calls] == [("sendMessage", say("private_only", "vi"))]
    assert counts(bot.store) == before
    assert [c.method for c in bot.say(Owner(ADMIN), "/export")] == ["sendDocument"]  # in private: as before


def test_a_channel_post_gets_one_line_and_raises_nothing(make_bot, caplog):
    bot = make_bot()
    post = {"update_id": bot.next_id(), "channel_post": {
        "message_id": 3, "date": 1, "chat": {"id": -100123, "type": "channel", "title": "Tin tức"}, "text": "/start"}}
    with caplog.at_level(logging.INFO):
        calls = bot.process(post)
    assert [(int(c.params["chat_id"]), c.params["text"]) for c in calls] == [(-100123, say("private_only", "vi"))]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert counts(bot.store)["processed_updates"] == 0


# -- 10. inputs that got no reply or crashed -------------------------------------------------------

def edited(data):
    data["edited_message"] = data.pop("message")
    return data


@pytest.mark.parametrize("text", ["/start", "/help", "/back", "/stats", "/frobnicate", "1"])
def test_an_edited_command_or_answer_gets_the_edit_reply_and_changes_nothing(make_bot, caplog, text):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.say(owner, "1")
    before = bot.store.assessments.answers(1)
    with caplog.at_level(logging.INFO):
        calls = bot.process(edited(owner.message(bot.next_id(), text)))
    assert texts(calls) == [say("edited_message", "vi")]
    assert bot.store.assessments.answers(1) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_message_without_a_sender_raises_nothing(make_bot, caplog):
    bot = make_bot()
    data = Owner(1).message(bot.next_id(), "/start")
    del data["message"]["from"]
    with caplog.at_level(logging.INFO):
        bot.process(data)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert counts(bot.store)["respondents"] == 0


@pytest.mark.parametrize("data", ["a:1:0:-1", "a:1:0:+1", "a:1:0: 1", "a:1:0:0_1", "a:1:-0:1", "a:+1:0:1",
                                  "t:1:2:-1", "a:1:0:١", "s:-1", "n:+1", "a:1:0:1:9"])
def test_button_data_the_bot_never_sent_is_a_stale_tap(make_bot, data):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    calls = bot.tap(owner, data)
    assert [c.method for c in calls] == ["answerCallbackQuery"] and calls[0].params["text"] == say("stale", "vi")
    assert bot.store.assessments.answers(1) == {}


def test_a_name_or_text_with_a_lone_surrogate_is_answered_and_stored(make_bot, caplog):
    bot = make_bot()
    owner = Owner(1, first_name="Hoa \ud83d")
    with caplog.at_level(logging.INFO):
        calls = agree(bot, owner)
        assert asked(calls).startswith("Câu 1/20")
        bot.say(owner, "\udcff1")
        calls = bot.process(owner.message(bot.next_id(), "/start \ud800"))
    assert texts(calls)  # greeted again, the odd code not taken
    for text in texts(bot.api.calls):
        text.encode()  # what goes to Telegram is UTF-8 (a lone surrogate is not)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (name,), = bot.store.db.execute("select name from respondents").fetchall()
    assert name == "Hoa \ufffd"


@pytest.mark.parametrize("length", [33, 57, 58, 64])
def test_a_deep_link_code_too_long_for_a_button_is_refused_as_unknown(make_bot, caplog, length):
    bot = make_bot()
    owner = Owner(1)
    code = ("DX-2026_" * 8)[:length]
    with caplog.at_level(logging.INFO):
        start = bot.say(owner, f"/start {code}")
    greeting, unknown, _consent = texts(start)
    assert greeting.startswith("Xin chào") and "không có trong danh sách" in unknown
    for call in start:
        for _, data in buttons(call):
            assert len(data.encode()) <= 64 and code not in data
    calls = bot.tap(owner, dict(buttons(start[-1]))["Tôi đồng ý"])
    assert asked(calls).startswith("Câu 1/20")
    assert bot.store.db.execute("select cohort from assessments").fetchall() == [(None,)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR] and code not in caplog.text


def test_a_known_cohort_code_of_32_characters_still_rides_in_the_button(make_bot):
    bot = make_bot()
    code = "HOI-NGHI-DONG-XOAI-2026-THANG-11"
    bot.store.assessments.create_cohort(code, "Hội nghị")
    calls = agree(bot, Owner(1), code=code)
    assert f"Bài đánh giá được ghi vào nhóm {code}." in texts(calls)


# -- 9 and 12. polling: confirmed once handled; a bad update skipped, not logged -----------------

class PollingAPI(FakeBotAPI):
    """getUpdates as Telegram serves it: the updates from the offset on, at most `limit`; every
    offset the bot sends is kept. Sends to chats in `slow` wait for the gate."""

    def __init__(self, updates, *, slow=()):
        super().__init__()
        self.updates = list(updates)
        self.offsets: list[int] = []
        self.slow = set(slow)
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()

    async def do_request(self, url, method, request_data=None, **kwargs):
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/getUpdates"):
            offset = int(params.get("offset") or 0)
            self.offsets.append(offset)
            self.asked.set()
            waiting = [u for u in self.updates if u["update_id"] >= offset][: int(params.get("limit") or 100)]
            if not waiting:
                await asyncio.sleep(0.01)  # a long poll, cut short: nothing is waiting
            return 200, json.dumps({"ok": True, "result": waiting}).encode()
        if url.endswith("/sendMessage") and int(params.get("chat_id", 0)) in self.slow:
            await self.gate.wait()
        return await super().do_request(url, method, request_data, **kwargs)


def poll(bot, until, *, poller=None, limit=1000):
    """Poll with the production loop until `until()` holds (checked each time the bot asks); the
    poller, to go on with."""
    from sme_bot.channels.telegram.polling import Poller

    poller = poller or Poller(bot.app, timeout=0, repoll=0.01)

    async def go():
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run(stop))
        for _ in range(limit):
            bot.api.asked.clear()
            await asyncio.wait_for(bot.api.asked.wait(), timeout=5)
            if until():
                break
        stop.set()
        await task

    bot.loop.run_until_complete(go())
    return poller


def sent_to(api):
    return [int(c.params["chat_id"]) for c in api.calls if c.method == "sendMessage"]


def test_an_update_is_confirmed_only_once_it_is_handled(make_bot):
    owner, other = Owner(11), Owner(12)
    updates = [owner.message(100, "/help"), owner.message(101, "/privacy"), other.message(102, "/help")]
    api = PollingAPI(updates, slow={11})
    bot = make_bot(api=api)
    bot.closing = api.gate.set  # a failing test must not leave the bot waiting on its send
    poller = poll(bot, lambda: sent_to(api) == [12])
    # 12's /help is answered; 11's /help is stored (its marker committed) but its answer waits on
    # the send, and 11's /privacy waits behind it: that one may not be confirmed, so Telegram
    # would deliver it again after a crash.
    assert max(api.offsets) <= 101
    api.gate.set()
    poll(bot, lambda: api.offsets[-1] == 103, poller=poller)
    assert sorted(sent_to(api)) == [11, 11, 12]
    assert texts(api.calls)[-1].startswith(say("privacy", "vi", version="", programme=Config().programme.name, months=24, contact="")[:60])


def test_a_malformed_update_is_skipped_by_its_id_and_its_text_never_logged(make_bot, caplog):
    owner, other = Owner(21), Owner(22)
    broken = {"update_id": 201, "message": {"message_id": 1, "text": "Bí mật của chủ A", "from": owner.user()}}
    updates = [owner.message(200, "/help"), broken, other.message(202, "Bí mật của chủ B"), other.message(203, "/help")]
    api = PollingAPI(updates)
    bot = make_bot(api=api)
    with caplog.at_level(logging.DEBUG, logger="sme_bot"), caplog.at_level(logging.INFO):
        poll(bot, lambda: api.offsets[-1] == 204)
    assert sorted(sent_to(api)) == [21, 22, 22]
    assert "update 201" in caplog.text and "Bí mật" not in logged(caplog)
    assert len(api.offsets) < 20  # no retry storm


def test_a_flood_does_not_hold_the_confirmed_offset_back(make_bot):
    flooder, other = Owner(FLOODER), Owner(OTHER)
    updates = [flooder.message(300 + i, f"spam {i}") for i in range(150)] + [other.message(450, "/help")]
    api = PollingAPI(updates, slow={FLOODER})
    bot = make_bot(api=api)
    bot.closing = api.gate.set
    # The flooder's sends never go out while this runs, yet the other chat is fetched and answered
    # and the offset moves past the flood: a flood cannot pin the 100-update window.
    poller = poll(bot, lambda: OTHER in sent_to(api))
    assert max(api.offsets) > 400
    api.gate.set()
    poll(bot, lambda: api.offsets[-1] == 451, poller=poller)
    assert sent_to(api).count(FLOODER) == 8 + 1  # its updates in hand, answered, and one notice


# -- 6. pseudonymous by default ------------------------------------------------------------------

NAME = "Tiệm bánh Cô Ba"


def dbi_db(path, *, owners=(555,)):
    q = loader.load("dbi-sme")
    from sme_bot.demo import businesses

    store = Store(path)
    made = businesses(q, 40, seed=7)
    with store.transaction():
        _add_owners(store, q, made, owners)
    store.close()
    return path


def _add_owners(store, q, made, owners):
    for owner in owners:
        business = next(b for b in made if b.result is not None)
        answers = {**business.answers, "business_name": NAME}
        store.assessments.add_whole(channel="telegram", external_id=str(owner), questionnaire_id=q.id,
                                    questionnaire_version=q.version, language="vi", cohort=None,
                                    started_at=datetime(2026, 3, 2, tzinfo=UTC),
                                    last_at=datetime(2026, 3, 2, 0, 12, tzinfo=UTC), answers=answers,
                                    result=score(q, answers), consent_version="2026-11")


def export(db, out, *extra, env=None):
    # --labels codes: rows are read by column id (the default headers are Vietnamese).
    result = sme_bot("export", "--db", str(db), "-q", "dbi-sme", "-o", str(out), "--labels", "codes", *extra, env=env)
    assert result.returncode == 0, result.stderr
    if out.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    if out.suffix == ".json":
        return json.loads(out.read_text("utf-8"))
    from openpyxl import load_workbook

    rows = list(load_workbook(out, read_only=True)["Data"].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def pseudonym(key, external_id):
    return hashlib.sha256(f"{key}:telegram:{external_id}".encode()).hexdigest()[:16]


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_the_default_export_carries_no_typed_text_and_identities_bring_it(tmp_path, fmt):
    db = dbi_db(tmp_path / "dbi.db")
    (row,) = export(db, tmp_path / f"out.{fmt}", "--format", fmt)
    assert "business_name" not in row and NAME not in json.dumps(row, ensure_ascii=False, default=str)
    assert NAME.encode() not in (tmp_path / f"out.{fmt}").read_bytes()
    assert "sector" in row  # the rest of the profile stays
    (row,) = export(db, tmp_path / f"ids.{fmt}", "--format", fmt, "--with-identities")
    assert row["business_name"] == NAME and str(row["external_id"]) == "555"


def test_the_pseudonym_key_lives_beside_the_database_not_in_it(tmp_path):
    db = dbi_db(tmp_path / "dbi.db")
    (first,) = export(db, tmp_path / "a.csv")
    key_file = tmp_path / "dbi.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32 and first["respondent"] == pseudonym(key, 555)
    assert sqlite3.connect(db).execute("select count(*) from meta where value = ?", [key]).fetchone() == (0,)
    (again,) = export(db, tmp_path / "b.csv")
    assert again["respondent"] == first["respondent"]
    (from_env,) = export(db, tmp_path / "c.csv", env={"SME_BOT_PSEUDONYM_KEY": "programme-key-2026"})
    assert from_env["respondent"] == pseudonym("programme-key-2026", 555)


def test_an_older_databases_salt_moves_out_and_its_pseudonyms_stay(tmp_path):
    db = dbi_db(tmp_path / "old.db")
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("insert into meta (key, value) values ('pseudonym_salt', 'c0ffee00c0ffee00c0ffee00c0ffee00')")
    (row,) = export(db, tmp_path / "a.csv")
    assert row["respondent"] == pseudonym("c0ffee00c0ffee00c0ffee00c0ffee00", 555)  # as exported before
    assert (tmp_path / "old.db.key").read_text().strip() == "c0ffee00c0ffee00c0ffee00c0ffee00"
    assert sqlite3.connect(db).execute("select * from meta where key = 'pseudonym_salt'").fetchall() == []


@contextlib.contextmanager
def read_only(path: Path):
    """The file made unwritable for this process (as root, chmod would not stop a write)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True,
                                                         check=False).returncode:
        unavailable("chattr (making a file read-only for root)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_export_works_on_a_read_only_database_when_the_key_exists(tmp_path):
    db = dbi_db(tmp_path / "ro.db")
    (tmp_path / "ro.db.key").write_text("0123456789abcdef0123456789abcdef\n")
    with read_only(db):
        with pytest.raises(sqlite3.OperationalError):  # it is read-only indeed
            sqlite3.connect(db).execute("insert into meta (key, value) values ('x', 'y')")
        (row,) = export(db, tmp_path / "out.csv")
        # Identities leave only when that is recorded, which a read-only copy cannot take.
        refused = sme_bot("export", "--db", str(db), "-q", "dbi-sme", "-o", str(tmp_path / "ids.csv"),
                          "--with-identities")
    assert row["respondent"] == pseudonym("0123456789abcdef0123456789abcdef", 555)
    assert refused.returncode == 1 and "read-only" in refused.stderr and not (tmp_path / "ids.csv").exists()


# -- 13. smaller things ----------------------------------------------------------------------------

def damaged(path):
    q = loader.load("quick-check")
    from sme_bot.demo import businesses

    store = Store(path)
    with store.transaction():
        # Real rows (web), not demo ones: staff figures leave demo rows out, and an export that reads
        # none of the damaged pages would have nothing to say about them.
        for i, business in enumerate(businesses(q, 300, seed=3)):
            store.assessments.add_whole(channel="web", external_id=f"d{i}", questionnaire_id=q.id,
                                        questionnaire_version=q.version, language="vi", cohort=None,
                                        started_at=datetime(2026, 1, 5, tzinfo=UTC),
                                        last_at=datetime(2026, 1, 5, 0, 10, tzinfo=UTC), answers=business.answers,
                                        result=business.result, consent_version="2026-11")
    store.close()
    size = path.stat().st_size
    with path.open("r+b") as raw:  # the last tenth of the pages overwritten, every other one
        for offset in range(int(size * 0.9) // 4096 * 4096, size, 8192):
            raw.seek(offset)
            raw.write(b"\xde\xad\xbe\xef" * 1024)
    return path


def test_an_export_from_a_damaged_database_is_one_line_saying_so(tmp_path):
    db = damaged(tmp_path / "damaged.db")
    for fmt in ("csv", "xlsx", "json"):
        result = sme_bot("export", "--db", str(db), "-q", "quick-check", "--format", fmt,
                         "-o", str(tmp_path / f"out.{fmt}"))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "damaged" in result.stderr
        assert not (tmp_path / f"out.{fmt}").exists()


def test_database_errors_are_named_for_what_they_are(tmp_path):
    from sme_bot.errors import StorageError

    store = Store(tmp_path / "x.db")
    try:
        with pytest.raises(StorageError) as integrity:
            store.db.execute("insert into meta (key, value) values ('k', '1')")
            with store._database.errors():
                store.db.execute("insert into meta (key, value) values ('k', '2')")
        with pytest.raises(StorageError) as programming:
            store.chats("telegram").save(1, language={"vi": 1})  # a value SQLite cannot bind
    finally:
        store.close()
    for error in (integrity.value, programming.value):
        assert "not an sme-bot database" not in str(error) and "database error in" in str(error)
    (tmp_path / "notes.db").write_text("just some notes\n" * 100)
    with pytest.raises(StorageError, match="is not an sme-bot database"):
        Store(tmp_path / "notes.db")


def test_demo_data_commits_in_small_transactions_and_marks_its_rows(tmp_path, monkeypatch):
    from sme_bot.cli import main
    from sme_bot.storage.assessments import AssessmentRows
    from sme_bot.storage.database import Database

    sizes: list[int] = []
    current = [0]
    transaction, add_whole = Database.transaction, AssessmentRows.add_whole

    @contextlib.contextmanager
    def counted(self):
        outer = not self.conn.in_transaction
        with transaction(self):
            yield
        if outer and current[0]:
            sizes.append(current[0])
            current[0] = 0

    def add(self, **kwargs):
        current[0] += 1
        return add_whole(self, **kwargs)

    monkeypatch.setattr(Database, "transaction", counted)
    monkeypatch.setattr(AssessmentRows, "add_whole", add)
    result = CliRunner().invoke(main, ["demo-data", "--n", "1000", "-q", "quick-check", "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 0, result.output
    assert sum(sizes) == 1000 and max(sizes) <= 200
    db = sqlite3.connect(tmp_path / "d.db")
    assert db.execute("select distinct channel from respondents").fetchall() == [("demo",)]
    assert db.execute("select distinct channel from assessments").fetchall() == [("demo",)]


def test_processed_update_marks_older_than_a_week_are_pruned_per_channel(make_bot, clock, tmp_path):
    from sme_bot.channels.zalo.bot import build_bot
    from sme_bot.channels.zalo.client import ZaloClient

    store = Store(tmp_path / "bot.db")
    old, recent = (clock.now - timedelta(days=8)).isoformat(), (clock.now - timedelta(days=2)).isoformat()
    for channel in ("telegram", "zalo"):
        store.db.execute("insert into processed_updates (channel, update_id, at) values (?, '1', ?), (?, '2', ?)",
                         [channel, old, channel, recent])
    store.close()
    bot = make_bot()  # the Telegram bot starting up on that database
    kept = bot.store.db.execute("select channel, update_id from processed_updates order by 1, 2").fetchall()
    assert kept == [("telegram", "2"), ("zalo", "1"), ("zalo", "2")]
    zalo_store = Store(tmp_path / "bot.db", now=clock)
    build_bot(Config(), loader.load("quick-check"), zalo_store, ZaloClient("t" * 20, base_url="http://127.0.0.1:9/bot"))
    kept = zalo_store.db.execute("select channel, update_id from processed_updates order by 1, 2").fetchall()
    zalo_store.close()
    assert kept == [("telegram", "2"), ("zalo", "2")]
