"""The Zalo channel: Zalo events in, the shared chat conversation's replies out, as plain text.

Zalo documents no buttons, no edits and no start parameter, so the conversation runs in its
text mode: options are numbered and typed back, commands are typed as words ("quay lại") or
/slash, a cohort is joined by typing its code. Every fact about Zalo's API is in client.py.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sme_bot.channels.chat import Capabilities, Conversation, Message, Reply, User
from sme_bot.channels.zalo.client import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    EVENT_VOICE,
    Event,
    ZaloClient,
    ZaloError,
    ZaloUnauthorized,
)
from sme_bot.config import Config
from sme_bot.errors import SmeBotError
from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.service import AssessmentService
from sme_bot.storage import Store

log = logging.getLogger("sme_bot.zalo")

CHANNEL = "zalo"
# Zalo has no buttons or edits; a chart would go as a photo URL, which needs a public web server.
CAPABILITIES = Capabilities(CHANNEL, buttons=False, edits=False, photos=False)
# Pauses before polling again after Zalo or the network failed (seconds), the last repeated.
POLL_BACKOFF = (1.0, 2.0, 5.0, 15.0, 30.0)
# How often due reminders are looked for, in seconds of polling.
REMINDER_CHECK_SECONDS = 600
_MEDIA = {EVENT_IMAGE, EVENT_STICKER, EVENT_VOICE}


def build_bot(config: Config, questionnaire: Questionnaire, store: Store, client: ZaloClient) -> "ZaloBot":
    """The Zalo bot over the assessment service, with the staff listed for Zalo in bot.toml."""

    from sme_bot.channels.chat import Programme
    from sme_bot.reports.staff import stats_text

    service = AssessmentService.configured(store, questionnaire, config)
    conversation = Conversation(service, Programme.of(config), CAPABILITIES,
                                default_language=config.assessment.language)

    def stats(cohort: str | None, lang: str) -> str:
        with service.own_connection() as own:
            return stats_text(own, questionnaire, config, cohort=cohort, lang=lang)

    service.forget_handled_updates(CHANNEL)  # on start-up, then daily while polling
    return ZaloBot(conversation, client, staff=config.staff.zalo, stats=stats, links=_result_links(config, store))


def _result_links(config: Config, store: Store) -> Callable[[int], str] | None:
    """With a public web address, a result's signed web page (its chart at + "/chart.png"):
    Zalo shows no buttons or pictures of our own, only photos fetched from a URL."""
    if not config.web.public_url:
        return None
    from sme_bot.web.security import session_secret
    from sme_bot.web.shared import result_path

    secret = session_secret(store.path)
    base = config.web.public_url.rstrip("/")
    return lambda assessment_id: base + result_path(secret, assessment_id)


@contextmanager
def only_poller(token: str, folder: Path | None = None) -> Iterator[None]:
    """Hold this machine's one polling slot for a token. Zalo hands each event to whichever poll
    asks first, so two pollers with one token would each see half of every conversation. The
    lock is the operating system's: it goes with the process, even after a kill -9."""
    import fcntl
    import hashlib
    import tempfile

    name = hashlib.sha256(token.encode()).hexdigest()[:16]  # never the token itself in a file name
    path = (folder or Path(tempfile.gettempdir())) / f"sme-bot-zalo-{name}.lock"
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SmeBotError("another `sme-bot zalo run` is already polling with this token on this machine; "
                              "stop it first (one poller per token)") from None
        yield


class ZaloBot:
    """One Zalo bot: handles an event (from polling or a webhook) and sends the replies."""

    def __init__(self, conversation: Conversation, client: ZaloClient, *, staff: list[str],
                 stats: Callable[[str | None, str], str] | None = None,
                 links: Callable[[int], str] | None = None):
        self.conversation = conversation
        self.client = client
        self.staff = set(staff)
        self.stats = stats  # a staff summary as text, run in a worker thread
        self.links = links  # a result's web page, when the web app has a public address
        self.service = conversation.service
        self.chats = self.service.chats(CHANNEL)
        self.bot_id: str | None = None

    async def handle(self, event: Event) -> None:
        """One event: decided and committed before anything is sent; a repeated message changes nothing."""
        if event.name not in {EVENT_TEXT, EVENT_UNSUPPORTED} | _MEDIA:
            log.info("event %s: not handled", event.name)  # a kind Zalo added later: its name only
            return
        if event.chat_id is None or event.user_id is None or event.user_is_bot or event.user_id == self.bot_id:
            return
        log.info("event %s", event.name)
        if event.chat_type == "GROUP":
            # Questions and results are for the owner alone, never for a group to read.
            await self._send(event.chat_id, say("private_only", self.conversation.default_language))
            return
        user = User(id=event.user_id, chat_id=event.chat_id, name=event.user_name)
        text = (event.text or "").strip()
        if event.name == EVENT_TEXT and self._staff_command(text):
            await self._staff(event, user, text)
            return
        with self.service.transaction():
            if event.message_id is not None and not self.chats.first_time(event.message_id):
                log.info("event %s: repeated, ignored", event.name)
                return
            reply = self._reply(event, user, text)
        await self._deliver(user, reply)

    def _reply(self, event: Event, user: User, text: str) -> Reply:
        if event.name == EVENT_UNSUPPORTED:
            # Zalo sends this instead of the content for some protected senders: not an error.
            lang = self.conversation.language() if self.service.person(CHANNEL, user.id) else None
            return Reply([Message(say("cannot_read_message", lang or self.conversation.default_language))])
        if event.name in _MEDIA or not text:
            return self.conversation.unsupported(user)
        return self.conversation.text(user, text)

    async def _deliver(self, user: User, reply: Reply) -> None:
        for message in reply.messages:
            try:
                sent = await self.client.send_message(user.chat_id, message.text)
            except ZaloError as error:
                # The answer is stored; a question that never arrived is shown again at the
                # owner's next message (the chat state counts it as unseen).
                log.warning("send failed: %s", type(error).__name__)
                return
            if message.question and reply.respondent is not None and sent:
                self.conversation.delivered(reply.respondent, sent[-1].message_id or "sent")
        if reply.result_id is not None and self.links is not None:
            await self._send_result_link(user, self.links(reply.result_id), reply.chart_caption)

    async def _send_result_link(self, user: User, page: str, caption: str | None = None) -> None:
        """The result's web page (to keep, print or share) and its chart as a photo."""
        lang = self.conversation.language()
        await self._send(user.chat_id, say("result_link", lang, url=page))
        try:
            await self.client.send_photo(user.chat_id, page + "/chart.png", caption=caption or say("chart_title", lang))
        except ZaloError as error:
            log.warning("chart not sent: %s", type(error).__name__)  # the text and the link have arrived

    async def _send(self, chat_id: str, text: str) -> None:
        try:
            await self.client.send_message(chat_id, text)
        except ZaloError as error:
            log.warning("send failed: %s", type(error).__name__)

    # -- staff --------------------------------------------------------------------------------

    @staticmethod
    def _staff_command(text: str) -> bool:
        return text.split(" ")[0].lower() in ("/stats", "/export")

    async def _staff(self, event: Event, user: User, text: str) -> None:
        lang = self.conversation.default_language
        if event.message_id is not None and not self.chats.first_time(event.message_id):
            return
        if user.id not in self.staff:
            await self._send(user.chat_id, say("staff_refused", lang))
            return
        words = text.split()
        cohort = words[1] if len(words) > 1 else None
        if words[0].lower() == "/export" or self.stats is None:
            # Zalo's Bot API documents no way to send a file.
            await self._send(user.chat_id, say("export_elsewhere", lang))
            return
        try:
            summary = await asyncio.to_thread(self.stats, cohort, lang)
        except SmeBotError as error:  # an unknown cohort, say: the message is the answer
            summary = str(error)
        await self._send(user.chat_id, summary)

    # -- polling ------------------------------------------------------------------------------

    async def remind(self) -> None:
        """One reminder for each assessment on Zalo left unfinished for the configured time."""
        for assessment, chat in self.service.reminders_due(CHANNEL):
            self.service.mark_reminded(assessment.id)
            session = self.service.current(assessment.respondent_id)
            if session is not None:
                message = self.conversation.reminder(session, chat["chat_language"] or assessment.language)
                await self._send(str(chat["chat_id"]), message.text)

    async def poll(self, *, bot_id: str, timeout: int = 30, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                   monotonic: Callable[[], float] = time.monotonic) -> None:
        """Take events one at a time until cancelled, backing off while Zalo or the network fails.

        Zalo hands out one event per call with no offset: an event taken just before a crash is
        gone, so each is handled (and its answer committed) before the next is asked for.
        """
        self.bot_id = bot_id  # the bot's own messages, should Zalo echo them, are not answered
        failures = 0
        reminders_due = monotonic() + 30
        forget_due = monotonic() + 24 * 3600  # build_bot forgot the old ones on start-up
        while True:
            try:
                event = await self.client.get_updates(timeout)
            except ZaloUnauthorized:
                raise
            except ZaloError as error:
                pause = POLL_BACKOFF[min(failures, len(POLL_BACKOFF) - 1)]
                failures += 1
                log.warning("polling failed (%s); trying again in %.0f s", type(error).__name__, pause)
                await sleep(pause)
                continue
            failures = 0
            if event is not None:
                await self.handle(event)
            if monotonic() >= reminders_due:
                await self.remind()
                reminders_due = monotonic() + REMINDER_CHECK_SECONDS
            if monotonic() >= forget_due:
                self.service.forget_handled_updates(CHANNEL)
                forget_due = monotonic() + 24 * 3600
