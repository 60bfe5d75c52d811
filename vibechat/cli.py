"""The `vibechat` command: migrate, serve, seed, copy-to, backup."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from vibechat import schema
from vibechat.config import ConfigError, check_workers, database_url, load_settings

HYPERCORN_CONFIG = "python:vibechat.hypercorn_config"


def migrate(_args: argparse.Namespace) -> int:
    """Apply every pending migration to the configured database."""
    url = database_url(load_settings())
    asyncio.run(schema.upgrade(url))
    print(f"Database is up to date: {_redacted(url)}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """Run hypercorn on VIBECHAT_HOST:VIBECHAT_PORT."""
    settings = load_settings()
    check_workers(settings)
    bind = f"{settings['VIBECHAT_HOST']}:{settings['VIBECHAT_PORT']}"
    # The interpreter running us has hypercorn installed beside vibechat, even when
    # the venv's bin folder is not on PATH (make run calls .venv/bin/vibechat).
    command = [sys.executable, "-m", "hypercorn", "--config", HYPERCORN_CONFIG]
    command += ["--bind", bind, "--workers", str(settings["VIBECHAT_WORKERS"])]
    command += ["--access-logfile", "-"]
    command.append("vibechat:create_app()")
    print(f"vibechat is at http://{bind}/ (Ctrl+C stops it)", flush=True)
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process with the server
    return 0  # pragma: no cover


def copy_to(args: argparse.Namespace) -> int:
    """Copy every row of the configured database into another (SQLite to PostgreSQL)."""
    from vibechat.transfer import TransferError, copy_database

    source = database_url(load_settings())
    asyncio.run(schema.upgrade(args.target))
    try:
        copied = asyncio.run(copy_database(source, args.target))
    except TransferError as error:
        print(f"vibechat: {error}", file=sys.stderr)
        return 1
    for table, rows in copied.items():
        print(f"{table}: {rows} rows")
    print(f"Copied {_redacted(source)} to {_redacted(args.target)}.")
    print("Now set VIBECHAT_DATABASE_URL to the new database and restart.")
    return 0


def backup(args: argparse.Namespace) -> int:
    """Copy the SQLite database into a new file while the server runs (restore: README)."""
    from vibechat.backup import BackupError, backup_sqlite

    url = database_url(load_settings())
    try:
        pages = backup_sqlite(url, Path(args.path))
    except BackupError as error:
        print(f"vibechat: {error}", file=sys.stderr)
        return 1
    print(f"Backed up {_redacted(url)} to {args.path} ({pages} pages, integrity ok).")
    return 0


def seed(_args: argparse.Namespace) -> int:
    """Fill the database with a few people and chats to try things with."""
    from vibechat.seed import seed_demo

    settings = load_settings()
    created = asyncio.run(seed_demo(settings))
    for line in created:
        print(line)
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vibechat",
        description="A server-rendered group chat. Settings come from VIBECHAT_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler in (
        ("migrate", migrate),
        ("serve", serve),
        ("seed", seed),
        ("copy-to", copy_to),
        ("backup", backup),
    ):
        command = commands.add_parser(name, help=handler.__doc__, description=handler.__doc__)
        command.set_defaults(handler=handler)
        if handler is copy_to:
            command.add_argument("target", help="SQLAlchemy URL of the empty target database")
        if handler is backup:
            command.add_argument("path", help="the new file to write the copy to")
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"vibechat: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
