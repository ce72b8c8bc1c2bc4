"""Edits that tidy a chat, made after the next questions and with the send budget they leave.

Telegram lets a bot make about 30 calls a second that name a chat, edits included; at a
workshop, hundreds of owners tapping at once use most of them for the next questions. What an
edit does here the owner is not waiting for: an answered question loses its buttons and shows
its answer (the next question quotes it already), a multiple-choice question shows its ticks
(the tap's toast said so already). So edits wait in memory until calls are to spare, ticks
before tidying, one pending edit per message (the newest wins: three ticks are one edit), and
past MAX_PENDING the oldest tidying is dropped. A restart loses them, which leaves buttons that
a tap still answers kindly ("that button belongs to an earlier question").
"""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from itertools import islice
from typing import Any

log = logging.getLogger("sme_bot.telegram")

# Tidying edits kept waiting at most; a workshop of 500 owners leaves a couple of dozen each at worst.
MAX_PENDING = 20_000
# How many waiting edits are looked at for one whose chat has calls to spare.
LOOKAHEAD = 64
# How long to wait before looking again when none has.
POLL_SECONDS = 0.05

Key = tuple[int, int | str]  # (chat id, message id)
Edit = tuple[str, dict[str, Any]]  # (Bot API method, its parameters)


class Edits:
    def __init__(self, post: Callable[[str, dict[str, Any]], Awaitable[object]], *,
                 spare: Callable[[int], bool] | None = None, max_pending: int = MAX_PENDING):
        self._post = post  # makes one call; failures are its to report
        self._spare = spare  # whether a call to a chat now would delay no send; None: always
        self.max_pending = max_pending
        self._ticks: OrderedDict[Key, Edit] = OrderedDict()
        self._tidying: OrderedDict[Key, Edit] = OrderedDict()
        self.draining: asyncio.Task | None = None  # until nothing is left to edit
        self._dropped = 0

    def tick(self, chat_id: int, message_id: int | str, method: str, payload: dict[str, Any]) -> None:
        """A question's buttons as they now are; replaces an earlier pending tick of the message."""
        self._put(self._ticks, (chat_id, message_id), (method, payload))

    def tidy(self, chat_id: int, message_id: int | str, method: str, payload: dict[str, Any]) -> None:
        """A message done with; this edit supersedes any tick still pending for it."""
        key = (chat_id, message_id)
        self._ticks.pop(key, None)
        self._put(self._tidying, key, (method, payload))
        while len(self._tidying) > self.max_pending:
            self._tidying.popitem(last=False)
            self._dropped += 1

    def _next(self) -> tuple[OrderedDict[Key, Edit], Key] | None:
        """The oldest edit to a chat with calls to spare, ticks first; None if there is none now."""
        for queue in (self._ticks, self._tidying):
            for key in islice(queue, LOOKAHEAD):
                if self._spare is None or self._spare(key[0]):
                    return queue, key
        return None

    def _put(self, queue: OrderedDict[Key, Edit], key: Key, edit: Edit) -> None:
        queue[key] = edit
        if self.draining is None or self.draining.done():
            self.draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._ticks or self._tidying:
            found = self._next()
            if found is None:
                await asyncio.sleep(POLL_SECONDS)
                continue
            queue, key = found
            method, payload = queue.pop(key)
            await self._post(method, payload)
        if self._dropped:
            log.info("%d tidying edits dropped for want of send budget", self._dropped)
            self._dropped = 0
