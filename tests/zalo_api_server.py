"""A fake Zalo Bot API on loopback, for testing the Zalo client without Zalo.

A real HTTP server on 127.0.0.1 (random port, background thread) that answers the way Zalo's Bot
API is documented to (the shapes are listed in sme_bot/channels/zalo/client.py). It is written
from those shapes, not from the client's code, so a client that drifts from them fails here.
It keeps every call, keeps what Zalo would have delivered, lets a test queue what a person's
phone would send, and can be told to misbehave on the next few calls of a method.

Where Zalo's docs are silent, it assumes:
- an empty long poll answers ``ok: false, error_code: 408, description: "Request timeout"``
  (what open-source Zalo integrations report and handle);
- getUpdates while a webhook is set answers ``ok: false, error_code: 400``;
- an ``ok: false`` answer of its own carries the same HTTP status as its error_code (a wrong token
  gets HTTP 401, an unknown method 404); tests inject ``ok: false`` on HTTP 200 separately.
"""

import itertools
import json
import queue
import secrets
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

BOT_INFO = {"id": "7b2e5c1d9a0f", "account_name": "bot.danhgiaso", "account_type": "BASIC", "can_join_groups": False}
TEXT_LIMIT = 2000
EMPTY_POLL_CODE = 408


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any]


@dataclass(frozen=True)
class _Fault:
    kind: str  # "ok_false" | "http" | "hang" | "drop"
    status: int = 200
    error_code: int | None = None
    description: str = ""
    retry_after: str | None = None
    seconds: float = 0.0


Answer = tuple[int, dict[str, Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a hung or dropped call is the point of those tests, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeZaloAPI:
    """Use as ``with FakeZaloAPI() as api:``; point a client at ``api.base_url`` with ``api.token``."""

    def __init__(self, token: str | None = None, *, poll_cap: float = 0.2) -> None:
        # A token of its own for each fake: bots of tests running side by side are different bots
        # (sme-bot allows one poller per token on a machine).
        self.token = token or f"3141592653589793238:FakeZaloBotToken_{secrets.token_hex(4)}"
        self.poll_cap = poll_cap  # longest a getUpdates waits, whatever timeout it asks for
        self.calls: list[Call] = []
        self.delivered: list[Call] = []  # sendMessage/sendPhoto calls Zalo accepted
        self.webhook_url = ""
        self.webhook_secret = ""
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(0x1D2C3B4A)
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        # A short poll interval so stop() returns at once rather than after serve_forever's default 0.5 s.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/bot"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # wakes hung calls
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [call.body for call in self.calls if call.method == method]

    # -- what a person's phone sends ----------------------------------------------------------

    def push_event(self, event_name: str, message: dict[str, Any] | None) -> None:
        self._events.put(
            {"event_name": event_name} if message is None else {"event_name": event_name, "message": message}
        )

    def push_text(
        self, chat_id: str, text: str, *, user_id: str | None = None, name: str = "Chị Lan", chat_type: str = "PRIVATE"
    ) -> None:
        self.push_event(
            "message.text.received",
            {
                "from": {"id": user_id or chat_id, "display_name": name, "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat_type},
                "text": text,
                "message_id": self._message_id(),
                "date": int(time.time() * 1000),
            },
        )

    # -- misbehaving on the next calls of a method --------------------------------------------

    def fail_next(
        self, method: str, error_code: int, description: str = "", *, times: int = 1, status: int = 200
    ) -> None:
        """Answer ``ok: false`` with `error_code` (on HTTP `status`, 200 by default)."""
        self._add(method, times, _Fault("ok_false", status, error_code, description or f"error {error_code}"))

    def http_error_next(self, method: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """Answer HTTP `status`: a Zalo envelope below 500, a plain-text gateway page from 500 up."""
        self._add(method, times, _Fault("http", status, status, f"HTTP {status}", retry_after))

    def hang_next(self, method: str, seconds: float = 10.0, *, times: int = 1) -> None:
        """Do the call (a send is delivered), then hold the answer back for `seconds`."""
        self._add(method, times, _Fault("hang", seconds=seconds))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Do the call (a send is delivered), then close the connection without answering."""
        self._add(method, times, _Fault("drop"))

    def _add(self, method: str, times: int, fault: _Fault) -> None:
        with self._lock:
            self._faults[method].extend([fault] * times)

    def _next_fault(self, method: str) -> _Fault | None:
        with self._lock:
            faults = self._faults[method]
            return faults.pop(0) if faults else None

    # -- Zalo's side --------------------------------------------------------------------------

    def answer(self, method: str, body: dict[str, Any]) -> Answer:
        if method == "getMe":
            return _ok(BOT_INFO)
        if method == "getUpdates":
            return self._get_updates(body)
        if method == "setWebhook":
            return self._set_webhook(body)
        if method == "deleteWebhook":
            with self._lock:
                self.webhook_url = self.webhook_secret = ""
            return _ok({"url": "", "updated_at": _now()})
        if method == "getWebhookInfo":
            return _ok({"url": self.webhook_url, "updated_at": _now()})
        if method == "sendMessage":
            problem = _chat_problem(body) or _text_problem(body.get("text"), "text")
            return _error(400, problem) if problem else self._deliver(method, body)
        if method == "sendPhoto":
            problem = _chat_problem(body) or _photo_problem(body)
            return _error(400, problem) if problem else self._deliver(method, body)
        if method == "sendChatAction":
            problem = _chat_problem(body) or ("" if body.get("action") == "typing" else "unsupported action")
            return _error(400, problem) if problem else (200, {"ok": True})  # documented: no result
        return _error(404, "Not Found")

    def _get_updates(self, body: dict[str, Any]) -> Answer:
        if self.webhook_url:
            return _error(400, "Webhook is set; delete it to use getUpdates")
        try:
            wait = min(float(body.get("timeout", 30)), self.poll_cap)
        except (TypeError, ValueError):
            return _error(400, "timeout must be a number of seconds")
        try:
            return _ok(self._events.get(timeout=wait))
        except queue.Empty:
            return _error(EMPTY_POLL_CODE, "Request timeout")

    def _set_webhook(self, body: dict[str, Any]) -> Answer:
        url, secret = body.get("url"), body.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            return _error(400, "url must be an https URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            return _error(400, "secret_token must have 8 to 256 characters")
        with self._lock:
            self.webhook_url, self.webhook_secret = url, secret
        return _ok({"url": url, "updated_at": _now()})

    def _deliver(self, method: str, body: dict[str, Any]) -> Answer:
        with self._lock:
            self.delivered.append(Call(method, body))
        return _ok({"message_id": self._message_id(), "date": _now()})

    def _message_id(self) -> str:
        return f"{next(self._ids):020x}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API would

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token, _, method = self.path.removeprefix("/bot").rpartition("/")
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = None
                with server._lock:
                    server.calls.append(Call(method, body if isinstance(body, dict) else {}))
                if not self.path.startswith("/bot") or not method:
                    return self._send(*_error(404, "Not Found"))
                if token != server.token:
                    return self._send(*_error(401, "Unauthorized"))
                if not isinstance(body, dict):
                    return self._send(*_error(400, "the body must be a JSON object"))
                fault = server._next_fault(method)
                if fault is None:
                    return self._send(*server.answer(method, body))
                if fault.kind == "ok_false":
                    return self._send(
                        fault.status, {"ok": False, "error_code": fault.error_code, "description": fault.description}
                    )
                if fault.kind == "http":
                    return self._send_http_error(fault)
                answer = server.answer(method, body)
                if fault.kind == "hang":
                    server._stopping.wait(fault.seconds)
                    return self._send(*answer)
                self.close_connection = True  # "drop": the call was done, the answer never leaves

            def _send_http_error(self, fault: _Fault) -> None:
                if fault.status < 500:
                    payload = json.dumps({"ok": False, "error_code": fault.status, "description": fault.description})
                    self._write(fault.status, payload.encode(), "application/json", fault.retry_after)
                else:
                    self._write(fault.status, b"upstream unavailable", "text/plain", fault.retry_after)

            def _send(self, status: int, envelope: dict[str, Any]) -> None:
                self._write(status, json.dumps(envelope).encode(), "application/json", None)

            def _write(self, status: int, payload: bytes, content_type: str, retry_after: str | None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.end_headers()
                    self.wfile.write(payload)
                except ConnectionError:
                    self.close_connection = True  # the client gave up waiting (a hung call)

            def log_message(self, *_: object) -> None:
                pass

        return Handler


def _ok(result: dict[str, Any]) -> Answer:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str) -> Answer:
    return code, {"ok": False, "error_code": code, "description": description}


def _now() -> int:
    return int(time.time() * 1000)


def _chat_problem(body: dict[str, Any]) -> str:
    return "" if isinstance(body.get("chat_id"), str) and body["chat_id"] else "chat_id is required"


def _text_problem(text: Any, name: str) -> str:
    if not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT:
        return f"{name} must have 1 to {TEXT_LIMIT} characters"
    return ""


def _photo_problem(body: dict[str, Any]) -> str:
    if not isinstance(body.get("photo"), str) or not body["photo"]:
        return "photo is required"
    return _text_problem(body["caption"], "caption") if "caption" in body else ""
