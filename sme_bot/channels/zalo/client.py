"""A small async client for the Zalo Bot Platform, and the one module that holds what we assume about it.

Every fact about Zalo's Bot API that sme-bot relies on is written down (and coded) here, so that
when Zalo changes something there is one file to read and fix; other Zalo code (a webhook route,
a polling loop) imports these names instead of repeating the facts.

"Confirmed" below means found, through the project's search tool, in several independent public
integrations and notes that quote Zalo's own pages (docs.zaloplatforms.com, bot.zapps.me):
openclaw's and goclaw's Zalo channels, their docs, and project notes that copy Zalo's samples.
Zalo's pages themselves were not in the searchable corpus, so nothing was read at the source.

- Base URL shape (confirmed): ``POST https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>``, JSON
  body. The token is in the URL, so URLs are never logged; see "Keeping the token out" below.
- Envelope (confirmed): ``{ok, result, description, error_code}``. ``ok: false`` is a failure even
  on HTTP 200, so the body decides, not the status. Which HTTP status Zalo pairs with an
  ``error_code`` is not documented (assumed: either may carry it, both are read).
- Error codes (confirmed, Zalo's error-code page as quoted by goclaw): 400 bad request, 401 token
  invalid or expired, 403 "internal server error" (sic), 404 not found, 408 request timeout (an
  empty long poll), 429 quota exceeded.
- Methods (confirmed): getMe → ``{id, account_name, account_type, can_join_groups}``;
  getUpdates ``{timeout}`` → one event per call, or ``ok: false, error_code: 408`` when the long
  poll ends empty; setWebhook ``{url, secret_token}``, both required, secret 8–256 characters,
  → ``{url, updated_at}``; deleteWebhook and getWebhookInfo → ``{url, updated_at}``;
  sendMessage ``{chat_id, text}``, text 1–2000 characters, → ``{message_id, date}``; sendPhoto
  ``{chat_id, photo: URL, caption?}`` → ``{message_id, date}``; sendChatAction
  ``{chat_id, action: "typing"}`` → ``{ok: true}`` with no result.
- No update ids (confirmed): getUpdates has no offset or update_id. An event whose answer is lost
  in transit (a read timeout after Zalo handed it out) cannot be asked for again.
- getUpdates' ``timeout`` (assumed): sent as a JSON number; Zalo's parameter table says String
  while its own example sends the number 30.
- Polling and webhook exclude each other (confirmed): getUpdates fails while a webhook is set.
- Webhook (confirmed): an HTTPS URL; Zalo POSTs ``{ok: true, result: {event_name, message}}``
  with the secret in the ``X-Bot-Api-Secret-Token`` header.
- Events (confirmed): ``message.{text,image,sticker,voice,unsupported}.received``. Message fields:
  ``from {id, display_name, is_bot}``, ``chat {id, chat_type: PRIVATE|GROUP}`` (GROUP is beta),
  text, photo (one integration reports ``photo_url``; both are read), caption, sticker, voice_url,
  message_id, date (milliseconds, in Zalo's sample). Replies go to ``chat.id``.
- Text limit (2000 confirmed; the unit assumed): lengths are counted here in UTF-16 code units,
  never fewer than Python characters, so a part is within the limit whichever way Zalo counts.
- Retry-After (assumed): Zalo documents none; an HTTP ``Retry-After`` header is honoured if sent.

Keeping the token out. httpx logs every request URL at INFO, so httpx never sees the token:
requests are made for ``.../botREDACTED/<method>`` and a transport underneath httpx swaps the real
token in on the way to the socket (httpcore, below it, logs no URLs). This holds whatever logging
handlers or levels the application sets up, which a logging filter could not promise. Error
messages are built from the method name, and text Zalo sends back is scrubbed of the token.

Retries. Up to ``len(retry_pauses)`` retries, pausing between them, for failures that are safe to
repeat: a connection that could not be opened (nothing was sent) and 429 for every method; and,
for calls that are harmless to repeat (everything but sendMessage and sendPhoto), also 5xx answers
and connections that failed after the request went out. A send is never re-sent once it may have
reached Zalo: that failure is raised at once with ``delivered_unknown=True``, because the message
may already be on the person's phone and a blind re-send would show it twice.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
TEXT_LIMIT = 2000
SECRET_MIN, SECRET_MAX = 8, 256
WEBHOOK_SECRET_HEADER = "X-Bot-Api-Secret-Token"
EMPTY_POLL_CODE = 408
CHAT_ACTIONS = frozenset({"typing"})  # Zalo lists upload_photo as "coming soon"

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_VOICE = "message.voice.received"
EVENT_UNSUPPORTED = "message.unsupported.received"
EVENTS = frozenset({EVENT_TEXT, EVENT_IMAGE, EVENT_STICKER, EVENT_VOICE, EVENT_UNSUPPORTED})

# Calls that put something in front of a person: never repeated once they may have reached Zalo.
DELIVERING_METHODS = frozenset({"sendMessage", "sendPhoto"})
# A longer Retry-After is not slept through inside one call; the caller gets ZaloRateLimited to schedule.
MAX_RETRY_AFTER = 30.0
# getUpdates holds the request open for its timeout; the read timeout must outlast it.
POLL_HEADROOM = 10.0

_PLACEHOLDER = "REDACTED"

Sleep = Callable[[float], Awaitable[object]]


class ZaloError(Exception):
    """Something went wrong talking to Zalo. No message, repr or traceback carries the bot token.

    ``delivered_unknown`` is True when a send failed in a way that leaves open whether the
    person got the message; such a failure is never retried automatically.
    """

    def __init__(self, message: str, *, delivered_unknown: bool = False) -> None:
        super().__init__(message)
        self.delivered_unknown = delivered_unknown


class ZaloPayloadError(ZaloError):
    """JSON from Zalo (an answer or a webhook body) does not have the documented shape."""


class ZaloNetworkError(ZaloError):
    """Zalo could not be reached, or the connection failed before its answer arrived."""


class ZaloApiError(ZaloError):
    """Zalo answered with a failure: ``ok: false``, or an HTTP error without a Zalo answer."""

    def __init__(
        self, error_code: int | None, description: str, *, method: str = "", delivered_unknown: bool = False
    ) -> None:
        maybe = "; it may have been delivered" if delivered_unknown else ""
        super().__init__(
            f"Zalo {method or 'call'} failed with {error_code}: {description}{maybe}",
            delivered_unknown=delivered_unknown,
        )
        self.error_code = error_code
        self.description = description
        self.method = method


class ZaloUnauthorized(ZaloApiError):
    """The bot token is invalid or expired (401): retrying will not help."""


class ZaloRateLimited(ZaloApiError):
    """Zalo's quota is exceeded (429). ``retry_after`` is the wait Zalo asked for, if it said."""

    def __init__(
        self, error_code: int | None, description: str, *, method: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(error_code, description, method=method)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Event:
    """One incoming event, from getUpdates or a webhook body.

    Events Zalo has not documented yet keep their name, and whatever fields they share with a
    message; ``raw`` holds the message object as received, for the fields not modelled here.
    """

    name: str
    chat_id: str | None
    chat_type: str | None  # "PRIVATE" or "GROUP"
    user_id: str | None
    user_name: str | None
    user_is_bot: bool
    message_id: str | None
    date: int | None  # milliseconds since the epoch, in Zalo's sample
    text: str | None
    photo_url: str | None
    caption: str | None
    sticker: str | None
    voice_url: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def known(self) -> bool:
        return self.name in EVENTS


@dataclass(frozen=True, slots=True)
class BotInfo:
    id: str
    account_name: str
    account_type: str
    can_join_groups: bool


@dataclass(frozen=True, slots=True)
class SentMessage:
    # Lenient on purpose: ``ok: true`` is what says the message went out; a send must not look
    # failed (and be re-sent) because an id in the answer came in an unexpected shape.
    message_id: str | None
    date: int | None


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    url: str  # "" when no webhook is set
    updated_at: int | None


class ZaloClient:
    """The Zalo Bot API, one method per call we use. Use as ``async with ZaloClient(token) as zalo:``.

    ``retry_pauses`` are the seconds to wait before each retry (so at most ``len(retry_pauses)``
    retries); ``sleep`` does the waiting, and tests pass one that only records. ``transport`` is
    the httpx transport to send through (default: a plain ``httpx.AsyncHTTPTransport``, which
    reads no proxy settings from the environment; pass one with ``proxy=`` where one is needed).
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        retry_pauses: Sequence[float] = (0.5, 2.0, 5.0),
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token or token != token.strip() or "/" in token:
            raise ValueError("the Zalo bot token is empty or malformed")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError("base_url must be an http(s) URL")
        self._token = token
        self._base_url = base_url
        self._timeout = timeout
        self._retry_pauses = tuple(retry_pauses)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=_TokenTransport(transport or httpx.AsyncHTTPTransport(), token), timeout=timeout
        )

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self._base_url!r}, token=<redacted>)"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- calls --------------------------------------------------------------------------------

    async def get_me(self) -> BotInfo:
        result = _object(await self._call("getMe", {}), "getMe result")
        bot_id = _str(result.get("id"))
        if bot_id is None:
            raise ZaloPayloadError("getMe: the answer has no bot id")
        return BotInfo(
            id=bot_id,
            account_name=_str(result.get("account_name")) or "",
            account_type=_str(result.get("account_type")) or "",
            can_join_groups=result.get("can_join_groups") is True,
        )

    async def get_updates(self, timeout: int = 30) -> Event | None:
        """Wait up to `timeout` seconds for the next event; None when the long poll ends empty.

        Zalo hands out one event per call and has no offsets, so call this in a loop, one call at
        a time, and never while a webhook is set (Zalo then answers with an error).
        """
        try:
            result = await self._call("getUpdates", {"timeout": timeout}, read_timeout=timeout + POLL_HEADROOM)
        except ZaloApiError as error:
            if error.error_code == EMPTY_POLL_CODE:
                return None
            raise
        return parse_event(result) if result else None

    async def send_message(self, chat_id: str, text: str) -> list[SentMessage]:
        """Send `text`, as several messages if it is over Zalo's limit (see `split_text`).

        Refuses empty text. If a later part fails, the parts before it have been delivered.
        Not retried once the request may have reached Zalo (see the module docstring).
        """
        _require_chat(chat_id)
        parts = split_text(text)
        if not parts:
            raise ValueError("refusing to send an empty message")
        sent = []
        for part in parts:
            sent.append(_sent(await self._call("sendMessage", {"chat_id": chat_id, "text": part})))
        return sent

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> SentMessage:
        """Send the picture at `photo_url` (Zalo fetches it). Not retried once it may have reached Zalo."""
        _require_chat(chat_id)
        if urlsplit(photo_url).scheme not in ("http", "https"):
            raise ValueError("photo_url must be an http(s) URL")
        body = {"chat_id": chat_id, "photo": photo_url}
        if caption is not None:
            if not caption.strip() or _units(caption) > TEXT_LIMIT:
                raise ValueError(f"a caption must have 1 to {TEXT_LIMIT} characters")
            body["caption"] = caption
        return _sent(await self._call("sendPhoto", body))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" in the chat. Retried like a read: a repeated typing indicator is harmless."""
        _require_chat(chat_id)
        if action not in CHAT_ACTIONS:
            raise ValueError(f"Zalo supports the chat actions {sorted(CHAT_ACTIONS)}, not {action!r}")
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret: str) -> WebhookInfo:
        """Have Zalo POST events to `url` (https) with `secret` in the X-Bot-Api-Secret-Token header."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("the webhook URL must be an https:// URL")
        if not SECRET_MIN <= len(secret) <= SECRET_MAX:
            raise ValueError(f"the webhook secret must have {SECRET_MIN} to {SECRET_MAX} characters, not {len(secret)}")
        return _webhook(await self._call("setWebhook", {"url": url, "secret_token": secret}))

    async def delete_webhook(self) -> WebhookInfo:
        return _webhook(await self._call("deleteWebhook", {}))

    async def get_webhook_info(self) -> WebhookInfo:
        return _webhook(await self._call("getWebhookInfo", {}))

    # -- one call, with retries ---------------------------------------------------------------

    async def _call(self, method: str, body: dict[str, Any], *, read_timeout: float | None = None) -> Any:
        timeout = httpx.Timeout(self._timeout, read=read_timeout or self._timeout)
        pauses = iter(self._retry_pauses)
        while True:
            try:
                return await self._attempt(method, body, timeout)
            except _Transient as transient:
                pause = next(pauses, None)
                if pause is None:
                    raise transient.error from None
                wait = pause if transient.retry_after is None else transient.retry_after
                log.warning("%s; trying again in %.1f s", transient.error, wait)
                await self._sleep(wait)

    async def _attempt(self, method: str, body: dict[str, Any], timeout: httpx.Timeout) -> Any:
        delivers = method in DELIVERING_METHODS
        try:
            response = await self._http.post(f"{self._base_url}{_PLACEHOLDER}/{method}", json=body, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # No connection, so nothing reached Zalo: safe to try again, even for a send.
            raise _Transient(ZaloNetworkError(f"Zalo {method}: could not connect ({self._describe(error)})")) from None
        except httpx.TransportError as error:
            if delivers:
                raise ZaloNetworkError(
                    f"Zalo {method}: the connection failed after the request was sent ({self._describe(error)});"
                    " it may have been delivered",
                    delivered_unknown=True,
                ) from None
            raise _Transient(
                ZaloNetworkError(f"Zalo {method}: the connection failed ({self._describe(error)})")
            ) from None
        try:
            return self._result(method, response)
        except ZaloRateLimited as error:
            # A 429 means Zalo refused the call, so even a send can be tried again.
            if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER:
                raise
            raise _Transient(error, error.retry_after) from None
        except ZaloApiError as error:
            if response.status_code < 500:
                raise
            if delivers:
                raise ZaloApiError(error.error_code, error.description, method=method, delivered_unknown=True) from None
            raise _Transient(error) from None

    def _result(self, method: str, response: httpx.Response) -> Any:
        envelope = _envelope(response)
        if envelope is not None and envelope["ok"] is True and response.is_success:
            return envelope.get("result")
        code = envelope.get("error_code") if envelope is not None else None
        if not isinstance(code, int) or isinstance(code, bool):
            code = None if response.is_success else response.status_code
        described = envelope.get("description") if envelope is not None else None
        description = self._scrub(str(described) if described else f"HTTP {response.status_code}")
        codes = {code, response.status_code}
        if 401 in codes:
            raise ZaloUnauthorized(code, description, method=method)
        if 429 in codes:
            raise ZaloRateLimited(code, description, method=method, retry_after=_retry_after(response))
        raise ZaloApiError(code, description, method=method)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "<redacted>")

    def _describe(self, error: Exception) -> str:
        detail = self._scrub(str(error))
        return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


class _Transient(Exception):
    """Internal: this attempt failed in a way that is safe to try again."""

    def __init__(self, error: ZaloError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class _TokenTransport(httpx.AsyncBaseTransport):
    """Swaps the real token into the URL below httpx, so httpx's logs and errors only see the placeholder."""

    def __init__(self, inner: httpx.AsyncBaseTransport, token: str) -> None:
        self._inner = inner
        self._token = quote(token, safe=":").encode()

    def __repr__(self) -> str:
        return f"<_TokenTransport over {self._inner!r}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.replace(_PLACEHOLDER.encode(), self._token, 1)
        real = httpx.Request(
            request.method,
            request.url.copy_with(raw_path=path),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(real)

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- events -----------------------------------------------------------------------------------


def parse_event(payload: Any) -> Event:
    """The event in a webhook body ``{ok, result: {event_name, message}}`` or a bare ``{event_name, message}``.

    Pure, so a webhook route can use it (after checking the secret header). Raises
    ZaloPayloadError, naming only the event and the missing field, never message content.
    """
    if isinstance(payload, Mapping) and "event_name" not in payload and "result" in payload:
        if payload.get("ok") is not True:
            raise ZaloPayloadError("the event envelope does not say ok: true")
        payload = payload["result"]
    if not isinstance(payload, Mapping):
        raise ZaloPayloadError(f"an event must be a JSON object, not {type(payload).__name__}")
    name = payload.get("event_name")
    if not isinstance(name, str) or not name:
        raise ZaloPayloadError("the event has no event_name")
    message = payload.get("message")
    if message is None and name not in EVENTS:
        message = {}  # a future event may carry no message; its name is still worth handing on
    message = _object(message, f"{name} message")
    sender = _object(message.get("from", {}), f"{name} message.from")
    chat = _object(message.get("chat", {}), f"{name} message.chat")
    event = Event(
        name=name,
        chat_id=_str(chat.get("id")),
        chat_type=_str(chat.get("chat_type")),
        user_id=_str(sender.get("id")),
        user_name=_str(sender.get("display_name")),
        user_is_bot=sender.get("is_bot") is True,
        message_id=_str(message.get("message_id")),
        date=_int(message.get("date")),
        text=_text(message.get("text")),
        photo_url=_text(message.get("photo") or message.get("photo_url")),
        caption=_text(message.get("caption")),
        sticker=_str(message.get("sticker")),
        voice_url=_text(message.get("voice_url")),
        raw=message,
    )
    if name in EVENTS and (event.chat_id is None or event.user_id is None):
        raise ZaloPayloadError(f"{name}: the message has no chat.id or from.id")
    if name == EVENT_TEXT and event.text is None:
        raise ZaloPayloadError(f"{name}: the message has no text")
    return event


# -- text -------------------------------------------------------------------------------------


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut `text` into messages of at most `limit` UTF-16 units, at line breaks where it can.

    Whole lines are packed into each message; the line break where a cut falls is dropped, so
    joining the messages with "\\n" gives back the text. A single line over the limit is cut at
    its last space that fits (the space dropped), or hard at the limit if it has none. Blank
    messages are left out, so blank or empty text gives no messages.
    """
    if limit < 2:
        raise ValueError("the limit must leave room for at least one character")
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        candidate = f"{current}\n{piece}" if current else piece
        if _units(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = piece
    parts.append(current)
    return [part for part in parts if part.strip()]


def _pieces(text: str, limit: int) -> Iterator[str]:
    for line in text.split("\n"):
        while _units(line) > limit:
            end = _fitting(line, limit)
            space = line.rfind(" ", 0, end + 1)
            if space > 0:
                yield line[:space]
                line = line[space + 1 :]
            else:
                yield line[:end]
                line = line[end:]
        yield line


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many leading characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


# -- small readers ----------------------------------------------------------------------------


def _envelope(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, Mapping) and "ok" in data else None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):  # absent, or an HTTP date: fall back to our own pauses
        return None


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ZaloPayloadError(f"{what} is not a JSON object")
    return value


def _str(value: Any) -> str | None:
    # Zalo's ids are strings; a number is accepted rather than silently dropped.
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _require_chat(chat_id: str) -> None:
    if not isinstance(chat_id, str) or not chat_id:
        raise ValueError("chat_id must be a non-empty string (Zalo's chat.id)")


def _sent(result: Any) -> SentMessage:
    result = result if isinstance(result, Mapping) else {}
    return SentMessage(message_id=_str(result.get("message_id")), date=_int(result.get("date")))


def _webhook(result: Any) -> WebhookInfo:
    result = _object(result, "webhook result")
    url = result.get("url")
    if not isinstance(url, str):
        raise ZaloPayloadError("the webhook result has no url")
    return WebhookInfo(url=url, updated_at=_int(result.get("updated_at")))
