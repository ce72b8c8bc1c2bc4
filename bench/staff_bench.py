"""Staff commands at scale: summary and CSV export over many completed assessments.

    python bench/staff_bench.py [--small 10000] [--large 100000] [--runs 3]

Fills a temporary database with demo data (cohort SMALL, then the rest), then times
`sme-bot summary` and `sme-bot export --format csv` against `sqlite3 -csv` dumping the same
joined rows (assessments, results and answers) in the same run, and reports the peak memory of
the export for the small cohort and for everything. Needs the sqlite3 command-line tool.
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
from pathlib import Path

from sme_bot.demo import UNFINISHED

SME_BOT = str(Path(sys.executable).with_name("sme-bot"))
JOINED = ("select a.id, a.cohort, a.started_at, a.completed_at, a.questionnaire_id, a.questionnaire_version, "
          "r.level, r.points, r.max_points, r.percent, an.question_id, an.value from assessments a "
          "join results r on r.assessment_id = a.id join answers an on an.assessment_id = a.id "
          "where a.status = 'completed' order by a.id, an.id;")


def run(command: list[str], **kwargs) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status:
        raise RuntimeError(f"{command} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024


def median_run(command: list[str], runs: int, **kwargs) -> tuple[float, float]:
    results = [run(command, **kwargs) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sqlite = shutil.which("sqlite3")
    if not sqlite:
        sys.exit("needs the sqlite3 command-line tool (apt-get install sqlite3)")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "staff.db")
        fill = time.perf_counter()
        # Demo data leaves some owners part-way; ask for enough to have the completed counts wanted.
        small, rest = (math.ceil(n / (1 - UNFINISHED)) for n in (args.small, args.large - args.small))
        subprocess.run([SME_BOT, "demo-data", "--n", str(small), "--cohort", "SMALL", "--db", db], check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run([SME_BOT, "demo-data", "--n", str(rest), "--cohort", "REST", "--seed", "7", "--db", db],
                       check=True, stderr=subprocess.DEVNULL)
        completed = sqlite3.connect(db).execute("select count(*) from results").fetchone()[0]
        print(f"demo data: {completed:,} completed assessments (and {small + rest - completed:,} left part-way) "
              f"in {time.perf_counter() - fill:.0f} s ({Path(db).stat().st_size / 2**20:.0f} MB)")
        out = str(Path(tmp) / "out.csv")
        # Every row here is made up (channel demo), which staff figures leave out unless told.
        summary, _ = median_run([SME_BOT, "summary", "--include-demo", "--db", db], args.runs)
        by_sector, _ = median_run([SME_BOT, "summary", "--include-demo", "--db", db, "--by", "sector"], args.runs)
        export, export_mb = median_run([SME_BOT, "export", "--include-demo", "--db", db, "-o", out], args.runs)
        small, small_mb = median_run([SME_BOT, "export", "--include-demo", "--db", db, "--cohort", "SMALL", "-o", out],
                                     args.runs)
        baseline, _ = median_run([sqlite, "-csv", "-cmd", f".output {Path(tmp) / 'dump.csv'}", db, JOINED], args.runs)
        print(f"medians of {args.runs} runs:")
        print(f"  sme-bot summary                 {summary:6.2f} s")
        print(f"  sme-bot summary --by sector     {by_sector:6.2f} s")
        print(f"  sme-bot export (csv, {completed:,})    {export:6.2f} s   peak {export_mb:.0f} MB")
        print(f"  sqlite3 -csv of the same joins  {baseline:6.2f} s   → export is {export / baseline:.1f}× the dump")
        print(f"  export of {args.small:,} (one cohort)  {small:6.2f} s   peak {small_mb:.0f} MB "
              f"(memory {export_mb - small_mb:+.0f} MB from {args.small:,} to {args.large:,} rows)")


if __name__ == "__main__":
    main()
