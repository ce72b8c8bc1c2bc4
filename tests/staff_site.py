"""What the staff-area tests share: accounts made straight in the database with a cheap argon2
(the real one costs ~90 ms a hash), and a made-up completed assessment to download."""

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from sme_bot.accounts import Accounts
from sme_bot.scoring import score
from sme_bot.service import CONSENT_VERSION
from sme_bot.storage import Store

# The lowest costs argon2 allows: the same code paths, a fraction of a millisecond.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORDS = {"lan": "Hoa-sen-mat-khau-2026", "minh": "Xem-thoi-nhe-99"}
# A café on the quick-check, as stored.
CAFE = {"sector": "food", "employees": 6.0, "legal_form": "household", "revenue": "to_3", "size": "micro",
        "c_presence": ("zalo_oa", "maps"), "c_payments": ("transfer",), "c_egov": ("etax",), "s_plan": "in_head",
        "i_internet": ("fibre",), "i_accounting": "cloud", "i_einvoice": "cash_register", "i_safety": ("none",),
        "o_sales": "pos", "o_tasks": "zalo_groups", "o_learning": "one_course", "k_scams": ("no_otp",), "k_new": "once",
        "d_customers": "spreadsheet", "d_consent": "no"}


def add_accounts(db) -> None:
    store = Store(db)
    try:
        accounts = Accounts(store, password_hasher=CHEAP)
        accounts.add("lan", "admin", PASSWORDS["lan"], by="test")
        accounts.add("minh", "viewer", PASSWORDS["minh"], by="test")
    finally:
        store.close()


def add_completed(db, q, *, cohort=None, external_id="84912345678", name="Cà phê Hạnh"):
    store = Store(db)
    try:
        start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        with store.transaction():
            store.assessments.add_whole(channel="telegram", external_id=external_id, questionnaire_id=q.id,
                                        questionnaire_version=q.version, language="vi", cohort=cohort,
                                        started_at=start, last_at=start + timedelta(minutes=7), answers=CAFE,
                                        result=score(q, CAFE), consent_version=CONSENT_VERSION)
            store.db.execute("update respondents set name = ? where external_id = ?", [name, external_id])
    finally:
        store.close()
    return score(q, CAFE)
