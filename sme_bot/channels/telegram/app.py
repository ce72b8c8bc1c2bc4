"""python-telegram-bot wiring: updates in, Conversation replies out, nothing else.

Sends go through a rate limiter (30 messages a second overall, about one a second per chat,
retries after flood control) and are tried again after a time-out. A failed send never loses an
answer: answers are committed before anything is sent, and a question whose message never
arrived is shown again at the owner's next message rather than answered by it.
"""

import asyncio
import logging
import shutil
import tempfile
import traceback
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from sme_bot.channels import chat
from sme_bot.channels.chat import Buttons, Capabilities, Conversation, Message, Programme, Reply, User
from sme_bot.channels.telegram.edits import Edit, Edits
from sme_bot.channels.telegram.ratelimit import ChatRateLimiter
from sme_bot.channels.telegram.updates import PerChatUpdateProcessor
from sme_bot.config import Config
from sme_bot.errors import DatabaseBusy, SmeBotError
from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.redaction import hide, redact
from sme_bot.reports import staff
from sme_bot.service import AssessmentService
from sme_bot.storage import Store

log = logging.getLogger("sme_bot.telegram")

CHANNEL = "telegram"
# Buttons with data, edits, 64-character labels, photos, sharing a phone number: all Telegram offers.
CAPABILITIES = Capabilities(CHANNEL, share_contact=True)
# Pauses before sending again after a time-out or a dropped connection (seconds).
NETWORK_RETRY_PAUSES = (0.5, 2.0, 5.0)
# Pauses before trying an update again when another program held the database past its busy
# timeout (5 s each try): a staff export or a backup, briefly.
BUSY_PAUSES = (0.5, 2.0)
# How often due reminders are looked for; a reminder is at most this late.
REMINDER_CHECK_SECONDS = 600
# How often the marks of updates already handled are thinned out (see AssessmentService).
PRUNE_SECONDS = 24 * 3600
# Webhook mode (PTB's tornado server): the largest request body read, in bytes. Telegram's
# updates are a few kilobytes; tornado's own default is 100 MB, all read before PTB checks the
# secret header.
WEBHOOK_BODY_LIMIT = 1024 * 1024
# Seconds a webhook client may take to send a body, and a kept-alive connection may sit idle.
WEBHOOK_BODY_SECONDS = 10
WEBHOOK_IDLE_SECONDS = 120


class _OneLine(logging.Filter):
    """Network trouble is an operator's one-line fact, not a traceback: keep the error's text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("telegram"):
            error = record.exc_info[1]
            record.msg = redact(f"{record.getMessage()} ({type(error).__name__}: {error})")
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging() -> None:
    """One line per update at INFO; the libraries' request logs, which carry owners' texts in
    parameters, only from WARNING up. Whatever the levels, every record has the token and the
    webhook secret masked where it is made (sme_bot.redaction)."""
    hide()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _OneLine) for f in handler.filters):
            handler.addFilter(_OneLine())
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def limit_webhook_requests() -> None:
    """Cap what PTB's webhook server (tornado) reads of a request before PTB checks the secret.

    PTB builds its tornado HTTPServer itself with no size or time limits; tornado reads a whole
    body (up to its default of 100 MB) before PTB's handler runs and compares the secret header.
    tornado's Configurable lets a process set defaults for every HTTPServer it makes: a larger
    body is refused with 400 from its Content-Length, before it is read. Only `sme-bot run`
    calls this; nothing else in that process serves HTTP with tornado.
    """
    from tornado.httpserver import HTTPServer

    HTTPServer.configure(None, max_body_size=WEBHOOK_BODY_LIMIT, max_buffer_size=WEBHOOK_BODY_LIMIT,
                         body_timeout=WEBHOOK_BODY_SECONDS, idle_connection_timeout=WEBHOOK_IDLE_SECONDS)


def build_application(config: Config, questionnaire: Questionnaire, store: Store, *, token: str,
                      request: BaseRequest | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                      reminders: bool = True, rate_limit: bool = True, webhook_secret: str | None = None,
                      retry_pauses: tuple[float, ...] = NETWORK_RETRY_PAUSES,
                      busy_pauses: tuple[float, ...] = BUSY_PAUSES, eager_edits: bool = False) -> Application:
    """The bot as a PTB Application; tests pass `request` to replace only the HTTP layer, and
    benchmarks turn off the rate limiter to measure the bot rather than Telegram's send budget,
    or make edits before sends (`eager_edits`, the earlier behaviour) to compare against it.
    From here on neither the token nor the webhook secret can appear in a log line."""
    hide(token, webhook_secret)
    processor = PerChatUpdateProcessor()
    builder = (Application.builder().token(token).base_url(config.telegram.base_url)
               .base_file_url(config.telegram.base_file_url).concurrent_updates(processor))
    limiter = ChatRateLimiter() if rate_limit else None
    if limiter is not None:
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # as with PTB's own AIORateLimiter
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    service = AssessmentService.configured(store, questionnaire, config, now=now)
    programme = Programme.of(config)
    conversation = Conversation(service, programme, CAPABILITIES, default_language=config.assessment.language)
    sender = Sender(retry_pauses)
    edits = Edits(lambda method, payload: sender.tidy(app.bot, method, payload),
                  spare=limiter.spare if limiter is not None else None)
    bot = TelegramBot(conversation, config=config, handled=processor.done, sender=sender, edits=edits,
                      busy_pauses=busy_pauses, eager_edits=eager_edits)
    processor.on_drop = lambda update, first: app.create_task(bot.slow_down(update, app.bot, first), update=update)
    # Before everything else: outside private chats nothing is read or stored.
    app.add_handler(TypeHandler(Update, bot.outside_private), group=-1)
    # New messages only: an edited command is an edit (answered as one), not a command again.
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("start", bot.start, filters=new))
    app.add_handler(CommandHandler(list(chat.COMMANDS), bot.command, filters=new))
    app.add_handler(CommandHandler(["stats", "export"], bot.staff, filters=new))
    app.add_handler(CallbackQueryHandler(bot.button))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, bot.edited))
    app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, bot.text))
    app.add_handler(MessageHandler(new & filters.CONTACT, bot.contact))
    app.add_handler(MessageHandler(new & filters.COMMAND, bot.unknown_command))
    app.add_handler(MessageHandler(filters.ALL, bot.unsupported))
    app.add_error_handler(bot.error)
    service.forget_handled_updates(CHANNEL)  # on start-up, then daily
    if reminders and app.job_queue is not None:
        app.job_queue.run_repeating(bot.remind, interval=REMINDER_CHECK_SECONDS, first=30)
        app.job_queue.run_repeating(bot.prune, interval=PRUNE_SECONDS, first=PRUNE_SECONDS)
    app.bot_data["sme_bot"] = bot
    return app


def _user(update: Update) -> User | None:
    """Who sent an update, and where to answer; None when the update names no sender."""
    user, where = update.effective_user, update.effective_chat
    if user is None or where is None:
        return None
    name = " ".join(filter(None, [user.first_name, user.last_name])) or user.username
    return User(id=str(user.id), chat_id=str(where.id), name=_valid_text(name) if name else name)


def _valid_text(text: str) -> str:
    """`text` with lone surrogates (which JSON can carry and UTF-8 cannot) as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# Messages are sent and edited as plain JSON through Bot.do_api_request: the bot reads nothing
# of Telegram's reply but a message_id, and PTB's typed methods build a keyboard object per
# button and parse the whole echoed Message, which cost more than the rest of an answer put
# together (bench/telegram_bench.py). The request still goes through PTB's rate limiter and
# raises the same errors. PTB warns when do_api_request names a method it has; here it is meant.
# getUpdates likewise (sme_bot.channels.telegram.polling): its updates are parsed one by one.
warnings.filterwarnings("ignore", category=PTBUserWarning,
                        message=r"Please use 'Bot\.(sendMessage|editMessageText|editMessageReplyMarkup|getUpdates)'")


@dataclass(frozen=True)
class Sender:
    """Bot API calls that send or edit a message, tried again after a time-out or a dropped
    connection, pausing `pauses` seconds before each retry (tests pass zeros)."""

    pauses: tuple[float, ...] = NETWORK_RETRY_PAUSES

    async def post(self, bot: Bot, method: str, payload: dict[str, Any]) -> Any:
        """The owner's answer is stored already; what is at stake is the next question reaching
        them. A time-out can hide a message that did arrive, so a retry may show a question twice,
        which is better than not at all. Flood control is waited out by the rate limiter itself."""
        for pause in self.pauses:
            try:
                return await bot.do_api_request(method, payload)
            except BadRequest:  # a NetworkError in PTB's hierarchy, but sending it again cannot help
                raise
            except NetworkError as error:
                log.warning("%s: %s, trying again in %.1f s", method, type(error).__name__, pause)
                await asyncio.sleep(pause)
        return await bot.do_api_request(method, payload)

    async def send(self, bot: Bot, chat_id: int | str, text: str, buttons: Buttons,
                   keyboard: tuple[str, ...] | None = None) -> int:
        """Send a message; its id."""
        markup = _keyboard(buttons) if keyboard is None else _reply_keyboard(keyboard)
        sent = await self.post(bot, "sendMessage", {"chat_id": chat_id, "text": text[:4096], **markup})
        return int(sent["message_id"])

    async def tidy(self, bot: Bot, method: str, payload: dict[str, Any]) -> None:
        """An edit that only tidies the chat: when Telegram refuses it (the message is gone, too
        old, unchanged, or the owner blocked the bot), the chat is simply left as it was."""
        try:
            await self.post(bot, method, payload)
        except TelegramError as error:
            log.info("%s refused: %s", method, type(error).__name__)


def _edits(update: Update, chat_id: int, reply: Reply) -> tuple[list[Edit], list[Edit]]:
    """The calls that rewrite earlier messages for this reply: ticks shown on a question's
    buttons, and messages done with (see chat.Retired)."""
    ticks: list[Edit] = []
    if reply.prompt_id and reply.prompt_buttons is not None:
        ticks.append(("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": reply.prompt_id,
                                                 **_keyboard(reply.prompt_buttons)}))
    tapped = update.callback_query.message if update.callback_query is not None else None
    tidying: list[Edit] = []
    for retired in reply.retired:
        message_id = retired.message_id if retired.message_id is not None else tapped.message_id if tapped else None
        if message_id is None:
            continue
        if retired.text is None:
            tidying.append(("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id}))
        else:
            tidying.append(("editMessageText", {"chat_id": chat_id, "message_id": message_id,
                                                "text": retired.text[:4096]}))
    return ticks, tidying


def _command_name(update: Update) -> str:
    """"start" for "/start@sme_bot CODE"."""
    text = update.effective_message.text if update.effective_message and update.effective_message.text else "/"
    return text.split()[0].lstrip("/").split("@")[0].lower() if text.split() else ""


def _keyboard(buttons: Buttons) -> dict[str, Any]:
    if not buttons:
        return {}
    rows = [[{"text": label[:64], "callback_data": data} for label, data in row] for row in buttons]
    return {"reply_markup": {"inline_keyboard": rows}}


def _reply_keyboard(labels: tuple[str, ...]) -> dict[str, Any]:
    """Buttons under the typing field (see chat.Message.keyboard); none: taken away."""
    if not labels:
        return {"reply_markup": {"remove_keyboard": True}}
    share, *others = labels
    rows = [[{"text": share[:64], "request_contact": True}], *[[{"text": label[:64]}] for label in others]]
    return {"reply_markup": {"keyboard": rows, "one_time_keyboard": True, "resize_keyboard": True}}


# The commands in Telegram's "/" menu, in its order; the others work but need not be offered.
MENU = ("start", "back", "skip", "restart", "result", "support", "lang", "privacy", "delete", "help")


async def introduce(bot: Bot, config: Config, default_language: str) -> str:
    """Fill Telegram's "/" menu and the empty-chat screen in both languages (the default language
    for everyone else); the bot's @username, as Telegram knows it."""
    from telegram import BotCommand

    for lang in ("vi", "en"):
        code = None if lang == default_language else lang
        await bot.set_my_commands([BotCommand(name, say(f"menu_{name}", lang)) for name in MENU], language_code=code)
        await bot.set_my_description(say("bot_description", lang, programme=config.programme.name)[:512],
                                     language_code=code)
        await bot.set_my_short_description(say("bot_short_description", lang)[:120], language_code=code)
    return bot.username


class TelegramBot:
    def __init__(self, conversation: Conversation, *, config: Config,
                 handled: Callable[[int], None] = lambda update_id: None, sender: Sender = Sender(),
                 edits: Edits, busy_pauses: tuple[float, ...] = BUSY_PAUSES, eager_edits: bool = False,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.config = config
        self.sender = sender
        self.edits = edits
        self.eager_edits = eager_edits  # edits before the next question, each answer's two calls in a row
        self.busy_pauses = busy_pauses  # before trying a locked database again (seconds)
        self.sleep = sleep
        self.conversation = conversation
        self.service = conversation.service
        self.chats = self.service.chats(CHANNEL)
        self.background: set[asyncio.Task] = set()  # charts being drawn and sent
        # Called once an update's effect is committed: from then on Telegram may forget it (the
        # marker would drop a second copy anyway), so polling can confirm it.
        self.handled = handled

    # -- handlers -------------------------------------------------------------------------

    async def outside_private(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups, supergroups and channels: the assessment and staff commands are for private
        chats only. A message or a tap there gets one line; nothing is read or stored."""
        where = update.effective_chat
        if where is None or where.type == ChatType.PRIVATE:
            return
        log.info("update %s: in a %s chat, not read", update.update_id, where.type)
        if update.callback_query is not None:
            await self._quietly(update.callback_query.answer())
        if update.effective_message is not None:
            try:
                await self.sender.send(context.bot, where.id, say("private_only", self.conversation.default_language), [])
            except TelegramError as error:  # removed from the group, say: nobody to tell
                log.info("update %s: the line was not sent (%s)", update.update_id, type(error).__name__)
        raise ApplicationHandlerStop

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        code = context.args[0] if context.args else None
        await self._handle(update, context, "start", lambda user: self.conversation.start(user, code))

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = _command_name(update)
        await self._handle(update, context, f"/{name}", lambda user: self.conversation.command(user, name))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.effective_message.text if update.effective_message else None
        await self._handle(update, context, "text", lambda user: self.conversation.text(user, text or ""))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        data = update.callback_query.data if update.callback_query else None
        await self._handle(update, context, "button", lambda user: self.conversation.button(user, data or ""))

    async def contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        shared = update.effective_message.contact if update.effective_message else None
        phone = shared.phone_number if shared else ""
        await self._handle(update, context, "contact", lambda user: self.conversation.contact(user, phone))

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._handle(update, context, "edited", lambda user: self.conversation.unsupported(user, edited=True))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._handle(update, context, "unknown command", lambda user: self.conversation.command(user, "help"))

    async def unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_user is None or update.effective_chat is None:
            return  # channel posts, polls and the like: nobody to answer
        await self._handle(update, context, "unsupported", self.conversation.unsupported)

    async def staff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats [CODE] and /export [CODE], for the staff listed in bot.toml only."""
        name = _command_name(update)
        log.info("update %s: /%s", update.update_id, name)
        if update.message is None or update.effective_user is None:
            return
        if not self.chats.first_time(update.update_id):
            return
        self.handled(update.update_id)  # a staff command lost in a crash is simply sent again
        lang = self.conversation.default_language
        if update.effective_user.id not in self.config.staff.telegram:
            await update.message.reply_text(say("staff_refused", lang))
            return
        cohort = context.args[0] if context.args else None
        try:
            if name == "stats":
                await update.message.reply_text(await asyncio.to_thread(self._stats, cohort, lang))
            else:
                path = await asyncio.to_thread(self._export, cohort, f"telegram {update.effective_user.id}")
                try:
                    with path.open("rb") as document:
                        await update.message.reply_document(document, filename=path.name)
                finally:
                    shutil.rmtree(path.parent, ignore_errors=True)
        except SmeBotError as error:
            await update.message.reply_text(str(error))

    def _stats(self, cohort: str | None, lang: str) -> str:
        with self.service.own_connection() as store:
            return staff.stats_text(store, self.service.questionnaire, self.config, cohort=cohort, lang=lang)

    def _export(self, cohort: str | None, by: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="sme-bot-export-"))
        target = folder / f"sme-bot-{cohort or 'all'}.xlsx"
        with self.service.own_connection() as store:
            staff.export(store, self.service.questionnaire, self.config, cohort=cohort, fmt="xlsx", labels="vi",
                         output=target, with_identities=False, start=lambda total: lambda: None, by=by)
        return target

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One line: the error's type and where it was raised. The text only of errors whose
        words are ours or Telegram's: others (a ValueError, a pydantic error) can quote the
        owner's input."""
        update_id = update.update_id if isinstance(update, Update) else "-"
        error = context.error
        if isinstance(error, SmeBotError | TelegramError):
            log.error("update %s: %s: %s", update_id, type(error).__name__, error)
            return
        frames = traceback.extract_tb(error.__traceback__) if error is not None else []
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        log.error("update %s: %s%s", update_id, type(error).__name__, where)

    async def slow_down(self, update: Update, bot: Bot, first: bool) -> None:
        """An update dropped because its chat has more waiting than its share
        (PerChatUpdateProcessor): a tap is acknowledged all the same, and the chat told once."""
        where, user = update.effective_chat, update.effective_user
        if where is None:
            return
        row = self.chats.get(str(user.id)) if user is not None else None
        lang = (row or {}).get("language") or self.conversation.default_language
        if update.callback_query is not None:
            await self._quietly(update.callback_query.answer(say("slow_down", lang)[:190]))
        if not first:
            return
        log.warning("update %s: its chat has too many updates waiting; its further updates are dropped until "
                    "they are handled", update.update_id)
        try:
            await self.sender.send(bot, where.id, say("slow_down", lang), [])
        except TelegramError as error:
            log.info("update %s: slow-down notice not sent (%s)", update.update_id, type(error).__name__)

    async def prune(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.service.forget_handled_updates(CHANNEL)

    async def remind(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One reminder for each assessment left unfinished for the configured time."""
        for assessment, chat_row in self.service.reminders_due(CHANNEL):
            self.service.mark_reminded(assessment.id)
            session = self.service.current(assessment.respondent_id)
            if session is None:
                continue
            message = self.conversation.reminder(session, chat_row["chat_language"] or assessment.language)
            try:
                await self.sender.send(context.bot, chat_row["chat_id"], message.text, message.buttons)
                log.info("assessment %s: reminder sent", assessment.id)
            except Forbidden:
                self.chats.save(assessment.respondent_id, blocked=1)
                log.info("assessment %s: reminder not sent, the bot is blocked", assessment.id)

    # -- one update: decided and committed, then sent ---------------------------------------

    async def _handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str,
                      event: Callable[[User], Reply]) -> None:
        """Telegram can deliver an update twice: the marker that drops the second copy, the
        answer and the chat's new state commit together, before anything is sent."""
        log.info("update %s: %s", update.update_id, kind)
        user = _user(update)
        if user is None:
            log.info("update %s: no sender, ignored", update.update_id)
            return
        for pause in (*self.busy_pauses, None):
            try:
                with self.service.transaction():
                    if not self.chats.first_time(update.update_id):
                        log.info("update %s: repeated, ignored", update.update_id)
                        reply = Reply()  # a tap is still acknowledged: the phone shows a spinner until then
                        break
                    reply = event(user)
                break
            except DatabaseBusy:
                # Another program held the file (a staff export, a backup): nothing of this update
                # was written. Try again a little later; in the end, ask the owner to.
                if pause is None:
                    log.warning("update %s: the database stayed locked; the owner is asked to send it again",
                                update.update_id)
                    # In the default language: reading the chat's own would touch the database again.
                    reply = Reply([Message(say("try_again", self.conversation.default_language))])
                    break
                await self.sleep(pause)
        self.handled(update.update_id)
        await self._deliver(update, context, user, reply)

    async def _deliver(self, update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, reply: Reply) -> None:
        """The tap answered (free of the send budget), the next messages sent, then the edits."""
        bot = context.bot
        chat_id = int(user.chat_id)
        try:
            if update.callback_query is not None:
                await self._quietly(update.callback_query.answer(reply.toast[:190] if reply.toast else None))
            ticks, tidying = _edits(update, chat_id, reply)
            if self.eager_edits:
                for method, payload in ticks + tidying:
                    await self.sender.tidy(bot, method, payload)
            for message in reply.messages:
                sent = await self.sender.send(bot, chat_id, message.text, message.buttons, message.keyboard)
                if message.question and reply.respondent is not None:
                    self.conversation.delivered(reply.respondent, sent)
            if not self.eager_edits:
                for method, payload in ticks:
                    self.edits.tick(chat_id, payload["message_id"], method, payload)
                for method, payload in tidying:
                    self.edits.tidy(chat_id, payload["message_id"], method, payload)
            if reply.chart is not None:
                # Drawing takes longer than answering; other owners' updates need not wait for it.
                task = context.application.create_task(self._send_chart(bot, chat_id, reply), update=update)
                self.background.add(task)
                task.add_done_callback(self.background.discard)
        except Forbidden:
            if reply.respondent is not None:
                self.chats.save(reply.respondent, blocked=1)
            log.info("update %s: the owner has blocked the bot", update.update_id)

    async def _send_chart(self, bot: Bot, chat_id: int, reply: Reply) -> None:
        from sme_bot.chart import result_png

        assert reply.chart is not None
        lang = reply.language or self.conversation.default_language
        levels = (self.service.questionnaires.get(reply.chart.questionnaire) or self.service.questionnaire).levels
        try:
            png = await asyncio.to_thread(result_png, reply.chart, lang, levels=levels)
            caption = reply.chart_caption[:1024] if reply.chart_caption else None  # Telegram's limit
            await bot.send_photo(chat_id, png, caption=caption)
        except (TelegramError, OSError, ValueError) as error:
            # The result text has already arrived; the picture is a bonus.
            log.warning("chart not sent: %s", type(error).__name__)

    def pending(self) -> list[asyncio.Task]:
        """Work no update waits for, still going: charts, and edits waiting for send budget."""
        return [*self.background, *([self.edits.draining] if self.edits.draining else [])]

    @staticmethod
    async def _quietly(call) -> None:  # type: ignore[no-untyped-def]
        """Marking an old message or answering a tap is a courtesy: when Telegram refuses it as
        too old (after a restart with updates waiting, say), the reply goes on without it."""
        try:
            await call
        except BadRequest as error:
            log.info("courtesy call refused: %s", error.message)
