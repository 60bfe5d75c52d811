"""`vibechat backup PATH`: a consistent copy of the SQLite database, taken while it serves.

SQLite's online backup API (the standard library's sqlite3.Connection.backup) copies
the database page by page and starts over if a writer changes it meanwhile, so the
copy is a moment's state, never a torn one; the server keeps running. PostgreSQL has
pg_dump for this (README, "Backups").
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from vibechat.i18n import _


class BackupError(Exception):
    """The backup cannot be made; nothing was written."""


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            _(
                "vibechat backup copies SQLite databases; %(backend)s has its own tools:"
                " pg_dump for PostgreSQL (see the README, Backups)",
                backend=parsed.get_backend_name(),
            )
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError(_("the configured SQLite database is not a file"))
    return Path(parsed.database)


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the database of `url` into the new file `target`; the number of pages."""
    source_file = sqlite_file(url)
    if not source_file.is_file():
        raise BackupError(_("there is no database at %(path)s", path=source_file))
    if target.exists():
        raise BackupError(_("%(path)s exists already: name a new file", path=target))
    if not target.parent.is_dir():
        raise BackupError(_("there is no folder %(path)s", path=target.parent))
    source = sqlite3.connect(source_file)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            (pages,) = copy.execute("PRAGMA page_count").fetchone()
        finally:
            copy.close()
    finally:
        source.close()
    if verdict != "ok":
        target.unlink()
        raise BackupError(
            _("the copy failed SQLite's integrity check (%(verdict)s); removed it", verdict=verdict)
        )
    return pages
