"""Businesses that completed an assessment before the owner under test: a group to compare with.

The tiny questionnaire with a sector question and its people count in size bands, marked as the
"sector" and "size" breakdowns, so similar businesses are those of the same sector and band.
"""

from pathlib import Path

from conftest import TINY

from sme_bot.flows.engine import Finished
from sme_bot.questionnaire import Questionnaire
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store

PEER_TINY = TINY.replace('''text = { vi = "Số người?", en = "How many people?" }
''', '''text = { vi = "Số người?", en = "How many people?" }
breakdown = "size"
groups = [
  { id = "micro", at_most = 10, label = { vi = "Siêu nhỏ", en = "Micro" } },
  { id = "small", label = { vi = "Nhỏ", en = "Small" } },
]

[[profile]]
id = "sector"
type = "single"
breakdown = "sector"
text = { vi = "Ngành?", en = "Sector?" }
options = [
  { id = "shop", label = { vi = "Cửa hàng", en = "Shop" } },
  { id = "cafe", label = { vi = "Quán cà phê", en = "Café" } },
]
''')
assert PEER_TINY != TINY

# Typed answers after the people count and the sector that reach each level of the tiny framework
# (with 12 people, so payroll is asked): nickname skipped, channels, [updates], books, payroll.
LEVEL_ANSWERS = {0: ["/skip", "3", "2", "1"], 1: ["/skip", "2", "1", "1"], 2: ["/skip", "1,2", "2", "1", "2"]}


def complete(db: Path, q: Questionnaire, *, level: int, people: int = 12, sector: str = "1", channel: str = "web",
             external_id: str) -> int:
    """One business's whole assessment through the service, as a channel runs it; its id."""
    store = Store(db)
    try:
        service = AssessmentService(store, Questionnaires(q))
        person = service.person(channel, external_id)
        respondent = person.respondent_id if person else service.agree(channel, external_id, language="vi")
        session = service.start(respondent, channel=channel, language="vi")
        step = None
        for text in [str(people), sector, *LEVEL_ANSWERS[level]]:
            step = session.skip() if text == "/skip" else session.answer(text)
        assert isinstance(step, Finished), step
        assert session.result().level == level
        return session.assessment.id
    finally:
        store.close()
