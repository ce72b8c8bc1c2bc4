"""The trainer's console: one question at a time in a terminal, or a scripted demo from a file.

Interactive, it uses rich's colours and prompts. With stdin not a terminal it prints plain text
and echoes each answer read, so `sme-bot console < persona.txt` reads like a transcript.
"""

import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text as RichText

from sme_bot import render
from sme_bot.flows.answers import Reason
from sme_bot.flows.engine import Ask, Finished, Prompt, Reject, Step
from sme_bot.messages import say
from sme_bot.questionnaire import Questionnaire
from sme_bot.scoring import Peers, Result
from sme_bot.service import AssessmentService
from sme_bot.session import Session

CHANNEL = "console"
BAR_WIDTH = 12
EXIT_OK, EXIT_INTERRUPTED = 0, 130


class _EndOfInput(Exception):
    pass


@dataclass
class Terminal:
    """Where the console reads and writes; tests pass their own streams."""

    console: Console
    stdin: TextIO
    interactive: bool
    # Ctrl-C is taken only while waiting for input: one arriving while rich is writing would
    # leave rich's output buffer half-open and lose everything printed after it.
    _waiting: bool = False
    _interrupted: bool = False

    @contextmanager
    def interrupts_at_the_prompt(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only; elsewhere (tests) nothing to arrange
            return

        def on_interrupt(signum: int, frame: object) -> None:
            if self._waiting:
                raise KeyboardInterrupt
            self._interrupted = True

        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def read(self, label: str) -> str:
        if self.interactive and self.stdin is sys.stdin:
            try:
                # input() under rich's prompt gives line editing on a real terminal.
                return self._waiting_for(lambda: self.console.input(f"[bold cyan]{label}›[/] "))
            except EOFError:  # Ctrl-D
                raise _EndOfInput from None
        line = self._waiting_for(self.stdin.readline)
        # Scripted demos carry notes for the trainer on lines starting with #.
        while line.startswith("#"):
            line = self._waiting_for(self.stdin.readline)
        if not line:
            raise _EndOfInput
        line = line.rstrip("\n")
        self.console.print(f"{label}> {line}", markup=False)
        return line

    def _waiting_for(self, get: Callable[[], str]) -> str:
        if self._interrupted:
            raise KeyboardInterrupt
        self._waiting = True
        try:
            return get()
        finally:
            self._waiting = False


def run(service: AssessmentService, terminal: Terminal, *, lang: str, resume: bool | None = None,
        cohort: str | None = None, programme: str, keep_months: int) -> int:
    """The whole console conversation on the service's questionnaire; returns the process exit code.
    The consent request names the programme (the data controller) and how long data is kept."""
    q = service.questionnaire
    out = terminal.console
    out.print(welcome(q, lang, minutes=service.minutes(q)))
    session: Session | None = None
    try:
        with terminal.interrupts_at_the_prompt():
            session = _open(service, terminal, lang=lang, resume=resume, cohort=cohort,
                            consent={"programme": programme, "months": keep_months})
            if session is None:
                out.print(say("consent_declined", lang))
                return EXIT_OK
            step = session.step()
            while not isinstance(step, Finished):
                out.print(render_step(step, q, lang))
                line = terminal.read(say("prompt", lang))
                command = line.strip().lower()
                if command == "/quit":
                    out.print(say("saved_and_quit", lang))
                    return EXIT_OK
                if command == "/restart" and _choose(terminal, lang, "restart_confirm", ["yes", "no"]) == 0:
                    session = service.restart(session)
                    out.print(say("restarted", lang))
                    step = session.step()
                    continue
                step = _dispatch(session, line, command)
            # The console shows every roadmap step: a trainer reads it out or projects it.
            out.print(render_result(session.result(), lang, full_roadmap=True,
                                    peers=service.peers(session.assessment.id)))
            return EXIT_OK
    except _EndOfInput:
        out.print(say("input_ended", lang, answered=session.answered if session else 0))
        return EXIT_OK
    except KeyboardInterrupt:
        out.print()
        out.print(say("saved_and_quit", lang))
        return EXIT_INTERRUPTED


def _dispatch(session: Session, line: str, command: str) -> Step:
    # /restart reaches here only when its confirmation was declined: show the question again.
    actions: dict[str, Callable[[], Step]] = {"/back": session.back, "/skip": session.skip, "/restart": session.step}
    if command in actions:
        return actions[command]()
    if command.startswith("/") and " " not in command:
        current = session.step()
        return Reject(Reason("unknown_command", {"command": command}),
                      current.prompt if isinstance(current, Ask) else None)
    return session.answer(line)


def _open(service: AssessmentService, terminal: Terminal, *, lang: str, resume: bool | None,
          cohort: str | None, consent: dict[str, object]) -> Session | None:
    # The console has no accounts: whoever sits at it may continue the last one left unfinished.
    unfinished = service.latest_on(CHANNEL, service.questionnaire)
    if unfinished is not None and resume is not False:
        if resume is None and terminal.interactive:
            resume = _choose(terminal, lang, "resume_offer", ["resume_continue", "resume_new"],
                             answered=unfinished.answered) == 0
        if resume:
            return unfinished
    choice = _choose(terminal, lang, "consent", ["consent_agree", "consent_result_only", "consent_decline"], **consent)
    if choice == 2:
        return None
    # Each console run that starts anew is a person of its own: trainers demo one persona after another.
    respondent = service.agree(CHANNEL, uuid.uuid4().hex, language=lang, purposes={"result": True, "staff": choice == 0})
    return service.start(respondent, channel=CHANNEL, language=lang, cohort=cohort)


def _choose(terminal: Terminal, lang: str, question_key: str, option_keys: list[str], **params: object) -> int:
    """Ask a numbered question of the console's own (not the questionnaire's); the index chosen."""
    labels = [say(key, lang) for key in option_keys]
    body = "\n".join([say(question_key, lang, **params), ""] + [f"  {i}. {label}" for i, label in enumerate(labels, 1)])
    while True:
        terminal.console.print(body)
        picked = terminal.read(say("prompt", lang)).strip()
        # ASCII digits only: "²".isdigit() holds, but int("²") raises.
        if picked.isascii() and picked.isdigit() and 1 <= int(picked) <= len(labels):
            return int(picked) - 1
        # What was typed is shown as typed, never read as rich markup ("[/red]").
        terminal.console.print(say("out_of_range", lang, number=picked[:40], count=len(labels)), markup=False)


def welcome(q: Questionnaire, lang: str, *, minutes: int) -> RenderableType:
    body = "\n".join([q.description(lang), "", say("welcome_detail", lang, minutes=minutes)])
    return Panel(body, title=q.title(lang), subtitle=say("welcome", lang), box=box.ROUNDED)


def render_step(step: Step, q: Questionnaire, lang: str) -> RenderableType:
    if isinstance(step, Reject):
        reason = RichText(f"⚠ {step.reason.render(lang)}", style="yellow")
        return Group(reason, render_prompt(step.prompt, q, lang)) if step.prompt else reason
    if isinstance(step, Ask):
        return render_prompt(step.prompt, q, lang)
    return RichText(say("finished", lang))


def render_prompt(prompt: Prompt, q: Questionnaire, lang: str) -> RenderableType:
    question = prompt.question
    lines: list[RenderableType] = [
        RichText(""),
        RichText(render.heading(q, prompt, lang), style="dim"),
        RichText(question.text(lang), style="bold"),
    ]
    if question.help:
        lines.append(RichText(question.help(lang), style="italic dim"))
    for number, option in enumerate(question.options, start=1):
        lines.append(RichText(f"  {number:>2}. {option.label(lang)}"))
    hint = render.hint(question, lang)
    if hint:
        lines.append(RichText(hint, style="dim"))
    if not question.required:
        lines.append(RichText(say("optional_hint", lang), style="dim"))
    return Group(*lines)


def render_result(result: Result, lang: str, *, full_roadmap: bool = False, peers: Peers | None = None) -> RenderableType:
    title, meaning, points = render.result_headline(result, lang)
    headline = RichText(title, style=f"bold {render.level_colour(result.level)}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(say("pillar", lang))
    table.add_column(say("points", lang), justify="right")
    table.add_column("%", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column(say("level", lang), justify="right")
    for pillar in result.pillars:
        filled = round(BAR_WIDTH * pillar.percent / 100)
        bar = RichText("█" * filled, style=render.level_colour(pillar.level)) + RichText("░" * (BAR_WIDTH - filled), style="dim")
        table.add_row(pillar.name(lang), f"{pillar.points}/{pillar.max_points}", f"{pillar.percent:.1f}", bar,
                      str(pillar.level))
    steps = result.roadmap if full_roadmap else result.top_steps
    roadmap = Table.grid(padding=(0, 1))
    roadmap.add_column(justify="right")
    roadmap.add_column()
    for step in steps:
        roadmap.add_row(f"{step.priority}.", step.text(lang))
    parts: list[RenderableType] = [RichText(""), headline, RichText(meaning), RichText(points), table,
                                   RichText(render.strengths_line(result, lang))]
    parts += [RichText(line) for line in render.next_level_lines(result, lang)]
    if peers is not None:
        lines = render.peers_lines(peers, lang)
        parts += [RichText(""), RichText(lines[0], style="bold"), *(RichText(line) for line in lines[1:])]
    parts += [RichText(""), RichText(say("roadmap_title", lang), style="bold"), roadmap]
    if len(result.roadmap) > len(steps):
        parts.append(RichText(say("more_steps", lang, count=len(result.roadmap) - len(steps)), style="dim"))
    return Group(*parts)
