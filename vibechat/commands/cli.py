"""The `vibechat` command: migrate, serve, seed, copy-to, backup, and account admin.

Each command imports what it needs when it runs: `vibechat --help` loads argparse and
the settings only, and no command loads the web stack (Quart, hypercorn) in this
process; `serve` hands over to hypercorn by exec (tests/test_quick_cli.py checks).
What each command does is said once, in HELP below, where the catalog can translate it.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import os
import sys
import tempfile
from pathlib import Path

from vibechat import i18n
from vibechat.config import ConfigError, check_workers, database_url, load_settings
from vibechat.i18n import _, lazy_gettext, ngettext
from vibechat.live.envelope import SESSION_CHECK

HYPERCORN_CONFIG = "python:vibechat.hypercorn_config"


def migrate(_args: argparse.Namespace) -> int:
    from vibechat import schema

    url = database_url(load_settings())
    asyncio.run(schema.upgrade(url))
    print(_("Database is up to date: %(url)s", url=_redacted(url)))
    return 0


def serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    check_workers(settings)
    bind = f"{settings.host}:{settings.port}"
    # The interpreter running us has hypercorn installed beside vibechat, even when
    # the venv's bin folder is not on PATH (make run calls .venv/bin/vibechat).
    command = [sys.executable, "-m", "hypercorn", "--config", HYPERCORN_CONFIG]
    command += ["--bind", bind, "--workers", str(settings.workers)]
    command.append("vibechat.app:create_app()")
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Metrics summed over every worker: a fresh folder for this run's counters.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="vibechat-metrics-")
    if settings.log_format == "text":  # a JSON log takes JSON lines only
        address = f"http://{bind}/"
        print(_("vibechat is at %(url)s (Ctrl+C stops it)", url=address), flush=True)
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process with the server
    return 0  # pragma: no cover


def _refusals_exit_1(handler):
    """A command's refusal (nothing was changed) is one line on stderr and exit status 1."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        from vibechat.commands.admin import AdminError
        from vibechat.commands.backup import BackupError
        from vibechat.commands.transfer import TransferError

        try:
            return handler(args)
        except (AdminError, BackupError, TransferError) as error:
            print(f"vibechat: {error}", file=sys.stderr)
            return 1

    return wrapper


@_refusals_exit_1
def copy_to(args: argparse.Namespace) -> int:
    from vibechat import schema
    from vibechat.commands.transfer import copy_database

    source = database_url(load_settings())
    asyncio.run(schema.upgrade(args.target))
    copied = asyncio.run(copy_database(source, args.target))
    for table, rows in copied.items():
        print(ngettext("%(table)s: %(num)d row", "%(table)s: %(num)d rows", rows, table=table))
    print(
        _(
            "Copied %(source)s to %(target)s.",
            source=_redacted(source),
            target=_redacted(args.target),
        )
    )
    print(_("Now set VIBECHAT_DATABASE_URL to the new database and restart."))
    return 0


@_refusals_exit_1
def backup(args: argparse.Namespace) -> int:
    from vibechat.commands.backup import backup_sqlite

    url = database_url(load_settings())
    pages = backup_sqlite(url, Path(args.path))
    print(
        ngettext(
            "Backed up %(url)s to %(path)s (%(num)d page, integrity ok).",
            "Backed up %(url)s to %(path)s (%(num)d pages, integrity ok).",
            pages,
            url=_redacted(url),
            path=args.path,
        )
    )
    return 0


def seed(_args: argparse.Namespace) -> int:
    from vibechat.commands.seed import seed_demo

    settings = load_settings()
    created = asyncio.run(seed_demo(settings))
    for line in created:
        print(line)
    return 0


@_refusals_exit_1
def create_user(args: argparse.Namespace) -> int:
    from vibechat.commands import admin

    password = _new_password()
    user = asyncio.run(
        admin.create_user(load_settings(), args.username, password, args.display_name)
    )
    print(
        _(
            "Created %(username)s (%(name)s): they can sign in now.",
            username=user.username,
            name=user.display_name,
        )
    )
    return 0


@_refusals_exit_1
def reset_password(args: argparse.Namespace) -> int:
    from vibechat.commands import admin

    password = _new_password()
    outcome = asyncio.run(admin.reset_password(load_settings(), args.username, password))
    if outcome.deactivated:
        said = ngettext(
            "Set a new password for %(username)s (still deactivated: reactivate-user lets them"
            " in) and ended %(num)d session.",
            "Set a new password for %(username)s (still deactivated: reactivate-user lets them"
            " in) and ended %(num)d sessions.",
            outcome.sessions_ended,
            username=outcome.username,
        )
    else:
        said = ngettext(
            "Set a new password for %(username)s and ended %(num)d session.",
            "Set a new password for %(username)s and ended %(num)d sessions.",
            outcome.sessions_ended,
            username=outcome.username,
        )
    print(said)
    _warn_about_open_sockets(outcome)
    return 0


@_refusals_exit_1
def deactivate_user(args: argparse.Namespace) -> int:
    from vibechat.commands import admin

    outcome = asyncio.run(admin.deactivate_user(load_settings(), args.username))
    if outcome.already:
        said = ngettext(
            "%(username)s was deactivated already; ended %(num)d session.",
            "%(username)s was deactivated already; ended %(num)d sessions.",
            outcome.sessions_ended,
            username=outcome.username,
        )
    else:
        said = ngettext(
            "%(username)s is deactivated; ended %(num)d session.",
            "%(username)s is deactivated; ended %(num)d sessions.",
            outcome.sessions_ended,
            username=outcome.username,
        )
    print(said)
    _warn_about_open_sockets(outcome)
    return 0


@_refusals_exit_1
def reactivate_user(args: argparse.Namespace) -> int:
    from vibechat.commands import admin

    outcome = asyncio.run(admin.reactivate_user(load_settings(), args.username))
    if outcome.already:
        print(_("%(username)s was active already.", username=outcome.username))
    else:
        print(_("%(username)s can sign in again.", username=outcome.username))
    return 0


def _new_password() -> str:
    """Typed twice on a terminal, else the first line of stdin. Never an argument:
    arguments show in `ps` and in shell history."""
    from vibechat.commands.admin import AdminError

    if not sys.stdin.isatty():
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    try:
        first = getpass.getpass(_("New password: "))
        again = getpass.getpass(_("The same again: "))
    except EOFError:
        raise AdminError(_("no password was given; nothing was changed")) from None
    if first != again:
        raise AdminError(_("the two passwords differ; nothing was changed"))
    return first


def _warn_about_open_sockets(outcome) -> None:
    if outcome.sessions_ended and not outcome.sockets_told:
        note = _(
            "note: the server could not be told at once (no VIBECHAT_REDIS_URL, or Redis did"
            " not answer): pages open now lose their live connection within %(seconds)d s,"
            " when the server next checks its sockets' sessions; their next request is"
            " signed out.",
            seconds=round(SESSION_CHECK),
        )
        print(f"vibechat: {note}", file=sys.stderr)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# What each command does: its line in `vibechat --help` and its description in
# `vibechat COMMAND --help`, in words the catalog translates (a docstring it cannot).
HELP = {
    migrate: lazy_gettext("Apply every pending migration to the configured database."),
    serve: lazy_gettext("Run hypercorn on VIBECHAT_HOST:VIBECHAT_PORT."),
    seed: lazy_gettext("Fill the database with a few people and chats to try things with."),
    copy_to: lazy_gettext(
        "Copy every row of the configured database into another (SQLite to PostgreSQL)."
    ),
    backup: lazy_gettext(
        "Copy the SQLite database into a new file while the server runs (restore: README)."
    ),
    create_user: lazy_gettext(
        "Create an account; the password is read from stdin, or asked twice on a terminal."
    ),
    reset_password: lazy_gettext(
        "Set someone's password (read like create-user's) and sign them out everywhere."
    ),
    deactivate_user: lazy_gettext(
        "Stop someone signing in and sign them out everywhere; their messages stay."
    ),
    reactivate_user: lazy_gettext(
        "Let a deactivated person sign in again, with the password they had."
    ),
}


def main(argv: list[str] | None = None) -> int:
    """`vibechat ARGS`, in the language of the environment (LANGUAGE, LC_ALL, LANG …)."""
    with i18n.speaking(i18n.from_environment(os.environ)):
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="vibechat",
        description=_("A server-rendered group chat. Settings come from VIBECHAT_* variables."),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler in (
        ("migrate", migrate),
        ("serve", serve),
        ("seed", seed),
        ("copy-to", copy_to),
        ("backup", backup),
        ("create-user", create_user),
        ("reset-password", reset_password),
        ("deactivate-user", deactivate_user),
        ("reactivate-user", reactivate_user),
    ):
        about = str(HELP[handler])
        command = commands.add_parser(name, help=about, description=about)
        command.set_defaults(handler=handler)
        if handler is copy_to:
            command.add_argument("target", help=_("SQLAlchemy URL of the empty target database"))
        if handler is backup:
            command.add_argument("path", help=_("the new file to write the copy to"))
        if handler in (create_user, reset_password, deactivate_user, reactivate_user):
            command.add_argument("username", help=_("the account's username (any case)"))
        if handler is create_user:
            command.add_argument(
                "--display-name",
                default="",
                help=_("the name others see (default: the username)"),
            )
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"vibechat: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
