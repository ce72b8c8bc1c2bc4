"""Throughput, latency and memory of the Telegram bot, against a bare echo bot in the same run.

    python bench/telegram_bench.py inprocess [--owners 50] [--memory 10000]
    python bench/telegram_bench.py load [--owners 200]

`inprocess` drives the real python-telegram-bot Application through the fake Bot API of the
tests (no network, no rate limiter: the bot's own cost). Every update goes in as the running bot
gets it, through `Application.update_queue`, so the Application's update fetcher hands it to the
update processor (PerChatUpdateProcessor, as in production) and that calls `process_update`.
The echo bot is built with the same processor and fed the very same updates.

It measures two ways of answering dbi-sme, each against the echo bot, in interleaved rounds (one
update per owner for sme-bot, then the same updates for the echo bot; each round gives a ratio,
the median is reported):

- typed: the owner types "1" (a choice's number, a number, a name);
- tapped: the owner taps a button whose data the bot sent; the echo bot's baseline is a bare
  CallbackQueryHandler that answers the query and sends one message.

Every measured update is checked to be an answer that brings the next question. The answer that
completes the assessment (scoring, the result message, a chart task) is left out of the rates
and reported on its own line, as are the result charts, drawn off the update path. In tapped
mode the questions without buttons (a name, numbers) are answered by typing, and a multi-choice
question gets its tick before "done" is tapped: those updates are setup, not timed.

Then it fills a database with assessments in progress and reports resident memory at 100 and at
the larger count. `load` starts `sme-bot run` against the loopback Bot API server and has that
many owners answer quick-check at once, with the real rate limiter (30 messages a second,
Telegram's own budget).
"""

import argparse
import copy
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_bot_api import TOKEN, Call, FakeBotAPI, Harness, Owner, buttons, unquoted
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from sme_bot import loader
from sme_bot.channels.telegram.app import build_application
from sme_bot.channels.telegram.updates import PerChatUpdateProcessor
from sme_bot.config import Config
from sme_bot.storage import Store

QUESTIONNAIRE = "dbi-sme"
# What the bot's messages start with, in either language: "Câu 3/39", "Kết quả: Mức 2".
QUESTION = re.compile(r"(?:Câu|Question) (\d+)/\d+")
RESULT = re.compile(r"(?:Kết quả|Result)\b")

CAVEATS = """\
How this comparison can flatter sme-bot; read the figures with these in mind:
  - The fake Bot API answers at once, in-process: no network, no HTTP, no TLS. On Telegram each
    call is a round trip of tens of milliseconds, and sme-bot makes more calls per answer than
    the echo bot (counted below), so its real latency gap is wider than the one measured here.
  - No rate limiter. Telegram allows about 30 messages a second per bot, edits included; at that
    budget what decides answers/s is calls per answer, not the CPU time measured here.
  - The echo bot touches no disk. sme-bot commits every answer to SQLite, but here to a small
    temporary database (only this run's owners) that sits in the page cache, in WAL mode with
    synchronous=NORMAL (no fsync per commit): a slow disk or a large database is not measured.
  - The echo bot replies with PTB's typed methods, which parse each echoed message into objects;
    sme-bot posts plain JSON and skips that, so part of the baseline is work sme-bot avoids.
  - One update in flight at a time, on one event loop: no contention between owners.
  - Not in the answer rates: the finishing answer (scoring + result message) and the result
    charts, each on a line of its own; in tapped mode the typed questions and the tick before a
    multi-choice "done" (setup, not timed)."""


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- feeding updates as the running bot gets them ------------------------------------------------


class Bench(Harness):
    """The tests' Harness, but updates go through the update queue and so the update processor.

    Harness.process calls Application.process_update directly, which skips the processor; the
    running bot's update fetcher takes each update off `update_queue` and awaits
    `update_processor.process_update(update, app.process_update(update))`, marking it done after.
    The Harness starts the Application, so that fetcher is running here too.
    """

    def feed(self, data: dict[str, Any]) -> tuple[float, list[Call]]:
        """Seconds from the update's arrival to its handling done, and the Bot API calls it made."""
        before = len(self.api.calls)
        seconds = self.loop.run_until_complete(self._through_queue(data))
        return seconds, self.api.calls[before:]

    async def _through_queue(self, data: dict[str, Any]) -> float:
        start = time.perf_counter()
        # Parsing is in the time: in production PTB's get_updates builds the Update objects too.
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))
        await self.app.update_queue.join()
        # The edits an answer leaves to run after it (the old question's buttons) are its cost
        # too: waited for on the same loop, as the running bot makes them.
        bot = self.app.bot_data.get("sme_bot")
        if bot is not None and bot.edits.draining is not None:
            await bot.edits.draining
        return time.perf_counter() - start

    def process(self, data: dict[str, Any], *, drain: bool = True) -> list[Call]:
        # say() and tap(), used for setup, take the production path as well.
        calls = self.feed(data)[1]
        if drain:
            self.drain()
        return calls

    def drain_timed(self) -> float:
        """Finish the background work (result charts) outside any update's time; its seconds."""
        begun = time.perf_counter()
        self.drain()
        return time.perf_counter() - begun


@contextmanager
def counting_processor(bench: Bench) -> Iterator[list[object]]:
    """Yield a list that collects the updates PerChatUpdateProcessor.do_process_update is given."""
    processor = bench.app.update_processor
    if not isinstance(processor, PerChatUpdateProcessor):
        raise TypeError(f"the update processor is {type(processor).__name__}, not PerChatUpdateProcessor")
    seen: list[object] = []
    original = processor.do_process_update

    async def counted(update: object, coroutine: Any) -> None:
        seen.append(update)
        await original(update, coroutine)

    processor.do_process_update = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del processor.do_process_update  # the class's method again


def sme_bot_harness(db: Path, questionnaire: str = QUESTIONNAIRE) -> Bench:
    store = Store(db)
    app = build_application(Config(), loader.load(questionnaire), store, token=TOKEN, request=FakeBotAPI(),
                            reminders=False, rate_limit=False)
    bench = Bench(app, app.bot.request)
    bench.store = store  # type: ignore[attr-defined]
    return bench


def echo_harness() -> Bench:
    """A bare PTB bot: echo a text, acknowledge a tap; the same update processor as sme-bot's."""
    api = FakeBotAPI()
    app = (Application.builder().token(TOKEN).request(api).get_updates_request(api)
           .concurrent_updates(PerChatUpdateProcessor()).build())

    async def echo(update, context):  # type: ignore[no-untyped-def]
        await update.message.reply_text(update.message.text)

    async def acknowledge(update, context):  # type: ignore[no-untyped-def]
        query = update.callback_query
        await query.answer()
        await query.message.reply_text(query.data)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(acknowledge))
    return Bench(app, api)


# -- an owner and the question on their screen ---------------------------------------------------


@dataclass
class Respondent:
    owner: Owner
    number: int = 0  # the question on screen, as the bot numbered it ("Câu 3/39": 3)
    data: list[str] = field(default_factory=list)  # the button data under it
    finished: bool = False
    untimed: Counter[str] = field(default_factory=Counter)  # setup updates, by kind

    def see(self, calls: list[Call]) -> None:
        """Read what the bot sent: a new question, or the result."""
        for call in calls:
            text = call.params.get("text", "") if call.method == "sendMessage" else ""
            if asked := QUESTION.match(unquoted(text)):
                self.number, self.data = int(asked[1]), [data for _, data in buttons(call)]
            elif RESULT.match(text):
                self.finished = True


def outcome(calls: list[Call], asked: int) -> str:
    """"answer" when the reply brings the question after `asked`, "finish" when it brings the result."""
    sent = [call.params.get("text", "") for call in calls if call.method == "sendMessage"]
    if any((match := QUESTION.match(unquoted(text))) and int(match[1]) == asked + 1 for text in sent):
        return "answer"
    if any(RESULT.match(text) for text in sent):
        return "finish"
    raise RuntimeError(f"the update for question {asked} was not an answer; the bot sent {sent}")


def consent(bench: Bench, person: Respondent) -> None:
    start = bench.say(person.owner, "/start")
    person.see(bench.tap(person.owner, dict(buttons(start[-1]))["Tôi đồng ý"]))


# -- the two ways of answering: each gives the update to time, after any setup -------------------


def typed_answer(bench: Bench, person: Respondent) -> dict[str, Any]:
    # "1" answers every question of dbi-sme: the first choice, a number, a name.
    return person.owner.message(bench.next_id(), "1")


def tapped_answer(bench: Bench, person: Respondent) -> dict[str, Any]:
    # A question without choices to tap (a name, a number) is typed, untimed: this mode times taps.
    while not any(data.startswith(("a:", "t:")) for data in person.data):
        person.see(bench.say(person.owner, "1"))
        person.untimed["typed answers (no buttons)"] += 1
        if person.finished:
            raise RuntimeError("the last question has no buttons: no tap to finish with")
    # The tap carries the button's data; the message it sits under is not read by the bot.
    picks = [data for data in person.data if data.startswith("a:")]
    if picks:
        return person.owner.tap(bench.next_id(), picks[0])
    # Multi-choice: a tick is only a draft (an edit of the buttons); the "done" tap is the answer.
    bench.tap(person.owner, next(data for data in person.data if data.startswith("t:")))
    person.untimed["ticks before a multi-choice done"] += 1
    return person.owner.tap(bench.next_id(), next(data for data in person.data if data.startswith("d:")))


@dataclass(frozen=True)
class Mode:
    name: str
    answer: Callable[[Bench, Respondent], dict[str, Any]]
    ours: str
    theirs: str
    first_owner: int  # owner ids differ between modes, so no owner is reused


MODES = (
    Mode("typed", typed_answer, "sme-bot (handler, engine, commit, reply)",
         "bare echo bot (MessageHandler: reply_text)", 10_000),
    Mode("tapped", tapped_answer, "sme-bot (handler, engine, commit, reply)",
         "bare echo bot (CallbackQueryHandler: answer + 1 message)", 20_000),
)


# -- measuring one mode ------------------------------------------------------------------------


@dataclass
class Figures:
    ours: list[float] = field(default_factory=list)  # answers that bring the next question
    theirs: list[float] = field(default_factory=list)  # the echo bot, the same updates
    ratios: list[float] = field(default_factory=list)  # one a round: our throughput / echo's
    finishing: list[float] = field(default_factory=list)  # answers that complete the assessment
    charts: float = 0.0
    our_calls: int = 0
    their_calls: int = 0
    untimed: Counter[str] = field(default_factory=Counter)  # one owner's setup updates


def warm_up(bot: Bench, echo: Bench, mode: Mode) -> None:
    """One owner, untimed, through a whole assessment (first-use costs: imports, caches, the
    chart); a few echoes. It also checks that both bots' updates go through the processor."""
    person = Respondent(Owner(mode.first_owner - 1))
    with counting_processor(bot) as seen_by_ours, counting_processor(echo) as seen_by_echo:
        consent(bot, person)
        while not person.finished:
            update = mode.answer(bot, person)
            person.see(bot.process(copy.deepcopy(update)))
            echo.process(update)
    if not (seen_by_ours and seen_by_echo):
        raise RuntimeError("updates bypassed the update processor")


def play_round(bot: Bench, echo: Bench, people: list[Respondent], mode: Mode, figures: Figures) -> None:
    """Each owner answers the question on screen (timed), then the echo bot gets the same updates."""
    updates, ours, outcomes, calls_made = [], [], set(), 0
    for person in people:
        update = mode.answer(bot, person)
        updates.append(copy.deepcopy(update))  # the echo bot's copy, untouched by sme-bot's parsing
        seconds, calls = bot.feed(update)
        outcomes.add(outcome(calls, person.number))
        person.see(calls)
        figures.charts += bot.drain_timed()
        calls_made += len(calls)
        ours.append(seconds)
    if outcomes == {"finish"}:
        figures.finishing += ours  # its own figure, not compared: the echo bot has no result to give
        return
    if outcomes != {"answer"}:
        raise RuntimeError(f"owners out of step: {outcomes}")
    figures.our_calls += calls_made
    theirs = []
    for update in updates:
        update["update_id"] = echo.next_id()
        seconds, calls = echo.feed(update)
        figures.their_calls += len(calls)
        theirs.append(seconds)
    figures.ours += ours
    figures.theirs += theirs
    figures.ratios.append(sum(theirs) / sum(ours))


def measure(mode: Mode, owners: int, folder: Path) -> Figures:
    bot = sme_bot_harness(folder / f"{mode.name}.db")
    echo = echo_harness()
    try:
        warm_up(bot, echo, mode)
        people = [Respondent(Owner(mode.first_owner + i)) for i in range(owners)]
        for person in people:
            consent(bot, person)
        figures = Figures()
        # The two bots take turns, one round each, so that a noisy neighbour on a shared machine
        # slows both alike.
        while not all(person.finished for person in people):
            play_round(bot, echo, people, mode, figures)
        figures.untimed = people[0].untimed
        return figures
    finally:
        echo.close()
        bot.close()


# -- printing ----------------------------------------------------------------------------------


def line(name: str, latencies: list[float], count: str = "updates") -> float:
    rate = len(latencies) / sum(latencies)
    print(f"  {name:<62} {rate:7,.0f}/s   p50 {percentile(latencies, .5) * 1000:6.2f} ms   "
          f"p99 {percentile(latencies, .99) * 1000:6.2f} ms   ({len(latencies):,} {count})")
    return rate


def report(mode: Mode, owners: int, figures: Figures) -> None:
    rounds = len(figures.ratios)
    print(f"\n{mode.name}: {owners} owners × {rounds} {mode.name} answers ({QUESTIONNAIRE}), each one checked to "
          "bring the next question:")
    ours_rate = line(mode.ours, figures.ours, "answers")
    echo_rate = line(mode.theirs, figures.theirs, "updates")
    print(f"  ratio ({mode.name}): sme-bot does {statistics.median(figures.ratios):.2f}× the echo bot's throughput "
          f"(median of {rounds} interleaved rounds; {ours_rate / echo_rate:.2f}× over all updates)")
    print(f"  Bot API calls per update: sme-bot {figures.our_calls / len(figures.ours):.1f}, "
          f"echo bot {figures.their_calls / len(figures.theirs):.1f}")
    line("finishing answer (scoring + result message), not in the rate", figures.finishing, "answers")
    done = len(figures.finishing)
    print(f"  result charts, drawn off the update path: {done} in {figures.charts:.2f} s "
          f"({figures.charts / max(done, 1) * 1000:.0f} ms each)")
    whole = sum(figures.ours) + sum(figures.finishing) + figures.charts
    print(f"  counting the finishing answers and charts too: {(len(figures.ours) + done) / whole:,.0f} answers/s")
    if figures.untimed:
        setup = ", ".join(f"{kind} {count}" for kind, count in figures.untimed.items())
        print(f"  setup, not timed, per owner: {setup}")


def memory(owners: int, folder: Path) -> None:
    bot = sme_bot_harness(folder / "memory.db")
    readings = {}
    for i in range(owners):
        person = Respondent(Owner(1_000_000 + i))
        consent(bot, person)
        bot.say(person.owner, "1")
        bot.api.calls.clear()  # the fake's record of calls is the harness's memory, not the bot's
        if i + 1 in (100, owners):
            readings[i + 1] = rss_mb()
    first, last = readings[100], readings[owners]
    print(f"\nmemory with assessments in progress: {first:.1f} MB at 100, {last:.1f} MB at {owners:,} "
          f"({last - first:+.1f} MB)")
    bot.close()


def inprocess(owners: int, memory_owners: int) -> None:
    print(CAVEATS)
    print(f"\nin-process: python-telegram-bot with a fake Bot API; every update through update_queue and "
          f"{PerChatUpdateProcessor.__name__}, for both bots")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            report(mode, owners, measure(mode, owners, Path(tmp)))
        memory(memory_owners, Path(tmp))


def load(owners: int) -> None:
    import os
    import signal
    import subprocess

    from bot_api_server import BotAPIServer

    with tempfile.TemporaryDirectory() as tmp, BotAPIServer() as server:
        config = Path(tmp) / "bot.toml"
        config.write_text(f'[programme]\ncontact = "0900 000 000"\n[assessment]\nquestionnaire = "quick-check"\n'
                          f'[storage]\ndatabase = "load.db"\n'
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
