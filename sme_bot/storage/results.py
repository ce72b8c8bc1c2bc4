"""How answers and results are laid out in rows: shared by the writers and the staff reads."""

import json
import sqlite3
from typing import Any

from sme_bot.flows.answers import Value


def encode(value: Value) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def decode(value: str | None) -> Value:
    if value is not None and value[:1] == '"' and "\\" not in value:
        return value[1:-1]  # a plain option id or text: most answers, and exports read millions
    decoded = json.loads(value) if value is not None else None
    return tuple(decoded) if isinstance(decoded, list) else decoded


def write_result_rows(conn: sqlite3.Connection, assessment_id: int, result: dict[str, Any]) -> None:
    """A result's pillars and shown roadmap steps as rows, so summaries aggregate in SQL."""
    conn.execute("delete from result_pillars where assessment_id = ?", [assessment_id])
    conn.execute("delete from result_steps where assessment_id = ?", [assessment_id])
    conn.executemany("insert into result_pillars values (?, ?, ?, ?, ?, ?)",
                     [(assessment_id, p["id"], p["points"], p["max_points"], p["percent"], p["level"])
                      for p in result["pillars"]])
    seen: dict[str, int] = {}
    steps = []
    for step in result["roadmap"][: result.get("shown", 5)]:
        # Results stored before steps had an index are in round order: the n-th of a pillar is its n-th.
        index = step.get("index", seen.get(step["pillar"], 0))
        seen[step["pillar"]] = index + 1
        steps.append((assessment_id, step["priority"], step["pillar"], step["level"], index))
    conn.executemany("insert into result_steps values (?, ?, ?, ?, ?)", steps)
