"""What keeps the owners' pages safe: the signed session cookie, CSRF tokens, security headers,
the request size limit, per-address rate limits, resume codes and the cookie-signing key."""

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No script at all, nothing from elsewhere, never in a frame: the pages are plain forms and one stylesheet.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # A resume link (/r/CODE) is a secret: never passed on to another site.
    "Referrer-Policy": "no-referrer",
}
_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]
STATIC_PREFIX = "/static/"

# Resume codes: 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L, U/V), about 49 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 10
_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")

SESSION_COOKIE = "sme_bot"
# Owners come back months later to retake it and see the change; browsers cap cookies at 400 days.
SESSION_DAYS = 365
# The cookie is signed afresh at most once a day, so an owner who keeps coming back stays known.
_REFRESH_SECONDS = 24 * 3600
SECRET_ENV = "SME_BOT_WEB_SECRET"


# -- headers and the request size limit --------------------------------------------------------------


class SecurityHeaders:
    """The security headers on every response; pages are never cached, since they show answers."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended as raw pairs: no response here sets them itself, and it is on every request.
                message["headers"] = [*message.get("headers", ()), *_raw_headers(scope)]
            await send(message)

        await self.app(scope, receive, with_headers)


def add_headers(headers: MutableHeaders, scope: Scope) -> None:
    """The same headers on a response drawn outside the middleware (the error page)."""
    for name, value in _raw_headers(scope):
        headers[name.decode()] = value.decode()


def _raw_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    raw = list(_RAW_HEADERS)
    static = scope.get("path", "").startswith(STATIC_PREFIX)
    # The stylesheet's address carries the version, so it may be kept a day.
    raw.append((b"cache-control", b"public, max-age=86400" if static else b"no-store"))
    if scope.get("scheme") == "https":
        raw.append((b"strict-transport-security", b"max-age=31536000"))
    return raw


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413: at once when its Content-Length says so,
    else as soon as the bytes read pass the limit (a chunked body), before the app reads it all."""

    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watching)
        except _TooLarge:
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    body = b"413: the request is too large"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# -- the session cookie and CSRF -------------------------------------------------------------------------


class SignedSession:
    """The owner's session as a signed cookie (itsdangerous): HttpOnly, SameSite=Lax, and Secure
    whenever the request came over https (behind a proxy, as uvicorn's proxy headers tell)."""

    def __init__(self, app: ASGIApp, *, secret: str, max_age: int = SESSION_DAYS * 24 * 3600):
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="sme-bot web session")
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _cookie(scope)
        session, signed_at = self._load(raw)
        before = json.dumps(session, sort_keys=True)
        scope["session"] = session

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                after = json.dumps(session, sort_keys=True)
                stale = signed_at is not None and time.time() - signed_at > _REFRESH_SECONDS
                if session and (after != before or stale):
                    self._set(message, scope, self.serializer.dumps(session), f"Max-Age={self.max_age}")
                elif not session and raw is not None:
                    self._set(message, scope, "", "Max-Age=0")
            await send(message)

        await self.app(scope, receive, with_cookie)

    def _load(self, raw: str | None) -> tuple[dict[str, Any], float | None]:
        if not raw:
            return {}, None
        try:
            data, signed_at = self.serializer.loads(raw, max_age=self.max_age, return_timestamp=True)
        except BadSignature:  # forged, from another key, or expired: a fresh session
            return {}, None
        return (data, signed_at.timestamp()) if isinstance(data, dict) else ({}, None)

    @staticmethod
    def _set(message: Message, scope: Scope, value: str, age: str) -> None:
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        MutableHeaders(scope=message).append(
            "Set-Cookie", f"{SESSION_COOKIE}={value}; Path=/; {age}; HttpOnly; SameSite=Lax{secure}")


def _cookie(scope: Scope) -> str | None:
    header = dict(scope["headers"]).get(b"cookie")
    return cookie_parser(header.decode("latin-1")).get(SESSION_COOKIE) if header else None


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's token for its forms, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def csrf_valid(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get("csrf")
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def session_secret(database: str | Path, *, environ: MutableMapping[str, str] = os.environ) -> str:
    """The key that signs owners' cookies: SME_BOT_WEB_SECRET when set; otherwise one made once and
    kept beside the database (readable by its owner only), so a restarted server still knows
    everyone. Whoever can read that file can read the database too; it protects nothing more."""
    given = environ.get(SECRET_ENV, "").strip()
    if given:
        if len(given) < 32:
            raise ValueError(f"{SECRET_ENV} is too short: give at least 32 random characters")
        return given
    if str(database) == ":memory:":
        return secrets.token_urlsafe(48)
    path = Path(f"{database}.web-key")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(key + "\n")
    return key


# -- resume codes ------------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def read_code(typed: str) -> str | None:
    """A code as an owner types it: any case, spaces or dashes between groups; None if it cannot be one."""
    code = re.sub(r"[\s-]", "", typed.upper())
    return code if _CODE.match(code) else None


def show_code(code: str) -> str:
    """"ABCDE FGHJK": two groups are easier to copy from one phone to another."""
    return f"{code[:5]} {code[5:]}"


def owner_id(code: str) -> str:
    """The web person's id in the database: a hash of their resume code, so the database, exports
    and support lists never hold the code itself (it is all anyone needs to continue as them)."""
    return hashlib.sha256(f"sme-bot web {code}".encode()).hexdigest()[:32]


# -- rate limits -------------------------------------------------------------------------------------


class RateLimit:
    """At most `limit` events per `window` seconds for each key (a client address). Memory stays
    bounded: only the most recently seen `keys` addresses are remembered."""

    def __init__(self, limit: int, window: float, *, now: Callable[[], float] = time.monotonic, keys: int = 10_000):
        self.limit = limit
        self.window = window
        self.now = now
        self.keys = keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def exceeded(self, key: str) -> bool:
        return len(self._recent(key)) >= self.limit

    def record(self, key: str) -> None:
        self._recent(key).append(self.now())

    def _recent(self, key: str) -> deque[float]:
        events = self._events.setdefault(key, deque())
        self._events.move_to_end(key)
        cutoff = self.now() - self.window
        while events and events[0] <= cutoff:
            events.popleft()
        while len(self._events) > self.keys:
            self._events.popitem(last=False)
        return events


# -- logs ----------------------------------------------------------------------------------------------


class HideResumeCodes(logging.Filter):
    """uvicorn's access log (off unless asked for) prints each path; a code in /r/CODE is a secret."""

    _PATH = re.compile(r"/r/[^\s?\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._PATH.sub("/r/…", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
