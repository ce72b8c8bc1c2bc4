"""The owner's chat conversation, for every chat channel: events in, replies out, no network.

What a chat shows: consent first, one message per question, the result. How it shows it depends
on what the channel can do (`Capabilities`): buttons or numbered options typed back, edits or
not, how long a button label may be, whether a chart can go as a photo. Every rule of the
assessment is in the service; where a chat stands (its language, the question on screen,
multiple-choice ticks) is the channel's own chat state in SQLite, so a restarted bot carries on.
"""

import json
from collections import OrderedDict
from dataclasses import dataclass, field

from sme_bot import render
from sme_bot.channels import buttons as data
from sme_bot.config import Config
from sme_bot.flows import engine
from sme_bot.flows.engine import Ask, Finished, Prompt, Reject, Step
from sme_bot.messages import say
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring import Result
from sme_bot.service import COHORT_CODE, CONSENT_VERSION, CONTACT_LENGTH, AssessmentService, weakest
from sme_bot.session import Session
from sme_bot.storage import Person
from sme_bot.text import clean, fold

Buttons = list[list[tuple[str, str]]]

# Commands typed as words, as they read on a phone keyboard (diacritics optional), beside /name.
COMMAND_WORDS = {
    "quay lai": "back", "back": "back", "bo qua": "skip", "skip": "skip", "lam lai": "restart",
    "tro giup": "help", "help": "help", "xoa du lieu": "delete", "delete": "delete", "ket qua": "result", "result": "result",
    "ho tro": "support", "support": "support", "tiep tuc": "continue", "continue": "continue",
    "them buoc": "steps", "xem them buoc": "steps", "more steps": "steps",
}
COMMANDS = ("start", "back", "skip", "restart", "lang", "help", "privacy", "result", "support", "delete", "cancel",
            "continue", "steps")
# Typed replies to a consent request or a yes/no confirmation, folded.
_AGREE = {"1", "dong y", "toi dong y", "co", "yes", "agree", "i agree"}
_DECLINE = {"2", "khong", "khong dong y", "toi khong dong y", "no", "decline", "i do not agree"}
# Typed replies to the consent request (numbered 1 every purpose, 2 the owner's result only, 3 none).
_CONSENT_TYPED = {**dict.fromkeys(_AGREE, "all"), **dict.fromkeys(_DECLINE - {"2"}, "none"), "3": "none",
                  "2": "result", "chi ket qua": "result", "chi tinh ket qua cho toi": "result",
                  "result only": "result", "only my result": "result"}
_LANGUAGES = {"en": "en", "english": "en", "vi": "vi", "tieng viet": "vi"}
# "Reach me in this chat", typed in answer to how the programme should reach the owner.
_HERE = {"o day", "nhan o day", "nhan toi o day", "here", "message me here"}
# A result whose every roadmap step fits in this many characters (one Zalo message; half a
# Telegram one) comes whole; a longer one shows the first steps and offers the rest.
_ONE_MESSAGE = 2000
# Text channels have no buttons to carry a language or cohort code until consent: kept in memory
# for this many chats (lost on a restart, which only means the default language again).
_PENDING_CHATS = 10_000


@dataclass(frozen=True)
class Capabilities:
    """What a chat channel can show."""

    channel: str  # its name in the database: "telegram", "zalo", …
    buttons: bool = True  # inline buttons carrying data; otherwise options are numbered and typed back
    edits: bool = True  # an earlier message can be rewritten (the answered question marked)
    max_label: int = 64  # the longest button label
    photos: bool = True  # a chart can be sent as a picture
    share_contact: bool = False  # a button under the typing field sends the owner's own phone number


@dataclass(frozen=True)
class Programme:
    name: str  # who runs it: the data controller the consent text names
    contact: str
    keep_months: int = 24  # how long an idle person's data is kept (bot.toml [privacy])

    @classmethod
    def of(cls, config: Config) -> "Programme":
        return cls(config.programme.name, config.programme.contact, config.privacy.keep_months)


@dataclass(frozen=True)
class User:
    id: str
    chat_id: str
    name: str | None = None


@dataclass
class Message:
    text: str
    buttons: Buttons = field(default_factory=list)
    # Set on the message that asks a question: the channel reports its message id back
    # (`Conversation.delivered`) so the answer can later be written into it.
    question: str | None = None
    # Buttons under the typing field (channels that can share a contact): the first shares the
    # owner's phone number, the others send their label as text. An empty tuple takes them away.
    keyboard: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Retired:
    """A message whose buttons no longer mean anything (an answered question, a consent request
    once agreed): rewritten without them when the channel has time to spare. A tap on it before
    then is answered kindly, so this only tidies the chat."""

    message_id: int | str | None  # None: the message whose button was just tapped
    text: str | None = None  # its new text (the question with its answer); None keeps the text


@dataclass
class Reply:
    messages: list[Message] = field(default_factory=list)
    toast: str | None = None  # the short answer to a button tap
    retired: list[Retired] = field(default_factory=list)
    prompt_id: int | None = None  # the question on screen, whose buttons become these:
    prompt_buttons: Buttons | None = None  # (a multiple-choice tick)
    chart: Result | None = None  # a picture of this result follows the messages
    chart_caption: str | None = None  # what the picture shows, said under it
    respondent: int | None = None  # whose chat this is, once they have consented
    language: str | None = None  # of the chart's labels
    result_id: int | None = None  # the assessment whose result the messages show


class Conversation:
    def __init__(self, service: AssessmentService, programme: Programme, capabilities: Capabilities, *,
                 default_language: str = "vi"):
        self.service = service
        self.programme = programme
        self.can = capabilities
        self.default_language = default_language
        self.chats = service.chats(capabilities.channel)
        self._chat: dict | None = None  # the chat's row, read once per event
        self._pending: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    @property
    def q(self) -> Questionnaire:
        return self.service.questionnaire

    # -- events ---------------------------------------------------------------------------

    def start(self, user: User, code: str | None) -> Reply:
        person = self._person(user)
        if person is None:
            return self._consent_request(user, self.default_language, code)
        respondent = person.respondent_id
        lang = self.language()
        notes = [Message(self._greeting(lang))]
        session = self.service.current(respondent)
        if session is None and not code and self.service.results(respondent):
            return self._reply(respondent, notes + [Message(say("finished_hint", lang))])
        session = self._open(respondent, lang, code, notes)
        return self._show(session, self._reply(respondent, notes))

    def text(self, user: User, text: str) -> Reply:
        command = self._typed_command(text)
        if command:
            return self.command(user, command)
        person = self._person(user)
        if person is None:
            return self._typed_before_consent(user, text)
        respondent = person.respondent_id
        lang = self.language()
        pending = str(self._chat_row().get("pending") or "")
        if pending.startswith("support:"):
            return self._typed_contact(respondent, text, lang)
        if pending:
            return self._typed_confirmation(respondent, text, lang)
        session = self.service.current(respondent)
        if session is None and self.service.results(respondent):
            return self._reply(respondent, [Message(say("finished_hint", lang))])
        if session is None:
            return self._begin_anew(respondent, lang)
        if self._unseen(session):
            # Text typed now was meant for something else.
            return self._show(session, self._reply(respondent))
        return self._after(session, session.answer(text))

    def command(self, user: User, name: str) -> Reply:
        if name == "start":
            return self.start(user, None)
        person = self._person(user)
        lang = self.language() if person else self._pending_language(user)
        if name == "help":
            return Reply([Message(say("help_buttons" if self.can.buttons else "help_text", lang))])
        if name == "privacy":
            return Reply([Message(say("privacy", lang, version=CONSENT_VERSION, programme=self.programme.name,
                                      months=self.programme.keep_months,
                                      contact=self.programme.contact))])
        if person is None:
            return self._consent_request(user, lang, None)
        respondent = person.respondent_id
        if name in ("restart", "delete"):
            return self._confirm(respondent, "r" if name == "restart" else "x", lang)
        if name == "lang":
            lang = "en" if lang == "vi" else "vi"
            self._save(respondent, language=lang)
            reply = self._reply(respondent, [Message(say("language_set", lang))])
            session = self.service.current(respondent)
            return self._show(session, reply) if session else reply
        if name == "result":
            return self._result(respondent, lang)
        if name == "steps":
            return self._more_steps(respondent, None, lang)
        if name == "support":
            latest = self.service.latest(respondent)
            return self._support(respondent, latest.assessment_id if latest else 0, lang)
        session = self.service.current(respondent)
        if session is None and name == "continue" and not self.service.results(respondent):
            return self._begin_anew(respondent, lang)
        if session is None:
            key = "finished_hint" if self.service.results(respondent) else "no_result"
            return self._reply(respondent, [Message(say(key, lang))])
        if name == "back":
            return self._after(session, session.back())
        if name == "skip":
            return self._after(session, session.skip())
        if name == "cancel":
            self.service.cancel(session)
            return self._reply(respondent, [Message(say("cancelled", lang))])
        return self._show(session, self._reply(respondent))  # continue

    def button(self, user: User, raw: str) -> Reply:
        tap = data.decode(raw)
        person = self._person(user)
        lang = self.language() if person else self.default_language
        if tap is None:
            return Reply(toast=say("stale", lang))
        if person is None:
            return self._before_consent(user, tap)
        respondent = person.respondent_id
        if tap.kind == "confirm":
            return _done_with_tapped(self._confirmed(respondent, tap.action, tap.agree, lang))
        if tap.kind == "support":
            return self._support(respondent, tap.assessment, lang)
        if tap.kind == "steps":
            return self._more_steps(respondent, tap.assessment, lang)
        if tap.kind == "reach_here":
            return _done_with_tapped(self._reach(respondent, tap.assessment, self._this_chat(), lang))
        session = self.service.current(respondent)
        if session is None or tap.assessment != session.assessment.id:
            return _done_with_tapped(self._reply(respondent, toast=say("stale", lang)))
        if tap.kind == "continue":
            return _done_with_tapped(self._show(session, self._reply(respondent)))
        current = session.step()
        if not isinstance(current, Ask) or session.questionnaire.position[current.prompt.question.id] != tap.position:
            stale = _done_with_tapped(self._reply(respondent, toast=say("stale", lang)))
            # A tap on an old question's buttons while the current one is not on screen: show it.
            return self._show(session, stale) if self._unseen(session) else stale
        question = current.prompt.question
        if tap.kind in ("pick", "toggle") and not 0 <= tap.option < len(question.options):
            return self._reply(respondent, toast=say("stale", lang))
        if tap.kind == "pick":
            return self._after(session, session.choose(question.id, question.options[tap.option].id))
        if tap.kind == "toggle":
            return self._toggle(respondent, session, current.prompt, tap.option)
        if tap.kind == "done":
            return self._after(session, session.choose(question.id, self._draft(question)))
        if tap.kind == "skip":
            return self._after(session, session.skip())
        return self._after(session, session.back())

    def unsupported(self, user: User, *, edited: bool = False) -> Reply:
        lang = self.language() if self._person(user) else self.default_language
        key = "edited_message" if edited else "unsupported_message" if self.can.buttons else "unsupported_text"
        return Reply([Message(say(key, lang))])

    def contact(self, user: User, phone: str) -> Reply:
        """A phone number shared with the channel's own button: the answer to "how should the
        programme reach you?", and nothing else (it is not stored otherwise)."""
        person = self._person(user)
        if person is None or not str(self._chat_row().get("pending") or "").startswith("support:"):
            return self.unsupported(user)
        return self._typed_contact(person.respondent_id, phone, self.language())

    def reminder(self, session: Session, language: str) -> Message:
        if not self.can.buttons:
            return Message(say("reminder_text", language, answered=session.answered))
        return Message(say("reminder", language, answered=session.answered),
                       [[(say("resume_continue", language), data.encode_continue(session.assessment.id))]])

    def delivered(self, respondent: int, message_id: int | str) -> None:
        """The question message reached the chat: remember which it is, to mark it once answered."""
        self.chats.save(respondent, prompt_message_id=message_id)

    def language(self) -> str:
        return self._chat_row().get("language") or self.default_language

    # -- consent ----------------------------------------------------------------------------

    def _person(self, user: User) -> Person | None:
        """The consented person behind this chat, if any. Every event starts here."""
        self._chat = None
        self._user = user
        person = self.service.person(self.can.channel, user.id)
        return person if person and person.consented else None

    def _before_consent(self, user: User, tap: data.Tap) -> Reply:
        """Nothing is stored until the owner agrees; language and cohort ride in the buttons."""
        lang = tap.language or self.default_language
        if tap.kind == "language":
            # The request in the other language replaces the one tapped.
            return _done_with_tapped(self._consent_request(user, lang, tap.code))
        if tap.kind != "consent":
            return self._consent_request(user, lang, None)
        choice = say("consent_decline" if not tap.agree else "consent_agree" if tap.share else "consent_result_only",
                     lang)
        # The request keeps its text and shows the choice made, as a record in the chat.
        chosen = Retired(None, f"{self._consent_text(lang)}\n\n{say('answered_mark', lang, answer=choice)}")
        if not tap.agree:
            return Reply([Message(say("consent_declined", lang))], retired=[chosen])
        reply = self._agreed(user, lang, tap.code, share=tap.share, toast=choice)
        reply.retired.append(chosen)
        return reply

    def _typed_before_consent(self, user: User, text: str) -> Reply:
        lang, code = self._pending.get(user.id, (self.default_language, None))
        if self.can.buttons:
            return Reply([Message(say("consent_first", lang))])
        typed = fold(text)
        if typed in _LANGUAGES:
            return self._consent_request(user, _LANGUAGES[typed], code)
        choice = _CONSENT_TYPED.get(typed)
        if choice is not None:
            self._pending.pop(user.id, None)
        if choice == "none":
            return Reply([Message(say("consent_declined", lang))])
        if choice is not None:
            english = typed in ("agree", "i agree", "yes", "result only", "only my result")
            return self._agreed(user, "en" if english else lang, code, share=choice == "all")
        if self.service.cohort(clean(text)):
            return self._consent_request(user, lang, clean(text))
        if user.id not in self._pending:
            # A first message ("Xin chào"): who we are and what we ask, before anything else.
            return self._consent_request(user, lang, code)
        return Reply([Message(say("consent_first_text", lang))])

    def _agreed(self, user: User, lang: str, code: str | None, *, share: bool, toast: str | None = None) -> Reply:
        with self.service.transaction():
            respondent = self.service.agree(self.can.channel, user.id, language=lang, name=user.name,
                                            purposes={"result": True, "staff": share})
            self._save(respondent, chat_id=user.chat_id, language=lang)
            notes: list[Message] = []
            session = self._open(respondent, lang, code, notes)
            return self._show(session, self._reply(respondent, notes, toast=toast))

    def _consent_request(self, user: User, lang: str, code: str | None) -> Reply:
        if not self.can.buttons:
            self._remember(user, lang, code)
            options = "\n".join(f"{n}. {say(key, lang)}" for n, key in
                                 enumerate(("consent_agree", "consent_result_only", "consent_decline"), start=1))
            return Reply([Message(self._greeting(lang)),
                          Message(f"{self._consent_text(lang)}\n\n{options}\n\n{say('consent_reply_hint', lang)}")])
        notes = []
        if code is not None and not COHORT_CODE.match(code):
            # No cohort has such a code (too long for a button, or characters no code has): said
            # now, not carried to after consent.
            notes.append(Message(say("cohort_unknown", lang, code=_shown_code(code))))
            code = None
        other = "en" if lang == "vi" else "vi"
        choices = [[(say("consent_agree", lang), data.encode_consent(True, lang, code))],
                   [(say("consent_result_only", lang), data.encode_consent(True, lang, code, share=False))],
                   [(say("consent_decline", lang), data.encode_consent(False, lang, None)),
                    (say("other_language", lang), data.encode_language(other, code))]]
        return Reply([Message(self._greeting(lang)), *notes, Message(self._consent_text(lang), choices)])

    def _consent_text(self, lang: str) -> str:
        return say("consent", lang, programme=self.programme.name, months=self.programme.keep_months)

    def _remember(self, user: User, lang: str, code: str | None) -> None:
        self._pending[user.id] = (lang, code)
        self._pending.move_to_end(user.id)
        while len(self._pending) > _PENDING_CHATS:
            self._pending.popitem(last=False)

    def _pending_language(self, user: User) -> str:
        return self._pending.get(user.id, (self.default_language, None))[0]

    def _greeting(self, lang: str) -> str:
        return say("greeting", lang, programme=self.programme.name, questions=engine.most_questions(self.q),
                   minutes=self.service.minutes(self.q), contact=self.programme.contact)

    def _begin_anew(self, respondent: int, lang: str) -> Reply:
        """Nothing open (cancelled, or closed because the questionnaire changed): a new assessment."""
        notes: list[Message] = []
        return self._show(self._open(respondent, lang, None, notes), self._reply(respondent, notes))

    # -- chat state -------------------------------------------------------------------------

    def _chat_row(self) -> dict:
        if self._chat is None:
            self._chat = self.chats.get(self._user.id) or {}
        return self._chat

    def _save(self, respondent: int, **fields: object) -> None:
        self.chats.save(respondent, **fields)
        self._chat = None

    def _reply(self, respondent: int, messages: list[Message] | None = None, **fields: object) -> Reply:
        return Reply(messages or [], respondent=respondent, **fields)  # type: ignore[arg-type]

    def _open(self, respondent: int, lang: str, code: str | None, notes: list[Message]) -> Session:
        opened = self.service.open(respondent, channel=self.can.channel, language=lang, code=code)
        if opened.joined:
            notes.append(Message(say("cohort_joined", lang, code=opened.joined)))
        elif opened.closed and opened.unknown_code:
            notes.append(Message(say("cohort_closed", lang, code=_shown_code(opened.unknown_code))))
        elif opened.unknown_code:
            notes.append(Message(say("cohort_unknown", lang, code=_shown_code(opened.unknown_code))))
        return opened.session

    # -- questions ------------------------------------------------------------------------

    def _after(self, session: Session, step: Step) -> Reply:
        """The reply to an input: its reason if refused; else what follows, the answer quoted."""
        respondent = session.assessment.respondent_id
        lang = self.language()
        if isinstance(step, Reject) and step.reason.key == "stale":
            return self._reply(respondent, toast=step.reason.render(lang))
        if isinstance(step, Reject):
            return self._reply(respondent, [Message(step.reason.render(lang))])
        return self._show(session, self._reply(respondent), quote=True)

    def _show(self, session: Session, reply: Reply, *, quote: bool = False) -> Reply:
        """Append the current question, or the result once the assessment is done; the question
        on screen is part of the chat's state, committed with the answer that led to it.

        The question shown before is done with: its buttons go (with its answer written in, if it
        was just answered) when the channel has time. Until then the owner reads their answer at
        the top of the next question (`quote`): a tap leaves no message of its own in the chat."""
        respondent = session.assessment.respondent_id
        lang = self.language()
        chat = self._chat_row()
        answered = self._answer_mark(session, lang)
        if self.can.edits and chat.get("prompt_message_id") is not None:
            closed = f"{chat['prompt_text']}\n\n{answered}" if answered and chat.get("prompt_text") else None
            reply.retired.append(Retired(chat["prompt_message_id"], closed))
        step = session.step()
        if isinstance(step, Finished):
            result = self._result(respondent, lang)
            reply.messages += result.messages
            reply.chart, reply.language, reply.result_id = result.chart, result.language, result.result_id
            reply.chart_caption = result.chart_caption
            self._save(respondent, prompt_question=None, prompt_text=None, prompt_message_id=None, draft=None)
            return reply
        assert isinstance(step, Ask)
        text = self._prompt_text(session.questionnaire, step.prompt, lang)
        shown = f"{answered}\n\n{text}" if quote and answered and self.can.buttons else text
        reply.messages.append(Message(shown, self._buttons(session, step.prompt, lang, []),
                                      question=step.prompt.question.id))
        # The message id is not known until it is sent: until then the question counts as unseen.
        self._save(respondent, prompt_question=step.prompt.question.id, prompt_text=text, prompt_message_id=None,
                   draft=None, pending=None)
        return reply

    def _prompt_text(self, q: Questionnaire, prompt: Prompt, lang: str) -> str:
        question = prompt.question
        lines = [render.heading(q, prompt, lang), "", question.text(lang)]
        if question.help:
            lines.append(question.help(lang))
        # Without buttons the options are typed back by number; with buttons they are listed in full
        # only when a button carries a shortened label, so the whole text is still read.
        if not self.can.buttons or any(option.short for option in question.options):
            lines += [f"{number}. {option.label(lang)}" for number, option in enumerate(question.options, start=1)]
        hint = render.hint(question, lang, buttons=self.can.buttons)
        if hint:
            lines.append(hint)
        if not self.can.buttons and not question.required:
            lines.append(say("optional_hint", lang))
        return "\n".join(lines)

    def _buttons(self, session: Session, prompt: Prompt, lang: str, selected: list[str]) -> Buttons:
        if not self.can.buttons:
            return []
        question = prompt.question
        aid, pos = session.assessment.id, session.questionnaire.position[question.id]
        rows: Buttons = []
        for i, option in enumerate(question.options):
            label = option.button_label(lang)[: self.can.max_label]
            if question.type == "multi":
                mark = "✓ " if option.id in selected else ""
                rows.append([(mark + label, data.encode_toggle(aid, pos, i))])
            else:
                rows.append([(label, data.encode_pick(aid, pos, i))])
        extra = [(say("back_button", lang), data.encode_back(aid, pos))] if prompt.index > 1 else []
        if question.type == "multi":
            extra.append((say("multi_done", lang), data.encode_done(aid, pos)))
        if not question.required:
            extra.append((say("skip_button", lang), data.encode_skip(aid, pos)))
        return rows + ([extra] if extra else [])

    def _unseen(self, session: Session) -> bool:
        """Whether the current question's message never reached the chat: lost to the network,
        or to a crash between storing the last answer and sending the next question."""
        current = session.step()
        chat = self._chat_row()
        return isinstance(current, Ask) and (chat.get("prompt_question") != current.prompt.question.id
                                             or chat.get("prompt_message_id") is None)

    def _toggle(self, respondent: int, session: Session, prompt: Prompt, index: int) -> Reply:
        question = prompt.question
        option = question.options[index]
        chosen = self._draft(question)
        if option.id in chosen:
            chosen.remove(option.id)
        elif option.exclusive:
            chosen = [option.id]
        else:
            exclusive = {o.id for o in question.options if o.exclusive}
            chosen = [c for c in chosen if c not in exclusive] + [option.id]
        prompt_id = self._chat_row().get("prompt_message_id")
        self._save(respondent, draft=json.dumps({"question": question.id, "ids": chosen}))
        lang = self.language()
        # The toast says what the tick did at once; the ticks on the buttons may follow a moment later.
        toast = say("ticked" if option.id in chosen else "unticked", lang, option=option.label(lang))
        return self._reply(respondent, prompt_id=prompt_id, prompt_buttons=self._buttons(session, prompt, lang, chosen),
                           toast=toast[:190])

    def _draft(self, question: Question) -> list[str]:
        chat = self._chat_row()
        draft = json.loads(chat["draft"]) if chat.get("draft") else None
        return list(draft["ids"]) if draft and draft["question"] == question.id else []

    def _answer_mark(self, session: Session, lang: str) -> str | None:
        """"✅ <answer>" for the question on screen, if it has just been answered."""
        question = session.questionnaire.question_by_id.get(self._chat_row().get("prompt_question") or "")
        if question is None or question.id not in session.state.answers:
            return None
        return say("answered_mark", lang, answer=render.answer_label(question, session.state.answers[question.id], lang))

    def _typed_command(self, text: str) -> str | None:
        typed = fold(text)
        if typed.startswith("/"):
            name = typed[1:].split("@")[0].split(" ")[0]
            return name if name in COMMANDS else "help"
        return COMMAND_WORDS.get(typed)

    # -- confirmations, support, results ----------------------------------------------------

    def _confirm(self, respondent: int, action: str, lang: str) -> Reply:
        key = "restart_confirm" if action == "r" else "delete_confirm"
        if self.can.buttons:
            return self._reply(respondent, [Message(say(key, lang), [[
                (say("yes", lang), data.encode_confirm(action, True)),
                (say("no", lang), data.encode_confirm(action, False))]])])
        # Without buttons the next message is the answer: the question waits in the chat state.
        self._save(respondent, pending=f"confirm:{action}")
        return self._reply(respondent, [Message(f"{say(key, lang)}\n{say('confirm_reply_hint', lang)}")])

    def _typed_confirmation(self, respondent: int, text: str, lang: str) -> Reply:
        action = str(self._chat_row()["pending"]).removeprefix("confirm:")
        self._save(respondent, pending=None)
        return self._confirmed(respondent, action, fold(text) in _AGREE, lang)

    def _confirmed(self, respondent: int, action: str, agree: bool, lang: str) -> Reply:
        if not agree:
            reply = self._reply(respondent, [Message(say("nothing_changed", lang))])
            session = self.service.current(respondent)
            return self._show(session, reply) if session and not self.can.buttons else reply
        if action == "x":
            self.service.delete(respondent)
            return Reply([Message(say("deleted", lang))])
        session = self.service.current(respondent)
        if session is not None:
            session = self.service.restart(session)
        else:
            session = self.service.start(respondent, channel=self.can.channel, language=lang)
        return self._show(session, self._reply(respondent, [Message(say("restarted", lang))]))

    def _support(self, respondent: int, assessment_id: int, lang: str) -> Reply:
        """Asked for help with a result: first, how the programme should reach the owner."""
        asked = self.service.support_asked(respondent, assessment_id)
        if asked is None:
            return self._reply(respondent, [Message(say("no_result", lang))] if not self.can.buttons else [],
                               toast=say("stale", lang))
        if asked:
            return self._support_recorded(respondent, assessment_id, lang, recorded=False)
        # The next message is the answer: the question waits in the chat's state.
        self._save(respondent, pending=f"support:{assessment_id}")
        if self.can.share_contact:
            keyboard = (say("share_phone_button", lang), say("support_here_button", lang))
            return self._reply(respondent, [Message(say("support_how_shared", lang), keyboard=keyboard)])
        if self.can.buttons:
            here = [[(say("support_here_button", lang), data.encode_reach_here(assessment_id))]]
            return self._reply(respondent, [Message(say("support_how", lang), here)])
        return self._reply(respondent, [Message(say("support_how_text", lang))])

    def _reach(self, respondent: int, assessment_id: int, contact: str, lang: str) -> Reply:
        """The contact the owner gave, stored with their request, for that purpose only."""
        self._save(respondent, pending=None)
        recorded = self.service.request_support(respondent, assessment_id, contact=contact)
        if recorded is None:
            return self._reply(respondent, toast=say("stale", lang))
        return self._support_recorded(respondent, assessment_id, lang, recorded=recorded)

    def _typed_contact(self, respondent: int, text: str, lang: str) -> Reply:
        assessment_id = int(str(self._chat_row()["pending"]).removeprefix("support:"))
        typed = clean(text)
        if fold(typed) in _HERE:
            return self._reach(respondent, assessment_id, self._this_chat(), lang)
        if not typed:
            return self._reply(respondent, [Message(say("support_how_text", lang))])
        return self._reach(respondent, assessment_id, typed[:CONTACT_LENGTH], lang)

    def _this_chat(self) -> str:
        # Staff read it: in Vietnamese, naming the channel where the owner waits for a message.
        return say("contact_this_chat", "vi", channel=self.can.channel.capitalize())

    def _support_recorded(self, respondent: int, assessment_id: int, lang: str, *, recorded: bool) -> Reply:
        result = dict(self.service.results(respondent))[assessment_id]
        names = ", ".join(p.name(lang) for p in weakest(result))
        text = say("support_recorded" if recorded else "support_already", lang, pillars=names)
        return self._reply(respondent, [Message(text, keyboard=() if self.can.share_contact else None)])

    def _result(self, respondent: int, lang: str) -> Reply:
        """The latest result, and the change since the one before it when the owner retook it."""
        latest = self.service.latest(respondent)
        if latest is None:
            return self._reply(respondent, [Message(say("no_result", lang))])
        result, aid = latest.result, latest.assessment_id
        peers = self.service.peers(aid)
        text = render.result_text(result, lang, previous=latest.previous, peers=peers, all_steps=True)
        rest = len(result.more_steps)
        if len(text) > _ONE_MESSAGE:
            # Long: the first steps now, the rest a tap (or a typed word) away.
            text = render.result_text(result, lang, previous=latest.previous, peers=peers)
        else:
            rest = 0
        if self.can.buttons:
            more = [[(say("more_steps_button", lang, count=rest), data.encode_steps(aid))]] if rest else []
            message = Message(text, more + [[(say("support_button", lang), data.encode_support(aid))]])
        else:
            hints = ([say("more_steps_hint", lang, count=rest)] if rest else []) + [say("support_hint", lang)]
            message = Message("\n\n".join([text, *hints]))
        q = self.service.questionnaires.get(result.questionnaire) or self.q
        return self._reply(respondent, [message], chart=result if self.can.photos else None, language=lang,
                           result_id=aid, chart_caption=render.chart_caption(result, q.levels, lang))

    def _more_steps(self, respondent: int, assessment_id: int | None, lang: str) -> Reply:
        """The rest of a result's roadmap (the latest result's, when typed)."""
        results = dict(self.service.results(respondent))
        if assessment_id is None and results:
            assessment_id = max(results)
        result = results.get(assessment_id) if assessment_id is not None else None
        if result is None:
            return self._reply(respondent, [Message(say("no_result", lang))] if not self.can.buttons else [],
                               toast=say("stale", lang))
        return self._reply(respondent, [Message(render.more_steps_text(result, lang))])


def _done_with_tapped(reply: Reply) -> Reply:
    """The message whose button was tapped has served its purpose: its buttons go."""
    reply.retired.append(Retired(None))
    return reply


def _shown_code(code: str) -> str:
    """A code someone brought, as it may be repeated to them: clean text, at most 32 characters."""
    return clean(code)[:32]
