"""Polling the Bot API so that nothing received is lost when the process dies.

Telegram keeps an update until a getUpdates call carries an offset above its id. PTB's own
Updater sends that offset as soon as it has queued a batch, before anything in it is handled:
after a crash (kill -9, a power cut) the updates it held were confirmed and are gone. Here the
offset only moves past updates that no longer need Telegram:

- handled: its effect committed (the duplicate marker, the answer and the chat's state commit
  together, so a second copy after a restart would change nothing) or its handling finished;
- dropped on purpose (a chat over its share, see updates.py), or not understood.

Telegram hands out at most 100 updates from the offset, so an update still in hand holds the
window; the update processor releases a flooding chat's updates so one chat cannot pin it.
Updates are de-serialised one by one: a malformed one is skipped and recorded by its id alone
(PTB's Updater fails the whole batch, retries it about twenty times a second and logs every
owner's message in it).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import EndPointNotFound, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from sme_bot.channels.telegram.updates import PerChatUpdateProcessor

log = logging.getLogger("sme_bot.telegram")

# Seconds Telegram holds a getUpdates call open when nothing is waiting.
POLL_TIMEOUT = 30
# Updates asked for at once (Telegram's largest).
BATCH = 100
# With updates in hand and nothing new, Telegram answers at once with the same ones: ask again
# when one is handled, or after this many seconds, whichever is first.
REPOLL_SECONDS = 0.5
# Pauses after a failed getUpdates (seconds), the last one repeated.
ERROR_PAUSES = (0.5, 2.0, 5.0, 15.0, 30.0)
# Beyond the long poll, how long to wait for Telegram's answer.
READ_SLACK = 10


class Poller:
    """Fetches updates into the Application's update queue; confirms each once it is handled."""

    def __init__(self, app: Application, *, timeout: float = POLL_TIMEOUT, repoll: float = REPOLL_SECONDS,
                 pauses: tuple[float, ...] = ERROR_PAUSES,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.app = app
        self.timeout = timeout
        self.repoll = repoll
        self.pauses = pauses
        self.sleep = sleep
        self.allowed = list(Update.ALL_TYPES)
        self._in_hand: set[int] = set()  # fetched and not yet handled
        self._next = 0  # the lowest update id not fetched yet
        self._progress = asyncio.Event()  # an update in hand was handled
        processor = app.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            processor.on_done = self.done

    @property
    def offset(self) -> int:
        """The offset to send: every update below it is handled (Telegram may forget it)."""
        return min(self._in_hand) if self._in_hand else self._next

    def done(self, update_id: int) -> None:
        if update_id in self._in_hand:
            self._in_hand.discard(update_id)
            self._progress.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set. A refused token ends it with InvalidToken; anything else the
        Bot API or the network does is waited out."""
        failures = 0
        while not stop.is_set():
            self._progress.clear()
            waiting = bool(self._in_hand)
            try:
                raw = await self._until(stop, self._get_updates(0 if waiting else self.timeout))
            except (InvalidToken, EndPointNotFound) as error:
                # 401 or 404 for getUpdates, which exists: the token is no longer accepted.
                raise InvalidToken("the Bot API refused the token") from error
            except RetryAfter as error:
                await self._until(stop, self.sleep(_seconds(error.retry_after)))
                continue
            except TelegramError as error:
                pause = self.pauses[min(failures, len(self.pauses) - 1)]
                failures += 1
                log.warning("getUpdates: %s; trying again in %.1f s", type(error).__name__, pause)
                await self._until(stop, self.sleep(pause))
                continue
            if raw is None:  # stopped while waiting
                return
            failures = 0
            fresh = self._take(raw)
            for update in fresh:
                await self.app.update_queue.put(update)
            if not fresh and self._in_hand:
                await self._until(stop, self._progress_or(self.repoll))

    async def confirm(self) -> None:
        """Tell Telegram that everything handled is done with (on a clean stop)."""
        try:
            await self.app.bot.do_api_request("getUpdates", api_kwargs={"offset": self.offset, "limit": 1,
                                                                        "timeout": 0})
        except TelegramError as error:
            log.warning("getUpdates: %s; handled updates may be delivered again (and ignored)",
                        type(error).__name__)

    # -- one batch ----------------------------------------------------------------------------

    async def _get_updates(self, timeout: float) -> Any:
        return await self.app.bot.do_api_request(
            "getUpdates", api_kwargs={"offset": self.offset, "limit": BATCH, "timeout": timeout,
                                      "allowed_updates": self.allowed},
            read_timeout=timeout + READ_SLACK)

    def _take(self, raw: Any) -> list[Update]:
        """The new updates in a batch, each de-serialised on its own; a bad one skipped by its id."""
        updates = []
        for item in raw if isinstance(raw, list) else []:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("an update without an id skipped")
                continue
            if update_id < self._next:
                continue  # in hand already, or handled and not confirmed yet
            self._next = update_id + 1
            try:
                update = Update.de_json(item, self.app.bot)
            except Exception as error:  # noqa: BLE001 - whatever the data, the other updates go on
                log.warning("update %s: not understood (%s), skipped", update_id, type(error).__name__)
                continue
            self._in_hand.add(update_id)
            updates.append(update)
        return updates

    async def _progress_or(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._progress.wait(), timeout=seconds)
        except TimeoutError:
            pass

    @staticmethod
    async def _until(stop: asyncio.Event, work: Awaitable[Any]) -> Any:
        """`work`'s result, or None once `stop` is set first (the work is then cancelled)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if task in done:
            return task.result()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, TelegramError):
            pass
        return None


async def run_polling(app: Application, *, stop: asyncio.Event,
                      poller_options: dict[str, Any] | None = None, ready: Callable[[], None] | None = None,
                      started: Callable[[], Awaitable[None]] | None = None) -> None:
    """The bot by polling, until `stop` is set: updates handled as they come, confirmed once
    handled; on the way out everything in hand is finished and confirmed."""
    await app.initialize()
    try:
        await app.bot.delete_webhook()  # polling and a webhook exclude each other
        await app.start()
        if started is not None:
            await started()  # the "/" menu filled, the line that says the bot is up
        poller = Poller(app, **(poller_options or {}))
        if ready is not None:
            ready()
        try:
            await poller.run(stop)
        finally:
            await app.stop()  # finishes what is in hand
        await poller.confirm()  # a clean stop only: after a refused token there is nobody to tell
    finally:
        await app.shutdown()


def _seconds(value: Any) -> float:
    """Seconds from RetryAfter.retry_after: a number, or a timedelta in newer PTB."""
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)
