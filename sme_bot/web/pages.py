"""What each page shows: the Jinja2 templates and the few values they are given, in the owner's
language. Texts come from messages.toml and render.py, as on every other channel."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sme_bot import __version__, render
from sme_bot.channels.chat import Programme
from sme_bot.flows.engine import Prompt
from sme_bot.messages import LANGUAGES, say
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring import Peers, Result
from sme_bot.web.security import csrf_token, csrf_valid
from sme_bot.web.svg import result_chart

TEMPLATES = Path(__file__).parent / "templates"


class Pages:
    def __init__(self, programme: Programme, *, default_language: str):
        self.programme = programme
        self.default_language = default_language
        # auto_reload off: templates change with a release, not while serving, and checking their
        # files on every page costs two stat calls a page.
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                               lstrip_blocks=True, undefined=StrictUndefined, auto_reload=False)

    def language(self, request: Request) -> str:
        chosen = _session(request).get("lang")
        return chosen if chosen in LANGUAGES else self.default_language

    def render(self, request: Request, template: str, *, status: int = 200, headers: Mapping[str, str] | None = None,
               **context: Any) -> HTMLResponse:
        lang = self.language(request)
        session = _session(request)
        # A notice left by the form that redirected here (post → redirect → get), shown once.
        flash = session.pop("flash", None) or {}

        def t(key: str, **params: object) -> str:
            return say(key, lang, **params)

        page = self.env.get_template(template).render(
            lang=lang, other=next(x for x in LANGUAGES if x != lang), t=t, programme=self.programme,
            csrf=csrf_token(session), notice=flash.get("notice"), flash=flash, version=__version__, **context)
        return HTMLResponse(page, status_code=status, headers=headers)

    def message(self, request: Request, title: str, text: str, *, status: int,
                headers: Mapping[str, str] | None = None, **params: object) -> HTMLResponse:
        """A short page that says one thing (an unknown link, an expired form, a limit reached)."""
        lang = self.language(request)
        return self.render(request, "message.html", status=status, headers=headers, title=say(title, lang),
                           text=say(text, lang, **params))


# No form of these pages has more fields than a multiple-choice question with its options.
MAX_FIELDS = 100


def language_switch(request: Request) -> Response | None:
    """ "?lang=en" on any page switches the language, remembered in the session: back to the page."""
    lang = request.query_params.get("lang")
    if lang not in LANGUAGES:
        return None
    request.session["lang"] = lang
    return RedirectResponse(request.url.path, status_code=303)


async def checked_form(request: Request, pages: "Pages", *, max_fields: int = MAX_FIELDS) -> FormData | Response:
    """A form post's fields, or the page that refuses it: no valid CSRF token, no action."""
    form = await request.form(max_files=0, max_fields=max_fields)
    if not csrf_valid(_session(request), form.get("csrf")):
        return pages.message(request, "web_expired_title", "web_expired", status=403)
    return form


def flash(request: Request, notice: str, **extra: object) -> None:
    """Leave a notice for the next page shown to this owner."""
    request.session["flash"] = {"notice": notice, **extra}


def question_view(q: Questionnaire, prompt: Prompt, lang: str, typed: object) -> dict[str, Any]:
    """One question as the page shows it; `typed` is what the owner sent last time, when it was
    refused, so they correct it rather than start over."""
    question = prompt.question
    picked = set(typed) if isinstance(typed, list) else {typed}
    return {
        "id": question.id, "type": question.type, "text": question.text(lang), "required": question.required,
        "help": question.help(lang) if question.help else None,
        "heading": render.heading(q, prompt, lang), "index": prompt.index, "total": prompt.total,
        "options": [(o.id, o.label(lang), o.id in picked) for o in question.options],
        "hint": _hint(question, lang), "unit": question.unit(lang) if question.unit else None,
        "integer": question.integer, "max_length": question.max_length,
        "typed": typed if isinstance(typed, str) else "",
    }


def _hint(question: Question, lang: str) -> str | None:
    # The chats' hint for multiple choice names their Done button; a page has Next.
    return say("web_multi_hint", lang) if question.type == "multi" else render.hint(question, lang)


def result_view(result: Result, previous: Result | None, q: Questionnaire, lang: str, *,
                peers: Peers | None = None) -> dict[str, Any]:
    title, meaning, points = render.result_headline(result, lang)
    change = None
    if previous is not None:
        before = {p.id: p.percent for p in previous.pillars}
        change = {"title": say("change_title", lang, before=previous.level, after=result.level),
                  # The chats' bullet is the page's list item.
                  "lines": [say("change_line", lang, name=p.name(lang), before=f"{before[p.id]:.1f}",
                                after=f"{p.percent:.1f}", delta=f"{p.percent - before[p.id]:+.1f}").removeprefix("• ")
                            for p in result.pillars if p.id in before]}
    steps = [(s.priority, s.text(lang)) for s in result.roadmap]
    return {
        "title": title, "meaning": meaning, "points": points, "level": result.level,
        "colour": render.level_colour(result.level),
        "pillars": [(p.name(lang), f"{p.percent:.0f}", p.level) for p in result.pillars],
        "chart": result_chart(result, q.levels, lang),
        "chart_legend": " · ".join(label for _, _, label in render.cutoffs(q.levels, lang)),
        "strengths": render.strengths_line(result, lang), "next_level": render.next_level_lines(result, lang),
        "peers": render.peers_lines(peers, lang) if peers is not None else None,
        "top_steps": steps[: result.shown], "more_steps": steps[result.shown:], "change": change,
    }


def _session(request: Request) -> dict[str, Any]:
    # The error page can be drawn outside the session middleware, where there is no session.
    return request.scope.get("session", {})
