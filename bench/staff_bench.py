"""Staff figures and downloads at scale: the staff area's pages, summaries and exports over
100,000 completed assessments, each against its target (issue 10).

    python bench/staff_bench.py [--small 10000] [--large 100000] [--runs 3] [--keep PATH]

Fills a database with demo data (cohort SMALL, then the rest) and marks its rows as real (staff
figures leave demo rows out), or reuses the one at --keep when it exists (and leaves one there
when not). Then, medians of --runs:

- the staff area's cohort page and summary page, through the real app in this process (target < 1 s);
- `sme-bot summary`, a whole process as staff run it;
- `sme-bot export --format csv` against `sqlite3 -csv` writing the same shape in the same run: one
  row per assessment with a column per answer, option and pillar figure (target ≤ 2×);
- `sme-bot export --format xlsx` against the CSV (target ≤ 3×);
- peak memory of the exports for the small cohort and for everything (target: flat).

Needs the sqlite3 command-line tool and GNU time (/usr/bin/time).
"""

import argparse
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from sme_bot import loader
from sme_bot.demo import UNFINISHED
from sme_bot.questionnaire import Questionnaire

SME_BOT = str(Path(sys.executable).with_name("sme-bot"))
TARGETS = {"page": 1.0, "csv": 2.0, "xlsx": 3.0}
PASSWORD = "Hoa-sen-2026-xyz"
BARE = "a bare Starlette page, same HTML"
TIME = "/usr/bin/time"


class Timing(NamedTuple):
    seconds: float  # wall clock
    cpu: float  # user + system: what a shared, busy machine distorts least
    mb: float  # peak resident memory


def run(command: list[str]) -> Timing:
    # Through GNU time, forked from a small process: a child forked from this one would count this
    # process's memory (the web app's libraries, loaded for the pages) in its own peak.
    done = subprocess.run([TIME, "-f", "%e %U %S %M", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{command} failed: {done.stderr}")
    seconds, user, system, kilobytes = done.stderr.split()[-4:]
    return Timing(float(seconds), float(user) + float(system), int(kilobytes) / 1024)


def median_run(command: list[str], runs: int) -> Timing:
    results = [run(command) for _ in range(runs)]
    return Timing(statistics.median(r.seconds for r in results), statistics.median(r.cpu for r in results),
                  max(r.mb for r in results))


def fill(db: Path, small: int, large: int) -> None:
    """Demo data, then marked as real rows (as if answered on Telegram), which staff figures count."""
    # Demo data leaves some owners part-way; ask for enough to have the completed counts wanted.
    first, rest = (math.ceil(n / (1 - UNFINISHED)) for n in (small, large - small))
    for count, cohort, seed in ((first, "SMALL", "2026"), (rest, "REST", "7")):
        subprocess.run([SME_BOT, "demo-data", "--n", str(count), "--cohort", cohort, "--seed", seed, "--db", str(db)],
                       check=True, stderr=subprocess.DEVNULL)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update respondents set channel = 'telegram' where channel = 'demo'")
        conn.execute("update assessments set channel = 'telegram' where channel = 'demo'")
    conn.close()


def same_shape(q: Questionnaire, cohort: str | None) -> str:
    """The export's rows as one SQL query: one row per completed assessment, a column per answer
    (per option of a multiple choice, 0 or 1), per pillar figure and per total."""
    answers = []
    for question in q.all_questions:
        if question.type == "multi":
            answers += [f"max(case when question_id = '{question.id}' then instr(value, '\"{o.id}\"') > 0 end)"
                        for o in question.options]
        else:
            answers.append(f"max(case when question_id = '{question.id}' then json_extract(value, '$') end)")
    pillars = [f"max(case when pillar = '{p.id}' then {part} end)" for p in q.pillars
               for part in ("points", "percent", "level")]
    where = f" and a.cohort = '{cohort}'" if cohort else ""
    return (f"select a.id, a.cohort, a.started_at, a.completed_at, a.questionnaire_id, a.questionnaire_version, "
            f"a.channel, a.language, r.level, r.points, r.max_points, r.percent, p.*, an.* from assessments a "
            f"join results r on r.assessment_id = a.id "
            f"join (select assessment_id, {', '.join(pillars)} from result_pillars group by 1) p "
            f"on p.assessment_id = a.id "
            f"join (select assessment_id, {', '.join(answers)} from answers group by 1) an "
            f"on an.assessment_id = a.id where a.status = 'completed'{where} order by a.id;")


def page_times(db: Path, q: Questionnaire, runs: int) -> dict[str, float]:
    """Median seconds of the staff area's pages, signed in, through the real app in this process,
    and of a bare Starlette page the same way: what any page costs here before it reads a row."""
    import warnings

    from argon2 import PasswordHasher
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what is installed
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from sme_bot.accounts import Accounts
    from sme_bot.config import Config
    from sme_bot.storage import Store
    from sme_bot.web.app import create_app

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    store = Store(db)
    if store.accounts.get("bench") is None:  # a kept database has it from an earlier run
        Accounts(store, password_hasher=cheap).add("bench", "admin", PASSWORD, by="bench")
    store.close()
    app = create_app(Config(), q, database=db, secret="a bench key that is long enough to sign",
                     password_hasher=cheap)
    times: dict[str, list[float]] = {}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        token = client.get("/staff").text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/staff/signin", data={"csrf": token, "name": "bench", "password": PASSWORD})
        pages = {"cohort page": "/staff/cohorts", "summary page": f"/staff/summary?questionnaire={q.id}",
                 "summary page, one cohort": f"/staff/summary?questionnaire={q.id}&cohort=SMALL",
                 "summary page, all by sector": f"/staff/summary?questionnaire={q.id}&by=sector"}
        for name, path in pages.items():
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(path)
                times.setdefault(name, []).append(time.perf_counter() - start)
                assert response.status_code == 200 and "/staff/signout" in response.text, (path, response.status_code)
        page = client.get(pages["summary page"]).text  # the same bytes, from a handler that does nothing

    async def bare(request: object) -> HTMLResponse:
        return HTMLResponse(page)

    with TestClient(Starlette(routes=[Route("/", bare)]), base_url="http://127.0.0.1") as client:
        for _ in range(runs):
            start = time.perf_counter()
            client.get("/")
            times.setdefault(BARE, []).append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="A database to reuse, or to leave filled for the next run.")
    args = parser.parse_args()
    sqlite = shutil.which("sqlite3")
    if not sqlite or not Path(TIME).exists():
        sys.exit(f"needs the sqlite3 command-line tool and GNU time at {TIME} (apt-get install sqlite3 time)")
    q = loader.load("dbi-sme")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep or Path(tmp) / "staff.db"
        if not db.exists():
            started = time.perf_counter()
            fill(db, args.small, args.large)
            print(f"filled in {time.perf_counter() - started:.0f} s")
        completed = sqlite3.connect(db).execute("select count(*) from results").fetchone()[0]
        print(f"{completed:,} completed assessments ({db.stat().st_size / 2**20:.0f} MB); medians of {args.runs} runs")

        def verdict(value: float, target: float) -> str:
            return "ok" if value <= target else f"MISSED (target {target:g})"

        pages = page_times(db, q, args.runs)
        bare = pages.pop(BARE)
        print(f"  {BARE:36} {bare * 1000:6.1f} ms")
        for name, seconds in pages.items():
            print(f"  {name:36} {seconds:6.2f} s   ({seconds / bare:,.0f}× the bare page)   "
                  f"{verdict(seconds, TARGETS['page'])}")
        summary = median_run([SME_BOT, "summary", "--db", str(db)], args.runs)
        by_sector = median_run([SME_BOT, "summary", "--db", str(db), "--by", "sector"], args.runs)
        for name, timing in (("sme-bot summary (a whole process)", summary), ("sme-bot summary --by sector", by_sector)):
            print(f"  {name:36} {timing.seconds:6.2f} s   (cpu {timing.cpu:.2f} s)   "
                  f"{verdict(timing.seconds, TARGETS['page'])}")

        def export(fmt: str, cohort: str | None) -> Callable[[], Timing]:
            scope = ["--cohort", cohort] if cohort else []
            return lambda: median_run([SME_BOT, "export", "--db", str(db), "--format", fmt, *scope,
                                       "-o", str(Path(tmp) / f"out.{fmt}")], args.runs)

        csv_all = export("csv", None)()
        dump = median_run([sqlite, "-csv", "-header", "-cmd", f".output {Path(tmp) / 'dump.csv'}", str(db),
                           same_shape(q, None)], args.runs)
        xlsx_all = export("xlsx", None)()
        csv_small = export("csv", "SMALL")()
        xlsx_small = export("xlsx", "SMALL")()
        print(f"  {'sqlite3 -csv, the same shape':36} {dump.seconds:6.2f} s   (cpu {dump.cpu:.2f} s)")
        for name, timing, base, against, target in (
                ("sme-bot export --format csv", csv_all, dump, "sqlite3", TARGETS["csv"]),
                ("sme-bot export --format xlsx", xlsx_all, csv_all, "the CSV", TARGETS["xlsx"])):
            ratio, cpu_ratio = timing.seconds / base.seconds, timing.cpu / base.cpu
            print(f"  {name:36} {timing.seconds:6.2f} s   (cpu {timing.cpu:.2f} s)   {ratio:.2f}× {against} "
                  f"(cpu {cpu_ratio:.2f}×)   {verdict(ratio, target)}")
        print(f"  peak memory, {args.small:,} → {completed:,} rows: CSV {csv_small.mb:.0f} → {csv_all.mb:.0f} MB "
              f"({csv_all.mb - csv_small.mb:+.0f}), XLSX {xlsx_small.mb:.0f} → {xlsx_all.mb:.0f} MB "
              f"({xlsx_all.mb - xlsx_small.mb:+.0f}); the {args.small:,}-row exports took {csv_small.seconds:.2f} s "
              f"(CSV) and {xlsx_small.seconds:.2f} s (XLSX)")
        print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: read the cpu figures on a busy machine")

if __name__ == "__main__":
    main()
