"""Updates from different chats are handled concurrently, those of one chat one after another,
and each chat gets a fair share.

Concurrency keeps one owner waiting on Telegram's per-chat send limit from holding up the
others; order within a chat keeps each owner's answers in the order they were given.

Fair share: a chat has at most MAX_WAITING updates in hand (being handled or waiting for its
turn). Beyond that its updates are dropped, the chat is told once to slow down, and they count
as handled, so the polling loop confirms them to Telegram. An update waiting for its chat's
turn holds no slot of the MAX_CONCURRENT shared by all chats: one chat sending a thousand
messages a second holds one slot and MAX_WAITING places, and every other chat goes on.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates being handled at once, over all chats.
MAX_CONCURRENT = 256
# Updates one chat may have in hand; an owner typing ahead a few answers stays well under it.
MAX_WAITING = 8
# PTB takes a slot of its own semaphore before do_process_update, even for an update that will
# wait for its chat's turn (its process_update is final): that one only bounds the updates in
# hand over all chats, and MAX_CONCURRENT is enforced here, after the turn.
IN_HAND = 65_536


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, *, max_waiting: int = MAX_WAITING) -> None:
        super().__init__(IN_HAND)
        self.max_waiting = max_waiting
        self._running = asyncio.Semaphore(MAX_CONCURRENT)
        self._locks: dict[int, asyncio.Lock] = {}
        self._held: dict[int, list[int]] = {}  # per chat: the ids of its updates in hand
        self._flooding: set[int] = set()  # chats over their share since they were last idle
        # Told the id of each update that no longer needs Telegram to keep it: handled, dropped,
        # or (see done()) stored by its handler.
        self.on_done: Callable[[int], None] = lambda update_id: None
        # Told of each update dropped, and whether it is the chat's first since it was last idle
        # (to say so, once).
        self.on_drop: Callable[[Update, bool], object] = lambda update, first: None

    def done(self, update_id: int) -> None:
        """This update is safe without Telegram (its effect is committed): it may be confirmed."""
        self.on_done(update_id)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        chat = update.effective_chat if isinstance(update, Update) else None
        try:
            if chat is None:
                async with self._running:
                    await coroutine
                return
            held = self._held.setdefault(chat.id, [])
            if len(held) >= self.max_waiting:
                _discard(coroutine)
                first = chat.id not in self._flooding
                if first:
                    self._flooding.add(chat.id)
                    # Its updates in hand are handled in order still, but they no longer keep the
                    # confirmed offset back: a flooding chat cannot hold up polling for the others.
                    for waiting in list(held):
                        self.on_done(waiting)
                if isinstance(update, Update):
                    self.on_drop(update, first)
                return
            held.append(update_id or 0)
            if chat.id in self._flooding and update_id is not None:
                self.on_done(update_id)  # still flooding: nor does it hold the offset back
            lock = self._locks.setdefault(chat.id, asyncio.Lock())
            try:
                # The chat's turn first, then a shared slot: waiting for its turn takes none.
                async with lock, self._running:
                    await coroutine
            finally:
                held.remove(update_id or 0)
                if not held:
                    # Forget idle chats, so memory does not grow with the number of owners.
                    del self._held[chat.id], self._locks[chat.id]
                    self._flooding.discard(chat.id)
        finally:
            if update_id is not None:
                self.on_done(update_id)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _discard(coroutine: Awaitable[Any]) -> None:
    """A coroutine that will never run, closed so Python does not warn it was never awaited."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
