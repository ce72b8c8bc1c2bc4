"""Zalo's webhook as an ASGI endpoint, for `sme-bot serve`: the secret first, then a bounded body.

A request without the right secret header is refused before a byte of its body is read, so a
stranger cannot make the server read (or hold in memory) anything; a body over the limit is cut
off as it streams in. One event per request, handled as polling handles it.
"""

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sme_bot.channels.zalo.bot import ZaloBot
from sme_bot.channels.zalo.client import WEBHOOK_SECRET_HEADER, ZaloError, parse_event

log = logging.getLogger("sme_bot.zalo")

# One Zalo event is a few hundred bytes; a long text message stays far below this.
MAX_BODY = 64 * 1024


def webhook_endpoint(bot: ZaloBot, secret: str, *,
                     max_body: int = MAX_BODY) -> Callable[[Request], Awaitable[Response]]:
    expected = secret.encode()

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(WEBHOOK_SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=401)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            return Response(status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return Response(status_code=413)
        try:
            event = parse_event(json.loads(body))
        except (ValueError, ZaloError):
            log.warning("webhook: a body that is not a Zalo event")
            return Response(status_code=400)
        await bot.handle(event)
        return JSONResponse({"ok": True})

    return endpoint
