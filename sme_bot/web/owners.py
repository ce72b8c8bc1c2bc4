"""The owners' pages: landing, consent, one question per page, the result, privacy, resume by code.

Each form posts, the handler calls the assessment service, and the browser is redirected to a
page it gets (post → redirect → get), so a refresh never sends an answer twice. Every question
form names the question it answers: an answer from an old page (browser Back, a double tap, a
second tab) is refused as stale and the current question shown, with nothing recorded.

Handlers are `async def` and call the service inline on the event loop's thread: one SQLite
connection, no threads, and calls that take about a millisecond (bench/web_bench.py measures it).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sme_bot.flows import engine
from sme_bot.flows.answers import Reason, parse
from sme_bot.flows.engine import Ask, Finished, Reject, Step
from sme_bot.messages import say
from sme_bot.questionnaire import Question
from sme_bot.service import CONSENT_VERSION, CONTACT_LENGTH, AssessmentService, weakest
from sme_bot.session import Session
from sme_bot.text import clean
from sme_bot.web.pages import Pages, checked_form, flash, language_switch, question_view, result_view
from sme_bot.web.security import RateLimit, new_code, owner_id, read_code, show_code

CHANNEL = "web"

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, FormData], Awaitable[Response]]


@dataclass(frozen=True)
class Limits:
    starts: RateLimit  # new assessments per client address
    wrong_codes: RateLimit  # wrong resume codes per client address
    minutes: int  # the window, to tell an owner how long to wait


class Owners:
    def __init__(self, pages: Pages, limits: Limits, *, public_url: str):
        self.pages = pages
        self.limits = limits
        self.public_url = public_url
        # Set when the app starts, on the event loop's thread, which then owns the connection.
        self.service: AssessmentService

    def routes(self) -> list[Route]:
        return [
            self._get("/", self.landing),
            self._get("/c/{code}", self.cohort),
            self._get("/consent", self.consent_form),
            self._post("/consent", self.consent),
            self._post("/begin", self.begin),
            self._get("/q", self.question),
            self._post("/answer", self.answer),
            self._get("/result", self.result),
            self._post("/support", self.support),
            self._get("/privacy", self.privacy),
            self._get("/delete", self.delete_form),
            self._post("/delete", self.delete),
            self._get("/r", self.resume_form),
            self._get("/r/{code}", self.resume_form),
            self._post("/r", self.resume),
        ]

    def _get(self, path: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            return language_switch(request) or await handler(request)

        return Route(path, endpoint, methods=["GET"])

    def _post(self, path: str, handler: FormHandler) -> Route:
        """Every form post goes through here: no valid CSRF token, no action."""

        async def endpoint(request: Request) -> Response:
            form = await checked_form(request, self.pages)
            return form if isinstance(form, Response) else await handler(request, form)

        return Route(path, endpoint, methods=["POST"])

    # -- who is asking ----------------------------------------------------------------------------

    def _respondent(self, request: Request) -> int | None:
        """The consented person this browser belongs to, if any: found by the resume code in its cookie."""
        code = request.session.get("code")
        if not isinstance(code, str):
            return None
        person = self.service.person(CHANNEL, owner_id(code))
        return person.respondent_id if person and person.consented else None

    def _code(self, request: Request) -> dict[str, str]:
        code = str(request.session["code"])
        base = self.public_url or str(request.base_url).rstrip("/")
        return {"code": show_code(code), "link": f"{base}/r/{code}"}

    def _lang(self, request: Request) -> str:
        return self.pages.language(request)

    # -- landing, cohorts, consent ----------------------------------------------------------------

    async def landing(self, request: Request) -> Response:
        respondent = self._respondent(request)
        cohort_code = request.session.get("cohort")
        cohort = self.service.cohort(cohort_code) if cohort_code else None
        session = self.service.current(respondent) if respondent else None
        q = self.service.questionnaire_for(cohort_code)
        return self.pages.render(
            request, "landing.html", q=q, most_questions=engine.most_questions(q), minutes=self.service.minutes(q),
            cohort=cohort["name"] if cohort else None, consented=respondent is not None,
            answered=session.answered if session else None,
            has_result=bool(respondent and self.service.results(respondent)),
            resume=self._code(request) if respondent else None)

    async def cohort(self, request: Request) -> Response:
        code = request.path_params["code"]
        cohort = self.service.cohort(code)
        if cohort is None:
            return self.pages.message(request, "web_cohort_unknown_title", "web_cohort_unknown", status=404,
                                      code=clean(code)[:32])
        if cohort["closed_at"] is not None:
            # Said before consent, not after: the owner decides knowing the answers count in no group.
            request.session.pop("cohort", None)
            return self.pages.message(request, "web_cohort_closed_title", "web_cohort_closed", status=410,
                                      name=cohort["name"])
        request.session["cohort"] = cohort["code"]
        return _redirect("/")

    async def consent_form(self, request: Request) -> Response:
        if self._respondent(request):
            return _redirect("/")
        # The code is chosen before the form is sent, so a consent form sent twice names one person.
        request.session.setdefault("code", new_code())
        return self.pages.render(request, "consent.html")

    async def consent(self, request: Request, form: FormData) -> Response:
        lang = self._lang(request)
        if form.get("action") == "decline":
            flash(request, say("web_declined", lang))
            return _redirect("/")
        if form.get("result") != "yes":
            flash(request, say("web_result_purpose_needed", lang))
            return _redirect("/consent")
        address = _address(request)
        if self.limits.starts.exceeded(address):
            return self._wait(request, "web_too_many_starts")
        code = request.session.setdefault("code", new_code())
        with self.service.transaction():
            respondent = self.service.agree(CHANNEL, owner_id(code), language=lang,
                                            purposes={"result": True, "staff": form.get("staff") == "yes"})
            opened = self.service.open(respondent, channel=CHANNEL, language=lang, code=request.session.get("cohort"))
        if not opened.resumed:
            self.limits.starts.record(address)
        if opened.joined:
            flash(request, say("cohort_joined", lang, code=opened.joined))
        elif opened.closed:  # closed between the link and the consent
            flash(request, say("cohort_unknown", lang, code=request.session.pop("cohort")))
        return _redirect("/q")

    async def begin(self, request: Request, form: FormData) -> Response:
        """Go on with the assessment in progress, or start one (a retake, or one in a cohort)."""
        respondent = self._respondent(request)
        if respondent is None:
            return _redirect("/consent")
        address = _address(request)
        if self.service.current(respondent) is None and self.limits.starts.exceeded(address):
            return self._wait(request, "web_too_many_starts")
        opened = self.service.open(respondent, channel=CHANNEL, language=self._lang(request),
                                   code=request.session.get("cohort"))
        if not opened.resumed:
            self.limits.starts.record(address)
        return _redirect("/q")

    # -- questions --------------------------------------------------------------------------------

    def _session(self, request: Request) -> Session | Response:
        """The owner's assessment in progress, or where to send them instead."""
        respondent = self._respondent(request)
        if respondent is None:
            return _redirect("/")
        session = self.service.current(respondent)
        if session is None:
            return _redirect("/result" if self.service.results(respondent) else "/")
        return session

    async def question(self, request: Request) -> Response:
        session = self._session(request)
        if isinstance(session, Response):
            return session
        step = session.step()
        if not isinstance(step, Ask):
            return _redirect("/result")
        question = step.prompt.question
        refused = request.session.get("flash") or {}
        typed = refused.get("typed") if refused.get("question") == question.id else None
        return self.pages.render(request, "question.html", q=question_view(session.questionnaire, step.prompt,
                                                                            self._lang(request), typed),
                                 resume=self._code(request), first=step.prompt.index <= 2)

    async def answer(self, request: Request, form: FormData) -> Response:
        # One transaction: the question on screen is checked and the answer stored under one write
        # lock (nothing else writing to the file can slip in between), and SQLite locks once.
        with self.service.transaction():
            return self._answer(request, form)

    def _answer(self, request: Request, form: FormData) -> Response:
        session = self._session(request)
        if isinstance(session, Response):
            return session
        lang = self._lang(request)
        current = session.step()
        if not isinstance(current, Ask):
            return _redirect("/result")
        question = current.prompt.question
        if form.get("question") != question.id:
            # A refresh, a second tap or an old page: nothing recorded, the current question shown.
            flash(request, say("web_stale", lang))
            return _redirect("/q")
        action = form.get("action")
        if action == "back":
            step = session.back()
        elif action == "skip":
            step = session.skip()
        else:
            step = self._choose(session, current, question, form)
        if isinstance(step, Finished):
            return _redirect("/result")
        if isinstance(step, Reject):
            typed = form.getlist("value") if question.type == "multi" else str(form.get("value", ""))[:40]
            flash(request, step.reason.render(lang), question=question.id, typed=typed)
        return _redirect("/q")

    @staticmethod
    def _choose(session: Session, current: Ask, question: Question, form: FormData) -> Step:
        value = _value(question, form)
        if isinstance(value, Reason):
            return Reject(value, current.prompt)
        return session.choose(question.id, value)

    # -- the result and support -------------------------------------------------------------------

    async def result(self, request: Request) -> Response:
        respondent = self._respondent(request)
        if respondent is None:
            return _redirect("/")
        latest = self.service.latest(respondent)
        if latest is None:
            return _redirect("/q" if self.service.current(respondent) else "/")
        # The cut-offs drawn are those of the questionnaire the result was scored with.
        q = self.service.questionnaires.get(latest.result.questionnaire) or self.service.questionnaire
        return self.pages.render(request, "result.html",
                                 r=result_view(latest.result, latest.previous, q, self._lang(request),
                                               peers=self.service.peers(latest.assessment_id)),
                                 assessment=latest.assessment_id, contact_length=CONTACT_LENGTH,
                                 in_progress=self.service.current(respondent) is not None,
                                 resume=self._code(request), shared=False)

    async def support(self, request: Request, form: FormData) -> Response:
        respondent = self._respondent(request)
        if respondent is None:
            return _redirect("/")
        lang = self._lang(request)
        assessment = str(form.get("assessment", ""))
        contact = clean(str(form.get("contact", "")))[:CONTACT_LENGTH] or None
        recorded = self.service.request_support(respondent, int(assessment) if assessment.isdigit() else 0,
                                                contact=contact)
        if recorded is None:
            flash(request, say("web_stale", lang))
            return _redirect("/result")
        result = dict(self.service.results(respondent))[int(assessment)]
        names = ", ".join(p.name(lang) for p in weakest(result))
        flash(request, say("support_recorded" if recorded else "support_already", lang, pillars=names))
        return _redirect("/result")

    # -- privacy ----------------------------------------------------------------------------------

    async def privacy(self, request: Request) -> Response:
        respondent = self._respondent(request)
        lang = self._lang(request)
        consents = None
        if respondent is not None:
            given = self.service.consents(respondent)
            consents = {purpose: say("yes" if given.get(purpose) else "no", lang) for purpose in ("result", "staff")}
        return self.pages.render(request, "privacy.html", consents=consents, consent_version=CONSENT_VERSION)

    async def delete_form(self, request: Request) -> Response:
        if self._respondent(request) is None:
            return _redirect("/privacy")
        return self.pages.render(request, "delete.html")

    async def delete(self, request: Request, form: FormData) -> Response:
        respondent = self._respondent(request)
        if respondent is None:
            return _redirect("/privacy")
        self.service.delete(respondent)
        for key in ("code", "cohort"):
            request.session.pop(key, None)
        flash(request, say("web_deleted", self._lang(request)))
        return _redirect("/")

    # -- resume by code ---------------------------------------------------------------------------

    async def resume_form(self, request: Request) -> Response:
        # A link /r/CODE only fills in the form: a link preview fetching it changes nothing.
        code = read_code(request.path_params.get("code", ""))
        return self.pages.render(request, "resume.html", code=show_code(code) if code else "")

    async def resume(self, request: Request, form: FormData) -> Response:
        address = _address(request)
        if self.limits.wrong_codes.exceeded(address):
            return self._wait(request, "web_too_many_codes")
        code = read_code(str(form.get("code", "")))
        person = self.service.person(CHANNEL, owner_id(code)) if code else None
        lang = self._lang(request)
        if code is None or person is None:
            self.limits.wrong_codes.record(address)
            flash(request, say("web_resume_wrong", lang))
            return _redirect("/r")
        request.session["code"] = code
        if not person.consented:  # the consent text changed since: asked again
            return _redirect("/consent")
        flash(request, say("web_resumed", lang))
        return _redirect("/q")

    def _wait(self, request: Request, text: str) -> Response:
        return self.pages.message(request, "web_wait_title", text, status=429, minutes=self.limits.minutes,
                                  headers={"Retry-After": str(self.limits.minutes * 60)})


def _value(question: Question, form: FormData) -> object | Reason:
    """The answer a form gives `question`, ready for Session.choose, or why it gives none."""
    if question.type == "multi":
        picked = form.getlist("value")
        return picked or Reason("web_choose_some")
    raw = form.get("value")
    if not isinstance(raw, str) or not raw.strip():
        return Reason("web_choose_one" if question.choices else "web_type_answer")
    if question.type == "number":
        # Read as typed on any channel: "1.000", "12 người" and full-width digits all count.
        return parse(question, raw)
    return raw


def _address(request: Request) -> str:
    # Behind a proxy, uvicorn's proxy headers have put the real client here.
    return request.client.host if request.client else "unknown"


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
