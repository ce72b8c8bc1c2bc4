import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    """Every storage test runs against a real file and an in-memory database alike."""
    s = Store(tmp_path / "test.db" if request.param == "file" else ":memory:")
    yield s
    s.close()


def sme_bot(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed `sme-bot` command as a user would."""
    command = Path(sys.executable).with_name("sme-bot")
    return subprocess.run([str(command), *args], input=stdin, check=False, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)
