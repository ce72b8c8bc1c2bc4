"""Edits that only tidy a chat wait for spare send budget: merged per message, ticks first, the
oldest dropped past a limit, never ahead of a chat that has no calls to spare."""

import asyncio

from conftest import Clock

from sme_bot.channels.telegram.edits import Edits
from sme_bot.channels.telegram.ratelimit import PER_CHAT_BURST, SPARE_BELOW, ChatRateLimiter


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    async def post(self, method: str, payload: dict) -> None:
        self.calls.append((method, payload))


def run(make) -> tuple[Recorder, Edits]:
    """`make(edits)` queues edits on a fresh loop; everything is then drained."""
    loop = asyncio.new_event_loop()
    recorder = Recorder()
    edits = Edits(recorder.post)

    async def queue() -> None:
        make(edits)

    loop.run_until_complete(queue())
    loop.run_until_complete(edits.draining)
    loop.close()
    return recorder, edits


def markup(n: int) -> dict:
    return {"chat_id": 1, "message_id": 10, "reply_markup": {"inline_keyboard": [[{"text": f"✓ {n}"}]]}}


def test_three_ticks_of_one_message_are_one_edit_with_the_last_buttons():
    recorder, _ = run(lambda edits: [edits.tick(1, 10, "editMessageReplyMarkup", markup(n)) for n in (1, 2, 3)])
    assert recorder.calls == [("editMessageReplyMarkup", markup(3))]


def test_a_message_done_with_is_tidied_once_and_its_pending_tick_forgotten():
    def make(edits: Edits) -> None:
        edits.tick(1, 10, "editMessageReplyMarkup", markup(1))
        edits.tidy(1, 10, "editMessageText", {"chat_id": 1, "message_id": 10, "text": "Câu 3\n\n✅ Zalo"})

    recorder, _ = run(make)
    assert recorder.calls == [("editMessageText", {"chat_id": 1, "message_id": 10, "text": "Câu 3\n\n✅ Zalo"})]


def test_ticks_go_before_tidying_and_past_the_limit_the_oldest_tidying_is_dropped():
    def make(edits: Edits) -> None:
        edits.max_pending = 2
        for message in (1, 2, 3):
            edits.tidy(1, message, "editMessageReplyMarkup", {"chat_id": 1, "message_id": message})
        edits.tick(2, 20, "editMessageReplyMarkup", {"chat_id": 2, "message_id": 20})

    recorder, _ = run(make)
    assert [payload["message_id"] for _, payload in recorder.calls] == [20, 2, 3]


def test_an_edit_waits_while_its_chat_has_no_calls_to_spare_and_others_go_first():
    loop = asyncio.new_event_loop()
    recorder = Recorder()
    busy = {1}
    edits = Edits(recorder.post, spare=lambda chat: chat not in busy)

    async def scenario() -> None:
        edits.tidy(1, 10, "editMessageReplyMarkup", {"chat_id": 1, "message_id": 10})
        edits.tidy(2, 20, "editMessageReplyMarkup", {"chat_id": 2, "message_id": 20})
        await asyncio.sleep(0.2)
        assert [payload["chat_id"] for _, payload in recorder.calls] == [2]
        busy.clear()
        await edits.draining

    loop.run_until_complete(scenario())
    loop.close()
    assert [payload["chat_id"] for _, payload in recorder.calls] == [2, 1]


async def ok(*_: object, **__: object) -> dict:
    return {}


def test_calls_are_to_spare_below_the_ceiling_and_with_one_call_to_the_chat_lately():
    clock = Clock(100.0)
    limiter = ChatRateLimiter(clock=clock)
    loop = asyncio.new_event_loop()

    def call(chat_id: int) -> None:
        loop.run_until_complete(limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": chat_id}, None))

    call(7)
    assert limiter.spare(7) and limiter.spare(8)  # one call to chat 7 lately: an edit may follow it
    call(7)
    assert not limiter.spare(7) and limiter.spare(8)  # a second: its next question may need the third
    clock.now += PER_CHAT_BURST + 0.1
    assert limiter.spare(7)
    for chat in range(1000, 1000 + SPARE_BELOW):
        call(chat)
        clock.now += 0.01
    assert not limiter.spare(8)  # a busy second: every call is kept for the next questions
    clock.now += 1
    assert limiter.spare(8)
    loop.close()
