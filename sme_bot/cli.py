"""The `sme-bot` command: wires config, questionnaires, storage and channels together.

Heavy or slow imports stay inside the commands that need them, so `sme-bot --help` and the
console's first question come up fast.
"""

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from sme_bot import __version__
from sme_bot.errors import QuestionnaireError, SmeBotError

LANG = click.Choice(["vi", "en"])
# What BotFather hands out: the bot's numeric id, a colon, then a secret of letters and digits.
TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class Commands(click.Group):
    """Turns sme-bot's own errors into a one-line message and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuestionnaireError as error:
            for problem in error.problems:
                click.secho(str(problem), err=True, fg="red")
            ctx.exit(1)
        except SmeBotError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sme-bot")
def main() -> None:
    """Digital-readiness self-assessment for small and medium businesses.

    Scores a business on the national DBI ladder (Mức 0–5, six pillars) and gives it
    concrete next steps. Start with the console demo:

        sme-bot console
    """


def _config_options(command: Any) -> Any:
    command = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="SQLite database file (overrides bot.toml).")(command)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Settings file [default: ./bot.toml if present].")(command)


@main.command()
@click.option("--questionnaire", "-q", "questionnaire_name", help="Questionnaire id or .toml path [default: from bot.toml, dbi-sme].")
@click.option("--lang", type=LANG, help="Language of the conversation [default: from bot.toml, vi].")
@click.option("--cohort", help="Record the assessment under this cohort code.")
@click.option("--resume/--new", default=None, help="Continue the last unfinished console assessment, or start a new one [default: ask when interactive, new when scripted].")
@_config_options
def console(questionnaire_name: str | None, lang: str | None, cohort: str | None, resume: bool | None,
            db_path: Path | None, config_path: Path | None) -> None:
    """Run an assessment in this terminal, one question at a time.

    Answer with an option's number or by typing its label ("khong" picks "Không").
    /back, /skip, /restart and /quit (progress is kept) work as on Telegram.
    With stdin not a terminal it prints plain text, for scripted demos:

        sme-bot console < examples/persona-small-shop.txt
    """
    from rich.console import Console

    from sme_bot.channels import console as channel

    config, store, q = _open(config_path, db_path, questionnaire_name)
    interactive = sys.stdin.isatty()
    out = Console() if interactive else Console(force_terminal=False, no_color=True, highlight=False, width=80)
    terminal = channel.Terminal(console=out, stdin=sys.stdin, interactive=interactive)
    try:
        code = channel.run(store, q, terminal, lang=lang or config.assessment.language, resume=resume, cohort=cohort)
    finally:
        store.close()
    sys.exit(code)


@main.command()
@_config_options
def run(db_path: Path | None, config_path: Path | None) -> None:
    """Run the Telegram bot: polling, or a webhook when bot.toml says mode = "webhook".

    The token comes from the environment and is never logged; bot.toml's base_url can point
    at a self-hosted Bot API server. Stops cleanly on Ctrl-C or SIGTERM.

        SME_BOT_TOKEN=123456:AA… sme-bot run --config bot.toml
    """
    token = os.environ.get("SME_BOT_TOKEN", "").strip()
    if not token:
        raise click.ClickException("SME_BOT_TOKEN is not set; export the token BotFather gave the bot")
    if not TOKEN_SHAPE.match(token):
        raise click.ClickException("SME_BOT_TOKEN does not look like a bot token (digits, a colon, then 30+ letters)")
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from sme_bot.channels.telegram.app import build_application, configure_logging

    config, store, q = _open(config_path, db_path, None)
    telegram = config.telegram
    secret = os.environ.get("SME_BOT_WEBHOOK_SECRET", "")
    if telegram.mode == "webhook" and not (telegram.webhook_url and secret):
        raise click.ClickException("webhook mode needs telegram.webhook_url in bot.toml and SME_BOT_WEBHOOK_SECRET set")
    configure_logging()
    app = build_application(config, q, store, token=token)
    try:
        if telegram.mode == "webhook":
            app.run_webhook(listen=telegram.listen, port=telegram.port, url_path="telegram",
                            webhook_url=telegram.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        raise click.ClickException("the Bot API refused SME_BOT_TOKEN; check it with BotFather") from None
    except NetworkError as error:
        raise click.ClickException(f"cannot reach the Bot API at {telegram.base_url}: {error.message}") from None
    finally:
        store.close()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check questionnaire files; exit 0 when all are valid, 1 with located problems.

    Without PATHS, checks every questionnaire shipped with sme-bot.

        sme-bot validate questionnaires/my-survey.toml
    """
    from sme_bot import loader

    files = list(paths) or loader.available()
    problems = []
    summaries = []
    for path in files:
        try:
            q = loader.load(path)
        except QuestionnaireError as error:
            problems += error.problems
            continue
        summaries.append(f"{q.id} {q.version} ({len(q.all_questions)} questions, {sum(q.pillar_max.values())} points)")
    for problem in problems:
        click.secho(str(problem), err=True, fg="red")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len(files) - len(summaries)} of {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} valid: " + "; ".join(summaries))


@main.command()
@click.argument("questionnaire_name", metavar="QUESTIONNAIRE")
@click.option("--lang", type=LANG, default="vi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def show(questionnaire_name: str, lang: str, fmt: str) -> None:
    """Print a questionnaire as a paper form for field interviews, or as JSON.

        sme-bot show dbi-sme --format markdown > dbi-sme.md
    """
    from sme_bot import loader, outline

    q = loader.load(questionnaire_name)
    if fmt == "json":
        click.echo(json.dumps(outline.outline_json(q), ensure_ascii=False, indent=2))
    else:
        click.echo(outline.outline_text(q, lang, markdown=fmt == "markdown"), nl=False)


@main.command()
@click.argument("questionnaire_name", metavar="QUESTIONNAIRE")
@click.option("--answers", "answers_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON object: question id → option id, list of option ids, number or text.")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--lang", type=LANG, default="vi", show_default=True)
def score(questionnaire_name: str, answers_path: Path, fmt: str, lang: str) -> None:
    """Score a set of answers without storing anything.

        sme-bot score dbi-sme --answers answers.json --format text
    """
    from sme_bot import loader
    from sme_bot.answers_file import read_answers
    from sme_bot.scoring import score as score_answers

    q = loader.load(questionnaire_name)
    answers, missing = read_answers(q, answers_path)
    if missing:
        click.echo(f"note: {len(missing)} question(s) unanswered, counted as 0 points: {', '.join(missing)}", err=True)
    result = score_answers(q, answers)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(lang), ensure_ascii=False, indent=2))
        return
    from rich.console import Console

    from sme_bot.channels.console import render_result

    Console(highlight=False).print(render_result(result, lang, full_roadmap=True))


def _open(config_path: Path | None, db_path: Path | None, questionnaire_name: str | None):  # type: ignore[no-untyped-def]
    from sme_bot import loader
    from sme_bot.config import load_config
    from sme_bot.storage import Store

    config = load_config(config_path)
    q = loader.load(questionnaire_name or config.assessment.questionnaire, config.assessment.questionnaires)
    store = Store(db_path or config.storage.database)
    return config, store, q

