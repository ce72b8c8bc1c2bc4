"""The `sme-bot` command: wires config, questionnaires, storage and channels together.

Heavy or slow imports stay inside the commands that need them, so `sme-bot --help` and the
console's first question come up fast.
"""

import copy
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sme_bot import __version__
from sme_bot.errors import QuestionnaireError, SmeBotError

if TYPE_CHECKING:  # for annotations only: the modules themselves load inside the commands that use them
    from sme_bot.accounts import Accounts
    from sme_bot.config import Config
    from sme_bot.questionnaire import Questionnaire
    from sme_bot.storage import Store

LANG = click.Choice(["vi", "en"])
# What BotFather hands out: the bot's numeric id, a colon, then a secret of letters and digits.
TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
# Zalo does not document its tokens' shape: only what cannot be part of a URL path is refused.
ZALO_TOKEN_SHAPE = re.compile(r"^[^\s/?#]{10,}$")


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
        except OSError as error:
            # A full disk or a file that vanished mid-way: the operating system's words suffice.
            where = f"{error.filename}: " if error.filename else ""
            raise click.ClickException(f"{where}{error.strerror or error}") from None


class Staff(click.Command):
    """A staff command: its help, like its tables and messages, in Vietnamese unless `--lang en` is
    on its command line. The texts are in messages.toml: `cli_<key>` for the command, and for each
    option `cli_<key>_<option>` or, when shared by several commands, `cli_opt_<option>`."""

    def __init__(self, *args: Any, key: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key = key

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --help acts before any other option is read: the language comes from the words typed.
        words = iter(args)
        for word in words:
            if word == "--lang" or word.startswith("--lang="):
                ctx.meta["lang"] = word.partition("=")[2] or next(words, "")
        return super().parse_args(ctx, args)

    def short(self, lang: str, limit: int = 45) -> str:
        """The help's first line, cut at a word to fit a list of commands."""
        first = _said(f"cli_{self.key}", lang).partition("\n")[0]
        return first if len(first) <= limit else first[:limit - 3].rsplit(" ", 1)[0] + "..."

    def get_short_help_str(self, limit: int = 45) -> str:
        # In `sme-bot --help`'s list of commands, where no language was asked for: Vietnamese first.
        return self.short("vi", limit)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(_said(f"cli_{self.key}", _lang(ctx)))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = _lang(ctx)
        help_option = self.get_help_option(ctx)
        records = []
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):
                continue  # arguments are named in the usage line and explained in the help text
            name = "help" if param is help_option else param.name
            said = copy.copy(param)  # the command is shared: its options keep their own help
            said.help = _said(f"cli_{self.key}_{name}", lang, f"cli_opt_{name}")
            record = said.get_help_record(ctx)
            if record is not None:
                records.append(record)
        with formatter.section(_said("cli_options", lang)):
            formatter.write_dl(records)


class StaffGroup(Staff, click.Group):
    """A group of staff commands (cohort, support, staff), listed in the language asked for."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        lang = _lang(ctx)
        commands = [(name, self.commands[name]) for name in self.list_commands(ctx)]
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)  # as click lists commands
        with formatter.section(_said("cli_commands", lang)):
            formatter.write_dl([(name, command.short(lang, limit) if isinstance(command, Staff) else
                                 command.get_short_help_str(limit)) for name, command in commands])


def _lang(ctx: click.Context) -> str:
    return "en" if ctx.meta.get("lang") == "en" else "vi"


def _said(key: str, lang: str, fallback: str | None = None, **params: object) -> str:
    """messages.toml's text for `key`, else for `fallback` (an option's help shared by commands)."""
    from sme_bot.messages import say

    try:
        return say(key, lang, **params)
    except KeyError:
        if fallback is None:
            raise
        return say(fallback, lang, **params)


def _lang_option(command: Any) -> Any:
    """--lang on a staff command: its help, tables and messages (a file's headers follow --labels)."""
    return click.option("--lang", type=LANG, default="vi", show_default=True)(command)


def _version_option(command: Any) -> Any:
    """--version on a staff command that shows figures: which version of the questionnaire they are
    of (one figure never mixes versions); the default is reports.staff.default_version's."""
    return click.option("--version", "questionnaire_version", metavar="VERSION")(command)


def _group_lang_option(group: Any) -> Any:
    """--lang on a group of staff commands, for its help alone (`sme-bot cohort --lang en --help`)."""
    return click.option("--lang", type=LANG, default="vi", show_default=True, expose_value=False)(group)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sme-bot")
def main() -> None:
    """Digital-readiness self-assessment for small and medium businesses.

    Scores a business on the six-pillar DBI model of Decision 1970/QĐ-BTTTT (Mức 0–5) and
    gives it concrete next steps: a self-assessment, not an official DBI result (that is done on
    dbi.gov.vn, under Decision 1567/QĐ-BKHCN). Start with the console demo:

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
    from sme_bot.cohorts import check_cohort
    from sme_bot.service import AssessmentService

    config, store, q = _open(config_path, db_path, questionnaire_name)
    check_cohort(store, cohort)
    service = AssessmentService.configured(store, q, config)
    interactive = sys.stdin.isatty()
    out = Console() if interactive else Console(force_terminal=False, no_color=True, highlight=False, width=80)
    terminal = channel.Terminal(console=out, stdin=sys.stdin, interactive=interactive)
    code = channel.run(service, terminal, lang=lang or config.assessment.language, resume=resume, cohort=cohort,
                       programme=config.programme.name, keep_months=config.privacy.keep_months)
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
    import asyncio
    import signal

    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from sme_bot.channels.telegram.app import build_application, configure_logging, introduce, limit_webhook_requests
    from sme_bot.channels.telegram.polling import run_polling

    config, store, q = _open(config_path, db_path, None)
    _reaching_owners(config)
    telegram = config.telegram
    secret = os.environ.get("SME_BOT_WEBHOOK_SECRET", "")
    if telegram.mode == "webhook" and not (telegram.webhook_url and secret):
        raise click.ClickException("webhook mode needs telegram.webhook_url in bot.toml and SME_BOT_WEBHOOK_SECRET set")
    configure_logging()
    app = build_application(config, q, store, token=token, webhook_secret=secret or None)

    async def up() -> None:
        username = await introduce(app.bot, config, config.assessment.language)
        store.chats("telegram").remember_username(username)
        click.echo(f"sme-bot: Telegram bot @{username} up ({telegram.mode}); questionnaire {q.id} {q.version}; "
                   f"database {store.path}", err=True)
        if username != telegram.username:
            click.echo(f"warning: bot.toml says [telegram] username = \"{telegram.username}\", Telegram says "
                       f"@{username}: join links and QR codes use @{username}; correct bot.toml to match", err=True)

    async def poll() -> None:
        # Our own loop, not PTB's Updater: an update is confirmed to Telegram only once handled.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await run_polling(app, stop=stop, started=up)

    try:
        if telegram.mode == "webhook":
            limit_webhook_requests()
            app.post_init = lambda _: up()
            app.run_webhook(listen=telegram.listen, port=telegram.port, url_path="telegram",
                            webhook_url=telegram.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        else:
            asyncio.run(poll())
    except InvalidToken:
        raise click.ClickException("the Bot API refused SME_BOT_TOKEN; check it with BotFather") from None
    except NetworkError as error:
        from sme_bot.redaction import redact

        raise click.ClickException(f"cannot reach the Bot API at {telegram.base_url}: {redact(error.message)}") from None
    click.echo("sme-bot: Telegram bot stopped", err=True)


@main.group()
def zalo() -> None:
    """The Zalo bot: polling here, or a webhook through `sme-bot serve`.

    The token comes from SME_BOT_ZALO_TOKEN (Zalo Bot Manager sends it when the bot is made);
    bot.toml's [zalo] base_url can point at another server. Staff are listed in [staff] zalo.
    """


def _zalo_client(config_path: Path | None):  # type: ignore[no-untyped-def]
    from sme_bot.channels.zalo.client import ZaloClient
    from sme_bot.config import load_config

    token = os.environ.get("SME_BOT_ZALO_TOKEN", "").strip()
    if not token:
        raise click.ClickException("SME_BOT_ZALO_TOKEN is not set; export the token Zalo Bot Manager sent")
    if not ZALO_TOKEN_SHAPE.match(token):
        raise click.ClickException("SME_BOT_ZALO_TOKEN does not look like a Zalo bot token (no spaces or slashes)")
    from sme_bot.redaction import hide

    hide(token, os.environ.get("SME_BOT_ZALO_WEBHOOK_SECRET"))  # in no log line, whichever library logs
    config = load_config(config_path)
    return config, ZaloClient(token, base_url=config.zalo.base_url)


@zalo.command("run")
@_config_options
def zalo_run(db_path: Path | None, config_path: Path | None) -> None:
    """Run the Zalo bot by polling Zalo for messages; stops cleanly on Ctrl-C or SIGTERM.

    Polling and a webhook exclude each other: `sme-bot zalo webhook delete` first if one is set.

        SME_BOT_ZALO_TOKEN=… sme-bot zalo run --config bot.toml
    """
    import asyncio
    import logging
    import signal

    from sme_bot.channels.zalo.bot import build_bot, only_poller
    from sme_bot.channels.zalo.client import ZaloError, ZaloUnauthorized

    config, client = _zalo_client(config_path)
    _reaching_owners(config)
    click.get_current_context().with_resource(only_poller(os.environ["SME_BOT_ZALO_TOKEN"].strip()))
    _, store, q = _open(config_path, db_path, None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def main() -> None:
        bot = build_bot(config, q, store, client)
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, task.cancel)
        try:
            me = await client.get_me()
            click.echo(f"sme-bot: Zalo bot {me.account_name} polling; questionnaire {q.id} {q.version}; "
                       f"database {store.path}", err=True)
            await bot.poll(bot_id=me.id)
        except asyncio.CancelledError:
            pass  # Ctrl-C or SIGTERM: every answer is committed as it comes
        finally:
            await client.aclose()

    try:
        asyncio.run(main())
    except ZaloUnauthorized:
        raise click.ClickException("Zalo refused SME_BOT_ZALO_TOKEN; check it in Zalo Bot Manager") from None
    except ZaloError as error:
        raise click.ClickException(f"cannot reach the Zalo Bot API at {config.zalo.base_url}: {error}") from None
    click.echo("sme-bot: Zalo bot stopped", err=True)


@zalo.command("webhook")
@click.argument("action", type=click.Choice(["set", "delete", "info"]))
@click.argument("url", required=False)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Settings file [default: ./bot.toml if present].")
def zalo_webhook(action: str, url: str | None, config_path: Path | None) -> None:
    """Set, delete or show the Zalo webhook; never changed by anything else.

    `set` needs the https URL of `sme-bot serve`'s Zalo route and SME_BOT_ZALO_WEBHOOK_SECRET
    (8 to 256 characters), which Zalo sends back in every request.

        sme-bot zalo webhook set https://dx.example.vn/zalo/webhook
    """
    import asyncio

    from sme_bot.channels.zalo.client import ZaloError

    _, client = _zalo_client(config_path)
    secret = os.environ.get("SME_BOT_ZALO_WEBHOOK_SECRET", "")

    async def call():  # type: ignore[no-untyped-def]
        async with client:
            if action == "set":
                if not url:
                    raise click.UsageError("give the webhook's https URL")
                return await client.set_webhook(url, secret)
            return await (client.delete_webhook() if action == "delete" else client.get_webhook_info())

    try:
        info = asyncio.run(call())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    except ZaloError as error:
        raise click.ClickException(f"Zalo: {error}") from None
    click.echo(info.url or "(no webhook set)")


@main.command()
@click.option("--host", help="Address to listen on [default: from bot.toml, 127.0.0.1]; 0.0.0.0 lets phones on the "
                             "same Wi-Fi in.")
@click.option("--port", type=click.IntRange(0, 65535), help="Port [default: from bot.toml, 8000]; 0 picks a free one.")
@click.option("--access-log/--no-access-log", default=None,
              help="Log each request with the client's address [default: from bot.toml, off]; resume codes are masked.")
@_config_options
def serve(host: str | None, port: int | None, access_log: bool | None, db_path: Path | None,
          config_path: Path | None) -> None:
    """Run the web app: owners answer on a phone's browser, nothing to install.

    It prints where it listens; on a LAN address it also prints the address phones open, with a
    QR code to show on a projector. Stops cleanly on Ctrl-C or SIGTERM. At a workshop:

        sme-bot serve --host 0.0.0.0 --port 8000
    """
    import segno

    from sme_bot.web.serve import serve as run_server

    config, store, q = _open(config_path, db_path, None)
    # Opened above only to check the database (and bring its schema up to date) with a one-line
    # error; the app opens its own connection on the thread that serves.
    database = Path(store.path)
    store.close()
    try:
        run_server(config, q, database=database, host=host or config.web.host,
                   port=config.web.port if port is None else port,
                   access_log=config.web.access_log if access_log is None else access_log,
                   echo=click.echo, qr=lambda url: segno.make(url).terminal(compact=True))
    except ValueError as error:  # a short SME_BOT_WEB_SECRET
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check questionnaire files; exit 0 when all are valid, 1 with located problems.

    Without PATHS, checks every questionnaire shipped with sme-bot, and the earlier versions
    kept in questionnaires/archive/.

        sme-bot validate questionnaires/my-survey.toml
    """
    from sme_bot import loader

    files = list(paths) or loader.available() + loader.archived_files()
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


# -- staff commands: help and tables in Vietnamese unless --lang en (texts in messages.toml) ------------


@main.command(cls=Staff, key="summary")
@click.option("--cohort")
@click.option("--by")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--questionnaire", "-q", "questionnaire_name")
@_lang_option
@_version_option
@click.option("--include-demo", is_flag=True)
@_config_options
def summary(cohort: str | None, by: str | None, fmt: str, questionnaire_name: str | None, lang: str,
            questionnaire_version: str | None, include_demo: bool, db_path: Path | None,
            config_path: Path | None) -> None:
    from sme_bot.reports import staff

    config, store, q = _open(config_path, db_path, questionnaire_name, must_exist=True)
    result = staff.summary(store, q, config, cohort=cohort, by=by, include_demo=include_demo,
                           version=questionnaire_version)
    q = staff.at_version(q, result.version, config)
    if note := staff.left_out(store, q, cohort, include_demo):
        click.echo(f"note: completed assessments counted: {result.total.completed}{note}", err=True)
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
        return
    from rich.console import Console

    from sme_bot.reports.tables import summary_tables

    Console(highlight=False).print(summary_tables(result, q, lang))


@main.command("export", cls=Staff, key="export")
@click.option("--cohort")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@click.option("--labels", type=click.Choice(["vi", "en", "codes"]), default="vi", show_default=True)
@click.option("--csv-separator", type=click.Choice([",", ";"]), default=",", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-identities", is_flag=True)
@click.option("--questionnaire", "-q", "questionnaire_name")
@_version_option
@click.option("--include-demo", is_flag=True)
@_lang_option
@_config_options
def export_command(cohort: str | None, fmt: str, labels: str, csv_separator: str, output: Path | None,
                   with_identities: bool, questionnaire_name: str | None, questionnaire_version: str | None,
                   include_demo: bool, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    from rich.progress import Progress

    from sme_bot.reports import staff
    from sme_bot.reports.summary import versions_line

    config, store, q = _open(config_path, db_path, questionnaire_name, must_exist=True)
    target = output or Path(f"sme-bot-export.{fmt}")
    with Progress(transient=True, console=_stderr()) as progress:
        def start(total: int) -> Callable[[], None]:
            task = progress.add_task(f"export {fmt}", total=total)
            return lambda: progress.advance(task)

        written = staff.export(store, q, config, cohort=cohort, fmt=fmt, labels=labels, output=target,
                               with_identities=with_identities, start=start, include_demo=include_demo,
                               csv_separator=csv_separator, version=questionnaire_version, by=_by())
    click.echo(_said("cli_export_done", lang, n=written.rows, path=target), err=True)
    if others := versions_line(written.version, written.versions, lang):
        click.echo(others, err=True)


@main.command(cls=Staff, key="report")
@click.option("--cohort")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "-q", "questionnaire_name")
@_version_option
@_lang_option
@click.option("--include-demo", is_flag=True)
@_config_options
def report(cohort: str | None, output: Path, questionnaire_name: str | None, questionnaire_version: str | None,
           lang: str, include_demo: bool, db_path: Path | None, config_path: Path | None) -> None:
    from datetime import date

    from sme_bot.reports import staff
    from sme_bot.reports.export import check_writable, replacing

    check_writable(output)
    config, store, q = _open(config_path, db_path, questionnaire_name, must_exist=True)
    page, figures = staff.report(store, q, config, cohort=cohort, lang=lang, today=date.today(),
                                 include_demo=include_demo, version=questionnaire_version)
    if note := staff.left_out(store, q, cohort, include_demo):
        click.echo(f"note: completed assessments counted: {figures.total.completed}{note}", err=True)
    with replacing(output, "w", encoding="utf-8") as stream:
        stream.write(page)
    click.echo(_said("cli_report_done", lang, path=output), err=True)


@main.group(cls=StaffGroup, key="cohort")
@_group_lang_option
def cohort() -> None:
    pass


@cohort.command("create", cls=Staff, key="cohort_create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--starts", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--ends", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--questionnaire", "-q", "questionnaire_name")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path))
@_lang_option
@_config_options
def cohort_create(code: str, name: str, starts, ends, questionnaire_name: str | None,  # type: ignore[no-untyped-def]
                  qr_path: Path | None, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        raise click.BadParameter("use 1 to 32 letters, digits, - or _ (it goes into a Telegram link)", param_hint="CODE")
    if starts and ends and ends < starts:
        raise click.BadParameter("ends before it starts", param_hint="--ends")
    import segno

    from sme_bot.reports.export import check_writable, replacing

    target = qr_path or Path(f"cohort-{code}.png")
    check_writable(target)
    from sme_bot.cohorts import links

    config, store, q = _open(config_path, db_path, questionnaire_name)
    # With a public web address the QR code opens the web page: every phone can, where Telegram
    # is blocked on Vietnam's mobile networks.
    ways_in = links(config, store, code)
    # The cohort is recorded only once its QR code is written, and the code appears only for
    # a recorded cohort: a failure leaves neither behind.
    with replacing(target, "wb") as stream:
        segno.make(ways_in.qr, error="m").save(stream, kind="png", scale=10, border=2)
        if not store.assessments.create_cohort(code, name, starts=starts and starts.date().isoformat(),
                                               ends=ends and ends.date().isoformat(), questionnaire=q.id):
            raise click.ClickException(f"cohort {code} exists already; `sme-bot cohort list` shows it")
    click.echo(ways_in.telegram)
    if ways_in.web:
        click.echo(ways_in.web)
    click.echo(_said("cli_cohort_qr_web" if ways_in.web else "cli_cohort_qr", lang, path=target), err=True)


@cohort.command("list", cls=Staff, key="cohort_list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--include-demo", is_flag=True)
@_lang_option
@_config_options
def cohort_list(fmt: str, include_demo: bool, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    _, store, _ = _open(config_path, db_path, None, must_exist=True)
    rows = store.staff.cohorts(include_demo=include_demo)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from sme_bot.localtime import local_time
    from sme_bot.reports.tables import plain

    table = Table(*(_said(key, lang) for key in ("staff_col_code", "staff_col_name", "staff_field_starts",
                                                 "staff_field_ends", "staff_col_started", "staff_col_completed",
                                                 "staff_col_state")))
    for row in rows:
        state = (_said("staff_state_closed", lang, date=local_time(row["closed_at"])[:10]) if row["closed_at"]
                 else _said("staff_state_open", lang))
        # Names are typed text: plain() keeps rich from reading them as markup.
        table.add_row(plain(row["code"]), plain(row["name"]), row["starts"] or "", row["ends"] or "",
                      str(row["started"] or 0), str(row["completed"] or 0), state)
    Console().print(table)


@cohort.command("close", cls=Staff, key="cohort_close")
@click.argument("code")
@_lang_option
@_config_options
def cohort_close(code: str, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    _, store, _ = _open(config_path, db_path, None, must_exist=True)
    if not store.assessments.close_cohort(code):
        raise click.ClickException(_said("cli_cohort_not_open", lang, code=code))
    store.accounts.audit(_by(), "cohort_closed", code)
    click.echo(_said("cli_cohort_closed", lang, code=code), err=True)


@main.group(cls=StaffGroup, key="support")
@_group_lang_option
def support() -> None:
    pass


@support.command("list", cls=Staff, key="support_list")
@click.option("--status", default=None, metavar="new|contacted|helping|closed|all")
@click.option("--cohort")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@_lang_option
@_config_options
def support_list(status: str | None, cohort: str | None, fmt: str, lang: str, db_path: Path | None,
                 config_path: Path | None) -> None:
    from sme_bot import support as follow_up
    from sme_bot.localtime import local_time
    from sme_bot.service import Questionnaires

    config, store, q = _open(config_path, db_path, None, must_exist=True)
    questionnaires = Questionnaires(q, config.assessment.questionnaires)
    rows = follow_up.listing(store, questionnaires.get, status=status, cohort=cohort, lang=lang)
    for row in rows:
        row["pillar_names"] = ", ".join(row["pillar_names"])
        del row["created"], row["updated"]  # the stored UTC times are in the rows already
    if fmt == "json":
        from sme_bot.reports.cells import scrub

        # json.dumps escapes C0 controls but writes C1 ones (U+009B is CSI to xterm) as they are.
        click.echo(json.dumps([{key: scrub(value) for key, value in row.items()} for row in rows],
                              ensure_ascii=False, indent=2))
    elif fmt == "csv":
        import csv

        from sme_bot.reports.cells import csv_cell

        # As in `sme-bot export`: the owner's name is opened in Excel, so no formulas, no controls.
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    else:
        from rich.console import Console
        from rich.table import Table

        from sme_bot.reports.tables import plain

        def head(key: str) -> str:
            return _said(key, lang)

        # Names, contacts and notes are typed text: plain() keeps rich from reading them as markup.
        table = Table("#", head("staff_col_created") + " (UTC+7)", head("staff_col_status"), head("staff_col_assignee"),
                      head("staff_field_cohort"), head("staff_col_level"), head("staff_col_pillars"))
        # Names and contacts whole, on one line: the columns that wrap are the pillars and the notes.
        for key in ("staff_col_business", "staff_data_name", "staff_col_contact", "staff_data_external_id"):
            table.add_column(head(key), no_wrap=True)
        table.add_column(head("staff_col_updated") + " (UTC+7)")
        table.add_column(head("staff_col_notes"))
        for row in rows:
            table.add_row(str(row["id"]), local_time(row["created_at"]),
                          head(f"support_status_{follow_up.current(row['status'])}"),
                          plain(row["assignee"] or ""), plain(row["cohort"] or ""), str(row["level"]),
                          plain(row["pillar_names"]), plain(str(row["business_name"] or "")),
                          plain(row["name"] or ""), plain(row["contact"] or ""), plain(row["external_id"]),
                          local_time(row["updated_at"]), plain(row["notes"] or ""))
        Console().print(table)


@support.command("update", cls=Staff, key="support_update")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--status", metavar="new|contacted|helping|closed")
@click.option("--assignee", metavar="NAME")
@click.option("--note", metavar="TEXT")
@_lang_option
@_config_options
def support_update(request_id: int, status: str | None, assignee: str | None, note: str | None, lang: str,
                   db_path: Path | None, config_path: Path | None) -> None:
    from sme_bot import support as follow_up

    _, store, _ = _open(config_path, db_path, None, must_exist=True)
    change = follow_up.update(store, request_id, by=_by(), status=status, assignee=assignee, note=note)
    click.echo(_said("cli_support_updated", lang, change=change.describe()), err=True)


@main.command("demo-data", cls=Staff, key="demo_data")
@click.option("--n", "count", type=click.IntRange(1, 1_000_000))
@click.option("--purge", is_flag=True)
@click.option("--cohort")
@click.option("--questionnaire", "-q", "questionnaire_name")
@click.option("--seed", type=int, default=2026, show_default=True)
@_lang_option
@_config_options
def demo_data(count: int | None, purge: bool, cohort: str | None, questionnaire_name: str | None, seed: int,
              lang: str, db_path: Path | None, config_path: Path | None) -> None:
    if purge:
        if count is not None:
            raise click.UsageError("give either --n or --purge")
        _, store, _ = _open(config_path, db_path, questionnaire_name, must_exist=True)
        people, rows = store.privacy.delete_channel("demo")
        click.echo(_said("cli_demo_data_purged", lang, people=people, rows=rows, path=store.path), err=True)
        return
    if count is None:
        raise click.UsageError("give --n (how many businesses) or --purge")
    from datetime import UTC, datetime, timedelta

    from rich.progress import Progress

    from sme_bot.demo import businesses
    from sme_bot.service import CONSENT_VERSION

    _, store, q = _open(config_path, db_path, questionnaire_name)
    if cohort:
        store.assessments.create_cohort(cohort, f"Demo data ({cohort})", questionnaire=q.id)
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    # Small transactions, each made up before it begins: a bot or the web app writing to the same
    # database waits a few milliseconds for each, never long enough to give up.
    batch = 200
    made = iter(businesses(q, count, seed=seed))
    with Progress(console=_stderr(), transient=True) as progress:
        task = progress.add_task("demo data", total=count)
        for first in range(0, count, batch):
            chunk = [(i, next(made)) for i in range(first, min(first + batch, count))]
            with store.transaction():
                for i, business in chunk:
                    began = start + timedelta(minutes=37 * i)
                    # channel "demo" marks every row made up (respondents and assessments alike).
                    store.assessments.add_whole(channel="demo", external_id=f"demo-{seed}-{i}", questionnaire_id=q.id,
                                         questionnaire_version=q.version, language="vi", cohort=cohort,
                                         started_at=began, last_at=began + timedelta(minutes=business.minutes),
                                         answers=business.answers, result=business.result,
                                         consent_version=CONSENT_VERSION)
            progress.update(task, completed=min(first + batch, count))
    click.echo(_said("cli_demo_data_added", lang, n=count, path=store.path), err=True)


@main.command("purge", cls=Staff, key="purge")
@click.option("--dry-run", is_flag=True)
@_lang_option
@_config_options
def purge(dry_run: bool, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    from sme_bot.service import AssessmentService

    config, store, q = _open(config_path, db_path, None, must_exist=True)
    service = AssessmentService.configured(store, q, config)
    months = config.privacy.keep_months
    people, rows = service.purge(keep_months=months, dry_run=dry_run)
    key = "cli_purge_would" if dry_run else "cli_purge_done"
    click.echo(_said(key, lang, people=people, rows=rows, months=months, path=store.path), err=True)


def _stderr():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def _reaching_owners(config: "Config") -> None:
    """A bot tells every owner how to reach the programme: it does not start without that."""
    if not config.programme.contact_given:
        raise click.ClickException("set [programme] contact in bot.toml (the phone number and email owners are "
                                   "told to use) before a bot reaches owners")


def _open(config_path: Path | None, db_path: Path | None, questionnaire_name: str | None, *,
          must_exist: bool = False) -> tuple["Config", "Store", "Questionnaire"]:
    """Settings, store and questionnaire for a command. Commands that only read (staff figures)
    pass must_exist: opening a mistyped path would create an empty database and report zeros."""
    from sme_bot import loader
    from sme_bot.config import load_config
    from sme_bot.storage import Store

    config = load_config(config_path)
    q = loader.load(questionnaire_name or config.assessment.questionnaire, config.assessment.questionnaires)
    path = db_path or config.storage.database
    if must_exist and str(path) != ":memory:" and not Path(path).exists():
        raise click.ClickException(f"no database at {path}; give the right file with --db PATH "
                                   "or [storage] database in bot.toml")
    store = Store(path)
    # Closed when the command ends, however it ends (closing twice is harmless).
    click.get_current_context().call_on_close(store.close)
    return config, store, q



# -- staff accounts for the staff area ------------------------------------------------------------------


@main.group(cls=StaffGroup, key="staff")
@_group_lang_option
def staff() -> None:
    pass


def _accounts(config_path: Path | None, db_path: Path | None) -> "Accounts":
    from sme_bot.accounts import Accounts
    from sme_bot.config import load_config
    from sme_bot.storage import Store

    config = load_config(config_path)
    store = Store(db_path or config.storage.database)
    click.get_current_context().call_on_close(store.close)
    return Accounts(store)


def _by() -> str:
    """Who made a change, for the audit: the command line and the system user who ran it."""
    import getpass

    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):
        return "command line"


def _new_password(from_stdin: bool, lang: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_said("cli_staff_password", lang), hide_input=True, confirmation_prompt=True))


@staff.command("add", cls=Staff, key="staff_add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "viewer"]), required=True)
@click.option("--password-stdin", is_flag=True)
@_lang_option
@_config_options
def staff_add(name: str, role: str, password_stdin: bool, lang: str, db_path: Path | None,
              config_path: Path | None) -> None:
    accounts = _accounts(config_path, db_path)
    accounts.ensure_new(name)  # before the password is asked for
    account = accounts.add(name, role, _new_password(password_stdin, lang), by=_by())
    click.echo(_said("cli_staff_added", lang, name=account.name, role=account.role), err=True)


@staff.command("list", cls=Staff, key="staff_list")
@_lang_option
@_config_options
def staff_list(lang: str, db_path: Path | None, config_path: Path | None) -> None:
    rows = _accounts(config_path, db_path).all()
    if not rows:
        click.echo(_said("cli_staff_none", lang), err=True)
    for row in rows:
        locked = "  " + _said("cli_staff_locked", lang, until=row["locked_until"]) if row["locked_until"] else ""
        click.echo(f"{row['name']}\t{row['role']}\t{row['created_at']}{locked}")


@staff.command("remove", cls=Staff, key="staff_remove")
@click.argument("name")
@_lang_option
@_config_options
def staff_remove(name: str, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    _accounts(config_path, db_path).remove(name, by=_by())
    click.echo(_said("cli_staff_removed", lang, name=name), err=True)


@staff.command("passwd", cls=Staff, key="staff_passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@_lang_option
@_config_options
def staff_passwd(name: str, password_stdin: bool, lang: str, db_path: Path | None, config_path: Path | None) -> None:
    accounts = _accounts(config_path, db_path)
    accounts.ensure(name)
    accounts.set_password(name, _new_password(password_stdin, lang), by=_by())
    click.echo(_said("cli_staff_password_changed", lang, name=name), err=True)
