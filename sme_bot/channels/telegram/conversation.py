"""The owner's Telegram conversation, free of python-telegram-bot: events in, replies out.

Every rule of the assessment is in the engine and session; this module decides only what a
chat shows: consent first, one message per question with buttons, the result. Where the chat
stands is kept in SQLite (the chats table), so a restarted bot carries on where it was.
"""

import json
import re
from dataclasses import dataclass, field

from sme_bot.channels.telegram import callbacks
from sme_bot.flows.answers import Value, number_hint
from sme_bot.flows.engine import Ask, Finished, Prompt, Reject, Step
from sme_bot.messages import say
from sme_bot.questionnaire import Question, Questionnaire
from sme_bot.scoring import Result
from sme_bot.session import CONSENT_VERSION, Session
from sme_bot.storage import Store

CHANNEL = "telegram"
_COHORT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Programme:
    name: str
    contact: str


@dataclass(frozen=True)
class User:
    id: int
    chat_id: int
    name: str | None = None


@dataclass
class Message:
    text: str
    buttons: Buttons = field(default_factory=list)
    # Set on the message that asks a question: the adapter remembers where it is, so the answer
    # can later be written into it and its buttons removed.
    question: str | None = None


@dataclass
class Reply:
    messages: list[Message] = field(default_factory=list)
    toast: str | None = None  # the short answer to a button tap
    close_prompt: str | None = None  # new text for the last question message, its buttons gone
    prompt_buttons: Buttons | None = None  # new buttons for it (a multiple-choice toggle)
    chart: Result | None = None  # a picture of this result follows the messages


class Conversation:
    def __init__(self, store: Store, questionnaire: Questionnaire, programme: Programme, *,
                 default_language: str = "vi"):
        self.store = store
        self.q = questionnaire
        self.programme = programme
        self.default_language = default_language
        self._chats: dict[int, dict] = {}

    # -- events ---------------------------------------------------------------------------

    def start(self, user: User, code: str | None) -> Reply:
        respondent = self._consented(user)
        if respondent is None:
            return self._consent_request(self.default_language, code)
        lang = self.language(respondent)
        notes = [Message(self._greeting(lang))]
        session = self._session(respondent)
        if session is None and self._results(respondent):
            return Reply(notes + [Message(say("tg_finished_hint", lang))])
        if session is None:
            session = self._new_session(respondent, lang, code, notes)
        return self._show(session, Reply(notes))

    def text(self, user: User, text: str) -> Reply:
        respondent = self._consented(user)
        if respondent is None:
            return Reply([Message(say("tg_consent_first", self.default_language))])
        session = self._session(respondent)
        if session is None:
            return Reply([Message(say("tg_finished_hint", self.language(respondent)))])
        if self._unseen(respondent, session):
            # Text typed now was meant for something else.
            return self._show(session, Reply())
        return self._after(session, session.answer(text))

    def command(self, user: User, name: str) -> Reply:
        respondent = self._consented(user)
        lang = self.language(respondent) if respondent else self.default_language
        if name == "help":
            return Reply([Message(say("tg_help", lang))])
        if name == "privacy":
            return Reply([Message(say("tg_privacy", lang, version=CONSENT_VERSION, programme=self.programme.name,
                                      contact=self.programme.contact))])
        if respondent is None:
            return self._consent_request(lang, None)
        session = self._session(respondent)
        if name in ("restart", "delete"):
            action, key = ("r", "restart_confirm") if name == "restart" else ("x", "tg_delete_confirm")
            return Reply([Message(say(key, lang), [[(say("tg_yes", lang), callbacks.encode_confirm(action, True)),
                                                     (say("tg_no", lang), callbacks.encode_confirm(action, False))]])])
        if name == "lang":
            lang = "en" if lang == "vi" else "vi"
            self._save_chat(respondent, language=lang)
            reply = Reply([Message(say("tg_language_set", lang))])
            return self._show(session, reply) if session else reply
        if name == "result":
            results = self._results(respondent)
            if not results:
                return Reply([Message(say("tg_no_result", lang))])
            return self._result(results, lang)
        if session is None:
            return Reply([Message(say("tg_finished_hint" if self._results(respondent) else "tg_no_result", lang))])
        if name == "back":
            return self._after(session, session.back())
        if name == "cancel":
            self.store.cancel(session.assessment.id)
            return Reply([Message(say("tg_cancelled", lang))])
        return Reply([Message(say("tg_help", lang))])

    def button(self, user: User, data: str) -> Reply:
        tap = callbacks.decode(data)
        respondent = self._consented(user)
        lang = self.language(respondent) if respondent else self.default_language
        if tap is None:
            return Reply(toast=say("stale", lang))
        if respondent is None:
            return self._before_consent(user, tap)
        if tap.kind == "confirm":
            return self._confirmed(respondent, tap.action, tap.agree, lang)
        if tap.kind == "support":
            return self._support(respondent, tap.assessment, lang)
        session = self._session(respondent)
        if session is None or tap.assessment != session.assessment.id:
            return Reply(toast=say("stale", lang))
        if tap.kind == "continue":
            return self._show(session, Reply())
        current = session.step()
        if not isinstance(current, Ask) or self.q.position[current.prompt.question.id] != tap.position:
            stale = Reply(toast=say("stale", lang))
            # A tap on an old question's buttons while the current one is not on screen: show it.
            return self._show(session, stale) if self._unseen(respondent, session) else stale
        question = current.prompt.question
        if tap.kind == "pick" and tap.option < len(question.options):
            return self._after(session, session.choose(question.id, question.options[tap.option].id))
        if tap.kind == "toggle" and tap.option < len(question.options):
            return self._toggle(respondent, session, current.prompt, tap.option)
        if tap.kind == "done":
            return self._after(session, session.choose(question.id, self._draft(respondent, question)))
        if tap.kind == "skip":
            return self._after(session, session.skip())
        if tap.kind == "back":
            return self._after(session, session.back())
        return Reply(toast=say("stale", lang))

    def unsupported(self, user: User, *, edited: bool = False) -> Reply:
        respondent = self._consented(user)
        lang = self.language(respondent) if respondent else self.default_language
        return Reply([Message(say("tg_edited" if edited else "tg_unsupported", lang))])

    def reminder(self, assessment_id: int, language: str) -> Message:
        answered = len(self.store.answers(assessment_id))
        return Message(say("tg_reminder", language, answered=answered),
                       [[(say("resume_continue", language), callbacks.encode_continue(assessment_id))]])

    # -- consent, sessions, language --------------------------------------------------------

    def _before_consent(self, user: User, tap: callbacks.Tap) -> Reply:
        """Nothing is stored until the owner agrees; language and cohort ride in the buttons."""
        lang = tap.language or self.default_language
        if tap.kind == "language":
            return self._consent_request(lang, tap.code)
        if tap.kind != "consent":
            return self._consent_request(lang, None)
        if not tap.agree:
            return Reply([Message(say("consent_declined", lang))])
        respondent = self.store.respondent(CHANNEL, str(user.id), language=lang, name=user.name)
        self.store.record_consent(respondent, CONSENT_VERSION, agreed=True)
        self._save_chat(respondent, chat_id=user.chat_id, language=lang)
        notes: list[Message] = []
        session = self._session(respondent) or self._new_session(respondent, lang, tap.code, notes)
        return self._show(session, Reply(notes, toast=say("consent_agree", lang)))

    def _consent_request(self, lang: str, code: str | None) -> Reply:
        other = "en" if lang == "vi" else "vi"
        buttons = [[(say("consent_agree", lang), callbacks.encode_consent(True, lang, code)),
                    (say("consent_decline", lang), callbacks.encode_consent(False, lang, None))],
                   [(say("tg_other_language", lang), callbacks.encode_language(other, code))]]
        return Reply([Message(self._greeting(lang)), Message(say("consent", lang), buttons)])

    def _greeting(self, lang: str) -> str:
        return say("tg_greeting", lang, programme=self.programme.name, questions=len(self.q.all_questions),
                   minutes=self.q.minutes, contact=self.programme.contact)

    def _consented(self, user: User) -> int | None:
        # Every event starts here: chat rows read during the last event may be stale now.
        self._chats.clear()
        return self.store.consented(CHANNEL, str(user.id), CONSENT_VERSION)

    def _chat(self, respondent: int) -> dict:
        """The chat's row, read once per event (it is read by several steps of one reply)."""
        if respondent not in self._chats:
            self._chats[respondent] = self.store.chat(respondent) or {}
        return self._chats[respondent]

    def _save_chat(self, respondent: int, **fields: object) -> None:
        self.store.save_chat(respondent, **fields)
        self._chats.pop(respondent, None)

    def language(self, respondent: int) -> str:
        return self._chat(respondent).get("language") or self.default_language

    def _session(self, respondent: int) -> Session | None:
        unfinished = self.store.unfinished(CHANNEL, respondent)
        if unfinished is None:
            return None
        if (unfinished.questionnaire_id, unfinished.questionnaire_version) != (self.q.id, self.q.version):
            # Begun on another version of the questionnaire: close it rather than mix answers.
            self.store.abandon(unfinished.id)
            return None
        return Session.resume(self.store, self.q, unfinished)

    def _new_session(self, respondent: int, lang: str, code: str | None, notes: list[Message]) -> Session:
        cohort = None
        if code and _COHORT_CODE.match(code) and self.store.cohort_exists(code):
            cohort = code
            notes.append(Message(say("tg_cohort_joined", lang, code=code)))
        elif code:
            notes.append(Message(say("tg_cohort_unknown", lang, code=code[:32])))
        return Session.new(self.store, self.q, respondent, channel=CHANNEL, language=lang, cohort=cohort)

    def _results(self, respondent: int) -> list[tuple[int, Result]]:
        return [(aid, r) for aid, r in self.store.results(respondent) if r.questionnaire == self.q.id]

    # -- questions ------------------------------------------------------------------------

    def _after(self, session: Session, step: Step) -> Reply:
        """The reply to an input: its reason if refused; else the answer marked and what follows."""
        lang = self.language(session.assessment.respondent_id)
        if isinstance(step, Reject) and step.reason.key == "stale":
            return Reply(toast=step.reason.render(lang))
        if isinstance(step, Reject):
            return Reply([Message(step.reason.render(lang))])
        return self._show(session, Reply(close_prompt=self._answered_prompt(session, lang)))

    def _show(self, session: Session, reply: Reply) -> Reply:
        """Append the current question, or the result once the assessment is done."""
        respondent = session.assessment.respondent_id
        lang = self.language(respondent)
        step = session.step()
        if isinstance(step, Finished):
            result = self._result(self._results(respondent), lang)
            reply.messages += result.messages
            reply.chart = result.chart
            return reply
        assert isinstance(step, Ask)
        reply.messages.append(Message(self._prompt_text(step.prompt, lang), self._buttons(session, step.prompt, lang, []),
                                      question=step.prompt.question.id))
        return reply

    def _prompt_text(self, prompt: Prompt, lang: str) -> str:
        question = prompt.question
        section = (self.q.framework.pillar_by_id[question.pillar].name(lang) if question.pillar
                   else say("profile_section", lang))
        lines = [f"{say('progress', lang, index=prompt.index, total=prompt.total)} · {section}", "", question.text(lang)]
        if question.help:
            lines.append(question.help(lang))
        hints = {"multi": lambda: say("multi_hint", lang), "number": lambda: number_hint(question).render(lang),
                 "text": lambda: say("text_hint", lang, max_length=question.max_length)}
        if question.type in hints:
            lines.append(hints[question.type]())
        return "\n".join(lines)

    def _buttons(self, session: Session, prompt: Prompt, lang: str, selected: list[str]) -> Buttons:
        question = prompt.question
        aid, pos = session.assessment.id, self.q.position[question.id]
        rows: Buttons = []
        for i, option in enumerate(question.options):
            if question.type == "multi":
                mark = "✓ " if option.id in selected else ""
                rows.append([(mark + option.label(lang), callbacks.encode_toggle(aid, pos, i))])
            else:
                rows.append([(option.label(lang), callbacks.encode_pick(aid, pos, i))])
        extra = [(say("tg_back", lang), callbacks.encode_back(aid, pos))] if prompt.index > 1 else []
        if question.type == "multi":
            extra.append((say("tg_done", lang), callbacks.encode_done(aid, pos)))
        if not question.required:
            extra.append((say("tg_skip", lang), callbacks.encode_skip(aid, pos)))
        return rows + ([extra] if extra else [])

    def _unseen(self, respondent: int, session: Session) -> bool:
        """Whether the current question's message never reached the chat: lost to the network,
        or to a crash between storing the last answer and sending the next question."""
        current = session.step()
        return isinstance(current, Ask) and self._chat(respondent).get("prompt_question") != current.prompt.question.id

    def _toggle(self, respondent: int, session: Session, prompt: Prompt, index: int) -> Reply:
        question = prompt.question
        option = question.options[index]
        chosen = self._draft(respondent, question)
        if option.id in chosen:
            chosen.remove(option.id)
        elif option.exclusive:
            chosen = [option.id]
        else:
            exclusive = {o.id for o in question.options if o.exclusive}
            chosen = [c for c in chosen if c not in exclusive] + [option.id]
        self._save_chat(respondent, draft=json.dumps({"question": question.id, "ids": chosen}))
        lang = self.language(respondent)
        return Reply(prompt_buttons=self._buttons(session, prompt, lang, chosen), toast=option.label(lang)[:190])

    def _draft(self, respondent: int, question: Question) -> list[str]:
        chat = self._chat(respondent)
        draft = json.loads(chat["draft"]) if chat.get("draft") else None
        return list(draft["ids"]) if draft and draft["question"] == question.id else []

    def _answered_prompt(self, session: Session, lang: str) -> str | None:
        """The last question message's text with its answer, if that question was just answered."""
        chat = self._chat(session.assessment.respondent_id)
        question = self.q.question_by_id.get(chat.get("prompt_question") or "")
        if question is None or question.id not in session.state.answers or not chat.get("prompt_text"):
            return None
        label = self._label(question, session.state.answers[question.id], lang)
        return f"{chat['prompt_text']}\n\n{say('tg_answered', lang, answer=label)}"

    def _label(self, question: Question, value: Value, lang: str) -> str:
        if value is None:
            return say("tg_skipped", lang)
        if question.choices:
            ids = value if isinstance(value, tuple) else (value,)
            return ", ".join(o.label(lang) for o in question.options if o.id in ids)
        return f"{value:g}" if isinstance(value, float) else str(value)

    # -- confirmations, support, results ----------------------------------------------------

    def _confirmed(self, respondent: int, action: str, agree: bool, lang: str) -> Reply:
        if not agree:
            return Reply([Message(say("tg_kept", lang))])
        if action == "x":
            self.store.delete_respondent(respondent)
            return Reply([Message(say("tg_deleted", lang))])
        session = self._session(respondent)
        if session is not None:
            session = session.restart()
        else:
            session = Session.new(self.store, self.q, respondent, channel=CHANNEL, language=lang)
        return self._show(session, Reply([Message(say("restarted", lang))]))

    def _support(self, respondent: int, assessment_id: int, lang: str) -> Reply:
        result = dict(self.store.results(respondent)).get(assessment_id)
        if result is None:
            return Reply(toast=say("stale", lang))
        weakest = sorted(result.pillars, key=lambda p: p.percent)[:2]
        recorded = self.store.request_support(assessment_id, respondent, [p.id for p in weakest])
        names = ", ".join(p.name(lang) for p in weakest)
        return Reply([Message(say("tg_support_recorded" if recorded else "tg_support_already", lang, pillars=names))])

    def _result(self, results: list[tuple[int, Result]], lang: str) -> Reply:
        """The latest result, and the change since the one before it when the owner retook it."""
        assessment_id, result = results[-1]
        lines = [say("result_title", lang, level=result.level, name=result.level_name(lang)),
                 result.level_meaning(lang),
                 say("result_points", lang, points=result.points, max_points=result.max_points,
                     percent=f"{result.percent:.1f}"), ""]
        lines += [say("tg_pillar_line", lang, name=p.name(lang), level=p.level, percent=f"{p.percent:.1f}")
                  for p in result.pillars]
        if len(results) > 1:
            previous = results[-2][1]
            before = {p.id: p.percent for p in previous.pillars}
            lines += ["", say("tg_change_title", lang, before=previous.level, after=result.level)]
            lines += [say("tg_change_line", lang, name=p.name(lang), before=f"{before[p.id]:.1f}",
                          after=f"{p.percent:.1f}", delta=f"{p.percent - before[p.id]:+.1f}")
                      for p in result.pillars if p.id in before]
        lines += ["", say("roadmap_title", lang)] + [f"{s.priority}. {s.text(lang)}" for s in result.top_steps]
        support = [[(say("tg_support", lang), callbacks.encode_support(assessment_id))]]
        return Reply([Message("\n".join(lines), support)], chart=result)
