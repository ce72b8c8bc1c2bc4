"""Support requests as staff follow them up: rows only, no rules (sme_bot.support has them)."""

from typing import Any

from sme_bot.storage.database import Database

# The business's name as the owner typed it: the latest answer to the profile question, unless
# that answer was withdrawn since (as the exports read it).
_BUSINESS_NAME = ("(select case when withdrawn then null else json_extract(value, '$') end from answers "
                  "where assessment_id = a.id and question_id = 'business_name' order by id desc limit 1)")

_SELECT = ("select s.id, s.created_at, s.updated_at, s.status, s.assignee, s.notes, s.pillars, s.contact, "
           f"a.cohort, a.id as assessment_id, a.questionnaire_id, r.channel, r.external_id, r.name, "
           f"{_BUSINESS_NAME} as business_name, res.level "
           "from support_requests s join assessments a on a.id = s.assessment_id "
           "join respondents r on r.id = s.respondent_id left join results res on res.assessment_id = a.id")


class SupportRows:
    def __init__(self, db: Database):
        self.db = db

    def requests(self, *, statuses: tuple[str, ...] | None = None, closed: bool = True,
                 cohort: str | None = None) -> list[dict[str, Any]]:
        """Requests in id order: with one of `statuses` (None: any), without the closed ones
        unless `closed`, of one cohort if given."""
        where, params = [], []
        if statuses is not None:
            where.append(f"s.status in ({', '.join('?' * len(statuses))})")
            params += list(statuses)
        if not closed:
            where.append("s.status != 'closed'")
        if cohort is not None:
            where.append("a.cohort = ?")
            params.append(cohort)
        sql = _SELECT + (" where " + " and ".join(where) if where else "") + " order by s.id"
        with self.db.errors():
            return self.db.all(sql, params)

    def get(self, request_id: int) -> dict[str, Any] | None:
        with self.db.errors():
            return self.db.one(_SELECT + " where s.id = ?", [request_id])

    def update(self, request_id: int, *, status: str, assignee: str | None, notes: str | None) -> str:
        """Write the follow-up fields; the time written (UTC)."""
        stamp = self.db.stamp()
        with self.db.errors():
            self.db.execute("update support_requests set status = ?, assignee = ?, notes = ?, updated_at = ? "
                            "where id = ?", [status, assignee, notes, stamp, request_id])
        return stamp

    def cohorts(self) -> list[str]:
        """The cohorts that have a support request, for a filter."""
        with self.db.errors():
            return [row["cohort"] for row in self.db.all(
                "select distinct a.cohort from support_requests s join assessments a on a.id = s.assessment_id "
                "where a.cohort is not null order by a.cohort")]
