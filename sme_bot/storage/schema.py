"""The database's shape, as an append-only list of migrations recorded in PRAGMA user_version.

A released file's schema is changed by a new function here, never by editing one: an owner's
database made by any earlier release opens and is carried forward step by step.
"""

import json
from collections.abc import Callable

from sme_bot.errors import StorageError
from sme_bot.storage.database import sqlite_utils
from sme_bot.storage.results import write_result_rows

Migration = Callable[[sqlite_utils.Database], None]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("respondents").create({"id": int, "channel": str, "external_id": str, "name": str, "language": str,
                                    "created_at": str}, pk="id", not_null={"channel", "external_id", "created_at"})
    db.table("respondents").create_index(["channel", "external_id"], unique=True)
    db.table("consents").create({"id": int, "respondent_id": int, "text_version": str, "agreed": int, "at": str,
                                 "withdrawn_at": str}, pk="id", foreign_keys=[("respondent_id", "respondents")])
    db.table("assessments").create({"id": int, "respondent_id": int, "questionnaire_id": str,
                                    "questionnaire_version": str, "channel": str, "language": str, "cohort": str,
                                    "status": str, "started_at": str, "updated_at": str, "completed_at": str},
                                   pk="id", foreign_keys=[("respondent_id", "respondents")],
                                   not_null={"questionnaire_id", "questionnaire_version", "status", "started_at"})
    db.table("assessments").create_index(["respondent_id", "status"])
    db.table("answers").create({"id": int, "assessment_id": int, "question_id": str, "value": str, "withdrawn": int,
                                "at": str}, pk="id", foreign_keys=[("assessment_id", "assessments")],
                               not_null={"assessment_id", "question_id", "at"})
    db.table("answers").create_index(["assessment_id", "question_id"])
    db.table("results").create({"assessment_id": int, "questionnaire_id": str, "questionnaire_version": str,
                                "level": int, "points": int, "max_points": int, "percent": float, "detail": str,
                                "created_at": str}, pk="assessment_id", foreign_keys=[("assessment_id", "assessments")])


def _v2_chats(db: sqlite_utils.Database) -> None:
    """What a chat channel needs beyond answers: where the chat stands, reminders, support, deletions."""
    db.table("chats").create({"respondent_id": int, "chat_id": int, "language": str, "pending": str, "draft": str,
                              "prompt_message_id": int, "prompt_text": str, "prompt_question": str, "blocked": int,
                              "updated_at": str}, pk="respondent_id", foreign_keys=[("respondent_id", "respondents")])
    db.table("assessments").add_column("reminded_at", str)
    db.table("support_requests").create({"id": int, "assessment_id": int, "respondent_id": int, "pillars": str,
                                         "status": str, "created_at": str}, pk="id",
                                        foreign_keys=[("assessment_id", "assessments"),
                                                      ("respondent_id", "respondents")])
    db.table("processed_updates").create({"update_id": int, "at": str}, pk="update_id")
    db.table("deletions").create({"id": int, "channel": str, "rows": int, "at": str}, pk="id")
    db.table("cohorts").create({"code": str, "name": str, "starts": str, "ends": str, "created_at": str}, pk="code")


def _v3_reporting(db: sqlite_utils.Database) -> None:
    """Per-pillar rows and shown roadmap steps of each result, so staff summaries aggregate in
    SQL instead of parsing every result; filled in for results stored before."""
    db.table("result_pillars").create({"assessment_id": int, "pillar": str, "points": int, "max_points": int,
                                       "percent": float, "level": int}, pk=("assessment_id", "pillar"))
    db.table("result_steps").create({"assessment_id": int, "priority": int, "pillar": str, "level": int,
                                     "step": int}, pk=("assessment_id", "priority"))
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("assessments").create_index(["status", "cohort"])
    for assessment_id, detail in db.execute("select assessment_id, detail from results").fetchall():
        write_result_rows(db.conn, assessment_id, json.loads(detail))


def _v4_channels(db: sqlite_utils.Database) -> None:
    """Channels beyond Telegram, consent per purpose, cohorts with their questionnaire, support
    requests with the contact an owner gave."""
    # Zalo's chat ids are text; Telegram's numbers read back the same as text.
    db.table("chats").transform(types={"chat_id": str})
    # Update ids are unique per channel only (Zalo has none: its message ids stand in).
    db.execute("alter table processed_updates rename to processed_updates_v3")
    db.table("processed_updates").create({"channel": str, "update_id": str, "at": str}, pk=("channel", "update_id"))
    db.execute("insert into processed_updates select 'telegram', cast(update_id as text), at from processed_updates_v3")
    db.table("processed_updates_v3").drop()
    # Consent was one answer covering the result and sharing with staff: the same answer, per purpose.
    db.table("consents").add_column("purpose", str)
    db.execute("insert into consents (respondent_id, text_version, agreed, at, withdrawn_at, purpose) "
               "select respondent_id, text_version, agreed, at, withdrawn_at, 'staff' from consents")
    db.execute("update consents set purpose = 'result' where purpose is null")
    db.table("consents").create_index(["respondent_id", "purpose"])
    db.table("cohorts").add_column("questionnaire", str)
    db.table("support_requests").add_column("contact", str)


def _v5_staff_accounts(db: sqlite_utils.Database) -> None:
    """Accounts for the staff area in a browser, and what was done with them (sign-ins, exports)."""
    db.table("staff_accounts").create({"id": int, "name": str, "role": str, "password_hash": str, "created_at": str,
                                       "failed": int, "locked_until": str}, pk="id",
                                      not_null={"name", "role", "password_hash", "created_at"}, defaults={"failed": 0})
    db.table("staff_accounts").create_index(["name"], unique=True)
    db.table("staff_audit").create({"id": int, "at": str, "account": str, "action": str, "detail": str}, pk="id",
                                   not_null={"at", "action"})


def _v6_support_followup(db: sqlite_utils.Database) -> None:
    """Following up support requests: who has one, what was done (notes), when it last changed,
    and four steps instead of one open state ("open" was the only status ever written)."""
    table = db.table("support_requests")
    table.add_column("assignee", str)
    table.add_column("notes", str)
    table.add_column("updated_at", str)
    db.execute("update support_requests set status = 'new' where status = 'open'")
    db.execute("update support_requests set updated_at = created_at where updated_at is null")
    table.create_index(["status"])


def _v7_cohort_closing(db: sqlite_utils.Database) -> None:
    """A cohort can be closed: it then takes no new owners, and its figures stay."""
    db.table("cohorts").add_column("closed_at", str)


def _v8_summary_indexes(db: sqlite_utils.Database) -> None:
    """Result rows indexed in the order staff summaries group them, with the figure they add up:
    a summary reads each index once from end to end and never sorts (storage/staff.py)."""
    db.table("results").create_index(["level", "assessment_id"])
    db.table("result_pillars").create_index(["pillar", "assessment_id", "percent"])
    db.table("result_steps").create_index(["pillar", "level", "step", "assessment_id"])


def _v9_one_audit_trail(db: sqlite_utils.Database) -> None:
    """One audit trail: exports with identities the command line recorded in `meta` (before the
    staff area's table existed) move to staff_audit, where the staff area's audit page shows them."""
    for key, value in db.execute("select key, value from meta where key like 'audit:%'").fetchall():
        at = key.removeprefix("audit:").rsplit(":", 1)[0]  # audit:<time>:<random>, the time holding colons
        action, _, detail = value.partition(": ")
        db.execute("insert into staff_audit (at, account, action, detail) values (?, 'command line', ?, ?)",
                   [at, "export_identities" if action == "export with identities" else action, detail])
    db.execute("delete from meta where key like 'audit:%'")


MIGRATIONS: list[Migration] = [_v1_initial, _v2_chats, _v3_reporting, _v4_channels, _v5_staff_accounts,
                               _v6_support_followup, _v7_cohort_closing, _v8_summary_indexes, _v9_one_audit_trail]


def migrate(db: sqlite_utils.Database, migrations: list[Migration] = MIGRATIONS) -> None:
    """Bring an older file up to date, one recorded step at a time; refuse a newer one."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise StorageError(f"the database was written by a newer sme-bot (schema {version}, this one knows "
                           f"{len(migrations)}); upgrade sme-bot to open it")
    for number, step in enumerate(migrations[version:], start=version + 1):
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
