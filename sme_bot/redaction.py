"""Secrets never reach a log line, whichever library logs and at whatever level.

Bot tokens travel in URLs (`https://api.telegram.org/bot<TOKEN>/sendMessage`), and libraries log
URLs (httpx at INFO), request parameters (python-telegram-bot at DEBUG, a webhook's secret among
them) and exceptions whose text names the token (PTB's "The token `…` was rejected"). Levels and
handlers can be changed by anyone; so the redaction is done where every record is made, by the
log record factory, before any handler or filter (pytest's caplog included) sees it: the message
and any traceback text have each secret replaced. A secret is registered with `hide()` as soon as
the process knows it.

Python-telegram-bot also logs whole updates from the Bot API when it cannot parse them (at
CRITICAL, "Received data was …"): other owners' messages. Those records keep their sentence and
lose the data.
"""

import logging
import threading
from typing import Any

MASK = "[hidden]"
# Shorter values are not secrets worth the name and would mask ordinary words.
_SHORTEST = 8
# PTB's sentences that end with the raw data of an update it could not use.
_DATA_DUMP = "Received data was"

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def hide(*secrets: str | None) -> None:
    """Keep these values out of every log record from now on (a bot token: also its secret part,
    after the colon, which is what makes it a token)."""
    global _installed
    with _lock:
        for secret in secrets:
            if not secret:
                continue
            for value in (secret, secret.partition(":")[2]):
                if len(value) >= _SHORTEST:
                    _secrets.add(value)
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _clean(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True


def redact(text: str) -> str:
    """`text` with every registered secret replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _clean(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str) and _DATA_DUMP in record.msg and record.name.startswith("telegram"):
        # Other owners' messages: the sentence stays, the data goes.
        record.msg = record.msg.split(_DATA_DUMP)[0] + "(the data is not logged)"
        record.args = None
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):  # a malformed call: logging reports it; keep what is there
        message = str(record.msg)
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(text)
        if cleaned != text:
            # Handlers use exc_text when it is set; the exception itself is kept for filters that
            # read its type, never printed as it is.
            record.exc_text = cleaned
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
