"""The web app's wiring: routes, middleware, error pages, and the one Store opened at startup."""

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sme_bot.channels.chat import Programme
from sme_bot.config import Config
from sme_bot.questionnaire import Questionnaire
from sme_bot.service import AssessmentService
from sme_bot.storage import Store
from sme_bot.web import shared
from sme_bot.web.owners import Limits, Owners
from sme_bot.web.pages import Pages
from sme_bot.web.security import BodyLimit, RateLimit, SecurityHeaders, SignedSession, add_headers
from sme_bot.web.staff import StaffArea

STATIC = Path(__file__).parent / "static"


def create_app(config: Config, questionnaire: Questionnaire, *, database: str | Path, secret: str,
               clock: Callable[[], float] = time.monotonic, zalo: tuple[str, str] | None = None,
               staff_clock: Callable[[], float] = time.time, password_hasher: object = None) -> Starlette:
    """The owners' pages over the database at `database`; `clock` times the rate limits. With
    `zalo` (the bot's token and webhook secret), Zalo's webhook too, at /zalo/webhook. The staff
    area (/staff) times sessions and lockouts by `staff_clock`; tests give a cheap `password_hasher`."""
    web = config.web
    window = web.limit_window_minutes * 60
    pages = Pages(Programme.of(config),
                  default_language=config.assessment.language)
    limits = Limits(starts=RateLimit(web.starts_per_address, window, now=clock),
                    wrong_codes=RateLimit(web.wrong_codes_per_address, window, now=clock),
                    minutes=max(1, math.ceil(web.limit_window_minutes)))
    owners = Owners(pages, limits, public_url=web.public_url.rstrip("/"))
    staff = StaffArea(pages, config, database=database, now=staff_clock, password_hasher=password_hasher)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Opened here, on the event loop's thread, where every handler runs: sqlite3 connections
        # belong to the thread that made them.
        store = Store(database)
        owners.service = AssessmentService.configured(store, questionnaire, config)
        staff.open(owners.service)
        client = None
        if zalo:
            from sme_bot.channels.zalo.bot import build_bot
            from sme_bot.channels.zalo.client import ZaloClient
            from sme_bot.channels.zalo.webhook import webhook_endpoint

            client = ZaloClient(zalo[0], base_url=config.zalo.base_url)
            webhooks["zalo"] = webhook_endpoint(build_bot(config, questionnaire, store, client), zalo[1])
        try:
            yield
        finally:
            if client is not None:
                await client.aclose()
            store.close()

    # Chat webhooks prove themselves with their own secret header, not a session and a CSRF token.
    webhooks: dict[str, Callable[[Request], Awaitable[Response]]] = {}

    async def zalo_webhook(request: Request) -> Response:
        return await webhooks["zalo"](request)

    webhook_routes = [Route("/zalo/webhook", zalo_webhook, methods=["POST"], name="webhook:zalo")] if zalo else []

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return pages.message(request, "web_not_found_title", "web_not_found", status=status)

    async def server_error(request: Request, exc: Exception) -> Response:
        response = pages.message(request, "web_error_title", "web_error", status=500)
        # This page is drawn outside the middleware that adds the headers to every other.
        add_headers(response.headers, request.scope)
        return response

    return Starlette(
        routes=[*owners.routes(), *shared.routes(owners, secret), *staff.routes(), *webhook_routes, Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, limit=web.body_limit),
                    Middleware(SignedSession, secret=secret)],
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
        lifespan=lifespan,
    )
