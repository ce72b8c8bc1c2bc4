"""What staff commands do, for the CLI and the Telegram admin commands alike."""

from collections.abc import Callable
from pathlib import Path

from sme_bot.cohorts import check_cohort
from sme_bot.config import Config
from sme_bot.errors import StaffError
from sme_bot.questionnaire import Questionnaire
from sme_bot.reports import export as writers
from sme_bot.reports.summary import Summary, summarise
from sme_bot.storage import Store

FORMATS = ("csv", "xlsx", "json")


def summary(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, by: str | None) -> Summary:
    check_cohort(store, cohort)
    aggregates = store.aggregates(cohort=cohort, by=by, size_bands=config.reports.size_bands)
    return summarise(aggregates, q, cohort=cohort, by=by, min_group=config.reports.min_group)


def export(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, fmt: str, labels: str,
           output: Path, with_identities: bool, start: Callable[[int], Callable[[], None]]) -> int:
    """Write the export; `start(total)` returns the function called once per row written."""
    check_cohort(store, cohort)
    total = store.count_completed(q.id, cohort)
    if not total:
        scope = f" in cohort {cohort}" if cohort else ""
        raise StaffError(f"no completed {q.id} assessments{scope} to export")
    writers.check_writable(output)
    if with_identities:
        store.audit("export with identities", f"{fmt} of {cohort or 'all cohorts'} to {output.name}")
    head = writers.header(q, with_identities=with_identities)
    body = writers.rows(q, store.iter_completed(q.id, cohort), salt=store.salt(), labels=labels,
                        with_identities=with_identities)
    tick = start(total)
    try:
        if fmt == "csv":
            writers.write_csv(output, head, body, tick)
        elif fmt == "json":
            writers.write_json(output, head, body, tick)
        else:
            totals = summary(store, q, config, cohort=cohort, by=None).total
            lines = [["completed", totals.completed], ["started", totals.started],
                     ["completion rate %", totals.completion_rate]]
            lines += [[f"level {level}", count] for level, count in totals.levels.items()]
            lines += [[f"{pillar} average %", value] for pillar, value in totals.pillars.items()]
            writers.write_xlsx(output, head, body, tick, summary=lines, codes=writers.codebook(q))
    except PermissionError:
        raise StaffError(f"cannot write {output}: permission denied") from None
    return total
