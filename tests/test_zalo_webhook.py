"""Zalo's webhook in `sme-bot serve`'s app under a real uvicorn server: the secret checked before the body."""

import contextlib
import json
import socket
import sqlite3

import httpx
import pytest
from web_server import serving
from zalo_api_server import FakeZaloAPI

from sme_bot import loader
from sme_bot.channels.zalo.client import WEBHOOK_SECRET_HEADER
from sme_bot.config import Config
from sme_bot.web.app import create_app
from sme_bot.web.serve import zalo_webhook_settings

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def webhook(tmp_path):
    """`sme-bot serve`'s app with Zalo's webhook, under uvicorn on loopback."""
    with FakeZaloAPI() as api:
        config = Config(zalo={"base_url": api.base_url})
        app = create_app(config, loader.load("quick-check"), database=tmp_path / "hook.db",
                         secret="a-web-secret-for-tests-only-0123456789", zalo=(api.token, SECRET))
        with serving(app) as url:
            yield api, url + "/zalo/webhook", tmp_path / "hook.db"


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
        # A body (within the size limit) is announced and never sent: the answer comes without it.
        conn.sendall(f"POST /zalo/webhook HTTP/1.1\r\nHost: x\r\n{WEBHOOK_SECRET_HEADER}: nope-nope\r\n"
                     "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n".encode())
        assert conn.recv(100).startswith(b"HTTP/1.1 401")


def test_an_oversized_or_malformed_body_is_refused(webhook):
    api, url, _ = webhook
    big = json.dumps(event("x" * 70_000, "w3"))
    headers = {WEBHOOK_SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert httpx.post(url, content=big, headers=headers).status_code == 413
    # Sent in chunks, with no length announced: cut off as it streams in.
    chunks = (big[i:i + 10_000].encode() for i in range(0, len(big), 10_000))
    assert httpx.post(url, content=chunks, headers=headers).status_code == 413
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 400
    assert httpx.post(url, content=b'{"ok": true, "result": 5}', headers=headers).status_code == 400
    assert api.delivered == []


def test_serve_mounts_the_webhook_only_with_both_token_and_secret():
    assert zalo_webhook_settings({}) is None
    assert zalo_webhook_settings({"SME_BOT_ZALO_TOKEN": "t0ken-for-tests"}) is None
    assert zalo_webhook_settings({"SME_BOT_ZALO_TOKEN": "t0ken-for-tests", "SME_BOT_ZALO_WEBHOOK_SECRET": SECRET}) == (
        "t0ken-for-tests", SECRET)
    with pytest.raises(ValueError, match="set both"):
        zalo_webhook_settings({"SME_BOT_ZALO_WEBHOOK_SECRET": SECRET})
