"""Following up support requests, for the staff area and the command line alike: the steps a
request goes through, who may be assigned, notes appended with who and when, the audit, and the
list staff read (with the business's name and the weakest pillars in words).

A request moves forward only (new → contacted → helping → closed, steps may be skipped), except
that a closed one can be reopened to "helping": an owner who calls back after the case was
closed is helped again, and the earlier notes stay with it.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sme_bot.accounts import normal_name
from sme_bot.errors import StaffRefused
from sme_bot.localtime import local_time
from sme_bot.questionnaire import Questionnaire
from sme_bot.storage import Store

STATUSES = ("new", "contacted", "helping", "closed")
# What a closed request may go back to.
REOPEN = "helping"
# Notes are appended to, never rewritten: the whole history stays readable in one cell.
MAX_NOTE = 2000

@dataclass(frozen=True)
class Change:
    """What one update did, for the audit."""

    request_id: int
    old_status: str
    status: str
    assignee: str | None
    assigned: bool  # the assignee changed
    noted: bool

    def describe(self) -> str:
        parts = [f"#{self.request_id}: {self.old_status} → {self.status}" if self.status != self.old_status
                 else f"#{self.request_id}: {self.status}"]
        if self.assigned:
            parts.append(f"assignee {self.assignee or '-'}")
        if self.noted:
            parts.append("note added")
        return ", ".join(parts)


def current(status: str | None) -> str:
    """A stored status as one of STATUSES: "open", from before follow-up existed, is "new"."""
    return status if status in STATUSES else "new"


def allowed(old: str, new: str) -> bool:
    """Any step forward, or a closed request reopened to "helping"; staying put is allowed too
    (a change of assignee or a note alone)."""
    old = current(old)
    if new not in STATUSES:
        return False
    return STATUSES.index(new) >= STATUSES.index(old) or (old == "closed" and new == REOPEN)


def next_statuses(old: str) -> list[str]:
    """The statuses a request in `old` may be given, its own first (for a form's choices)."""
    old = current(old)
    return [status for status in STATUSES if status == old or allowed(old, status)]


def check_status(typed: str) -> str:
    status = typed.strip().lower()
    if status not in STATUSES:
        raise StaffRefused("staff_support_bad_status", f"unknown status {typed[:32]!r}; use {', '.join(STATUSES)}")
    return status


def update(store: Store, request_id: int, *, by: str, status: str | None = None, assignee: str | None = None,
           note: str | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Change:
    """Change a request's status and/or assignee (a staff account's name; "" unassigns) and/or
    append a note signed with `by`; recorded in the staff audit under `by`."""
    with store.transaction():
        row = store.support.get(request_id)
        if row is None:
            raise StaffRefused("staff_support_unknown", f"no support request #{request_id}; "
                                                        "`sme-bot support list --status all` lists them",
                               id=str(request_id))
        old = current(row["status"])
        new = check_status(status) if status else old
        if not allowed(old, new):
            raise StaffRefused("staff_support_bad_step", f"request #{request_id} is {old}: it cannot go back to "
                               f"{new} (only forward, or from closed to {REOPEN})", old=old, new=new)
        who = row["assignee"]
        if assignee is not None:
            who = normal_name(assignee) or None
            if who is not None and store.accounts.get(who) is None:
                raise StaffRefused("staff_support_bad_assignee", f"no staff account named {who[:64]!r}; "
                                   "`sme-bot staff list` shows them", name=who[:64])
        text = " ".join((note or "").split())[:MAX_NOTE]  # one line: a note cannot fake another
        notes = row["notes"]
        if text:
            line = f"[{local_time(now().isoformat(timespec='seconds'))} {by}] {text}"
            notes = f"{notes}\n{line}" if notes else line
        change = Change(request_id, old, new, who, assigned=who != row["assignee"], noted=bool(text))
        if new == old and not change.assigned and not change.noted:
            raise StaffRefused("staff_support_nothing", f"nothing to change on request #{request_id}; give a new "
                               "status, an assignee or a note")
        store.support.update(request_id, status=new, assignee=who, notes=notes)
        store.accounts.audit(by, "support_updated", change.describe())
    return change


def listing(store: Store, questionnaire: Callable[[str], Questionnaire | None], *, status: str | None = None,
            cohort: str | None = None, lang: str = "vi") -> list[dict[str, Any]]:
    """The requests staff follow up: `status` one of STATUSES, "all", or None for those not
    closed; each with its status settled, the weakest pillars by name and times in Vietnam's."""
    if status not in (None, "all"):
        # A row written as "open" after the migration (an older process still running) is new.
        statuses: tuple[str, ...] | None = (check_status(status),) + (("open",) if status == "new" else ())
    else:
        statuses = None
    rows = store.support.requests(statuses=statuses, closed=status is not None, cohort=cohort or None)
    named: dict[str, dict[str, str]] = {}
    for row in rows:
        qid = row["questionnaire_id"]
        if qid not in named:
            q = questionnaire(qid)
            named[qid] = {p.id: p.name(lang) for p in q.pillars} if q else {}
        row["status"] = current(row["status"])
        row["pillar_names"] = [named[qid].get(p, p) for p in json.loads(row["pillars"] or "[]")]
        row["created"], row["updated"] = local_time(row["created_at"]), local_time(row["updated_at"])
    return rows


# The columns of a follow-up download, in order.
CSV_COLUMNS = ("id", "created", "updated", "status", "assignee", "cohort", "business_name", "name", "contact",
               "level", "pillars", "notes")


def write_csv(stream: IO[str], rows: Iterable[dict[str, Any]], status_name: Callable[[str], str]) -> None:
    """A follow-up list for Excel: every cell through csv_cell (a contact or a note typed as
    "=HYPERLINK(…)" stays text). The caller opens the file with utf-8-sig, for the BOM Excel
    needs to show Vietnamese."""
    import csv

    from sme_bot.reports.cells import csv_cell

    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = {**row, "status": status_name(row["status"]), "pillars": ", ".join(row["pillar_names"])}
        writer.writerow([csv_cell(values.get(column)) for column in CSV_COLUMNS])
