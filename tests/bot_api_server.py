"""A small Bot API server on loopback, for running `sme-bot run` end to end without Telegram.

It speaks enough of the Bot API for this bot (getMe, getUpdates with offsets and long polling,
sendMessage, sendPhoto, editMessageText, editMessageReplyMarkup, answerCallbackQuery…), keeps
what the bot sent per chat, and lets a test push the updates a person's phone would send.
A test can also make a method fail (an HTTP status, or a dropped connection), hold the bot's
sends until it lets them go, and read every getUpdates call's offset and what it returned.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

BOT = {"id": 999001, "is_bot": True, "first_name": "SME bot", "username": "sme_local_bot"}


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when the bot sends for many chats at once.
    request_queue_size = 256


class BotAPIServer:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # {"method", "chat_id", "text", "buttons", "message_id"}
        self.errors: list[str] = []
        self.introductions: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[int | str]] = {}  # per method: statuses to answer next
        self.polls: list[dict[str, Any]] = []  # each getUpdates: {"offset", "returned": [ids]}
        self.held = 0  # sends waiting for release()
        self._gate: threading.Event | None = None
        self._confirmed = 0  # update ids below this were confirmed by an offset
        self._matched: dict[int, int] = {}  # per chat: messages up to here were matched by a wait
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self.httpd = _Server(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/bot"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the person's side --------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        with self._cond:
            update["update_id"] = next(self._ids)
            self.updates.append(update)
            self._cond.notify_all()

    def text(self, user_id: int, text: str) -> None:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "text": text,
                   "chat": {"id": user_id, "type": "private"},
                   "from": {"id": user_id, "is_bot": False, "first_name": f"Owner {user_id}"}}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.push({"message": message})

    def tap(self, user_id: int, data: str) -> None:
        self.push({"callback_query": {
            "id": str(next(self._message_ids)), "chat_instance": "ci", "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": f"Owner {user_id}"},
            "message": {"message_id": 1, "date": int(time.time()), "chat": {"id": user_id, "type": "private"}}}})

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.sent if m["chat_id"] == chat_id and m["method"] == "sendMessage"]

    def wait_for(self, chat_id: int, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        """The first message to `chat_id` after the one the last wait matched that fits `predicate`.

        Starting from the last match rather than from now means a reply that arrives before the
        test starts waiting is still found.
        """
        with self._cond:
            deadline = time.monotonic() + timeout
            while True:
                mine = [m for m in self.sent if m["chat_id"] == chat_id]
                start = self._matched.get(chat_id, 0)
                for index in range(start, len(mine)):
                    if mine[index]["method"] == "sendMessage" and predicate(mine[index]):
                        self._matched[chat_id] = index + 1
                        return mine[index]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"chat {chat_id}: no matching message; last: {mine[-1:] or self.sent[-1:]}")
                self._cond.wait(left)

    def fail(self, method: str, *statuses: int | str) -> None:
        """Make the next calls of `method` fail: an HTTP status, or "drop" (connection closed)."""
        with self._cond:
            self.failures.setdefault(method, []).extend(statuses)

    def hold(self) -> None:
        """Keep the bot's sends waiting, unanswered and unrecorded, until release()."""
        with self._cond:
            self._gate = threading.Event()

    def release(self, *, discard: bool = False) -> None:
        """Let held sends go on; with `discard` they are dropped unrecorded (the bot was killed)."""
        with self._cond:
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.discard = discard  # type: ignore[attr-defined]
            gate.set()

    def wait_until(self, predicate: Any, timeout: float = 30) -> None:
        """Wait until `predicate(self)` holds (checked whenever the bot calls)."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"condition not met in {timeout} s; polls: {self.polls[-3:]}")

    # -- the bot's side -----------------------------------------------------------------------

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        timeout = min(float(params.get("timeout", 0) or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._confirmed = max(self._confirmed, offset)
            poll: dict[str, Any] = {"offset": offset, "returned": None}
            self.polls.append(poll)
            self._cond.notify_all()
            while True:
                pending = [u for u in self.updates if u["update_id"] >= self._confirmed]
                left = deadline - time.monotonic()
                if pending or left <= 0:
                    poll["returned"] = [u["update_id"] for u in pending[:100]]
                    self._cond.notify_all()
                    return pending[:100]
                self._cond.wait(left)

    def _wait_for_release(self) -> bool:
        """Hold a send while a test says so; False when it is to be dropped."""
        with self._cond:
            gate = self._gate
            if gate is None:
                return True
            self.held += 1
            self._cond.notify_all()
        gate.wait()
        with self._cond:
            self.held -= 1
        return not getattr(gate, "discard", False)

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup") or {}
        buttons = [(b["text"], b.get("callback_data")) for row in markup.get("inline_keyboard", []) for b in row]
        message_id = int(params.get("message_id") or next(self._message_ids))
        chat_id = int(params.get("chat_id", 0))
        with self._cond:
            self.sent.append({"method": method, "chat_id": chat_id, "text": params.get("text", ""),
                              "buttons": buttons, "message_id": message_id})
            self._cond.notify_all()
        message = {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                   "from": BOT}
        if "text" in params:
            message["text"] = params["text"]
        if method == "sendPhoto":
            message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 800, "height": 450}]
        return message

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"):
            if not self._wait_for_release():
                raise _Dropped
            return self._record(method, params)
        if method in ("setMyCommands", "setMyDescription", "setMyShortDescription"):
            self.introductions.append((method, params))  # the "/" menu and the empty-chat screen
            return True
        if method in ("answerCallbackQuery", "deleteWebhook", "setWebhook", "close", "logOut"):
            return True
        self.errors.append(f"unexpected method {method}")
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                params = _params(self.headers.get("Content-Type", ""), body)
                with server._cond:
                    planned = server.failures.get(method)
                    failure = planned.pop(0) if planned else None
                status, answer = 200, {"ok": True}
                try:
                    if failure == "drop":
                        raise _Dropped
                    if failure is not None:
                        status, answer = int(failure), _error(int(failure))
                    else:
                        answer["result"] = server.answer(method, params)
                except _Dropped:
                    self.close_connection = True
                    self.connection.shutdown(2)  # no answer at all: a network failure to the bot
                    return
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot went away mid-poll (killed, or stopping): nothing to answer

            def log_message(self, *_: object) -> None:
                pass

        return Handler


class _Dropped(Exception):
    """The connection is closed without an answer."""


def _error(status: int) -> dict[str, Any]:
    descriptions = {401: "Unauthorized", 404: "Not Found", 403: "Forbidden: bot was blocked by the user",
                    409: "Conflict: terminated by other getUpdates request"}
    answer: dict[str, Any] = {"ok": False, "error_code": status,
                              "description": descriptions.get(status, "Too Many Requests: retry after 1"
                                                              if status == 429 else "Bad Request")}
    if status == 429:
        answer["parameters"] = {"retry_after": 1}
    return answer


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}")
    if content_type.startswith("multipart/form-data"):
        # Only sendPhoto posts files here; the chat id is what the tests read.
        text = body.decode("latin-1")
        marker = 'name="chat_id"'
        if marker in text:
            return {"chat_id": text.split(marker, 1)[1].split("\r\n\r\n", 1)[1].split("\r\n", 1)[0]}
        return {}
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode()):
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params
