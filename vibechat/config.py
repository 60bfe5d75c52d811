"""Every VIBECHAT_* setting, declared once with its default and a line of help.

The README lists them all, and a test fails when one is missing there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _log_format(value: str) -> str:
    if value not in {"text", "json"}:
        raise ValueError(f"expected 'text' or 'json', got {value!r}")
    return value


def _origins(value: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting("VIBECHAT_HOST", "127.0.0.1", "Address `vibechat serve` (and `make run`) binds to."),
    Setting("VIBECHAT_PORT", 8000, "Port `vibechat serve` (and `make run`) listens on.", int),
    Setting(
        "VIBECHAT_INSTANCE_PATH",
        str(PROJECT_ROOT / "instance"),
        "Folder for local state: the SQLite database and the generated secret key.",
    ),
    Setting(
        "VIBECHAT_DATABASE_URL",
        None,
        "SQLAlchemy async URL. Default: a SQLite file `vibechat.sqlite3` in the instance folder;"
        " `postgresql+asyncpg://user@host/db` for PostgreSQL.",
    ),
    Setting(
        "VIBECHAT_SECRET_KEY",
        None,
        "Key that signs cookies and CSRF tokens. Default: generated once and kept in"
        " `instance/secret_key` (mode 0600). Set it when running more than one host.",
    ),
    Setting(
        "VIBECHAT_REDIS_URL",
        None,
        "Redis URL for fan-out between processes (read now; used by the scale-out work).",
    ),
    Setting(
        "VIBECHAT_LOG_FORMAT",
        "text",
        "`text` for development, `json` for one object per line.",
        _log_format,
    ),
    Setting(
        "VIBECHAT_PUBLIC_ORIGINS",
        (),
        "Comma-separated origins (`https://chat.example.org`) the app is reached at, when a"
        " proxy rewrites `Host`. Default: the request's own scheme and host.",
        _origins,
    ),
    Setting(
        "VIBECHAT_SECURE_COOKIES",
        False,
        "Mark cookies `Secure`. Turn on when the app is served over HTTPS.",
        _bool,
    ),
    Setting(
        "VIBECHAT_WS_QUEUE",
        256,
        "Frames a socket may have waiting; a client that falls further behind is"
        " disconnected (it reconnects and catches up).",
        int,
    ),
    Setting(
        "VIBECHAT_MAX_BODY_BYTES",
        64 * 1024,
        "Largest request body accepted; bigger requests are answered with 413.",
        int,
    ),
)


class ConfigError(ValueError):
    """A setting has a value the app cannot use."""


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, overridden by VIBECHAT_* variables from the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{setting.name}: {error}") from None
    return values


def database_url(settings: Mapping[str, Any]) -> str:
    """The configured database, or the embedded SQLite file in the instance folder."""
    if settings.get("VIBECHAT_DATABASE_URL"):
        return settings["VIBECHAT_DATABASE_URL"]
    instance = Path(settings["VIBECHAT_INSTANCE_PATH"])
    return f"sqlite+aiosqlite:///{instance / 'vibechat.sqlite3'}"


def secret_key(settings: Mapping[str, Any]) -> str:
    """The configured key, or one generated on first use and kept with mode 0600."""
    if settings.get("VIBECHAT_SECRET_KEY"):
        return settings["VIBECHAT_SECRET_KEY"]
    path = Path(settings["VIBECHAT_INSTANCE_PATH"]) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Write a private temporary file, then link it into place: link fails when the
        # key already exists, so two workers starting at once agree on one key.
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
