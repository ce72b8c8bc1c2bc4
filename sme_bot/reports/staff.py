"""What staff commands do, for the CLI and the Telegram admin commands alike."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sme_bot import loader
from sme_bot.cohorts import check_cohort
from sme_bot.config import Config
from sme_bot.errors import QuestionnaireError, StaffError, StorageError
from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.reports import export as writers
from sme_bot.reports.summary import GroupSummary, Summary, summarise
from sme_bot.storage import Grouping, Store

FORMATS = ("csv", "xlsx", "json")


def breakdowns(q: Questionnaire) -> list[str]:
    """What a summary can be broken down by: the questionnaire's marked profile questions, and cohort."""
    return [*q.breakdowns, "cohort"]


def grouping(q: Questionnaire, by: str | None) -> Grouping | None:
    if by is None:
        return None
    if by == "cohort":
        return Grouping(cohort=True)
    question = q.breakdowns.get(by)
    if question is None:
        raise StaffError(f"cannot break {q.id} down by {by!r}; use one of {', '.join(breakdowns(q))}")
    return Grouping.of(question)


def summary(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, by: str | None,
            include_demo: bool = False, version: str | None = None) -> Summary:
    """The summary of one version of a questionnaire (`version`, else default_version's), read
    with that version's file; demo and console rows only when told."""
    shown, versions = _of_version(store, q, config, cohort=cohort, include_demo=include_demo, version=version)
    aggregates = store.staff.aggregates(q.id, shown.version, cohort=cohort, by=grouping(shown, by),
                                        include_demo=include_demo)
    return summarise(aggregates, shown, cohort=cohort, by=by, min_group=config.reports.min_group, versions=versions)


def _of_version(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, include_demo: bool,
                version: str | None) -> tuple[Questionnaire, dict[str, int]]:
    """The questionnaire at the version staff see (`version`, else default_version's), and the
    completed assessments in scope of every version."""
    check_cohort(store, cohort)
    versions = store.staff.versions(q.id, cohort, include_demo=include_demo)
    if version is not None and version not in {*versions, q.version}:
        listed = ", ".join(f"{known} ({count})" for known, count in sorted(versions.items())) or "none"
        raise StaffError(f"no completed {q.id} assessments of version {version!r} here; versions with some: {listed}")
    return at_version(q, version or default_version(q.version, versions), config), versions


def default_version(current: str, versions: dict[str, int]) -> str:
    """The version a summary is of unless told: the one owners are asked now, once it has completed
    assessments; until then the one with the most (the day a new file comes, the one before)."""
    if versions.get(current) or not versions:
        return current
    return max(versions, key=lambda version: (versions[version], version))


def at_version(q: Questionnaire, version: str, config: Config) -> Questionnaire:
    """The questionnaire as it was at `version`: its labels, pillars and steps name the figures."""
    if version == q.version:
        return q
    try:
        return loader.load_version(q.id, version, config.assessment.questionnaires)
    except QuestionnaireError as error:
        raise StaffError(f"cannot read the figures of {q.id} version {version}: {error}") from None


def stats_text(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, lang: str) -> str:
    """A summary as a chat message, for staff commands in chats."""
    from sme_bot.reports.tables import summary_text

    figures = summary(store, q, config, cohort=cohort, by=None)
    return summary_text(figures, at_version(q, figures.version, config), lang)


def left_out(store: Store, q: Questionnaire, cohort: str | None, include_demo: bool) -> str:
    """What a figure leaves out, as the end of a sentence ("" when nothing): demo and console rows."""
    count = 0 if include_demo else store.staff.count_left_out(q.id, cohort)
    return f" ({count} demo or console ones left out; --include-demo counts them)" if count else ""


class Written(NamedTuple):
    rows: int
    version: str  # the questionnaire version the file is of
    versions: dict[str, int]  # completed assessments in scope of every version


def export(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, fmt: str, labels: str,
           output: Path, with_identities: bool, start: Callable[[int], Callable[[], None]],
           by: str, include_demo: bool = False, csv_separator: str = ",", version: str | None = None) -> Written:
    """Write the export of one version (`version`, else default_version's: its questions are the
    file's columns); `start(total)` returns the function called once per row written. Recorded
    in the audit as asked for by `by` (an account, or the command line), identities or not.

    Headers and answers follow `labels` (a language, or ids with "codes"); JSON is read by
    programs, so its keys stay the column ids whatever the labels."""
    shown, versions = _of_version(store, q, config, cohort=cohort, include_demo=include_demo, version=version)
    total = versions.get(shown.version, 0)
    if not total:
        scope = f" in cohort {cohort}" if cohort else ""
        raise StaffError(f"no completed {q.id} {shown.version} assessments{scope} to export"
                         f"{left_out(store, q, cohort, include_demo)}")
    writers.check_writable(output)
    try:
        store.accounts.audit(by, "export_identities" if with_identities else "export",
                             f"{fmt} of {cohort or 'all cohorts'}, {q.id} {shown.version}, to {output.name}")
    except StorageError:
        if with_identities:
            raise  # identities leave only when it is recorded that they did
        # A pseudonymous export of a read-only copy (a backup): it has no trail to add to.
    head = writers.header(shown, with_identities=with_identities, labels="codes" if fmt == "json" else labels)
    rows = store.staff.iter_completed(q.id, cohort, include_demo=include_demo, version=shown.version)
    body = writers.rows(shown, rows, salt=store.staff.pseudonym_key(), labels=labels, with_identities=with_identities)
    tick = start(total)
    try:
        if fmt == "csv":
            writers.write_csv(output, head, body, tick, separator=csv_separator)
        elif fmt == "json":
            writers.write_json(output, head, body, tick)
        else:
            totals = summary(store, q, config, cohort=cohort, by=None, include_demo=include_demo,
                             version=shown.version).total
            writers.write_xlsx(output, head, body, tick, summary=summary_lines(totals, shown, labels),
                               dates=writers.DATE_COLUMNS,
                               codes=writers.codebook(shown, with_identities=with_identities, labels=labels))
    except PermissionError:
        raise StaffError(f"cannot write {output}: permission denied") from None
    return Written(total, shown.version, versions)


def report(store: Store, q: Questionnaire, config: Config, *, cohort: str | None, lang: str, today: date,
           include_demo: bool = False, version: str | None = None) -> tuple[str, Summary]:
    """The HTML report of one version (as `summary`), with its summary: the summary, broken down
    by each field the questionnaire marks (and by cohort, over all cohorts). Refused when there is
    no completed assessment to report on."""
    from sme_bot.reports.html import report_html  # matplotlib: only when a report is asked for

    total = summary(store, q, config, cohort=cohort, by=None, include_demo=include_demo, version=version)
    if not total.total.completed:
        raise StaffError(f"no completed assessments{' in cohort ' + cohort if cohort else ''} to report on"
                         f"{left_out(store, q, cohort, include_demo)}")
    shown = at_version(q, total.version, config)
    fields = [field for field in breakdowns(shown) if not (cohort and field == "cohort")]
    by_field = {field: summary(store, q, config, cohort=cohort, by=field, include_demo=include_demo,
                               version=total.version) for field in fields}
    return report_html(shown, total, by_field, lang=lang, programme=config.programme.name, today=today), total


def summary_lines(totals: GroupSummary, q: Questionnaire, labels: str) -> list[list[Any]]:
    """The XLSX Summary sheet, of `q`'s version: labelled in `labels`' language, levels and pillars
    by name; with "codes", the ids as before."""
    if labels == "codes":
        lines: list[list[Any]] = [["questionnaire version", q.version],
                                  ["completed", totals.completed], ["started", totals.started],
                                  ["completion rate %", totals.completion_rate]]
        lines += [[f"level {level}", count] for level, count in totals.levels.items()]
        lines += [[f"{pillar} average %", value] for pillar, value in totals.pillars.items()]
        return lines
    names = {level.level: level.name(labels) for level in q.levels}
    pillars = {pillar.id: pillar.name(labels) for pillar in q.pillars}
    lines = [[say("export_summary_version", labels), q.version],
             [say("export_summary_completed", labels), totals.completed],
             [say("export_summary_started", labels), totals.started],
             [say("export_summary_rate", labels), totals.completion_rate]]
    lines += [[say("export_summary_level", labels, level=level, name=names.get(level, "")), count]
              for level, count in totals.levels.items()]
    lines += [[say("export_summary_pillar", labels, pillar=pillars.get(pillar, pillar)), value]
              for pillar, value in totals.pillars.items()]
    return lines
