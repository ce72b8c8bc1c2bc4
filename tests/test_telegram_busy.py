"""A database another program holds for a moment never drops an owner's update."""

import sqlite3
import threading

from fake_bot_api import TOKEN, FakeBotAPI, Harness, Owner, asked, buttons, texts

from sme_bot import loader
from sme_bot.channels.telegram.app import build_application
from sme_bot.config import Config
from sme_bot.messages import say
from sme_bot.storage import Store


def bot(tmp_path, *, busy_pauses):
    store = Store(tmp_path / "bot.db", busy_timeout=0.05)
    api = FakeBotAPI()
    app = build_application(Config(), loader.load("quick-check"), store, token=TOKEN, request=api, reminders=False,
                            rate_limit=False, retry_pauses=(0, 0, 0), busy_pauses=busy_pauses)
    harness = Harness(app, api)
    harness.store = store
    return harness


def agree(harness, owner):
    start = harness.say(owner, "/start")
    harness.tap(owner, buttons(start[-1])[0][1])


def hold(path):
    """Another program writing to the file (a staff export, a backup), until released."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_an_update_that_meets_a_locked_database_is_tried_again(tmp_path):
    harness = bot(tmp_path, busy_pauses=(0.5,))
    owner = Owner(1)
    agree(harness, owner)
    holder = hold(tmp_path / "bot.db")
    threading.Timer(0.1, holder.rollback).start()  # the other program is done in a moment
    calls = harness.say(owner, "1")
    assert asked(calls).startswith("Câu 2/20")
    assert harness.store.assessments.answers(1) == {"sector": "retail"}
    harness.close()
    harness.store.close()


def test_a_database_that_stays_locked_gets_a_please_try_again_and_nothing_half_written(tmp_path):
    harness = bot(tmp_path, busy_pauses=(0.01,))
    owner = Owner(1)
    agree(harness, owner)
    holder = hold(tmp_path / "bot.db")
    update = owner.message(harness.next_id(), "1")
    try:
        assert texts(harness.process(update)) == [say("try_again", "vi")]
    finally:
        holder.rollback()
    assert harness.store.assessments.answers(1) == {}
    # Nothing of it was recorded, the update mark included: the same message again is answered.
    assert asked(harness.process(update)).startswith("Câu 2/20")
    assert harness.store.assessments.answers(1) == {"sector": "retail"}
    harness.close()
    harness.store.close()
