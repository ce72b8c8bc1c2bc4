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
# Two businesses at either end of quick-check, for figures a person can work out by hand.
LOW = {"sector": "retail", "employees": 3.0, "legal_form": "household", "revenue": "to_3", "size": "micro",
       "c_presence": ("none",), "c_payments": ("cash_only",), "c_egov": ("none",), "s_plan": "none",
       "i_internet": ("mobile_only",), "i_accounting": "paper", "i_einvoice": "not_yet", "i_safety": ("none",),
       "o_sales": "notebook", "o_tasks": "verbal", "o_learning": "none", "k_scams": ("none",), "k_new": "no",
       "d_customers": "not_kept", "d_consent": "no"}
HIGH = {**LOW, "sector": "food", "employees": 40.0, "size": "small", "c_presence": ("zalo_oa", "maps", "website", "marketplace"),
        "c_payments": ("transfer", "ewallet", "card"), "c_egov": ("etax", "vneid", "public_services"), "s_plan": "reviewed",
        "i_internet": ("fibre", "wifi", "backup"), "i_accounting": "cloud_linked", "i_einvoice": "from_software",
        "i_safety": ("backup", "two_factor", "antivirus", "updates"), "o_sales": "erp", "o_tasks": "workflow",
        "o_learning": "applied", "k_scams": ("no_otp", "check_payment", "call_back", "recovery", "learned"),
        "k_new": "regular", "d_customers": "crm", "d_consent": "yes"}


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
