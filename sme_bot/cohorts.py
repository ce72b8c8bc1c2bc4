"""Cohort codes as users type them: checked against the database with a helpful message."""

from sme_bot.errors import StaffError
from sme_bot.storage import Store


def check_cohort(store: Store, cohort: str | None) -> None:
    if cohort and store.assessments.cohort(cohort) is None:
        known = ", ".join(c["code"] for c in store.staff.cohorts()) or "none yet"
        raise StaffError(f"unknown cohort {cohort!r} (known: {known}); create it with `sme-bot cohort create`")
