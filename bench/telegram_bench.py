"""Throughput, latency and memory of the Telegram bot, against a bare echo bot in the same run.

    python bench/telegram_bench.py inprocess [--owners 50] [--memory 10000]
    python bench/telegram_bench.py load [--owners 200]

`inprocess` drives the real python-telegram-bot Application through the fake Bot API of the
tests (no network, no rate limiter: the bot's own cost), answering dbi-sme by typing, and an
echo bot through the same harness; then fills the database with assessments in progress and
reports resident memory at 100 and at the larger count. `load` starts `sme-bot run` against the
loopback Bot API server and has that many owners answer quick-check at once, with the real
rate limiter (30 messages a second, Telegram's own budget).
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_bot_api import TOKEN, FakeBotAPI, Harness, Owner
from telegram.ext import Application, MessageHandler, filters

from sme_bot import loader
from sme_bot.channels.telegram.app import build_application
from sme_bot.config import Config
from sme_bot.storage import Store


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def timed(harness: Harness, update: dict) -> float:
    """Latency of one update's handling; background work (charts) is finished in the total."""
    start = time.perf_counter()
    harness.process(update, drain=False)
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(name: str, latencies: list[float], elapsed: float) -> float:
    rate = len(latencies) / elapsed
    print(f"  {name:<34} {rate:8,.0f}/s   p50 {percentile(latencies, .5) * 1000:6.2f} ms   "
          f"p99 {percentile(latencies, .99) * 1000:6.2f} ms   ({len(latencies):,} updates)")
    return rate


def sme_bot_harness(db: Path, questionnaire: str = "dbi-sme") -> Harness:
    store = Store(db)
    app = build_application(Config(), loader.load(questionnaire), store, token=TOKEN, request=FakeBotAPI(),
                            reminders=False, rate_limit=False)
    harness = Harness(app, app.bot.request)
    harness.store = store  # type: ignore[attr-defined]
    return harness


def echo_harness() -> Harness:
    api = FakeBotAPI()
    app = Application.builder().token(TOKEN).request(api).get_updates_request(api).build()

    async def echo(update, context):  # type: ignore[no-untyped-def]
        await update.message.reply_text(update.message.text)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    return Harness(app, api)


def consent(harness: Harness, owner: Owner) -> None:
    harness.say(owner, "/start")
    harness.tap(owner, "c:1:vi:")


def inprocess(owners: int, memory_owners: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bot = sme_bot_harness(Path(tmp) / "bench.db")
        echo = echo_harness()
        questions = len(loader.load("dbi-sme").all_questions)
        people = [Owner(10_000 + i) for i in range(owners)]
        for owner in people:
            consent(bot, owner)
        latencies: list[float] = []
        echo_latencies: list[float] = []
        ratios: list[float] = []
        charts = 0.0
        # The two bots take turns, one question's worth of updates each, so that a noisy
        # neighbour on a shared machine slows both alike; each round gives one ratio.
        for _ in range(questions):
            ours = []
            for owner in people:
                ours.append(timed(bot, owner.message(bot.next_id(), "1")))
                # A result's chart is drawn in a worker thread off the update path; it is
                # finished here, outside the update's time, and reported on its own.
                begun = time.perf_counter()
                bot.drain()
                charts += time.perf_counter() - begun
            theirs = [timed(echo, owner.message(echo.next_id(), "1")) for owner in people]
            ratios.append(sum(theirs) / sum(ours))
            latencies += ours
            echo_latencies += theirs
        completed = bot.store.db.execute("select count(*) from results").fetchone()[0]  # type: ignore[attr-defined]

        print(f"in-process, {owners} owners × {questions} typed answers (dbi-sme), "
              "python-telegram-bot with a fake Bot API:")
        ours_rate = report("sme-bot (handler, engine, commit, reply)", latencies, sum(latencies))
        echo_rate = report("bare echo bot", echo_latencies, sum(echo_latencies))
        print(f"  ratio: sme-bot does {statistics.median(ratios):.2f}× the echo bot's throughput (median of "
              f"{len(ratios)} interleaved rounds; {ours_rate / echo_rate:.2f}× over all updates); "
              f"{completed} results stored")
        print(f"  result charts, drawn off the update path: {completed} in {charts:.2f} s "
              f"({charts / max(completed, 1) * 1000:.0f} ms each); counting them too, sme-bot handles "
              f"{len(latencies) / (sum(latencies) + charts):,.0f} answers/s")
        echo.close()
        bot.close()

    with tempfile.TemporaryDirectory() as tmp:
        bot = sme_bot_harness(Path(tmp) / "memory.db")
        readings = {}
        for i in range(memory_owners):
            owner = Owner(1_000_000 + i)
            consent(bot, owner)
            bot.say(owner, "1")
            bot.api.calls.clear()  # the fake's record of calls is the harness's memory, not the bot's
            if i + 1 in (100, memory_owners):
                readings[i + 1] = rss_mb()
        first, last = readings[100], readings[memory_owners]
        print(f"memory with assessments in progress: {first:.1f} MB at 100, {last:.1f} MB at {memory_owners:,} "
              f"({last - first:+.1f} MB)")
        bot.close()


def load(owners: int) -> None:
    import os
    import signal
    import subprocess

    from bot_api_server import BotAPIServer

    with tempfile.TemporaryDirectory() as tmp, BotAPIServer() as server:
        config = Path(tmp) / "bot.toml"
        config.write_text(f'[assessment]\nquestionnaire = "quick-check"\n[storage]\ndatabase = "load.db"\n'
                          f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_url}"\n')
        command = str(Path(sys.executable).with_name("sme-bot"))
        log = open(Path(tmp) / "bot.log", "w")  # noqa: SIM115 - closed with the directory
        bot = subprocess.Popen([command, "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "SME_BOT_TOKEN": TOKEN})
        answers = ["1", "4", "1,2", "1", "3", "2", "1", "3", "3", "3", "3", "1"]
        errors: list[str] = []
        durations: list[float] = []

        def owner(user_id: int) -> None:
            try:
                begun = time.perf_counter()
                server.text(user_id, "/start")
                server.wait_for(user_id, lambda m: any(d and d.startswith("c:1") for _, d in m["buttons"]), 300)
                server.tap(user_id, "c:1:vi:")
                server.wait_for(user_id, lambda m: m["text"].startswith("Câu 1/"), 300)
                for i, text in enumerate(answers, start=1):
                    server.text(user_id, text)
                    expected = f"Câu {i + 1}/" if i < len(answers) else "Kết quả"
                    server.wait_for(user_id, lambda m, e=expected: m["text"].startswith(e), 300)
                durations.append(time.perf_counter() - begun)
            except Exception as error:  # noqa: BLE001 - every failure is counted and printed
                errors.append(f"{user_id}: {error}")

        start = time.perf_counter()
        threads = [threading.Thread(target=owner, args=(50_000 + i,)) for i in range(owners)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=60)
        import sqlite3

        db = sqlite3.connect(Path(tmp) / "load.db")
        stored = db.execute("select count(*) from results").fetchone()[0]
        sent = len([m for m in server.sent if m["method"] in ("sendMessage", "sendPhoto")])
        # Every call naming a chat counts against Telegram's 30 a second: edits too.
        limited = len([m for m in server.sent if m["chat_id"]])
        print(f"load: {owners} owners answering quick-check at once through `sme-bot run` and a loopback Bot API")
        print(f"  {stored} results stored, {len(errors)} errors, {len(answers) * owners:,} answers in {elapsed:.1f} s; "
              f"{sent:,} messages sent; {limited:,} calls to a chat with the edits, {limited / elapsed:.1f}/s "
              "(the rate limiter allows 30/s)")
        if durations:
            print(f"  time for one owner from /start to result: median {statistics.median(durations):.1f} s")
        for error in errors[:5]:
            print("  error:", error)
        problems = [line for line in (Path(tmp) / "bot.log").read_text().splitlines() if "ERROR" in line]
        print(f"  bot log: {len(problems)} error lines", *problems[:5], sep="\n    ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("inprocess")
    one.add_argument("--owners", type=int, default=50)
    one.add_argument("--memory", type=int, default=10_000)
    two = sub.add_parser("load")
    two.add_argument("--owners", type=int, default=200)
    args = parser.parse_args()
    if args.command == "inprocess":
        inprocess(args.owners, args.memory)
    else:
        load(args.owners)


if __name__ == "__main__":
    main()
