"""Hardening (issue 14) in real processes: `sme-bot run` against the loopback Bot API server,
killed with `kill -9` while updates are in hand, refused by the Bot API, fed a malformed update,
and its webhook sent a body far larger than any update."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bot_api_server import BotAPIServer
from fake_bot_api import TOKEN

from sme_bot.config import Config
from sme_bot.messages import say

SECRET = "webhook-secret-made-up-0123456789"
TOKEN_SECRET = TOKEN.split(":")[1]


def write_config(tmp_path: Path, server: BotAPIServer, extra: str = "") -> Path:
    config = tmp_path / "bot.toml"
    config.write_text(f'[programme]\ncontact = "0900 000 000"\n[assessment]\nquestionnaire = "quick-check"\n'
                      f'[storage]\ndatabase = "bot.db"\n[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_url}"\n{extra}')
    return config


def start_bot(config: Path, **env: str) -> subprocess.Popen:
    command = Path(sys.executable).with_name("sme-bot")
    return subprocess.Popen([str(command), "run", "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "SME_BOT_TOKEN": TOKEN, **env})


@contextmanager
def running(config: Path, **env: str) -> Iterator[subprocess.Popen]:
    """`sme-bot run` for the length of a block; killed if the block ends (a failed wait) with it running."""
    bot = start_bot(config, **env)
    try:
        yield bot
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.communicate()


def finish(bot: subprocess.Popen, *, signal_number: int | None = signal.SIGTERM, timeout: float = 20) -> str:
    """Stop the bot (or wait for it to stop by itself); everything it printed."""
    if signal_number is not None and bot.poll() is None:
        bot.send_signal(signal_number)
    output, _ = bot.communicate(timeout=timeout)
    return output


def polled_after(server: BotAPIServer, update_ids: list[int]):
    """True once the bot has been handed every one of `update_ids` (in one batch or several) and
    has asked again since: PTB's Updater would have confirmed them all by then."""
    def check(s: BotAPIServer) -> bool:
        seen: set[int] = set()
        last = None
        for index, poll in enumerate(s.polls):
            new = set(poll["returned"] or ()) & set(update_ids) - seen
            if new:
                seen |= new
                last = index
        return seen == set(update_ids) and last is not None and len(s.polls) > last + 1
    return check


# -- 9. updates in hand when the process dies are delivered again ----------------------------------

OWNERS = (4101, 4102, 4103)


def test_owners_messages_in_hand_at_a_kill_9_are_answered_after_the_restart(tmp_path):
    privacy = say("privacy", "vi", version="", programme=Config().programme.name, months=24, contact="")[:60]
    with BotAPIServer() as server:
        config = write_config(tmp_path, server)
        with running(config) as killed:
            server.text(OWNERS[0], "/help")
            server.wait_for(OWNERS[0], lambda m: "/delete" in m["text"])  # the bot is up and answering
            # Sends stall (a slow network); each owner's /help is taken, its answer waits to be
            # sent, and each owner's /privacy waits behind it in that chat.
            server.hold()
            for owner in OWNERS:
                server.text(owner, "/help")
                server.text(owner, "/privacy")
            in_hand = [u["update_id"] for u in server.updates[1:]]
            server.wait_until(lambda s: s.held == len(OWNERS))
            server.wait_until(polled_after(server, in_hand))
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=20)
        server.release(discard=True)  # what the dead process was sending never arrives
        with running(config) as bot:
            for owner in OWNERS:
                server.wait_for(owner, lambda m: m["text"].startswith(privacy), timeout=15)
            output = finish(bot)
    assert bot.returncode == 0, output
    assert "Traceback" not in output and TOKEN_SECRET not in output


# -- 12. a malformed update is skipped, and no owner's text is logged -------------------------------

def test_a_malformed_update_is_skipped_and_the_others_are_answered(tmp_path):
    with BotAPIServer() as server:
        config = write_config(tmp_path, server)
        server.push({"message": {"message_id": 1, "text": "Bí mật của chủ A", "from": {"id": 4201, "is_bot": False,
                                                                                       "first_name": "A"}}})
        server.text(4202, "Bí mật của chủ B")
        server.text(4202, "/help")
        with running(config) as bot:
            server.wait_for(4202, lambda m: "/delete" in m["text"], timeout=15)
            polls = len(server.polls)
            time.sleep(0.5)
            output = finish(bot)
    assert bot.returncode == 0, output
    assert "update 1" in output and "Bí mật" not in output and "Traceback" not in output
    assert len(server.polls) - polls < 10  # polling goes on at its pace, no retry storm


# -- 2. refused or failing Bot API: one line, neither token nor secret ---------------------------

def test_a_refused_token_at_start_is_one_line_without_the_token(tmp_path):
    with BotAPIServer() as server:
        config = write_config(tmp_path, server)
        for status in (401, 404):
            server.fail("getMe", status)
            with running(config, SME_BOT_WEBHOOK_SECRET=SECRET) as bot:
                output = finish(bot, signal_number=None)
            assert output.strip().splitlines() == ["Error: the Bot API refused SME_BOT_TOKEN; check it with BotFather"]


def test_flood_control_dropped_connections_and_a_revoked_token_log_no_secret(tmp_path):
    with BotAPIServer() as server:
        config = write_config(tmp_path, server)
        with running(config, SME_BOT_WEBHOOK_SECRET=SECRET) as bot:
            server.fail("sendMessage", 429, "drop")
            server.fail("getUpdates", "drop")
            server.text(4301, "/help")
            server.wait_for(4301, lambda m: "/delete" in m["text"], timeout=15)
            server.fail("getUpdates", 401)  # the token revoked while running: the bot stops, saying so
            server.text(4302, "/help")  # ends the long poll in progress, so the next call is the refused one
            output = finish(bot, signal_number=None, timeout=15)
    assert bot.returncode == 1, output
    assert output.strip().splitlines()[-1] == "Error: the Bot API refused SME_BOT_TOKEN; check it with BotFather"
    assert TOKEN_SECRET not in output and SECRET not in output and "Traceback" not in output


# -- 8. the webhook reads no more than an update's worth before refusing --------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_webhook_refuses_a_huge_body_before_reading_it(tmp_path):
    port = free_port()
    with BotAPIServer() as server:
        config = write_config(tmp_path, server, f'mode = "webhook"\nwebhook_url = "https://bot.example.invalid/telegram"\n'
                                                f'listen = "127.0.0.1"\nport = {port}\n')
        with running(config, SME_BOT_WEBHOOK_SECRET=SECRET) as bot:
            deadline = time.monotonic() + 20
            while True:
                try:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                    break
                except OSError:
                    assert time.monotonic() < deadline and bot.poll() is None, "the webhook server never started"
                    time.sleep(0.1)
            with connection:
                # 100 MB announced, 1 KB sent, no secret: the answer must come without the rest.
                connection.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: 104857600\r\n\r\n" + b" " * 1024)
                try:
                    answer = connection.recv(100)
                except TimeoutError:
                    pytest.fail("the server waited for the whole 100 MB body")
            assert answer.startswith(b"HTTP/1.1 4")
            # An update it cannot read is refused, and what it held is not logged.
            broken = json.dumps({"update_id": 9, "message": {"message_id": 1, "text": "Bí mật của chủ A"}}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=broken, headers={
                "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 400
            output = finish(bot)
    assert bot.returncode == 0, output
    assert SECRET not in output and TOKEN_SECRET not in output and "Bí mật" not in output
