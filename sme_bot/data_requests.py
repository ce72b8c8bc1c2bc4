"""Data requests: an owner asks what the programme holds about them, or asks for it to be deleted.

Staff find the person by what they can quote: the pseudonymous id of an export row, or the
contact the owner left with a support request (a phone number, a Zalo name). Deleting goes
through the assessment service, which removes every row of the person (sme_bot.storage.privacy).
"""

import re
import unicodedata
from typing import Any

from sme_bot.reports.export import pseudonym
from sme_bot.storage import Store

PSEUDONYM = re.compile(r"[0-9a-f]{16}")
# A shorter contact would match many people's: "09" is in every phone number.
MIN_CONTACT = 6
# What people put between a phone number's digits, or around a name: no part of the contact.
_SEPARATORS = re.compile(r"[\s.\-()/,:;]+")
# A Vietnamese mobile number written with the country code (+84 912…) is the same as 0912….
_COUNTRY_CODE = re.compile(r"\+?84(?=\d{9}(?:\D|$))")


def find(store: Store, typed: str) -> list[int]:
    """The respondents a typed pseudonymous id or contact names, in id order."""
    wanted = typed.strip().lower()
    if PSEUDONYM.fullmatch(wanted):
        key = store.staff.pseudonym_key()
        return [rid for rid, channel, external_id in store.privacy.people()
                if pseudonym(key, channel, external_id) == wanted]
    contact = normal_contact(typed)
    if len(contact) < MIN_CONTACT:
        return []
    return sorted({rid for rid, given in store.privacy.contacts() if contact in normal_contact(given)})


def normal_contact(text: str) -> str:
    """A contact as compared: case and separators ignored, +84 read as 0."""
    folded = _SEPARATORS.sub("", unicodedata.normalize("NFC", text).casefold())
    return _COUNTRY_CODE.sub("0", folded)


def held(store: Store, respondent_id: int) -> dict[str, Any] | None:
    """What is held of one person, with the pseudonymous id their export rows carry."""
    found = store.privacy.held(respondent_id)
    if found is None:
        return None
    return {**found, "pseudonym": pseudonym(store.staff.pseudonym_key(), found["channel"], found["external_id"])}
