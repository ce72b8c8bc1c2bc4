"""The same behaviours on every channel: the console, Telegram, Zalo and a test-only text channel.

Each channel is driven as its users drive it (typed lines; the real PTB Application with a fake
Bot API; plain texts), over the same small questionnaire and a real SQLite file. A new channel
gets these tests by adding a driver here.
"""

import asyncio
import io
import sqlite3

import pytest
from chat_channel import TestChat
from conftest import TINY, TINY_FRAMEWORK, write_tiny
from fake_bot_api import TOKEN, FakeBotAPI, Harness, Owner, buttons, texts
from peer_fixtures import PEER_TINY, complete
from rich.console import Console
from zalo_api_server import FakeZaloAPI

from sme_bot import loader
from sme_bot.channels import console
from sme_bot.channels.chat import User
from sme_bot.channels.telegram.app import build_application
from sme_bot.channels.zalo.bot import build_bot
from sme_bot.channels.zalo.client import ZaloClient
from sme_bot.config import Config
from sme_bot.flows.answers import Reason, parse
from sme_bot.scoring import score
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store

COHORT = "DX2026"


class ConsoleDriver:
    """A trainer's terminal: every call is a new `sme-bot console` run that resumes the last one."""

    name = "console"

    def __init__(self, db, questionnaire):
        self.db, self.q = db, questionnaire

    def run(self, lines, *, cohort=None):
        out = io.StringIO()
        store = Store(self.db)
        script = io.StringIO("".join(f"{line}\n" for line in lines))
        terminal = console.Terminal(Console(file=out, width=100, no_color=True), script, interactive=False)
        try:
            console.run(AssessmentService(store, Questionnaires(self.q)), terminal, lang="vi", resume=True,
                        cohort=cohort, programme="Chương trình thử", keep_months=24)
        finally:
            store.close()
        return out.getvalue()

    def begin(self, *, agree=True, share=True, code=None):
        return self.run([("1" if share else "2") if agree else "3"], cohort=code)

    def type(self, text):
        return self.run([text])

    def back(self):
        return self.run(["/back"])

    def restart(self):
        return self.run(["/restart", "1"])

    def reopen(self, questionnaire=None):
        self.q = questionnaire or self.q

    def come_back(self):
        return self.run(["1"])


class ChatDriver:
    """A chat channel's driver: a restart of the program is a new adapter on the same database."""

    def __init__(self, db, questionnaire):
        self.db, self.q = db, questionnaire
        self._open()

    def reopen(self, questionnaire=None):
        self.close()
        self.q = questionnaire or self.q
        self._open()


class TelegramDriver(ChatDriver):
    """An owner's Telegram chat: typed text and taps through the real Application."""

    name = "telegram"

    def __init__(self, db, questionnaire):
        self.owner = Owner(7)
        super().__init__(db, questionnaire)

    def _open(self):
        self.store = Store(self.db)
        api = FakeBotAPI()
        app = build_application(Config(), self.q, self.store, token=TOKEN, request=api, reminders=False,
                                rate_limit=False)
        self.harness = Harness(app, api)

    def close(self):
        self.harness.close()
        self.store.close()

    def begin(self, *, agree=True, share=True, code=None):
        start = self.harness.say(self.owner, "/start" + (f" {code}" if code else ""))
        wanted = f"c:{(1 if share else 2) if agree else 0}:"
        choice = next(data for _, data in buttons(start[-1]) if data.startswith(wanted))
        return "\n".join(texts(start) + texts(self.harness.tap(self.owner, choice)))

    def type(self, text):
        return "\n".join(texts(self.harness.say(self.owner, text)))

    def back(self):
        return self.type("/back")

    def restart(self):
        asked = self.harness.say(self.owner, "/restart")
        yes = buttons(asked[-1])[0][1]
        return "\n".join(texts(self.harness.tap(self.owner, yes)))

    def delete(self):
        asked = self.harness.say(self.owner, "/delete")
        return "\n".join(texts(self.harness.tap(self.owner, buttons(asked[-1])[0][1])))

    def come_back(self):
        return self.type("/start")


class TextChatDriver(ChatDriver):
    """An owner on a text-only chat channel (as on Zalo): numbers and words typed back."""

    name = "testchat"

    def _open(self):
        self.store = Store(self.db)
        self.chat = TestChat(self.store, self.q)

    def close(self):
        self.store.close()

    def begin(self, *, agree=True, share=True, code=None):
        replies = self.chat.send("u1", "Xin chào")
        if code:
            replies += self.chat.send("u1", code)
        return "\n".join(replies + self.chat.send("u1", consent_words(agree, share)))

    def type(self, text):
        return "\n".join(self.chat.send("u1", text))

    def back(self):
        return self.type("quay lại")

    def restart(self):
        return self.type("làm lại") + "\n" + self.type("có")

    def delete(self):
        return self.type("xóa dữ liệu") + "\n" + self.type("1")

    def come_back(self):
        return self.type("tiếp tục")


class ZaloDriver(TextChatDriver):
    """An owner on Zalo: events through the real Zalo client and a loopback fake Zalo Bot API."""

    name = "zalo"

    def __init__(self, db, questionnaire):
        self.api = FakeZaloAPI()  # Zalo itself: it does not restart when the bot does
        self.api.start()
        super().__init__(db, questionnaire)

    def _open(self):
        self.loop = asyncio.new_event_loop()
        self.store = Store(self.db)
        self.client = ZaloClient(self.api.token, base_url=self.api.base_url, retry_pauses=())
        self.bot = build_bot(Config(), self.q, self.store, self.client)

    def close(self):
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.store.close()

    def reopen(self, questionnaire=None):
        super().reopen(questionnaire)

    def finish(self):
        self.close()
        self.api.stop()

    def type(self, text):
        self.api.push_text("chat-1", text, user_id="zalo-user-1")
        event = self.loop.run_until_complete(self.client.get_updates(1))
        before = len(self.api.delivered)
        self.loop.run_until_complete(self.bot.handle(event))
        return "\n".join(call.body["text"] for call in self.api.delivered[before:])

    def begin(self, *, agree=True, share=True, code=None):
        replies = [self.type("Xin chào")] + ([self.type(code)] if code else [])
        return "\n".join(replies + [self.type(consent_words(agree, share))])


def consent_words(agree, share):
    """What an owner types to answer the consent request on a chat without buttons."""
    return ("đồng ý" if share else "chỉ kết quả") if agree else "không đồng ý"


DRIVERS = [ConsoleDriver, TelegramDriver, TextChatDriver, ZaloDriver]
CHATS = [TelegramDriver, TextChatDriver, ZaloDriver]


@pytest.fixture
def make(tmp_path):
    made = []

    def make(driver_class, questionnaire=None):
        driver = driver_class(tmp_path / "channels.db", questionnaire or loader.load(write_tiny(tmp_path)))
        made.append(driver)
        return driver

    yield make
    for driver in made:
        getattr(driver, "finish", getattr(driver, "close", lambda: None))()


def rows(tmp_path, sql, params=()):
    with sqlite3.connect(tmp_path / "channels.db") as conn:
        return conn.execute(sql, params).fetchall()


def answers(tmp_path):
    return dict(rows(tmp_path, "select question_id, value from answers where id in (select max(id) from answers "
                               "group by assessment_id, question_id) and withdrawn = 0"))


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_consent_comes_first_and_declining_stores_nothing(make, tmp_path, driver_class):
    driver = make(driver_class)
    shown = driver.begin(agree=False)
    assert "Không có gì được lưu" in shown and "Số người?" not in shown
    assert rows(tmp_path, "select count(*) from respondents") == [(0,)]
    driver = make(driver_class)
    assert "Số người?" in driver.begin()
    assert rows(tmp_path, "select purpose, agreed from consents order by purpose") == [("result", 1), ("staff", 1)]


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_an_owner_can_agree_to_their_result_and_not_to_sharing_with_staff(make, tmp_path, driver_class):
    driver = make(driver_class)
    shown = driver.begin(share=False)
    # The request named who holds the data and how long it is kept.
    assert "quản lý dữ liệu của bài đánh giá này" in shown and "24 tháng không hoạt động" in shown
    assert "Số người?" in shown
    assert rows(tmp_path, "select purpose, agreed from consents order by purpose") == [("result", 1), ("staff", 0)]


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_a_restart_of_the_program_resumes_at_the_same_question(make, tmp_path, driver_class):
    driver = make(driver_class)
    driver.begin()
    driver.type("3")
    assert "Bán ở đâu?" in driver.type("Ba")
    driver.reopen()
    driver.type("1")
    assert answers(tmp_path) == {"staff": "3.0", "nickname": '"Ba"', "channels": '["zalo"]'}


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_back_withdraws_the_last_answer_and_asks_it_again(make, tmp_path, driver_class):
    driver = make(driver_class)
    driver.begin()
    driver.type("3")
    assert "Bán ở đâu?" in driver.type("/skip")
    shown = driver.back()
    assert "Tên gọi?" in shown
    assert answers(tmp_path) == {"staff": "3.0"}


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_restart_begins_again_in_the_same_cohort(make, tmp_path, driver_class):
    driver = make(driver_class)
    store = Store(tmp_path / "channels.db")
    store.assessments.create_cohort(COHORT, "Hội nghị thử")
    store.close()
    driver.begin(code=COHORT)
    driver.type("3")
    assert "Câu 1/" in driver.restart()
    assert rows(tmp_path, "select status, cohort from assessments order by id") == [
        ("abandoned", COHORT), ("in_progress", COHORT)]


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_a_new_questionnaire_version_leaves_one_assessment_in_progress(make, tmp_path, driver_class):
    driver = make(driver_class)
    driver.begin()
    driver.type("3")
    newer = loader.load(write_tiny(tmp_path, TINY.replace('version = "1"', 'version = "2"')))
    driver.reopen(newer)
    assert "Số người?" in driver.come_back()
    assert rows(tmp_path, "select questionnaire_version, status from assessments order by id") == [
        ("1", "abandoned"), ("2", "in_progress")]


@pytest.mark.parametrize("driver_class", DRIVERS)
@pytest.mark.parametrize("bad", ["99", "không biết", "²", "[/red]"])
def test_input_that_answers_nothing_is_explained_and_stores_nothing(make, tmp_path, driver_class, bad):
    driver = make(driver_class)
    driver.begin()
    driver.type("3")
    driver.type("/skip")
    shown = driver.type(bad)
    reason = parse(driver.q.question_by_id["channels"], bad)
    assert isinstance(reason, Reason) and reason.render("vi") in shown
    assert answers(tmp_path) == {"staff": "3.0", "nickname": "null"}


@pytest.mark.parametrize("driver_class", CHATS)
def test_delete_removes_the_person_and_every_answer(make, tmp_path, driver_class):
    driver = make(driver_class)
    driver.begin()
    driver.type("3")
    assert "Đã xóa toàn bộ dữ liệu" in driver.delete()
    for table in ("respondents", "consents", "assessments", "answers", "chats"):
        assert rows(tmp_path, f"select count(*) from {table}") == [(0,)], table
    assert rows(tmp_path, "select count(*) from deletions") == [(1,)]


def finish_tiny(driver) -> None:
    """Consent, then every question of the tiny questionnaire answered as typed text."""
    driver.begin()
    for text in ("12", "/skip", "1,2", "2", "1", "2"):
        driver.type(text)


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_the_same_answers_give_the_same_stored_result_on_every_channel(make, tmp_path, driver_class):
    driver = make(driver_class)
    finish_tiny(driver)
    (level, points), = rows(tmp_path, "select level, points from results")
    expected = score(driver.q, {"staff": 12, "nickname": None, "channels": ("zalo", "shop"), "updates": "weekly",
                                "books": "yes", "payroll": "app"})  # what finish_tiny types
    assert (level, points) == (expected.level, expected.points)


@pytest.mark.parametrize("driver_class", CHATS)
def test_asking_for_help_asks_how_to_be_reached_and_keeps_that_for_the_request(make, tmp_path, driver_class):
    driver = make(driver_class)
    finish_tiny(driver)
    assert "liên hệ với bạn thế nào" in driver.type("hỗ trợ")
    assert rows(tmp_path, "select count(*) from support_requests") == [(0,)]
    assert "Đã ghi nhận đề nghị hỗ trợ" in driver.type("Zalo 0912 345 678")
    assert "đã được ghi nhận trước đó" in driver.type("hỗ trợ")
    assert rows(tmp_path, "select contact, status from support_requests") == [("Zalo 0912 345 678", "new")]


# -- a result that helps -----------------------------------------------------------------------------

# Six sales steps long enough that the whole roadmap does not fit one chat message.
LONG_STEPS = TINY_FRAMEWORK.replace(
    'steps = [{ vi = "Bán online", en = "Sell online" }, { vi = "Nhận chuyển khoản", en = "Take transfers" }]',
    "steps = [" + ", ".join(f'{{ vi = "Bước bán hàng {n}: {"việc cần làm " * 40}", en = "Sales step {n}" }}'
                            for n in range(1, 6)) + "]")


def finish_at_level_zero(driver):
    driver.begin()
    for text in ("3", "/skip", "3"):
        driver.type(text)
    return driver.type("2")


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_the_result_names_strengths_and_what_the_next_level_needs(make, driver_class):
    driver = make(driver_class)
    driver.begin()
    for text in ("3", "/skip", "2"):
        driver.type(text)
    shown = driver.type("1")  # sales 50 %, money 100 %: level 1
    assert "Điểm mạnh: Tài chính (Mức 2, 100%), Bán hàng (Mức 1, 50%)." in shown
    assert "Để đạt Mức 2 (Hai) cần trên 6 điểm (đã đủ: bạn có 7) và ít nhất 2 trụ cột ở Mức 2" in " ".join(shown.split())
    assert "1 trụ cột gần ngưỡng nhất là: Bán hàng (50%)." in shown


@pytest.mark.parametrize("driver_class", CHATS)
def test_a_long_roadmap_shows_the_first_steps_then_the_rest_on_asking(make, tmp_path, driver_class):
    driver = make(driver_class, loader.load(write_tiny(tmp_path, framework=LONG_STEPS)))
    shown = finish_at_level_zero(driver)
    assert "3. Bước bán hàng 2" in shown and "4. Bước bán hàng 3" not in shown
    if driver_class is not TelegramDriver:  # Telegram offers a button instead
        assert 'Gõ "thêm bước" để xem 3 bước còn lại.' in shown
    rest = driver.type("thêm bước")
    assert "Các bước còn lại trong lộ trình" in rest and "4. Bước bán hàng 3" in rest and "6. Bước bán hàng 5" in rest
    assert "1. Bước bán hàng 1" not in rest


@pytest.mark.parametrize("driver_class", DRIVERS)
def test_a_short_roadmap_comes_whole_in_one_message(make, tmp_path, driver_class):
    # One step shown first, but all three fit in one message: all of them come, nothing to ask for.
    driver = make(driver_class, loader.load(write_tiny(tmp_path, framework=TINY_FRAMEWORK.replace(
        "roadmap_shown = 3", "roadmap_shown = 1"))))
    shown = finish_at_level_zero(driver)
    assert "1. Bán online" in shown and "2. Dùng phần mềm kế toán" in shown and "3. Nhận chuyển khoản" in shown
    assert "thêm bước" not in shown and "Còn 2 bước" not in shown


def test_the_console_shows_every_step_however_long(make, tmp_path):
    driver = make(ConsoleDriver, loader.load(write_tiny(tmp_path, framework=LONG_STEPS)))
    shown = finish_at_level_zero(driver)
    assert all(f"Bước bán hàng {n}:" in shown for n in range(1, 6)) and "bước khác" not in shown


@pytest.mark.parametrize("driver_class", DRIVERS)
@pytest.mark.parametrize("others", [5, 3])
def test_similar_businesses_are_shown_only_for_a_group_of_at_least_min_group(make, tmp_path, driver_class, others):
    q = loader.load(write_tiny(tmp_path, PEER_TINY))
    for number in range(others):  # the same sector and size band: levels 0, 1, 2, 0, 1
        complete(tmp_path / "channels.db", q, level=number % 3, external_id=f"shop-{number}")
    for number in range(8):  # another sector
        complete(tmp_path / "channels.db", q, level=0, sector="2", external_id=f"cafe-{number}")
    driver = make(driver_class, q)
    driver.begin()
    for text in ("12", "1", "/skip", "1,2", "2", "1"):
        driver.type(text)
    shown = " ".join(driver.type("2").split())
    assert "Kết quả: Mức 2" in shown
    # The owner counts among their group, except on the console (staff trying it, not a business).
    group = others + (driver_class is not ConsoleDriver)
    if group < 5:
        assert "cùng nhóm" not in shown
    elif driver_class is ConsoleDriver:
        assert "So với 5 doanh nghiệp cùng nhóm (Cửa hàng · Nhỏ) đã hoàn thành bài đánh giá:" in shown
        assert "Mức 0: 40% · Mức 1: 40% · Mức 2: 20%" in shown
        assert "Bạn ở Mức 2: 80% doanh nghiệp cùng nhóm ở mức thấp hơn, 20% cùng mức, 0% ở mức cao hơn." in shown
    else:
        assert "So với 6 doanh nghiệp cùng nhóm (Cửa hàng · Nhỏ) đã hoàn thành bài đánh giá:" in shown
        assert "Mức 0: 33% · Mức 1: 33% · Mức 2: 33%" in shown
        assert "Bạn ở Mức 2: 67% doanh nghiệp cùng nhóm ở mức thấp hơn, 33% cùng mức, 0% ở mức cao hơn." in shown


def test_the_chart_photo_is_captioned_with_the_level_thresholds_named(tmp_path, tiny):
    store = Store(tmp_path / "caption.db")
    try:
        chat = TestChat(store, tiny)
        for text in ("Xin chào", "đồng ý", "3", "/skip", "3", "2"):
            chat.send("u1", text)
        reply = chat.conversation.command(User(id="u1", chat_id="u1"), "result")
    finally:
        store.close()
    assert reply.chart_caption == ("Kết quả Mức 0 · Chưa. Mỗi thanh là phần trăm điểm tối đa của một trụ cột; các "
                                   "đường đứt nét là ngưỡng của từng mức: M1 Một từ 25%; M2 Hai trên 60%.")


def test_on_telegram_the_rest_of_a_long_roadmap_is_one_tap_away(make, tmp_path):
    driver = make(TelegramDriver, loader.load(write_tiny(tmp_path, framework=LONG_STEPS)))
    driver.begin()
    for text in ("3", "/skip", "3"):
        driver.type(text)
    calls = driver.harness.say(driver.owner, "2")
    result = [c for c in calls if c.method == "sendMessage"][-1]
    more = dict(buttons(result))["Xem thêm 3 bước"]
    assert ("Đề nghị chương trình hỗ trợ", "s:1") in buttons(result)
    rest = "\n".join(texts(driver.harness.tap(driver.owner, more)))
    assert "Các bước còn lại trong lộ trình" in rest and "6. Bước bán hàng 5" in rest
    assert any(c.method == "sendPhoto" for c in calls)
