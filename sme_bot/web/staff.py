"""The staff area in a browser: sign in, cohorts (with their links and QR code), the summary,
downloads, support requests to follow up and the audit.

Every page but the sign-in form needs a signed-in account; every form carries the session's CSRF
token; the rules (passwords, lockout, roles, cohort codes, exports) live in sme_bot.accounts,
sme_bot.cohorts, sme_bot.reports.staff and sme_bot.support, not here.

The staff session sits in the owners' signed cookie under keys of its own (STAFF_KEYS), so a
staff member who also answered on this browser stays both. It ends after `idle_hours` without a
page, when the account is removed, or when its password changes (the session holds a key derived
from the password's hash).
"""

import asyncio
import io
import math
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from sme_bot import cohorts, data_requests, render, support
from sme_bot.accounts import Account, Accounts, SignIn
from sme_bot.config import Config
from sme_bot.errors import StaffError, StaffRefused
from sme_bot.localtime import VIETNAM, local_time
from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.reports import staff as reports
from sme_bot.reports.html import PILLAR_COLOUR
from sme_bot.reports.summary import Summary, field_name, group_label, retakes_line, versions_line
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store
from sme_bot.web.pages import Pages, checked_form, flash, language_switch
from sme_bot.web.security import RateLimit
from sme_bot.web.svg import count_chart, percent_chart

STAFF_KEYS = ("staff", "staff_key", "staff_seen", "staff_sid")
# The last-seen time is written back at most this often, so not every page sets a new cookie.
_TOUCH_SECONDS = 60
MAX_FIELDS = 20
# What a CSV download may be split at: Excel set to Vietnamese splits a double-clicked CSV at ";".
SEPARATORS = {",": "comma", ";": "semicolon"}
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

Handler = Callable[[Request, Account], Awaitable[Response]]
FormHandler = Callable[[Request, Account, FormData], Awaitable[Response]]


class StaffArea:
    def __init__(self, pages: Pages, config: Config, *, database: str | Path, now: Callable[[], float] = time.time,
                 password_hasher: Any = None):
        self.pages = pages
        self.config = config
        self.database = database
        self.now = now
        self.idle = config.web.staff_idle_hours * 3600
        self._hasher = password_hasher
        self.minutes = max(1, math.ceil(config.web.limit_window_minutes))
        self.failures = RateLimit(config.web.staff_signins_per_address, config.web.limit_window_minutes * 60, now=now)
        # Set when the app starts, on the event loop's thread, which then owns the connection.
        self.service: AssessmentService
        self.store: Store
        self.accounts: Accounts
        self.questionnaires: Questionnaires

    def open(self, service: AssessmentService) -> None:
        self.service = service
        self.store = service.store
        self.questionnaires = service.questionnaires
        self.accounts = Accounts(self.store, password_hasher=self._hasher, now=self.now)

    def routes(self) -> list[Route]:
        return [
            Route("/staff", self.sign_in_form, methods=["GET"]),
            Route("/staff/signin", self._form(self.sign_in), methods=["POST"]),
            Route("/staff/signout", self._post(self.sign_out), methods=["POST"]),
            Route("/staff/cohorts", self._get(self.cohort_list), methods=["GET"]),
            Route("/staff/cohorts", self._post(self.create_cohort, admin=True), methods=["POST"]),
            Route("/staff/cohorts/close", self._post(self.close_cohort, admin=True), methods=["POST"]),
            Route("/staff/cohorts/{code}/qr.png", self._get(self.qr), methods=["GET"]),
            Route("/staff/summary", self._get(self.summary), methods=["GET"]),
            Route("/staff/report", self._get(self.report), methods=["GET"]),
            Route("/staff/export", self._get(self.export_link), methods=["GET"]),
            Route("/staff/export", self._post(self.export_form), methods=["POST"]),
            Route("/staff/data", self._get(self.data_form, admin=True), methods=["GET"]),
            Route("/staff/data", self._post(self.data_find, admin=True), methods=["POST"]),
            Route("/staff/data/delete", self._post(self.data_delete, admin=True), methods=["POST"]),
            Route("/staff/audit", self._get(self.audit, admin=True), methods=["GET"]),
            Route("/staff/support", self._get(self.support_list), methods=["GET"]),
            Route("/staff/support", self._post(self.support_update), methods=["POST"]),
            Route("/staff/support.csv", self._get(self.support_csv), methods=["GET"]),
        ]

    # -- who is asking ----------------------------------------------------------------------------

    def _account(self, request: Request) -> Account | None:
        session = request.session
        seen = session.get("staff_seen")
        if "staff" not in session or not isinstance(seen, (int, float)):
            return None
        now = self.now()
        account = self.accounts.current(session.get("staff"), session.get("staff_key"))
        if account is None or now - seen > self.idle:
            _forget(session)
            return None
        if now - seen > _TOUCH_SECONDS:
            session["staff_seen"] = now
        return account

    def _allowed(self, request: Request, *, admin: bool) -> Account | Response:
        """The signed-in account, if it may see this; else where to send the request."""
        account = self._account(request)
        if account is None:
            flash(request, say("staff_expired", self.pages.language(request)))
            return _redirect("/staff")
        if admin and not account.admin:
            return self._forbidden(request)
        return account

    def _get(self, handler: Handler, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            switched = language_switch(request)
            if switched is not None:
                return switched
            account = self._allowed(request, admin=admin)
            return account if isinstance(account, Response) else await handler(request, account)

        return endpoint

    def _form(self, handler: Callable[[Request, FormData], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """A form post: no valid CSRF token, no action."""

        async def endpoint(request: Request) -> Response:
            form = await checked_form(request, self.pages, max_fields=MAX_FIELDS)
            return form if isinstance(form, Response) else await handler(request, form)

        return endpoint

    def _post(self, handler: FormHandler, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def signed_in(request: Request, form: FormData) -> Response:
            account = self._allowed(request, admin=admin)
            return account if isinstance(account, Response) else await handler(request, account, form)

        return self._form(signed_in)

    def _forbidden(self, request: Request) -> Response:
        return self.pages.message(request, "staff_forbidden_title", "staff_forbidden", status=403)

    def _render(self, request: Request, template: str, account: Account | None, *, status: int = 200,
                **context: Any) -> Response:
        role = say(f"staff_role_{account.role}", self.pages.language(request)) if account else ""
        return self.pages.render(request, template, status=status, account=account, role=role, **context)

    # -- signing in and out -----------------------------------------------------------------------

    async def sign_in_form(self, request: Request) -> Response:
        switched = language_switch(request)
        if switched is not None:
            return switched
        if self._account(request) is not None:
            return _redirect("/staff/cohorts")
        return self._render(request, "staff_login.html", None)

    async def sign_in(self, request: Request, form: FormData) -> Response:
        lang = self.pages.language(request)
        address = request.client.host if request.client else "unknown"
        if self.failures.exceeded(address):
            # Before any argon2 work: a flood of guesses from one address costs it nothing more.
            return self.pages.message(request, "web_wait_title", "staff_too_many_signins", status=429,
                                      minutes=self.minutes, headers={"Retry-After": str(self.minutes * 60)})
        # argon2 takes tens of milliseconds of CPU: off the event loop, where owners' pages wait.
        signed = await self._off_loop(self._check, str(form.get("name", "")), str(form.get("password", "")),
                                      address)
        if signed.account is None:
            self.failures.record(address)
            if signed.locked_until is not None:
                minutes = max(1, math.ceil((signed.locked_until - self.now()) / 60))
                return self.pages.message(request, "staff_forbidden_title", "staff_locked", status=429,
                                          minutes=minutes)
            flash(request, say("staff_signin_failed", lang))
            return _redirect("/staff")
        session = request.session
        # A new session at sign-in: fresh staff keys and a fresh CSRF token, so nothing known or
        # planted before (a cookie, a token) is worth anything after. The owner's own keys (their
        # resume code, language) stay: they belong to whoever answered on this browser.
        _forget(session)
        session["csrf"] = secrets.token_urlsafe(32)
        session.update(staff=signed.account.name, staff_key=signed.key, staff_seen=self.now(),
                       staff_sid=secrets.token_urlsafe(16))
        return _redirect("/staff/cohorts")

    async def _off_loop(self, work: Callable[..., Any], *args: Any) -> Any:
        """`work` in a thread, on a connection of its own (sqlite3's belongs to the thread that made
        it); inline for an in-memory database, which no other connection can see."""
        if self._memory:
            return work(self.store, *args)

        def opened() -> Any:
            store = Store(self.database)
            try:
                return work(store, *args)
            finally:
                store.close()

        return await asyncio.to_thread(opened)

    @property
    def _memory(self) -> bool:
        return str(self.database) == ":memory:"

    def _check(self, store: Store, name: str, password: str, address: str) -> SignIn:
        return Accounts(store, password_hasher=self.accounts.hasher, now=self.now).sign_in(name, password,
                                                                                         address=address)

    async def sign_out(self, request: Request, account: Account, form: FormData) -> Response:
        self.accounts.record(account, "signed_out")
        _forget(request.session)
        request.session["csrf"] = secrets.token_urlsafe(32)
        flash(request, say("staff_signed_out", self.pages.language(request)))
        return _redirect("/staff")

    # -- cohorts ------------------------------------------------------------------------------------

    async def cohort_list(self, request: Request, account: Account) -> Response:
        rows = []
        # Off the event loop: it counts every cohort's assessments (0.1 s at 100,000), while owners'
        # pages wait on the loop.
        for row in await self._off_loop(lambda store: store.staff.cohorts()):
            started, completed = row["started"] or 0, row["completed"] or 0
            rate = f"{100 * completed / started:.0f}%" if started else "–"
            closed = local_time(row["closed_at"])[:10] if row["closed_at"] else None
            rows.append({**row, "started": started, "completed": completed, "rate": rate, "closed": closed})
        created = (request.session.get("flash") or {}).get("created")
        return self._render(request, "staff_cohorts.html", account, cohorts=rows,
                            questionnaires=self._questionnaire_ids(),
                            links=cohorts.links(self.config, self.store, created) if isinstance(created, str) else None,
                            formats=reports.FORMATS, separators=SEPARATORS)

    async def create_cohort(self, request: Request, account: Account, form: FormData) -> Response:
        lang = self.pages.language(request)
        code = str(form.get("code", "")).strip()
        try:
            cohorts.create_cohort(self.store, self.questionnaires, self.config.assessment.questionnaires, code=code,
                                  name=str(form.get("name", "")), starts=str(form.get("starts", "")),
                                  ends=str(form.get("ends", "")),
                                  questionnaire=str(form.get("questionnaire", "")))
        except StaffRefused as refused:
            flash(request, say(refused.key, lang, **refused.params))
            return _redirect("/staff/cohorts")
        self.accounts.record(account, "cohort_created", f"{code} ({form.get('questionnaire')})")
        flash(request, say("staff_created", lang, code=code), created=code)
        return _redirect("/staff/cohorts")

    async def close_cohort(self, request: Request, account: Account, form: FormData) -> Response:
        """No new owners through the cohort's links from now on; what it has stays in every figure."""
        lang = self.pages.language(request)
        code = str(form.get("code", ""))
        if form.get("confirm") != "yes":
            flash(request, say("staff_close_confirm_needed", lang))
        elif self.store.assessments.close_cohort(code):
            self.accounts.record(account, "cohort_closed", code)
            flash(request, say("staff_closed", lang, code=code))
        else:
            flash(request, say("staff_close_unknown", lang, code=code[:32]))
        return _redirect("/staff/cohorts")

    async def qr(self, request: Request, account: Account) -> Response:
        import segno

        code = request.path_params["code"]
        if self.store.assessments.cohort(code) is None:
            return self.pages.message(request, "web_not_found_title", "web_not_found", status=404)
        image = io.BytesIO()
        segno.make(cohorts.links(self.config, self.store, code).qr, error="m").save(image, kind="png", scale=10, border=2)
        return Response(image.getvalue(), media_type="image/png",
                        headers={"Content-Disposition": f'attachment; filename="cohort-{_file_part(code)}.png"'})

    def _questionnaire_ids(self) -> list[str]:
        return cohorts.questionnaire_ids(self.questionnaires.default.id, self.config.assessment.questionnaires)

    # -- the summary --------------------------------------------------------------------------------

    async def summary(self, request: Request, account: Account) -> Response:
        """One questionnaire's figures (never two in one figure), for a cohort or all, perhaps broken down."""
        lang = self.pages.language(request)
        values = request.query_params
        ids = self._questionnaire_ids()
        known = self.store.assessments.cohort_questionnaires()
        cohort = values.get("cohort") or None
        by = values.get("by") or None
        # As a download does: a cohort alone means its own questionnaire.
        qid = values.get("questionnaire") or (known.get(cohort) if cohort else None) or self.questionnaires.default.id
        q = self.questionnaires.get(qid) if qid in ids else None
        version = values.get("version") or None
        form = {"questionnaires": ids, "cohorts": sorted(known), "questionnaire": qid, "cohort": cohort or "",
                "by": by or "", "fields": [(field, field_name(field, lang))
                                           for field in reports.breakdowns(q or self.questionnaires.default)],
                "versions": [], "version": version or ""}
        if q is None or (cohort is not None and cohort not in known) or (by is not None and by not in
                                                                           reports.breakdowns(q)):
            return self._render(request, "staff_summary.html", account, status=400, form=form, view=None,
                                error=say("staff_summary_bad", lang))

        def work(store: Store) -> tuple[Summary, Questionnaire]:
            figures = reports.summary(store, q, self.config, cohort=cohort, by=by, version=version)
            return figures, reports.at_version(q, figures.version, self.config)

        try:
            # Off the event loop, on a connection of its own: on a large store it reads every result.
            figures, shown = await self._off_loop(work)
        except StaffError:  # the cohort went between the check and the count, or no file of that version
            return self._render(request, "staff_summary.html", account, status=400, form=form, view=None,
                                error=say("staff_summary_bad", lang))
        form.update(versions=sorted({*figures.versions, figures.version}), version=figures.version)
        # The same figures to take away: the HTML report and the rows, of this questionnaire version and cohort.
        scope = urlencode({"questionnaire": q.id, "cohort": cohort or "", "version": figures.version})
        return self._render(request, "staff_summary.html", account, form=form,
                            view=summary_view(figures, shown, lang), error=None, scope=scope)

    async def report(self, request: Request, account: Account) -> Response:
        """The HTML report of one questionnaire (for a cohort or all), as `sme-bot report` writes it."""
        lang = self.pages.language(request)
        chosen = self._chosen(request.query_params)
        if chosen is None:
            flash(request, say("staff_export_bad", lang))
            return _redirect("/staff/summary")
        q, cohort, version = chosen

        def work(store: Store) -> str:
            return reports.report(store, q, self.config, cohort=cohort, lang=lang, version=version,
                                  today=datetime.fromtimestamp(self.now(), VIETNAM).date())[0]

        try:
            # Off the event loop: it reads every result, once per breakdown, and draws charts.
            page = await self._off_loop(work)
        except StaffError:
            flash(request, say("staff_export_none", lang))
            return _redirect("/staff/summary")
        self.accounts.record(account, "report", f"{cohort or 'all cohorts'}, {q.id}")
        name = f"sme-bot-report-{_file_part(cohort or 'all')}-{q.id}.html"
        return Response(page.encode("utf-8"), media_type="text/html; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def _chosen(self, values: Mapping[str, Any]) -> tuple[Questionnaire, str | None, str | None] | None:
        """The questionnaire, cohort and questionnaire version (None: the default one) a download
        asks for (a cohort alone means its own questionnaire); None when the questionnaire or
        cohort is not one staff can choose."""
        cohort = str(values.get("cohort") or "") or None
        known = self.store.assessments.cohort_questionnaires()
        if cohort is not None and cohort not in known:
            return None
        qid = str(values.get("questionnaire") or "") or (known.get(cohort) if cohort else None) \
            or self.questionnaires.default.id
        q = self.questionnaires.get(qid) if qid in self._questionnaire_ids() else None
        return (q, cohort, str(values.get("version") or "") or None) if q is not None else None

    # -- downloads ----------------------------------------------------------------------------------

    async def export_link(self, request: Request, account: Account) -> Response:
        """A download by address (a bookmark, a script): pseudonymous only, whoever asks; a download
        with identities is a form post, with its CSRF token."""
        return await self._export(request, account, request.query_params, identities=False)

    async def export_form(self, request: Request, account: Account, form: FormData) -> Response:
        identities = form.get("identities") == "yes"
        if identities and not account.admin:
            return self._forbidden(request)
        return await self._export(request, account, form, identities=identities)

    async def _export(self, request: Request, account: Account, values: Mapping[str, Any], *,
                      identities: bool) -> Response:
        lang = self.pages.language(request)
        fmt = str(values.get("format") or "xlsx")
        separator = str(values.get("separator") or ",")
        chosen = self._chosen(values)
        if fmt not in reports.FORMATS or separator not in SEPARATORS or chosen is None:
            flash(request, say("staff_export_bad", lang))
            return _redirect("/staff/cohorts")
        q, cohort, version = chosen
        folder = Path(tempfile.mkdtemp(prefix="sme-bot-export-"))
        output = folder / f"sme-bot-{_file_part(cohort or 'all')}-{q.id}.{fmt}"
        try:
            # Off the event loop (a large export takes seconds), on a connection of its own.
            await self._off_loop(self._write, account, q, cohort, version, fmt, lang, output, identities, separator)
        except StaffError:  # nothing to export, or no file of that version
            shutil.rmtree(folder, ignore_errors=True)
            flash(request, say("staff_export_none", lang))
            return _redirect("/staff/cohorts")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(output, media_type=MEDIA[fmt], filename=output.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    def _write(self, store: Store, account: Account, q: Questionnaire, cohort: str | None, version: str | None,
               fmt: str, lang: str, output: Path, identities: bool, separator: str) -> None:
        def start(total: int) -> Callable[[], None]:
            return lambda: None

        reports.export(store, q, self.config, cohort=cohort, fmt=fmt, labels=lang, output=output,
                       with_identities=identities, start=start, csv_separator=separator, version=version,
                       by=account.name)

    # -- support requests ---------------------------------------------------------------------------
    # Admins and viewers alike follow requests up: it is the programme's daily work, not a setting.

    async def support_list(self, request: Request, account: Account) -> Response:
        lang = self.pages.language(request)
        status, cohort = _support_filter(request.query_params)
        rows = support.listing(self.store, self.questionnaires.get, status=status, cohort=cohort, lang=lang)
        for row in rows:
            row["choices"] = support.next_statuses(row["status"])
        return self._render(request, "staff_support.html", account, requests=rows, statuses=support.STATUSES,
                            status_names=_status_names(lang), chosen_status=status or "", chosen_cohort=cohort or "",
                            cohorts=self.store.support.cohorts(),
                            accounts=[row["name"] for row in self.accounts.all()],
                            query=urlencode({"status": status or "", "cohort": cohort or ""}))

    async def support_update(self, request: Request, account: Account, form: FormData) -> Response:
        lang = self.pages.language(request)
        typed = str(form.get("id", ""))
        request_id = int(typed) if typed.isdigit() and len(typed) < 12 else 0
        try:
            support.update(self.store, request_id, by=account.name, status=str(form.get("status") or "") or None,
                           assignee=str(form["assignee"]) if "assignee" in form else None,
                           note=str(form.get("note") or ""), now=lambda: datetime.fromtimestamp(self.now(), UTC))
        except StaffRefused as refused:
            names = _status_names(lang)
            # Status codes in a refusal read as the page shows them.
            params = {key: names.get(value, value) for key, value in refused.params.items()}
            flash(request, say(refused.key, lang, **params))
        else:
            flash(request, say("staff_support_saved", lang, id=request_id))
        # Back to the list as it was filtered ("status" in this form is the request's new one).
        status, cohort = _support_filter({"status": form.get("status_filter"), "cohort": form.get("cohort_filter")})
        return _redirect("/staff/support?" + urlencode({"status": status or "", "cohort": cohort or ""}))

    async def support_csv(self, request: Request, account: Account) -> Response:
        lang = self.pages.language(request)
        status, cohort = _support_filter(request.query_params)
        rows = support.listing(self.store, self.questionnaires.get, status=status, cohort=cohort, lang=lang)
        names = _status_names(lang)
        # Built in memory: requests are people asking for help, hundreds at most, not an export.
        stream = io.StringIO()
        support.write_csv(stream, rows, lambda code: names.get(code, code))
        self.accounts.record(account, "support_export", f"{len(rows)} requests, status {status or 'not closed'}, "
                                                        f"{cohort or 'all cohorts'}")
        # The BOM: Excel reads a CSV without one in the local code page and garbles Vietnamese.
        return Response(("\ufeff" + stream.getvalue()).encode("utf-8"), media_type=MEDIA["csv"],
                        headers={"Content-Disposition": 'attachment; filename="support-requests.csv"'})

    # -- data requests ------------------------------------------------------------------------------
    # Admins only: finding a person shows who they are, and deleting cannot be undone. The search
    # is a form post, so a phone number typed here stays out of addresses and access logs.

    async def data_form(self, request: Request, account: Account) -> Response:
        return self._render(request, "staff_data.html", account, typed="", found=None)

    async def data_find(self, request: Request, account: Account, form: FormData) -> Response:
        lang = self.pages.language(request)
        typed = str(form.get("find", "")).strip()[:200]

        def work(store: Store) -> list[dict[str, Any]]:
            # A pseudonym is found by hashing every respondent's ids: off the loop on a large store.
            return [held for rid in data_requests.find(store, typed)
                    if (held := data_requests.held(store, rid)) is not None]

        found = await self._off_loop(work) if typed else []
        # What was looked for is said by its kind only: the audit must not hold a contact itself.
        kind = "pseudonymous id" if data_requests.PSEUDONYM.fullmatch(typed.lower()) else "contact"
        self.accounts.record(account, "data_searched", f"by {kind}: {len(found)} found")
        return self._render(request, "staff_data.html", account, typed=typed,
                            found=[_held_view(held, lang) for held in found])

    async def data_delete(self, request: Request, account: Account, form: FormData) -> Response:
        lang = self.pages.language(request)
        typed = str(form.get("id", ""))
        held = data_requests.held(self.store, int(typed)) if typed.isdigit() and len(typed) < 12 else None
        if held is None:
            flash(request, say("staff_data_gone", lang))
        elif form.get("confirm") != "yes":
            flash(request, say("staff_data_confirm_needed", lang))
        else:
            removed = self.service.delete(held["id"])
            # The pseudonym, not the person: enough to answer "was it done?", nothing to find them by.
            self.accounts.record(account, "data_deleted", f"{held['pseudonym']}: {removed} rows")
            flash(request, say("staff_data_deleted", lang, id=held["pseudonym"], rows=removed))
        return _redirect("/staff/data")

    # -- the audit ----------------------------------------------------------------------------------

    async def audit(self, request: Request, account: Account) -> Response:
        lang = self.pages.language(request)
        entries = [{**row, "action": _action(row["action"], lang)} for row in self.accounts.trail()]
        return self._render(request, "staff_audit.html", account, entries=entries)


def summary_view(summary: Summary, q: Questionnaire, lang: str) -> dict[str, Any]:
    """A summary as the page shows it: its figures in words, its two charts and the same numbers as tables."""
    total = summary.total
    level, percent = say("level", lang), "{:.0f}%".format
    levels = [(number, q.level(number).name(lang), count) for number, count in total.levels.items()]
    pillars = [(p.name(lang), total.pillars[p.id]) for p in q.pillars if p.id in total.pillars]
    # The charts' labels carry every figure: a screen reader hears what the bars show.
    levels_label = say("staff_levels", lang) + ": " + "; ".join(f"{level} {n} ({name}): {count}"
                                                               for n, name, count in levels)
    pillars_label = say("staff_pillars", lang) + ": " + "; ".join(f"{name}: {percent(value)}" for name, value in pillars)
    return {
        "scope": summary.cohort or say("staff_all_cohorts", lang), "title": q.title(lang), "version": q.version,
        "figures": [(say("staff_started", lang), total.started), (say("staff_completed", lang), total.completed),
                    (say("staff_rate", lang), percent(total.completion_rate)),
                    (say("report_median", lang), say("staff_summary_minutes", lang, minutes=f"{total.median_minutes:.0f}")
                     if total.median_minutes is not None else "–")],
        "completed": total.completed,
        "levels": levels, "pillars": [(name, f"{value:.1f}") for name, value in pillars],
        "levels_chart": count_chart([(f"{level} {n}", count, render.level_colour(n)) for n, _, count in levels],
                                    levels_label),
        "pillars_chart": percent_chart(pillars, PILLAR_COLOUR, pillars_label),
        "by": field_name(summary.by, lang) if summary.by else None,
        "pillar_names": [p.name(lang) for p in q.pillars],
        "groups": [(group_label(q, summary.by, g.group, lang), g.started, g.completed, percent(g.completion_rate),
                    [percent(g.pillars[p.id]) if p.id in g.pillars else "–" for p in q.pillars])
                   for g in summary.groups],
        "versions": versions_line(summary.version, summary.versions, lang),
        "retakes": retakes_line(summary, q, lang) if summary.retakes.businesses else None,
    }


def _held_view(held: dict[str, Any], lang: str) -> dict[str, Any]:
    """What is held of one person as the data requests page lists it: times in Vietnam's, statuses
    and consents in words."""
    yes, no = say("yes", lang), say("no", lang)
    return {
        **held, "created": local_time(held["created_at"]),
        "consents": [(say(f"staff_data_purpose_{c['purpose']}", lang),
                      yes if c["agreed"] and not c["withdrawn_at"] else no, local_time(c["at"]))
                     for c in held["consents"]],
        "assessments": [{**a, "status": say(f"staff_data_status_{a['status']}", lang),
                         "started": local_time(a["started_at"]),
                         "completed": local_time(a["completed_at"]) if a["completed_at"] else "–"}
                        for a in held["assessments"]],
        "support": [{**r, "status": _status_names(lang).get(support.current(r["status"])),
                     "created": local_time(r["created_at"])} for r in held["support"]],
    }


def _support_filter(values: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The status (one of support.STATUSES, "all", or None: not closed) and cohort a list is filtered by."""
    status = str(values.get("status") or "")
    cohort = str(values.get("cohort") or "")[:64]
    return (status if status in (*support.STATUSES, "all") else None), (cohort or None)


def _status_names(lang: str) -> dict[str, str]:
    return {code: say(f"support_status_{code}", lang) for code in support.STATUSES}


def _action(action: str, lang: str) -> str:
    try:
        return say(f"staff_action_{action}", lang)
    except KeyError:  # an action recorded by a later release
        return action


def _file_part(code: str) -> str:
    """A cohort code as part of a file name: codes made by `sme-bot demo-data` are not checked, and
    a header cannot carry any character."""
    return code if cohorts.CODE_SHAPE.fullmatch(code) else "cohort"


def _forget(session: dict[str, Any]) -> None:
    for key in STAFF_KEYS:
        session.pop(key, None)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
