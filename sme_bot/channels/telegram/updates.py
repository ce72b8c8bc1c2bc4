"""Updates from different chats are handled concurrently, those of one chat one after another.

Concurrency keeps one owner waiting on Telegram's per-chat send limit from holding up the
others; order within a chat keeps each owner's answers in the order they were given.
"""

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates waiting for their chat's turn hold a slot; one chat flooding the bot cannot take
# more than it sends, and Telegram's per-chat limit keeps that small.
MAX_CONCURRENT = 256


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self) -> None:
        super().__init__(MAX_CONCURRENT)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                # Forget idle chats, so memory does not grow with the number of owners.
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
