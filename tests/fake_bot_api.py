"""A fake Bot API behind python-telegram-bot's BaseRequest: the real Application, no network.

It answers each method as the Bot API would (enough for this bot), records every call, and can
be told to fail a method with an HTTP status to test flood control, blocks and time-outs.
"""

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from telegram import Update
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

TOKEN = "123456:TEST-token-made-up-for-tests-only-0000"
# Telegram's update ids only grow, across restarts of the bot too.
_UPDATE_IDS = itertools.count(1)
BOT = {"id": 123456, "is_bot": True, "first_name": "SME bot", "username": "sme_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    message_id: int | None = None  # of the message sent or edited


class FakeBotAPI(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[int | str]] = {}
        self._message_ids = itertools.count(1000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    def fail(self, method: str, *statuses: int | str) -> None:
        """Make the next calls of `method` fail: an HTTP status, or "timeout"."""
        self.failures.setdefault(method, []).extend(statuses)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        call = Call(name, params)
        if name not in ("getUpdates",):
            self.calls.append(call)
        pending = self.failures.get(name)
        if pending:
            status = pending.pop(0)
            if status == "timeout":
                raise TimedOut("fake time-out")
            return int(status), json.dumps(_error(int(status))).encode()
        result = self._result(name, params)
        call.message_id = result.get("message_id") if isinstance(result, dict) else None
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT
        if name in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            chat_id = int(params.get("chat_id", 0))
            message = {"message_id": int(params.get("message_id", next(self._message_ids))), "date": int(time.time()),
                       "chat": {"id": chat_id, "type": "private"}, "from": BOT}
            if "text" in params:
                message["text"] = params["text"]
            if name == "sendPhoto":
                message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 800, "height": 450}]
            return message
        if name == "getUpdates":
            return []
        return True


def _error(status: int) -> dict[str, Any]:
    if status == 429:
        return {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1}}
    if status == 403:
        return {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    return {"ok": False, "error_code": status, "description": "Bad Request: message is not modified"}


@dataclass
class Owner:
    """A made-up owner: builds the updates a phone would send."""

    id: int
    first_name: str = "An"
    language_code: str = "vi"
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def user(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private"}

    def message(self, update_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": next(self._ids), "date": int(time.time()), "chat": self.chat(),
                                   "from": self.user(), **extra}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": update_id, "message": message}

    def tap(self, update_id: int, data: str, message_id: int = 1) -> dict[str, Any]:
        return {"update_id": update_id, "callback_query": {
            "id": f"cb{update_id}", "from": self.user(), "chat_instance": "ci", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": self.chat(), "text": "…"}}}


class Harness:
    """Drives a built Application update by update, on its own event loop."""

    def __init__(self, app, api: FakeBotAPI):  # type: ignore[no-untyped-def]
        self.app = app
        self.api = api
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(app.initialize())
        self.loop.run_until_complete(app.start())  # running, so background tasks are tracked

    def close(self) -> None:
        self.drain()
        self.loop.run_until_complete(self.app.stop())
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()

    def process(self, data: dict[str, Any], *, drain: bool = True) -> list[Call]:
        """Process one update; with `drain`, also finish the background work it started (charts)."""
        before = len(self.api.calls)
        self.loop.run_until_complete(self.app.process_update(Update.de_json(data, self.app.bot)))
        if drain:
            self.drain()
        return self.api.calls[before:]

    def drain(self) -> None:
        pending = self.app.bot_data["sme_bot"].pending() if "sme_bot" in self.app.bot_data else []
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending))

    def next_id(self) -> int:
        return next(_UPDATE_IDS)

    def say(self, owner: Owner, text: str) -> list[Call]:
        return self.process(owner.message(self.next_id(), text))

    def tap(self, owner: Owner, data: str) -> list[Call]:
        return self.process(owner.tap(self.next_id(), data))

    def remind(self) -> list[Call]:
        before = len(self.api.calls)
        context = SimpleNamespace(bot=self.app.bot)
        self.loop.run_until_complete(self.app.bot_data["sme_bot"].remind(context))
        return self.api.calls[before:]


def texts(calls: list[Call]) -> list[str]:
    return [c.params["text"] for c in calls if c.method == "sendMessage"]


def unquoted(text: str) -> str:
    """A question's text without the answer before it, quoted at its top ("✅ Bán lẻ…")."""
    return text.split("\n\n", 1)[1] if text.startswith("✅") and "\n\n" in text else text


def asked(calls: list[Call]) -> str:
    """The last message sent, unquoted: the question that came (or the result)."""
    return unquoted(texts(calls)[-1])


def buttons(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [(b["text"], b["callback_data"]) for row in (markup or {}).get("inline_keyboard", []) for b in row]
