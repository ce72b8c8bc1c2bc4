"""A workshop on Telegram: N owners join within a few seconds of each other and answer at human
pace, through the bot as `sme-bot run` runs it (polling, the real rate limiter) and a Bot API
server on loopback. It prints, per way of answering, the time from an owner's answer to the next
question (p50/p95/p99) and to the last result.

    python bench/workshop_bench.py [--owners 200] [--join 20] [--think 4 12] [--rtt 0.1]
                                   [--questionnaire quick-check] [--modes one-call two-calls]

Ways of answering, each measured in the same run on a fresh database and server:
  one-call   the bot as it is: an answer costs one chat call (the next question, quoting the
             answer); the answered question's buttons go later, with send budget to spare.
  two-calls  the earlier behaviour (`build_application(eager_edits=True)`): the answered question
             is edited first, then the next question sent; two chat calls in a row per answer.

Each owner sends /start, agrees, then answers every question after a think time drawn from
U(--think); a multiple-choice question gets one tick, then "Xong" a second later (the tick's
edit is not timed). Taps where there are buttons, typed numbers and names where there are none.
The latency of an answer runs from the moment its update is offered to the bot's long poll to
the moment the Bot API server receives the next question (or the result) for that chat.

How this can flatter sme-bot (or not):
  - The Bot API server answers each call after --rtt seconds, the same for every call; Telegram's
    round trips vary and have a tail. Its send limits are modelled only by the bot's own rate
    limiter (30 chat calls a second, about one a second per chat); the real server may refuse
    earlier (429), which the limiter then waits out.
  - Owners here never type ahead, never tap twice, never leave half-way.
  - The bot runs on the same machine as the simulated owners and the server, which take CPU
    from it; on a quiet server it would have more.
"""

import argparse
import heapq
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bot_api_server import BotAPIServer
from fake_bot_api import TOKEN, unquoted

from sme_bot import loader
from sme_bot.questionnaire import Question, Questionnaire

MODES = ("one-call", "two-calls")
FIRST_WORDS = ("Câu ", "Question ", "Kết quả", "Result")


class TimedServer(BotAPIServer):
    """The tests' loopback Bot API server, telling the bench of every message as it arrives and
    answering each call after a round-trip time."""

    def __init__(self, rtt: float) -> None:
        super().__init__()
        self.rtt = rtt
        self.arrivals: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method != "getUpdates":
            time.sleep(self.rtt)
        return super().answer(method, params)

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = super()._record(method, params)
        self.arrivals.put((time.perf_counter(), self.sent[-1]))
        return message

    def offer(self, update: dict[str, Any]) -> float:
        """Offer an update to the bot's long poll; when it was offered."""
        offered = time.perf_counter()
        self.push(update)
        return offered


@dataclass
class Owner:
    chat_id: int
    asked_at: float | None = None  # when the answer now awaiting its reply was offered
    done: bool = False
    latencies: list[float] = field(default_factory=list)


class Workshop:
    def __init__(self, server: TimedServer, q: Questionnaire, owners: int, join: float, think: tuple[float, float],
                 seed: int) -> None:
        self.server = server
        self.q = q
        self.random = random.Random(seed)
        self.think = think
        self.owners = {50_000 + i: Owner(50_000 + i) for i in range(owners)}
        self.agenda: list[tuple[float, int, int, str, str]] = []  # (when, order, chat, kind, payload)
        self._order = 0
        start = time.perf_counter()
        for owner in self.owners.values():
            self._plan(start + self.random.uniform(0, join), owner.chat_id, "text", "/start")
        self.texts = {question.text("vi"): question for question in q.all_questions}

    def _plan(self, when: float, chat_id: int, kind: str, payload: str) -> None:
        self._order += 1
        heapq.heappush(self.agenda, (when, self._order, chat_id, kind, payload))

    def run(self, timeout: float) -> float:
        """Until every owner has a result (or `timeout`); seconds from the first join to the last result."""
        begun = time.perf_counter()
        last = begun
        while not all(owner.done for owner in self.owners.values()):
            now = time.perf_counter()
            if now - begun > timeout:
                break
            while self.agenda and self.agenda[0][0] <= now:
                _, _, chat_id, kind, payload = heapq.heappop(self.agenda)
                self._act(chat_id, kind, payload)
            wait = (self.agenda[0][0] - now) if self.agenda else 0.5
            try:
                arrived, message = self.server.arrivals.get(timeout=max(0.0, min(wait, 0.5)))
            except queue.Empty:
                continue
            if self._arrived(arrived, message):
                last = arrived
        return last - begun

    def _act(self, chat_id: int, kind: str, payload: str) -> None:
        update = self._update(chat_id, kind, payload)
        offered = self.server.offer(update)
        if kind != "tick":
            self.owners[chat_id].asked_at = offered

    def _update(self, chat_id: int, kind: str, payload: str) -> dict[str, Any]:
        sender = {"id": chat_id, "is_bot": False, "first_name": f"Owner {chat_id}"}
        chat = {"id": chat_id, "type": "private"}
        if kind == "text":
            message: dict[str, Any] = {"message_id": 1, "date": int(time.time()), "text": payload, "chat": chat,
                                       "from": sender}
            if payload.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(payload)}]
            return {"message": message}
        return {"callback_query": {"id": f"{chat_id}-{self._order}", "chat_instance": "ci", "data": payload,
                                   "from": sender, "message": {"message_id": 1, "date": int(time.time()),
                                                               "chat": chat}}}

    def _arrived(self, arrived: float, message: dict[str, Any]) -> bool:
        """An owner's reply came: timed, and the owner's next move planned. True for a result."""
        owner = self.owners.get(message["chat_id"])
        if owner is None or message["method"] != "sendMessage" or owner.done:
            return False
        text = unquoted(message["text"])
        consent = [data for _, data in message["buttons"] if data and data.startswith("c:1:")]
        if not consent and not text.startswith(FIRST_WORDS):
            return False  # a greeting or a note before the message that matters
        if owner.asked_at is not None and not consent:
            owner.latencies.append(arrived - owner.asked_at)
        owner.asked_at = None
        when = arrived + self.random.uniform(*self.think)
        if consent:
            self._plan(when, owner.chat_id, "tap", consent[0])
        elif text.startswith(("Kết quả", "Result")):
            owner.done = True
            return True
        else:
            self._answer(owner, when, text, message["buttons"])
        return False

    def _answer(self, owner: Owner, when: float, text: str, buttons: list[tuple[str, str]]) -> None:
        picks = [data for _, data in buttons if data.startswith("a:")]
        ticks = [data for _, data in buttons if data.startswith("t:")]
        if picks:
            self._plan(when, owner.chat_id, "tap", self.random.choice(picks))
        elif ticks:
            self._plan(when, owner.chat_id, "tick", self.random.choice(ticks))
            done = next(data for _, data in buttons if data.startswith("d:"))
            self._plan(when + 1.0, owner.chat_id, "tap", done)
        else:
            self._plan(when, owner.chat_id, "text", self._typed(text))

    def _typed(self, text: str) -> str:
        question = next((q for shown, q in self.texts.items() if shown in text), None)
        return typed_answer(question)


def typed_answer(question: Question | None) -> str:
    """What an owner types where there are no buttons: a number in range, or a name."""
    if question is not None and question.type == "number":
        low = int(question.min) if question.min is not None else 1
        high = int(question.max) if question.max is not None else low + 10
        return str(min(max(low, 5), high))
    return "Cửa hàng Hoa Mai"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(mode: str, args: argparse.Namespace, q: Questionnaire) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, TimedServer(args.rtt) as server:
        config = Path(tmp) / "bot.toml"
        config.write_text(f'[programme]\nname = "Chương trình thử"\ncontact = "0900 000 000"\n'
                          f'[assessment]\nquestionnaire = "{args.questionnaire}"\n[storage]\ndatabase = "bench.db"\n'
                          f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_url}"\n')
        log = (Path(tmp) / "bot.log").open("w")
        bot = subprocess.Popen([sys.executable, __file__, "bot", str(config), *(["--eager-edits"] if mode == "two-calls"
                                                                               else [])],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SME_BOT_TOKEN": TOKEN})
        try:
            server.wait_until(lambda s: s.polls, timeout=60)
            workshop = Workshop(server, q, args.owners, args.join, tuple(args.think), args.seed)
            elapsed = workshop.run(args.timeout)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=60)
            log.close()
        latencies = [x for owner in workshop.owners.values() for x in owner.latencies]
        calls = [m for m in server.sent if m["chat_id"]]
        errors = [line for line in (Path(tmp) / "bot.log").read_text().splitlines() if "ERROR" in line]
        return {"mode": mode, "latencies": latencies, "elapsed": elapsed,
                "completed": sum(owner.done for owner in workshop.owners.values()),
                "sends": sum(m["method"] in ("sendMessage", "sendPhoto") for m in calls),
                "edits": sum(m["method"].startswith("edit") for m in calls), "errors": errors}


def report(figures: dict[str, Any], owners: int) -> None:
    lat = figures["latencies"]
    print(f"  {figures['mode']:<9}  answer → next question: p50 {statistics.median(lat):5.2f} s  "
          f"p95 {percentile(lat, 0.95):5.2f} s  p99 {percentile(lat, 0.99):5.2f} s  ({len(lat):,} answers)")
    print(f"  {'':<9}  {figures['completed']}/{owners} results; the last {figures['elapsed']:.0f} s after the first "
          f"join; {figures['sends']:,} messages sent and {figures['edits']:,} edits made; "
          f"{len(figures['errors'])} error lines in the bot's log", *figures["errors"][:3], sep="\n    ")


def bot_process(config_path: str, eager_edits: bool) -> None:
    """The bot as `sme-bot run` runs it in polling mode, with the earlier edits when asked."""
    import asyncio

    from sme_bot.channels.telegram.app import build_application
    from sme_bot.channels.telegram.polling import run_polling
    from sme_bot.config import load_config
    from sme_bot.storage import Store

    config = load_config(Path(config_path))
    store = Store(config.storage.database)
    q = loader.load(config.assessment.questionnaire, config.assessment.questionnaires)
    app = build_application(config, q, store, token=TOKEN,
                            reminders=False, eager_edits=eager_edits)

    async def poll() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run_polling(app, stop=stop)

    asyncio.run(poll())
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=200)
    parser.add_argument("--join", type=float, default=20.0, help="owners join within this many seconds")
    parser.add_argument("--think", type=float, nargs=2, default=[4.0, 12.0], help="think time per answer, U(a, b) s")
    parser.add_argument("--rtt", type=float, default=0.1, help="seconds the Bot API takes to answer a call")
    parser.add_argument("--questionnaire", default="quick-check")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=2026)
    if sys.argv[1:2] == ["bot"]:
        bot_process(sys.argv[2], "--eager-edits" in sys.argv[3:])
        return
    args = parser.parse_args()
    q = loader.load(args.questionnaire)
    print("$ python", " ".join(sys.argv))
    print(f"workshop: {args.owners} owners joining within {args.join:g} s, thinking U({args.think[0]:g}, "
          f"{args.think[1]:g}) s per answer, on {q.id} {q.version}; Bot API round trip {args.rtt:g} s; "
          "30 chat calls a second")
    for mode in args.modes:
        report(measure(mode, args, q), args.owners)


if __name__ == "__main__":
    main()
