"""How fast the console starts and how fast scoring runs, against `python -c pass` in the same run.

    python bench/startup_and_scoring.py [--runs 15]

Prints medians and ratios; machines are shared and noisy, so compare ratios, not seconds.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sme_bot import loader
from sme_bot.scoring import score

SME_BOT = str(Path(sys.executable).with_name("sme-bot"))


def run_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def first_question(db: str) -> float:
    """Seconds from launch until the console has printed the first question."""
    start = time.perf_counter()
    process = subprocess.Popen([SME_BOT, "console", "--db", db, "--new"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdin and process.stdout
    process.stdin.write("1\n")  # consent
    process.stdin.flush()
    for line in process.stdout:
        if line.startswith("Câu 1/"):
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError("the console never showed its first question")
    process.kill()
    process.wait()
    return elapsed


def random_answers(q, rng: random.Random) -> dict:
    answers = {}
    for question in q.all_questions:
        if question.type == "number":
            answers[question.id] = float(rng.randint(int(question.min), min(int(question.max), 200)))
        elif question.type == "text":
            answers[question.id] = "x"
        elif question.type == "multi":
            regular = [o.id for o in question.options if not o.exclusive]
            answers[question.id] = tuple(rng.sample(regular, rng.randint(1, len(regular))))
        else:
            answers[question.id] = rng.choice(question.options).id
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        timings = {
            "python -c pass": [run_once([sys.executable, "-c", "pass"]) for _ in range(args.runs)],
            "sme-bot --help": [run_once([SME_BOT, "--help"]) for _ in range(args.runs)],
            "console → first question": [first_question(db) for _ in range(args.runs)],
        }
    baseline = statistics.median(timings["python -c pass"])
    print(f"startup, median of {args.runs} runs (python {sys.version.split()[0]}):")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:<26} {median * 1000:7.1f} ms   {median / baseline:5.1f}× python -c pass")

    q = loader.load("dbi-sme")
    rng = random.Random(2026)
    samples = [random_answers(q, rng) for _ in range(500)]
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        for answers in samples:
            score(q, answers)
        rates.append(len(samples) / (time.perf_counter() - start))
    print(f"scoring dbi-sme ({len(q.all_questions)} questions): median {statistics.median(rates):,.0f} assessments/s "
          f"over 5 rounds of {len(samples)}")


if __name__ == "__main__":
    main()
