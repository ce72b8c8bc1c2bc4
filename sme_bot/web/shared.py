"""A result shown by a signed link, for owners who answered in a chat (Zalo, Telegram) and so have
no web session: the page, and the chart as a PNG a chat can send as a photo.

The link carries the assessment id signed with the web app's key and is good for LINK_DAYS; it
shows the result and nothing else (no support form, no other assessment, nothing to change).
"""

import asyncio

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sme_bot.web.owners import Owners
from sme_bot.web.pages import result_view

LINK_DAYS = 90
_SALT = "sme-bot result link"


def result_path(secret: str, assessment_id: int) -> str:
    """The path of an assessment's result page; its chart is this path + "/chart.png"."""
    return f"/k/{URLSafeTimedSerializer(secret, salt=_SALT).dumps(assessment_id)}"


def assessment_in(secret: str, token: str) -> int | None:
    """The assessment a link names, if its signature is ours and it is not too old."""
    try:
        value = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=LINK_DAYS * 24 * 3600)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def routes(owners: Owners, secret: str) -> list[Route]:
    def found(request: Request):  # type: ignore[no-untyped-def]
        assessment = assessment_in(secret, request.path_params["token"])
        latest = owners.service.result_of(assessment) if assessment is not None else None
        if latest is None:
            return None, None
        q = owners.service.questionnaires.get(latest.result.questionnaire) or owners.service.questionnaire
        return latest, q

    async def page(request: Request) -> Response:
        latest, q = found(request)
        if latest is None:
            return owners.pages.message(request, "web_not_found_title", "web_not_found", status=404)
        lang = owners.pages.language(request)
        view = result_view(latest.result, latest.previous, q, lang, peers=owners.service.peers(latest.assessment_id))
        return owners.pages.render(request, "result.html", r=view, shared=True)

    async def chart(request: Request) -> Response:
        from sme_bot.chart import result_png

        latest, q = found(request)
        if latest is None:
            return Response(status_code=404)
        # Drawing takes tens of milliseconds: off the event loop, where other owners' pages wait.
        png = await asyncio.to_thread(result_png, latest.result, owners.pages.language(request), levels=q.levels)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    return [Route("/k/{token}", page, methods=["GET"]), Route("/k/{token}/chart.png", chart, methods=["GET"])]
