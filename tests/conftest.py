import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from sme_bot import loader
from sme_bot.storage import Store

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

# A whole small questionnaire, inline, so each test can break one thing and read the message.
TINY_FRAMEWORK = """
id = "tiny"
source = "made up for tests"
roadmap_shown = 3
name = { vi = "Khung nhỏ", en = "Tiny framework" }

[[pillars]]
id = "sales"
weight = 2
name = { vi = "Bán hàng", en = "Sales" }
description = { vi = "Bán hàng", en = "Sales" }

[[pillars]]
id = "money"
weight = 1
name = { vi = "Tài chính", en = "Money" }
description = { vi = "Tài chính", en = "Money" }

[[levels]]
level = 0
name = { vi = "Chưa", en = "None" }
meaning = { vi = "Chưa", en = "None" }

[[levels]]
level = 1
pillar_percent_at_least = 25
total_percent_above = 20
min_pillars = 2
name = { vi = "Một", en = "One" }
meaning = { vi = "Một", en = "One" }

[[levels]]
level = 2
pillar_percent_above = 60
total_percent_above = 60
min_pillars = 2
name = { vi = "Hai", en = "Two" }
meaning = { vi = "Hai", en = "Two" }

[[roadmap]]
pillar = "sales"
level = 0
steps = [{ vi = "Bán online", en = "Sell online" }, { vi = "Nhận chuyển khoản", en = "Take transfers" }]

[[roadmap]]
pillar = "sales"
level = 1
steps = [{ vi = "Mở sàn", en = "Open a marketplace shop" }]

[[roadmap]]
pillar = "money"
level = 0
steps = [{ vi = "Dùng phần mềm kế toán", en = "Use accounting software" }]

[[roadmap]]
pillar = "money"
level = 1
steps = [{ vi = "Kết nối ngân hàng", en = "Connect the bank" }]
"""

TINY = """
id = "tiny"
version = "1"
framework = "tiny"
minutes = 1
title = { vi = "Bài nhỏ", en = "Tiny" }
description = { vi = "Bài nhỏ", en = "Tiny" }

[pillar_max]
sales = 10
money = 10

[[profile]]
id = "staff"
type = "number"
integer = true
min = 1
max = 500
text = { vi = "Số người?", en = "How many people?" }

[[profile]]
id = "nickname"
type = "text"
required = false
max_length = 20
text = { vi = "Tên gọi?", en = "Nickname?" }

[[questions]]
id = "channels"
pillar = "sales"
type = "multi"
text = { vi = "Bán ở đâu?", en = "Where do you sell?" }
options = [
  { id = "zalo", points = 3, label = { vi = "Zalo", en = "Zalo" } },
  { id = "shop", points = 3, label = { vi = "Cửa hàng", en = "Shop" } },
  { id = "none", exclusive = true, label = { vi = "Không có kênh nào", en = "No channel" } },
]

[[questions]]
id = "updates"
pillar = "sales"
type = "single"
ask_if = { question = "channels", any_of = ["zalo"] }
text = { vi = "Cập nhật Zalo?", en = "Zalo updates?" }
options = [
  { id = "never", points = 0, label = { vi = "Không bao giờ", en = "Never" } },
  { id = "weekly", points = 4, label = { vi = "Hằng tuần", en = "Weekly" } },
]

[[questions]]
id = "books"
pillar = "money"
type = "yesno"
yes_points = 4
text = { vi = "Có phần mềm kế toán?", en = "Accounting software?" }

[[questions]]
id = "payroll"
pillar = "money"
type = "single"
ask_if = { question = "staff", min = 5 }
text = { vi = "Tính lương?", en = "Payroll?" }
options = [
  { id = "paper", points = 0, label = { vi = "Giấy", en = "Paper" } },
  { id = "app", points = 6, label = { vi = "Ứng dụng", en = "App" } },
]
"""


def write_tiny(directory: Path, questionnaire: str = TINY, framework: str = TINY_FRAMEWORK) -> Path:
    (directory / "frameworks").mkdir(exist_ok=True)
    (directory / "frameworks" / "tiny.toml").write_text(framework, encoding="utf-8")
    path = directory / "tiny.toml"
    path.write_text(questionnaire, encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path):
    return loader.load(write_tiny(tmp_path))


@pytest.fixture(scope="session")
def dbi():
    return loader.load("dbi-sme")


@pytest.fixture(scope="session")
def quick():
    return loader.load("quick-check")


class Clock:
    """A settable clock for code that takes `now=` (a datetime, or seconds as time.time gives):
    tests move time, they never wait for it."""

    def __init__(self, now=datetime(2026, 11, 1, 9, 0, tzinfo=UTC)):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def rows(db, sql):
    """What a query over a database file gives, read on a connection of its own."""
    store = Store(db)
    try:
        return store.db.execute(sql).fetchall()
    finally:
        store.close()


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    """Every storage test runs against a real file and an in-memory database alike."""
    s = Store(tmp_path / "test.db" if request.param == "file" else ":memory:")
    yield s
    s.close()


@dataclass(frozen=True)
class Ran:
    """A finished `sme-bot` run: the three things of subprocess.CompletedProcess that tests read."""

    returncode: int
    stdout: str
    stderr: str


def sme_bot(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None) -> Ran:
    """Run an `sme-bot` command in this process, as a user's shell runs it with its output piped.

    click's CliRunner gives the command a stdin that is not a terminal and plain-text stdout and
    stderr; COLUMNS is fixed (80 unless this process or the test sets it), so rich and click
    lay out tables and help exactly as in a piped process whatever terminal runs pytest. The exit
    code is the process's, and an exception nothing caught becomes a traceback on stderr and
    exit 1, as the interpreter would make it. What a command could leave behind in a shared
    process (current directory, environment, logging set-up, signal handlers) is put back.
    Tests whose point is a real process (signals, start-up imports, a byte-exact transcript)
    use `sme_bot_process` instead.
    """
    from sme_bot.cli import main

    environment = {"COLUMNS": os.environ.get("COLUMNS", "80"), **(env or {})}
    # CliRunner lays help out 80 wide; a process takes the terminal's width, at most 80, less 2.
    columns = int(environment["COLUMNS"]) if environment["COLUMNS"].isdigit() else 80
    help_width = max(min(columns, 80) - 2, 50)
    with _restored_process_state(), contextlib.chdir(cwd or os.getcwd()):
        result = CliRunner().invoke(main, list(args), input=stdin, env=environment, prog_name="sme-bot",
                                    terminal_width=help_width)
    stderr, code = result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return Ran(code, result.stdout, stderr)


@contextlib.contextmanager
def _restored_process_state():
    environ = dict(os.environ)
    root = logging.getLogger()
    handlers = [(handler, list(handler.filters)) for handler in root.handlers]
    levels = {name: logger.level for name, logger in logging.Logger.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    root_level = root.level
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        if os.environ != environ:
            os.environ.clear()
            os.environ.update(environ)
        root.handlers[:] = [handler for handler, _ in handlers]
        for handler, filters in handlers:
            handler.filters[:] = filters
        root.setLevel(root_level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger) and logger.level != levels.get(name, logging.NOTSET):
                logger.setLevel(levels.get(name, logging.NOTSET))
        if threading.current_thread() is threading.main_thread():
            for number, handler in signals.items():
                if handler is not None and signal.getsignal(number) is not handler:
                    signal.signal(number, handler)


def sme_bot_process(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None,
                    timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed `sme-bot` command in a process of its own, as a user would."""
    command = Path(sys.executable).with_name("sme-bot")
    return subprocess.run([str(command), *args], input=stdin, check=False, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def unavailable(what: str) -> None:
    """A tool a test needs is missing: a failure in CI, where .ci/run installs it; elsewhere a skip
    that says so (a test that silently passes without its tool would prove nothing)."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is needed for this test; .ci/run installs it")
    pytest.skip(f"{what} is not on this machine; CI installs it and runs this test")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root in a container, and nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`: nothing is downloaded)."""
    if not Path(CHROMIUM).exists():
        unavailable("Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# A Telegram user id listed as programme staff in the bots tests build.
ADMIN = 99


@pytest.fixture
def make_bot(tmp_path, clock):
    """The real PTB Application over a fake Bot API and a real SQLite file, on a settable clock."""
    from fake_bot_api import TOKEN, FakeBotAPI, Harness

    from sme_bot.channels.telegram.app import build_application
    from sme_bot.config import Config, Staff

    made = []

    def make(questionnaire="quick-check", *, api=None, rate_limit=False, db="bot.db", eager_edits=False):
        store = Store(tmp_path / db, now=clock)
        api = api or FakeBotAPI()
        app = build_application(Config(staff=Staff(telegram=[ADMIN])), loader.load(questionnaire), store, token=TOKEN,
                                request=api, now=clock, reminders=False, rate_limit=rate_limit, retry_pauses=(0, 0, 0),
                                eager_edits=eager_edits)
        harness = Harness(app, api)
        harness.store = store
        made.append(harness)
        return harness

    yield make
    for harness in made:
        getattr(harness, "closing", lambda: None)()
        harness.close()
        harness.store.close()
