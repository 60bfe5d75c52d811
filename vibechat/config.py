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

from vibechat.paths import default_instance

# The checkout's root (tests read README, docs and static files through it). The app
# finds its own files through vibechat.paths, installed or not.
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


def _ws_compression(value: str) -> str:
    from vibechat.live.protocol import MODES

    if value not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}, got {value!r}")
    return value


def _secure_cookies(value: str) -> bool | None:
    """true, false, or auto (None): Secure whenever the request came over HTTPS."""
    if value.strip().lower() == "auto":
        return None
    return _bool(value)


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str) -> int:
    """Seconds, from "90s", "30m", "12h", "14d" or a bare number of seconds."""
    text = value.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in DURATION_UNITS else (text, "s")
    if not (number.isascii() and number.isdigit()) or int(number) == 0:
        raise ValueError(f"expected a duration such as 30m, 12h or 14d, got {value!r}")
    return int(number) * DURATION_UNITS[unit]


def _rate(value: str) -> str:
    """A rate in the notation of the `limits` library: "10 per 3 minutes", "30/10 seconds"."""
    from limits import parse

    try:
        parse(value)
    except ValueError:
        raise ValueError(f"expected a rate such as '10 per 3 minutes', got {value!r}") from None
    return value.strip()


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return number


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
        str(default_instance()),
        "Folder for local state: the SQLite database and the generated secret key."
        " Default: `instance/` in the checkout; installed from a wheel, `instance/` in the"
        " working directory.",
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
        "VIBECHAT_WORKERS",
        1,
        "hypercorn worker processes for `make run` and the Procfile. More than 1 needs"
        " `VIBECHAT_REDIS_URL`: without it each worker would only reach its own sockets.",
        _positive,
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
        None,
        "`auto`: cookies are marked `Secure` whenever the request came over HTTPS (behind"
        " a TLS proxy, set `VIBECHAT_PROXY_HOPS` so the app can tell). `true` or `false`"
        " forces it.",
        _secure_cookies,
    ),
    Setting(
        "VIBECHAT_PROXY_HOPS",
        0,
        "How many reverse proxies in front of the app to trust for `X-Forwarded-For` and"
        " `X-Forwarded-Proto` (the client address for rate limits, HTTPS for cookies and"
        " HSTS). 0 trusts none.",
        int,
    ),
    Setting(
        "VIBECHAT_SESSION_IDLE",
        14 * 86400,
        "A session unused this long ends (`30m`, `12h`, `14d`; default `14d`).",
        _duration,
    ),
    Setting(
        "VIBECHAT_SESSION_LIFETIME",
        30 * 86400,
        "A session ends this long after sign-in however much it is used (default `30d`).",
        _duration,
    ),
    Setting(
        "VIBECHAT_RATE_LIMITS",
        True,
        "`off` turns every rate limit off (load tests and benchmarks only).",
        _bool,
    ),
    Setting(
        "VIBECHAT_LIMIT_LOGIN_USERNAME",
        "10 per 3 minutes",
        "Failed sign-ins (and wrong current passwords) per username.",
        _rate,
    ),
    Setting(
        "VIBECHAT_LIMIT_LOGIN_ADDRESS",
        "30 per 3 minutes",
        "Failed sign-ins per client address.",
        _rate,
    ),
    Setting(
        "VIBECHAT_LIMIT_REGISTER_ADDRESS",
        "20 per hour",
        "Sign-up attempts per client address.",
        _rate,
    ),
    Setting(
        "VIBECHAT_LIMIT_REGISTER_USERNAME",
        "10 per 3 minutes",
        "Sign-up attempts per requested username.",
        _rate,
    ),
    Setting(
        "VIBECHAT_LIMIT_MESSAGES",
        "30 per 10 seconds",
        "Messages posted (and edited) per person.",
        _rate,
    ),
    Setting(
        "VIBECHAT_LIMIT_SOCKET_FRAMES",
        "20 per 10 seconds",
        "Frames a page may send on its socket (typing notices); the excess is ignored.",
        _rate,
    ),
    Setting(
        "VIBECHAT_MAX_MEMBERS",
        1000,
        "Most people one chat can hold.",
        _positive,
    ),
    Setting(
        "VIBECHAT_WS_QUEUE",
        256,
        "Frames a socket may have waiting; a client that falls further behind is"
        " disconnected (it reconnects and catches up).",
        int,
    ),
    Setting(
        "VIBECHAT_WS_PER_SESSION",
        20,
        "Sockets one browser session may hold open in one process (one per tab); the next"
        " is closed at once with code 4429 and its page says why.",
        _positive,
    ),
    Setting(
        "VIBECHAT_WS_PER_PERSON",
        50,
        "Sockets one person may hold open in one process, over all their sessions"
        " (browsers, phones); the next is closed at once with code 4429.",
        _positive,
    ),
    Setting(
        "VIBECHAT_WS_COMPRESSION",
        "per-message",
        "permessage-deflate on sockets: on (context kept: fewest bytes, about 256 KB"
        " per busy socket), per-message (each frame compressed alone, memory freed"
        " after each) or off. See docs/performance.md.",
        _ws_compression,
    ),
    Setting(
        "VIBECHAT_METRICS",
        False,
        "`on` serves Prometheus metrics at /metrics; `off` answers 404 there.",
        _bool,
    ),
    Setting(
        "VIBECHAT_METRICS_TOKEN",
        None,
        "When set, /metrics answers only requests with `Authorization: Bearer <token>`.",
    ),
    Setting(
        "VIBECHAT_GRACEFUL_TIMEOUT",
        5,
        "Seconds a stopping server (SIGTERM) gives requests in flight to finish. Live"
        " sockets do not wait: they close at once with 1012 and their pages reconnect.",
        _positive,
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


def check_workers(settings: Mapping[str, Any]) -> None:
    """Several processes need Redis to reach each other's sockets: refuse to start."""
    if settings["VIBECHAT_WORKERS"] > 1 and not settings.get("VIBECHAT_REDIS_URL"):
        raise ConfigError(
            f"VIBECHAT_WORKERS={settings['VIBECHAT_WORKERS']} needs VIBECHAT_REDIS_URL:"
            " without Redis each worker delivers live updates only to its own sockets,"
            " and people on the others would silently miss them."
        )


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
