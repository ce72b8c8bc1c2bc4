"""Telegram's send limits: about 30 messages a second overall and about one a second per chat."""

import time
from collections import Counter, deque
from collections.abc import Callable
from itertools import takewhile
from typing import Any

from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 30
# One a second on average in a chat, with a burst of three (the next question, a chart and a
# tidying edit after a tap), which Telegram allows.
PER_CHAT_BURST = 3
# Calls to spare (for what can wait: edits that only tidy a chat): fewer than SPARE_BELOW chat
# calls asked for over the last second, and at most one to this chat over the last
# PER_CHAT_BURST seconds. The rest is kept for the next questions of a busy second, so what
# waits for spare calls never delays one.
SPARE_BELOW = 22


class ChatRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter, with every private chat limited as it limits groups, and a count of
    recent calls to tell when some are to spare."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(overall_max_rate=OVERALL_PER_SECOND, overall_time_period=1, group_max_rate=PER_CHAT_BURST,
                         group_time_period=PER_CHAT_BURST, max_retries=3)
        self._clock = clock
        self._recent: deque[tuple[float, int | str]] = deque()  # (when, chat) of calls asked for lately
        self._per_chat: Counter[int | str] = Counter()  # of those, per chat

    async def process_request(self, callback: Any, args: Any, kwargs: Any, endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is not None:
            self._forget_old()
            self._recent.append((self._clock(), chat_id))
            self._per_chat[chat_id] += 1
        if isinstance(chat_id, int) and chat_id > 0:
            # The parent gives a limiter of its own to negative (group) ids; the data is read only
            # to choose limiters, the request itself is sent as it was.
            data = {**data, "chat_id": -chat_id}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)

    def spare(self, chat_id: int | str) -> bool:
        """Whether a call to this chat now would take nothing the next questions need."""
        self._forget_old()
        second = self._clock() - 1
        asked = sum(1 for _ in takewhile(lambda call: call[0] > second, reversed(self._recent)))
        return asked < SPARE_BELOW and self._per_chat[chat_id] <= 1

    def _forget_old(self) -> None:
        since = self._clock() - PER_CHAT_BURST
        while self._recent and self._recent[0][0] <= since:
            _, chat = self._recent.popleft()
            self._per_chat[chat] -= 1
            if not self._per_chat[chat]:
                del self._per_chat[chat]
