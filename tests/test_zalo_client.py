"""The Zalo client against a fake Zalo Bot API on loopback (tests/zalo_api_server.py).

Retries never really wait: the client is given a `sleep` that only records the pauses asked for.
The only real waiting is the fake server's short long polls and the client timeouts of the tests
that make a call hang.
"""

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from zalo_api_server import FakeZaloAPI

from sme_bot.channels.zalo.client import (
    BotInfo,
    Event,
    SentMessage,
    ZaloApiError,
    ZaloClient,
    ZaloError,
    ZaloNetworkError,
    ZaloPayloadError,
    ZaloRateLimited,
    ZaloUnauthorized,
    parse_event,
    split_text,
)

T = TypeVar("T")
HUNG = 0.3  # the client timeout in tests that make the server hold its answer back


class Pauses(list[float]):
    """A `sleep` for the client that records the pause instead of waiting it out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real transport that notes the URLs it is given, and can refuse the first few connections."""

    def __init__(self, refuse: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.urls: list[str] = []
        self.refuse = refuse
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if len(self.urls) <= self.refuse:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


@pytest.fixture
def api() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


def client_for(api: FakeZaloAPI, **options: Any) -> ZaloClient:
    options.setdefault("sleep", Pauses())
    options.setdefault("timeout", 2.0)
    options.setdefault("base_url", api.base_url)
    return ZaloClient(options.pop("token", api.token), **options)


def call(api: FakeZaloAPI, action: Callable[[ZaloClient], Awaitable[T]], **options: Any) -> T:
    """Run one action with a fresh client, closed afterwards."""

    async def scenario() -> T:
        async with client_for(api, **options) as zalo:
            return await action(zalo)

    return asyncio.run(scenario())


def closed_base_url() -> str:
    """The URL of a server that has stopped: connecting to it is refused."""
    with FakeZaloAPI() as gone:
        return gone.base_url


def text_message(chat_id: str = "c1", **fields: Any) -> dict[str, Any]:
    return {
        "from": {"id": "u1", "display_name": "Anh Minh", "is_bot": False},
        "chat": {"id": chat_id, "chat_type": "PRIVATE"},
        "message_id": "m1",
        "date": 1750316131602,
        **fields,
    }


# -- the calls ----------------------------------------------------------------------------------


def test_get_me_returns_the_bot_identity_and_posts_json_to_bot_token_method(api: FakeZaloAPI) -> None:
    me = call(api, lambda zalo: zalo.get_me())

    assert me == BotInfo(id="7b2e5c1d9a0f", account_name="bot.danhgiaso", account_type="BASIC", can_join_groups=False)
    assert api.calls_to("getMe") == [{}]  # the fake answers 401 unless the path is /bot<token>/getMe


def test_a_queued_text_arrives_through_get_updates_as_an_event(api: FakeZaloAPI) -> None:
    api.push_text("chat-42", "Xin chào", user_id="user-7", name="Chị Lan")

    event = call(api, lambda zalo: zalo.get_updates(timeout=5))

    assert event is not None
    assert (event.name, event.chat_id, event.chat_type, event.user_id, event.user_name, event.text) == (
        "message.text.received",
        "chat-42",
        "PRIVATE",
        "user-7",
        "Chị Lan",
        "Xin chào",
    )
    assert event.message_id and isinstance(event.date, int) and not event.user_is_bot
    assert api.calls_to("getUpdates") == [{"timeout": 5}]


def test_an_empty_long_poll_returns_none(api: FakeZaloAPI) -> None:
    assert call(api, lambda zalo: zalo.get_updates(timeout=1)) is None


def test_get_updates_hands_on_an_unknown_future_event_with_its_name(api: FakeZaloAPI) -> None:
    api.push_event("message.reaction.received", {"chat": {"id": "c9"}, "from": {"id": "u9"}, "reaction": "❤"})

    event = call(api, lambda zalo: zalo.get_updates(timeout=1))

    assert event is not None and (event.name, event.known, event.chat_id) == ("message.reaction.received", False, "c9")
    assert event.raw["reaction"] == "❤"


def test_a_malformed_event_from_get_updates_raises_zalo_payload_error(api: FakeZaloAPI) -> None:
    api.push_event("message.text.received", {"chat": {"id": "c1"}})  # no sender, no text

    with pytest.raises(ZaloPayloadError, match="message.text.received"):
        call(api, lambda zalo: zalo.get_updates(timeout=1))


def test_get_updates_fails_while_a_webhook_is_set_and_works_again_after_delete_webhook(api: FakeZaloAPI) -> None:
    async def scenario(zalo: ZaloClient) -> tuple[Any, ...]:
        set_to = await zalo.set_webhook("https://bot.example.vn/zalo", "s3cret-s3cret")
        info = await zalo.get_webhook_info()
        with pytest.raises(ZaloApiError) as caught:
            await zalo.get_updates(timeout=1)
        deleted = await zalo.delete_webhook()
        api.push_text("c1", "lại rồi")
        return set_to, info, caught.value, deleted, await zalo.get_updates(timeout=1)

    set_to, info, error, deleted, event = call(api, scenario)

    assert set_to.url == info.url == "https://bot.example.vn/zalo" and isinstance(set_to.updated_at, int)
    assert error.error_code == 400
    assert deleted.url == "" and api.webhook_url == ""
    assert event is not None and event.text == "lại rồi"
    assert api.calls_to("setWebhook") == [{"url": "https://bot.example.vn/zalo", "secret_token": "s3cret-s3cret"}]


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://bot.example.vn/zalo", "x" * 7),
        ("https://bot.example.vn/zalo", "x" * 257),
        ("http://bot.example.vn/zalo", "x" * 8),
        ("bot.example.vn/zalo", "x" * 8),
    ],
)
def test_set_webhook_refuses_a_bad_secret_or_a_url_that_is_not_https(api: FakeZaloAPI, url: str, secret: str) -> None:
    with pytest.raises(ValueError):
        call(api, lambda zalo: zalo.set_webhook(url, secret))
    assert api.calls == []


@pytest.mark.parametrize("secret", ["x" * 8, "y" * 256])
def test_set_webhook_accepts_secrets_of_8_and_256_characters(api: FakeZaloAPI, secret: str) -> None:
    assert call(api, lambda zalo: zalo.set_webhook("https://bot.example.vn/z", secret)).url
    assert api.webhook_secret == secret


def test_send_message_posts_chat_id_and_text_and_returns_what_zalo_sent(api: FakeZaloAPI) -> None:
    sent = call(api, lambda zalo: zalo.send_message("c1", "Cảm ơn anh/chị!"))

    assert len(sent) == 1 and isinstance(sent[0], SentMessage) and sent[0].message_id
    assert api.calls_to("sendMessage") == [{"chat_id": "c1", "text": "Cảm ơn anh/chị!"}]


@pytest.mark.parametrize(("chat_id", "text"), [("c1", ""), ("c1", " \n\n "), ("", "xin chào")])
def test_send_message_refuses_empty_text_or_chat_without_calling_zalo(
    api: FakeZaloAPI, chat_id: str, text: str
) -> None:
    with pytest.raises(ValueError):
        call(api, lambda zalo: zalo.send_message(chat_id, text))
    assert api.calls == []


def test_a_long_message_is_sent_as_several_split_at_line_boundaries(api: FakeZaloAPI) -> None:
    lines = [f"{n:03d}. Câu hỏi về chuyển đổi số của doanh nghiệp nhỏ và vừa" for n in range(90)]
    text = "\n".join(lines)
    assert len(text) > 2 * 2000

    sent = call(api, lambda zalo: zalo.send_message("c1", text))

    parts = [c.body["text"] for c in api.delivered]
    assert len(sent) == len(parts) == 3
    assert all(1 <= len(part) <= 2000 for part in parts)
    assert "\n".join(parts) == text  # nothing lost, and every cut fell between two lines
    assert all(set(part.split("\n")) <= set(lines) for part in parts)


def test_split_text_cuts_an_overlong_line_at_a_space_or_hard_when_it_has_none() -> None:
    assert split_text("một hai ba bốn năm", limit=10) == ["một hai ba", "bốn năm"]
    assert split_text("abcdefghijklmnopqrstuvwxy", limit=10) == ["abcdefghij", "klmnopqrst", "uvwxy"]
    assert split_text("a\n\n\nb", limit=10) == ["a\n\n\nb"]
    assert split_text("  \n ") == []


def test_split_text_counts_utf16_units_so_emoji_take_two() -> None:
    assert [len(part) for part in split_text("😀" * 1500)] == [1000, 500]


def test_send_photo_and_chat_action_send_the_documented_bodies(api: FakeZaloAPI) -> None:
    async def scenario(zalo: ZaloClient) -> tuple[SentMessage, SentMessage]:
        with_caption = await zalo.send_photo("c1", "https://cdn.example.vn/chart.png", caption="Kết quả")
        bare = await zalo.send_photo("c1", "https://cdn.example.vn/chart.png")
        await zalo.send_chat_action("c1")  # Zalo answers {"ok": true} with no result
        return with_caption, bare

    with_caption, bare = call(api, scenario)

    assert with_caption.message_id and bare.message_id
    assert api.calls_to("sendPhoto") == [
        {"chat_id": "c1", "photo": "https://cdn.example.vn/chart.png", "caption": "Kết quả"},
        {"chat_id": "c1", "photo": "https://cdn.example.vn/chart.png"},
    ]
    assert api.calls_to("sendChatAction") == [{"chat_id": "c1", "action": "typing"}]


@pytest.mark.parametrize(
    "action",
    [
        lambda zalo: zalo.send_photo("c1", "file:///tmp/chart.png"),
        lambda zalo: zalo.send_photo("c1", "https://cdn.example.vn/a.png", caption=""),
        lambda zalo: zalo.send_photo("c1", "https://cdn.example.vn/a.png", caption="x" * 2001),
        lambda zalo: zalo.send_chat_action("c1", "upload_photo"),
    ],
)
def test_send_photo_and_chat_action_refuse_what_zalo_would_reject(api: FakeZaloAPI, action: Any) -> None:
    with pytest.raises(ValueError):
        call(api, action)
    assert api.calls == []


def test_the_client_closes_its_transport_when_the_context_ends(api: FakeZaloAPI) -> None:
    transport = RecordingTransport()
    call(api, lambda zalo: zalo.get_me(), transport=transport)
    assert transport.closed


# -- failures -----------------------------------------------------------------------------------


def test_ok_false_on_http_200_raises_zalo_api_error_with_the_code(api: FakeZaloAPI) -> None:
    api.fail_next("getMe", 400, "Bad Request: invalid parameter")
    pauses = Pauses()

    with pytest.raises(ZaloApiError) as caught:
        call(api, lambda zalo: zalo.get_me(), sleep=pauses)

    assert (caught.value.error_code, caught.value.description) == (400, "Bad Request: invalid parameter")
    assert not isinstance(caught.value, (ZaloUnauthorized, ZaloRateLimited))
    assert pauses == [] and len(api.calls_to("getMe")) == 1


def test_a_wrong_token_raises_zalo_unauthorized_and_is_not_retried(api: FakeZaloAPI) -> None:
    pauses = Pauses()

    with pytest.raises(ZaloUnauthorized) as caught:
        call(api, lambda zalo: zalo.get_me(), token="2718281828:WrongToken", sleep=pauses)

    assert caught.value.error_code == 401
    assert pauses == [] and len(api.calls_to("getMe")) == 1


def test_an_http_error_without_a_zalo_answer_raises_zalo_api_error_with_the_status(api: FakeZaloAPI) -> None:
    api.http_error_next("getWebhookInfo", 503, times=4)

    with pytest.raises(ZaloApiError) as caught:
        call(api, lambda zalo: zalo.get_webhook_info())

    assert caught.value.error_code == 503


@pytest.mark.parametrize(
    "quota_exceeded",
    [lambda api: api.http_error_next("sendMessage", 429), lambda api: api.fail_next("sendMessage", 429)],
    ids=["HTTP 429", "ok false 429 on HTTP 200"],
)
def test_a_429_is_retried_after_the_pause_and_the_message_arrives_once(api: FakeZaloAPI, quota_exceeded: Any) -> None:
    quota_exceeded(api)
    pauses = Pauses()

    sent = call(api, lambda zalo: zalo.send_message("c1", "Câu 1/12"), sleep=pauses)

    assert len(sent) == 1 and pauses == [0.5]
    assert [c.body["text"] for c in api.delivered] == ["Câu 1/12"]


def test_a_retry_after_header_sets_the_pause(api: FakeZaloAPI) -> None:
    api.http_error_next("sendMessage", 429, retry_after="3")
    pauses = Pauses()

    call(api, lambda zalo: zalo.send_message("c1", "hi"), sleep=pauses)

    assert pauses == [3.0] and len(api.delivered) == 1


def test_a_retry_after_longer_than_the_cap_is_raised_for_the_caller_to_schedule(api: FakeZaloAPI) -> None:
    api.http_error_next("sendMessage", 429, retry_after="120")
    pauses = Pauses()

    with pytest.raises(ZaloRateLimited) as caught:
        call(api, lambda zalo: zalo.send_message("c1", "hi"), sleep=pauses)

    assert caught.value.retry_after == 120.0 and caught.value.error_code == 429
    assert pauses == [] and api.delivered == []


def test_retries_are_bounded_by_the_pauses_given(api: FakeZaloAPI) -> None:
    api.fail_next("sendMessage", 429, "Quota exceeded", times=10)
    pauses = Pauses()

    with pytest.raises(ZaloRateLimited):
        call(api, lambda zalo: zalo.send_message("c1", "hi"), sleep=pauses)

    assert pauses == [0.5, 2.0, 5.0] and len(api.calls_to("sendMessage")) == 4 and api.delivered == []


def test_a_5xx_on_a_safe_call_is_retried(api: FakeZaloAPI) -> None:
    api.http_error_next("getMe", 500)
    pauses = Pauses()

    assert call(api, lambda zalo: zalo.get_me(), sleep=pauses).id
    assert pauses == [0.5] and len(api.calls_to("getMe")) == 2


def test_a_5xx_on_a_send_is_not_retried_and_says_delivery_is_unknown(api: FakeZaloAPI) -> None:
    api.http_error_next("sendMessage", 502)
    pauses = Pauses()

    with pytest.raises(ZaloApiError) as caught:
        call(api, lambda zalo: zalo.send_message("c1", "hi"), sleep=pauses)

    assert caught.value.error_code == 502 and caught.value.delivered_unknown
    assert pauses == [] and len(api.calls_to("sendMessage")) == 1


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_send_that_failed_after_it_was_sent_is_not_sent_twice(api: FakeZaloAPI, fault: str) -> None:
    api.hang_next("sendMessage") if fault == "hang" else api.drop_next("sendMessage")
    pauses = Pauses()

    with pytest.raises(ZaloNetworkError) as caught:
        call(api, lambda zalo: zalo.send_message("c1", "Báo cáo của anh/chị"), sleep=pauses, timeout=HUNG)

    assert caught.value.delivered_unknown
    assert len(api.delivered) == 1 and len(api.calls_to("sendMessage")) == 1 and pauses == []


@pytest.mark.parametrize("fault", ["hang", "drop"])
def test_a_safe_call_that_failed_after_it_was_sent_is_retried(api: FakeZaloAPI, fault: str) -> None:
    api.hang_next("getWebhookInfo") if fault == "hang" else api.drop_next("getWebhookInfo")
    pauses = Pauses()

    info = call(api, lambda zalo: zalo.get_webhook_info(), sleep=pauses, timeout=HUNG)

    assert info.url == "" and pauses == [0.5] and len(api.calls_to("getWebhookInfo")) == 2


def test_a_refused_connection_is_retried_then_raised_as_zalo_network_error(api: FakeZaloAPI) -> None:
    pauses = Pauses()

    with pytest.raises(ZaloNetworkError) as caught:
        call(api, lambda zalo: zalo.send_message("c1", "hi"), base_url=closed_base_url(), sleep=pauses)

    assert not caught.value.delivered_unknown  # nothing was ever sent
    assert pauses == [0.5, 2.0, 5.0]


def test_a_send_whose_connection_could_not_be_opened_is_retried_and_arrives_once(api: FakeZaloAPI) -> None:
    transport = RecordingTransport(refuse=1)
    pauses = Pauses()

    call(api, lambda zalo: zalo.send_message("c1", "hi"), transport=transport, sleep=pauses)

    assert pauses == [0.5] and len(transport.urls) == 2 and len(api.delivered) == 1


def test_the_token_is_put_into_the_url_below_httpx(api: FakeZaloAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Other tests in this process may have quietened httpx (as `sme-bot run` does): listen to it here.
    caplog.set_level(logging.DEBUG, logger="httpx")
    transport = RecordingTransport()

    call(api, lambda zalo: zalo.get_me(), transport=transport)

    assert transport.urls == [f"{api.base_url}{api.token}/getMe"]
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert httpx_lines and all("/botREDACTED/getMe" in line for line in httpx_lines)


def test_the_token_appears_in_no_error_and_no_log_line(api: FakeZaloAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Other tests in this process may have quietened httpx (as `sme-bot run` does): listen to it here.
    caplog.set_level(logging.DEBUG, logger="httpx")
    wrong = "2718281828:WrongToken_k7P"
    quick = {"timeout": HUNG, "retry_pauses": (0,)}
    cases: list[tuple[Callable[[], None], dict[str, Any], Callable[[ZaloClient], Awaitable[Any]]]] = [
        (lambda: None, {"token": wrong}, lambda zalo: zalo.get_me()),  # 401
        (lambda: api.http_error_next("getMe", 404), {}, lambda zalo: zalo.get_me()),
        (lambda: api.fail_next("sendMessage", 429, times=2), quick, lambda zalo: zalo.send_message("c", "x")),
        (lambda: api.fail_next("getMe", 400, f"invalid token {api.token}"), {}, lambda zalo: zalo.get_me()),
        (lambda: api.http_error_next("getMe", 500, times=2), quick, lambda zalo: zalo.get_me()),
        (lambda: None, {"base_url": closed_base_url(), **quick}, lambda zalo: zalo.get_me()),
        (lambda: api.hang_next("getMe", times=2), quick, lambda zalo: zalo.get_me()),
        (lambda: api.hang_next("sendMessage"), quick, lambda zalo: zalo.send_message("c", "x")),
        (lambda: api.drop_next("sendMessage"), quick, lambda zalo: zalo.send_message("c", "x")),
    ]
    errors: list[ZaloError] = []
    reprs = []
    for arrange, options, action in cases:
        arrange()
        client = client_for(api, **options)
        reprs.append(repr(client))
        with pytest.raises(ZaloError) as caught:
            asyncio.run(_closing(client, action))
        errors.append(caught.value)

    assert {type(e) for e in errors} >= {ZaloUnauthorized, ZaloApiError, ZaloRateLimited, ZaloNetworkError}
    assert "<redacted>" in str(errors[3])  # Zalo's own description echoed the token
    texts = reprs + [str(e) for e in errors] + [repr(e) for e in errors]
    texts += ["".join(traceback.format_exception(e)) for e in errors]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any(r.name == "httpx" for r in caplog.records)  # httpx did log its requests, tokenless
    for token in (api.token, wrong):
        assert not [text for text in texts if token in text]


async def _closing(client: ZaloClient, action: Callable[[ZaloClient], Awaitable[Any]]) -> Any:
    async with client:
        return await action(client)


# -- parse_event --------------------------------------------------------------------------------


def test_parse_event_reads_text_image_sticker_voice_unsupported_and_an_unknown_future_event() -> None:
    text = parse_event({"event_name": "message.text.received", "message": text_message(text="Bắt đầu")})
    image = parse_event(
        {
            "event_name": "message.image.received",
            "message": text_message(photo="https://zdn.vn/p.jpg", caption="hoá đơn"),
        }
    )
    image_url = parse_event(
        {"event_name": "message.image.received", "message": text_message(photo_url="https://zdn.vn/q.jpg")}
    )
    sticker = parse_event({"event_name": "message.sticker.received", "message": text_message(sticker="bfe458bf")})
    voice = parse_event(
        {"event_name": "message.voice.received", "message": text_message(voice_url="https://zdn.vn/v.aac")}
    )
    unsupported = parse_event({"event_name": "message.unsupported.received", "message": text_message()})
    future = parse_event({"event_name": "bot.added.to.group"})

    assert (text.text, text.user_name, text.chat_id, text.message_id, text.date) == (
        "Bắt đầu",
        "Anh Minh",
        "c1",
        "m1",
        1750316131602,
    )
    assert (image.photo_url, image.caption, image.text) == ("https://zdn.vn/p.jpg", "hoá đơn", None)
    assert image_url.photo_url == "https://zdn.vn/q.jpg"
    assert sticker.sticker == "bfe458bf" and voice.voice_url == "https://zdn.vn/v.aac"
    assert (unsupported.name, unsupported.known, unsupported.text, unsupported.user_id) == (
        "message.unsupported.received",
        True,
        None,
        "u1",
    )
    assert (future.name, future.known, future.chat_id, future.text) == ("bot.added.to.group", False, None, None)


def test_parse_event_reads_the_webhook_body_and_the_bare_result_alike() -> None:
    result = {"event_name": "message.text.received", "message": text_message(text="Xin chào")}

    assert parse_event({"ok": True, "result": result}) == parse_event(result)
    assert isinstance(parse_event(result), Event)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        ["message.text.received"],
        {"ok": False, "result": {"event_name": "message.text.received", "message": text_message(text="x")}},
        {"message": text_message(text="x")},
        {"event_name": "", "message": text_message(text="x")},
        {"event_name": "message.text.received"},
        {"event_name": "message.text.received", "message": "Xin chào"},
        {"event_name": "message.text.received", "message": text_message()},
        {"event_name": "message.image.received", "message": {**text_message(), "chat": {}}},
        {"event_name": "message.sticker.received", "message": {**text_message(), "from": None}},
    ],
    ids=[
        "null",
        "array",
        "ok false",
        "no event_name",
        "empty event_name",
        "no message",
        "message not an object",
        "text event without text",
        "no chat id",
        "from not an object",
    ],
)
def test_parse_event_rejects_malformed_payloads_with_zalo_payload_error(payload: Any) -> None:
    with pytest.raises(ZaloPayloadError):
        parse_event(payload)
