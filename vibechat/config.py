"""Every VIBECHAT_* setting, declared once: its type, default, allowed values and help.

`Settings` is a frozen dataclass with one field per setting (`ws_queue` holds
VIBECHAT_WS_QUEUE). `load_settings()` reads it once: defaults, then the environment,
then a caller's overrides (tests). Every value is parsed and checked against what it
allows as the object is made, so a bad one stops start-up with a one-line ConfigError
that names the setting and its range. create_app() is handed the object and keeps it;
code in a request reads it through vibechat.web.settings().

A dataclass rather than pydantic-settings: these values need parsers of their own
either way (durations such as `14d`, `auto`, rates in the notation of `limits`), a
refusal must be one line naming the variable, and the command line imports this
module on every run, so it stays a few milliseconds to load.

The README lists every setting with its default and range; tests fail when one is
missing there or a range there differs from the one here.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from vibechat.i18n import N_, _, gettext
from vibechat.paths import default_instance

# The checkout's root (tests read README, docs and static files through it). The app
# finds its own files through vibechat.paths, installed or not.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

PREFIX = "VIBECHAT_"
DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Browsers keep a cookie at most 400 days (RFC 6265bis, 4.1.2.1), so a session cannot
# outlive that however it is configured.
LONGEST_SESSION = 400 * 86400
# The largest form the app takes is a message of forms.BODY_MAX (4,000) characters.
# Written with 4-byte characters (emoji) and percent-encoded, as browsers send a form,
# each is 12 bytes: 48,000, plus the tokens beside it. A smaller limit would turn some
# messages the form allows into 413s.
SMALLEST_BODY = 48 * 1024
LARGEST_BODY = 1024 * 1024  # forms are text; files (SPEC §12) get a limit of their own


class ConfigError(ValueError):
    """A setting has a value the app cannot use."""


# -- parsers: text from the environment to a value; ValueError when it is not one -------


def _whole(text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text.strip()):
        raise ValueError(text)
    return int(text)


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(text)


def _secure_cookies(text: str) -> bool | None:
    """true, false, or auto (None): Secure whenever the request came over HTTPS."""
    return None if text.strip().lower() == "auto" else _bool(text)


def _duration(text: str) -> int:
    """Seconds, from "90s", "30m", "12h", "14d" or a bare number of seconds."""
    lowered = text.strip().lower()
    number, unit = (lowered[:-1], lowered[-1]) if lowered[-1:] in DURATION_UNITS else (lowered, "s")
    if not re.fullmatch(r"[0-9]+", number):
        raise ValueError(text)
    return int(number) * DURATION_UNITS[unit]


def _show_duration(seconds: int) -> str:
    """The shortest way to write it: 34560000 is 400d."""
    for unit, size in DURATION_UNITS.items():
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"  # pragma: no cover - every whole number divides by 1


def _rate(text: str) -> str:
    """A rate in the notation of the `limits` library: "10 per 3 minutes", "30/10 seconds"."""
    # Imported here, not above: it takes 90 ms, and every `vibechat` command (--help
    # too) loads this module, while only one that reads a rate needs the library.
    from limits import parse

    parse(text)  # raises ValueError
    return text.strip()


def _origins(text: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in text.split(",") if origin.strip())


# -- declaring a setting ----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its variable, the Settings field that holds it, and what it allows."""

    name: str
    attribute: str
    default: Any
    help: str
    parse: Callable[[str], Any]
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    duration: bool = False  # a number of seconds, written like 14d
    words: str = ""  # what is allowed, for a value that is neither a number nor a choice

    @property
    def allowed(self) -> str:
        """What the setting takes, as the README's table and a refusal say it."""
        if self.duration:
            return f"{_show_duration(self.low)} to {_show_duration(self.high)}"
        if self.low is not None:
            return f"{self.low} to {self.high}"
        if self.choices:
            return ", ".join(f"`{choice}`" for choice in self.choices)
        return self.words

    def refusal(self, value: Any) -> ConfigError:
        """The refusal, in the language being spoken (the command line's); its range reads
        as `allowed` does in English."""
        if self.duration:
            rule = _(
                "a duration from %(low)s to %(high)s (such as 90s, 30m, 12h, 14d)",
                low=_show_duration(self.low),
                high=_show_duration(self.high),
            )
        elif self.low is not None:
            rule = _("a whole number from %(low)d to %(high)d", low=self.low, high=self.high)
        elif self.choices:
            rule = _("one of %(choices)s", choices=", ".join(self.choices))
        else:
            rule = gettext(self.words)  # each is marked with N_ where it is declared
        return ConfigError(
            _("%(name)s=%(value)r: must be %(rule)s", name=self.name, value=value, rule=rule)
        )

    def from_text(self, text: str) -> Any:
        """The value the environment's text stands for (empty: the default)."""
        if text == "":
            return self.default_value()
        try:
            value = self.parse(text)
        except ValueError:
            raise self.refusal(text) from None
        self.check(value, shown=text)
        return value

    def check(self, value: Any, shown: Any = None) -> None:
        """Refuse a value outside the range (from the environment or from code)."""
        shown = value if shown is None else shown
        if self.low is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not self.low <= value <= self.high
        ):
            raise self.refusal(shown)
        if self.choices and value not in self.choices:
            raise self.refusal(shown)

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


def setting(
    default: Any,
    help: str,
    parse: Callable[[str], Any] = str,
    *,
    low: int | None = None,
    high: int | None = None,
    choices: tuple[str, ...] = (),
    words: str = N_("any text"),
    secret: bool = False,
) -> Any:
    """A Settings field. A callable default is called when the settings are made; a
    secret one (a key, a URL that may hold a password) is left out of repr()."""
    if choices:
        parse = str
    rule = {
        "help": help,
        "parse": parse,
        "low": low,
        "high": high,
        "choices": choices,
        "duration": parse is _duration,
        "words": words,
    }
    if callable(default):
        return field(default_factory=default, metadata=rule, repr=not secret)
    return field(default=default, metadata=rule, repr=not secret)


def _instance_default() -> str:
    return str(default_instance())


# -- the settings -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting, typed, checked as the object is made; never changed after."""

    host: str = setting("127.0.0.1", "Address `vibechat serve` (and `make run`) binds to.")
    port: int = setting(
        8000, "Port `vibechat serve` (and `make run`) listens on.", _whole, low=1, high=65535
    )
    instance_path: str = setting(
        _instance_default,
        "Folder for local state: the SQLite database and the generated secret key."
        " Default: `instance/` in the checkout; installed from a wheel, `instance/` in the"
        " working directory.",
        words=N_("a folder"),
    )
    database_url: str | None = setting(
        None,
        "SQLAlchemy async URL. Default: a SQLite file `vibechat.sqlite3` in the instance folder;"
        " `postgresql+asyncpg://user@host/db` for PostgreSQL.",
        words=N_("a URL"),
        secret=True,
    )
    secret_key: str | None = setting(
        None,
        "Key that signs cookies and CSRF tokens. Default: generated once and kept in"
        " `instance/secret_key` (mode 0600). Set it when running more than one host.",
        secret=True,
    )
    redis_url: str | None = setting(
        None,
        "Redis URL: live updates fan out between processes and hosts through it, and"
        " rate-limit counts are shared there. Default: none (one process).",
        words=N_("a URL"),
        secret=True,
    )
    workers: int = setting(
        1,
        "hypercorn worker processes for `make run` and the Procfile. More than 1 needs"
        " `VIBECHAT_REDIS_URL`: without it each worker would only reach its own sockets.",
        _whole,
        low=1,
        high=64,
    )
    log_format: str = setting(
        "text",
        "`text` for development, `json` for one object per line.",
        choices=("text", "json"),
    )
    public_origins: tuple[str, ...] = setting(
        (),
        "Comma-separated origins (`https://chat.example.org`) the app is reached at, when a"
        " proxy rewrites `Host`. Default: the request's own scheme and host.",
        _origins,
        words=N_("comma-separated origins"),
    )
    secure_cookies: bool | None = setting(
        None,
        "`auto`: cookies are marked `Secure` whenever the request came over HTTPS (behind"
        " a TLS proxy, set `VIBECHAT_PROXY_HOPS` so the app can tell). `true` or `false`"
        " forces it.",
        _secure_cookies,
        words=N_("auto, true or false"),
    )
    proxy_hops: int = setting(
        0,
        "How many reverse proxies in front of the app to trust for `X-Forwarded-For` and"
        " `X-Forwarded-Proto` (the client address for rate limits, HTTPS for cookies and"
        " HSTS). 0 trusts none.",
        _whole,
        low=0,
        high=5,
    )
    session_idle: int = setting(
        14 * 86400,
        "A session unused this long ends (`30m`, `12h`, `14d`; default `14d`).",
        _duration,
        low=1,
        high=LONGEST_SESSION,
    )
    session_lifetime: int = setting(
        30 * 86400,
        "A session ends this long after sign-in however much it is used (default `30d`).",
        _duration,
        low=1,
        high=LONGEST_SESSION,
    )
    rate_limits: bool = setting(
        True,
        "`off` turns every rate limit off (load tests and benchmarks only).",
        _bool,
        words=N_("on or off"),
    )
    limit_login_username: str = setting(
        "10 per 3 minutes",
        "Failed sign-ins (and wrong current passwords) per username.",
        _rate,
        words=N_("a rate such as '10 per 3 minutes'"),
    )
    limit_login_address: str = setting(
        "30 per 3 minutes",
        "Failed sign-ins per client address.",
        _rate,
        words=N_("a rate such as '30 per 3 minutes'"),
    )
    limit_register_address: str = setting(
        "20 per hour",
        "Sign-up attempts per client address.",
        _rate,
        words=N_("a rate such as '20 per hour'"),
    )
    limit_register_username: str = setting(
        "10 per 3 minutes",
        "Sign-up attempts per requested username.",
        _rate,
        words=N_("a rate such as '10 per 3 minutes'"),
    )
    limit_messages: str = setting(
        "30 per 10 seconds",
        "Messages posted (and edited) per person.",
        _rate,
        words=N_("a rate such as '30 per 10 seconds'"),
    )
    limit_socket_frames: str = setting(
        "20 per 10 seconds",
        "Frames a page may send on its socket (typing notices and read marks); the excess is"
        " ignored.",
        _rate,
        words=N_("a rate such as '20 per 10 seconds'"),
    )
    max_members: int = setting(
        1000,
        "Most people one chat can hold.",
        _whole,
        low=2,
        high=10_000,
    )
    ws_queue: int = setting(
        256,
        "Frames a socket may have waiting; a client that falls further behind is"
        " disconnected (it reconnects and catches up).",
        _whole,
        low=1,
        high=10_000,
    )
    ws_per_session: int = setting(
        20,
        "Sockets one browser session may hold open in one process (one per tab); the next"
        " is closed at once with code 4429 and its page says why.",
        _whole,
        low=1,
        high=1000,
    )
    ws_per_person: int = setting(
        50,
        "Sockets one person may hold open in one process, over all their sessions"
        " (browsers, phones); the next is closed at once with code 4429.",
        _whole,
        low=1,
        high=10_000,
    )
    ws_heartbeat: int = setting(
        12,
        "Seconds between the empty frame every socket gets as proof of life. A page that"
        " hears nothing for two of them reconnects (it says Offline); a page silent for"
        " three is disconnected (code 4408), so it no longer shows as online.",
        _whole,
        low=1,
        high=300,
    )
    ws_compression: str = setting(
        "per-message",
        "permessage-deflate on sockets: on (context kept: fewest bytes, about 256 KB"
        " per busy socket), per-message (each frame compressed alone, memory freed"
        " after each) or off. See docs/performance.md.",
        choices=("on", "per-message", "off"),
    )
    metrics: bool = setting(
        False,
        "`on` serves Prometheus metrics at /metrics; `off` answers 404 there.",
        _bool,
        words=N_("on or off"),
    )
    metrics_token: str | None = setting(
        None,
        "When set, /metrics answers only requests with `Authorization: Bearer <token>`.",
        secret=True,
    )
    graceful_timeout: int = setting(
        5,
        "Seconds a stopping server (SIGTERM) gives requests in flight to finish. Live"
        " sockets do not wait: they close at once with 1012 and their pages reconnect.",
        _whole,
        low=1,
        high=600,
    )
    max_body_bytes: int = setting(
        64 * 1024,
        "Largest request body accepted; bigger requests are answered with 413.",
        _whole,
        low=SMALLEST_BODY,
        high=LARGEST_BODY,
    )

    def __post_init__(self) -> None:
        # Values from the environment were checked as they were read; these checks
        # catch a value handed over from code (a test, dataclasses.replace).
        for each in SETTINGS:
            each.check(getattr(self, each.attribute))


def _declared(each: Any) -> Setting:
    default = each.default if each.default is not MISSING else each.default_factory
    return Setting(
        name=PREFIX + each.name.upper(), attribute=each.name, default=default, **each.metadata
    )


SETTINGS: tuple[Setting, ...] = tuple(_declared(each) for each in fields(Settings))
BY_NAME = {each.name: each for each in SETTINGS}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Defaults, overridden by VIBECHAT_* variables from the environment, then by the
    caller's overrides (by variable name: text is read like the environment's, other
    values are taken as they are). Raises ConfigError naming the first bad setting."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(overrides or {}) - set(BY_NAME))
    if unknown:
        raise ConfigError(_("%(name)s: no such setting", name=unknown[0]))
    values = {}
    for each in SETTINGS:
        raw = (overrides or {}).get(each.name, environ.get(each.name))
        if raw is None:
            continue  # the field's own default
        values[each.attribute] = each.from_text(raw) if isinstance(raw, str) else raw
    return Settings(**values)


def check_workers(settings: Settings) -> None:
    """Several processes need Redis to reach each other's sockets: refuse to start."""
    if settings.workers > 1 and not settings.redis_url:
        raise ConfigError(
            _(
                "VIBECHAT_WORKERS=%(workers)d needs VIBECHAT_REDIS_URL: without Redis each"
                " worker delivers live updates only to its own sockets, and people on the"
                " others would silently miss them.",
                workers=settings.workers,
            )
        )


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded SQLite file in the instance folder."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite+aiosqlite:///{Path(settings.instance_path) / 'vibechat.sqlite3'}"


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated on first use and kept with mode 0600."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_path) / "secret_key"
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
