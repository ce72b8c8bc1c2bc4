"""Zalo's webhook under a real uvicorn server: the secret checked before the body is read."""

import contextlib
import json
import socket
import sqlite3
import threading
import time

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from zalo_api_server import FakeZaloAPI

from sme_bot import loader
from sme_bot.channels.zalo.bot import build_bot
from sme_bot.channels.zalo.client import WEBHOOK_SECRET_HEADER, ZaloClient
from sme_bot.channels.zalo.webhook import webhook_endpoint
from sme_bot.config import Config
from sme_bot.storage import Store

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def webhook(tmp_path):
    """`POST /zalo` served by uvicorn on loopback; the bot and its store live on the server's thread."""
    with FakeZaloAPI() as api:
        @contextlib.asynccontextmanager
        async def lifespan(app):  # type: ignore[no-untyped-def]
            store = Store(tmp_path / "hook.db")
            client = ZaloClient(api.token, base_url=api.base_url, retry_pauses=())
            app.state.endpoint = webhook_endpoint(build_bot(Config(), loader.load("quick-check"), store, client),
                                                  SECRET, max_body=4096)
            yield
            await client.aclose()
            store.close()

        async def route(request):  # type: ignore[no-untyped-def]
            return await request.app.state.endpoint(request)

        app = Starlette(routes=[Route("/zalo", route, methods=["POST"])], lifespan=lifespan)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield api, f"http://127.0.0.1:{port}/zalo", tmp_path / "hook.db"
        server.should_exit = True
        thread.join(timeout=10)


def event(text: str, message_id: str) -> dict:
    return {"ok": True, "result": {"event_name": "message.text.received", "message": {
        "from": {"id": "owner-9", "display_name": "Anh Tư", "is_bot": False},
        "chat": {"id": "chat-9", "chat_type": "PRIVATE"}, "text": text, "message_id": message_id, "date": 1}}}


def test_an_event_with_the_secret_is_answered_in_the_chat(webhook):
    api, url, _ = webhook
    response = httpx.post(url, json=event("Xin chào", "w1"), headers={WEBHOOK_SECRET_HEADER: SECRET})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert api.delivered[-1].body["chat_id"] == "chat-9" and "Trước khi bắt đầu" in api.delivered[-1].body["text"]


@pytest.mark.parametrize("headers", [{}, {WEBHOOK_SECRET_HEADER: "wrong-secret-of-same-size!"},
                                     {WEBHOOK_SECRET_HEADER: SECRET[:-1]}])
def test_a_missing_or_wrong_secret_is_refused_and_nothing_happens(webhook, headers):
    api, url, db = webhook
    assert httpx.post(url, json=event("Xin chào", "w2"), headers=headers).status_code == 401
    assert api.delivered == []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("select count(*) from processed_updates").fetchone() == (0,)


def test_a_wrong_secret_is_refused_before_the_body_is_read(webhook):
    _, url, _ = webhook
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        # A 100 MB body is announced and never sent: the answer must come without waiting for it.
        conn.sendall(f"POST /zalo HTTP/1.1\r\nHost: x\r\n{WEBHOOK_SECRET_HEADER}: nope-nope\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n".encode())
        assert conn.recv(100).startswith(b"HTTP/1.1 401")


def test_an_oversized_or_malformed_body_is_refused(webhook):
    api, url, _ = webhook
    big = json.dumps(event("x" * 5000, "w3"))
    headers = {WEBHOOK_SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert httpx.post(url, content=big, headers=headers).status_code == 413
    # Sent in chunks, with no length announced: cut off as it streams in.
    chunks = (big[i:i + 1000].encode() for i in range(0, len(big), 1000))
    assert httpx.post(url, content=chunks, headers=headers).status_code == 413
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 400
    assert httpx.post(url, content=b'{"ok": true, "result": 5}', headers=headers).status_code == 400
    assert api.delivered == []
