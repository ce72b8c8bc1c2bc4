"""Telegram's send limits: about 30 messages a second overall and about one a second per chat."""

from typing import Any

from telegram.ext import AIORateLimiter

# One a second on average in a chat, with a burst of three (an edit, the next question and a
# chart after a tap), which Telegram allows.
PER_CHAT_BURST = 3


class ChatRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter, with every private chat limited as it limits groups."""

    def __init__(self) -> None:
        super().__init__(overall_max_rate=30, overall_time_period=1, group_max_rate=PER_CHAT_BURST,
                         group_time_period=PER_CHAT_BURST, max_retries=3)

    async def process_request(self, callback: Any, args: Any, kwargs: Any, endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0:
            # The parent gives a limiter of its own to negative (group) ids; the data is read only
            # to choose limiters, the request itself is sent as it was.
            data = {**data, "chat_id": -chat_id}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
