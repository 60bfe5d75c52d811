"""Time zones: which one a reader's times are shown in, and those times, written for the
language (Babel's CLDR data: "17:03" and «7 декабря» in Russian, "5:03 PM" and
"December 7" in English).

The zone of a request is chosen before its view runs (`choose`): the account's setting
(POST /account/timezone), else the browser's, which the page's script writes once into
the `vibechat_timezone` cookie (static/js/reading.js), else none. With none (JavaScript
off, or the first page before the script has run) times are shown in UTC and the page
says so (templates/_zone_note.html). Like the language it lives in a ContextVar, so the
template filters need no argument.

What only the script reads is zone-free: a live frame or a catch-up fragment is rendered
once for every reader (once per language), in UTC, and the script shows its times in the
reader's zone (`zone_free`). Day headings in a list of messages ("Today", "Yesterday",
«5 декабря») come from the server on a page and from the script for what arrives live.
"""

from __future__ import annotations

import contextlib
import functools
import zoneinfo
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_date, format_skeleton, format_time, get_timezone_location

from vibechat import i18n

if TYPE_CHECKING:
    from quart import Quart

# Written by the page's script (static/js/reading.js says the same name).
COOKIE = "vibechat_timezone"

# Where zone.tab is missing, the settings' list offers every name in the IANA areas where
# people live (not Etc/GMT+5, US/Eastern and the like, which are accepted all the same).
AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe")
AREAS += ("Indian", "Pacific")

_zone: ContextVar[str | None] = ContextVar("timezone", default=None)


@functools.cache
def names() -> frozenset[str]:
    """Every IANA name the system's (or the tzdata package's) database knows."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def places() -> tuple[str, ...]:
    """The zones the settings offer: the tz database's zone.tab (a line for each zone of
    each country, under its current name: Europe/Kyiv, not Europe/Kiev), where the
    system keeps one; else every name in AREAS."""
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if table.is_file():
            lines = table.read_text(encoding="utf-8").splitlines()
            rows = (line.split("\t") for line in lines if line and not line.startswith("#"))
            return tuple(sorted({row[2] for row in rows} & names()))
    return tuple(sorted(name for name in names() if name.split("/", 1)[0] in AREAS))


def known(name: object) -> str | None:
    return name if isinstance(name, str) and name in names() else None


def current() -> str | None:
    """The reader's zone, or None: not known, times in UTC."""
    return _zone.get()


def _zone_info() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(current() or "UTC")


@contextlib.contextmanager
def zone_free() -> Iterator[None]:
    """Render what only the script shows (frames, catch-up fragments) in UTC, for
    readers in every zone."""
    token = _zone.set(None)
    try:
        yield
    finally:
        _zone.reset(token)


def day_of(value: datetime) -> date:
    """The reader's calendar day of an instant."""
    return value.astimezone(_zone_info()).date()


def _today() -> date:
    return datetime.now(_zone_info()).date()


def message_time(value: datetime) -> str:
    """A message's time of day; its day is the heading above it."""
    return format_time(value, "short", tzinfo=_zone_info(), locale=i18n.current())


def list_time(value: datetime) -> str:
    """The chat list's quiet time: the time today, else the day, as phones show it."""
    day = day_of(value)
    if day == _today():
        return message_time(value)
    skeleton = "MMMd" if day.year == _today().year else "yMMMd"
    return format_skeleton(skeleton, day, locale=i18n.current())


def day_heading(day: date) -> str:
    """Above the first message of a day: Today, Yesterday, a date («7 декабря»)."""
    today = _today()
    if day == today:
        return i18n.gettext("Today")
    if day == today - timedelta(days=1):
        return i18n.gettext("Yesterday")
    if day.year == today.year:
        return format_skeleton("MMMMd", day, locale=i18n.current())
    return format_date(day, "long", locale=i18n.current())


def _offset(name: str, now: datetime) -> str:
    """UTC+3, UTC-3:30 (with a minus sign), UTC: the zone's offset now."""
    minutes = int(now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() / timedelta(minutes=1))
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "\u2212"  # a minus sign, not a hyphen
    return f"UTC{sign}{hours}{f':{rest:02}' if rest else ''}"


@functools.lru_cache(maxsize=4)
def _choices(language: str, day: date) -> tuple[tuple[str, str], ...]:
    now = datetime.now(UTC)
    offered: dict[str, str] = {}  # label: name
    for name in places():
        city = get_timezone_location(name, locale=language, return_city=True)
        # An old alias reads as the zone it stands for (America/Atka: Adak): once.
        offered.setdefault(f"{city} ({_offset(name, now)})", name)
    # By the label, in the language: typing a city's first letters finds it in the list.
    by_label = sorted(offered.items(), key=lambda pair: pair[0].casefold())
    return (("UTC", "UTC"), *((name, text) for text, name in by_label))


def choices() -> tuple[tuple[str, str], ...]:
    """The settings' list: (IANA name, "city (UTC+3)") in the language, by city; the
    offsets are today's, so the list is made again each day."""
    return _choices(i18n.current(), datetime.now(UTC).date())


def label(name: str) -> str:
    """A zone as the list names it ("Москва (UTC+3)"), else its IANA name."""
    return dict(choices()).get(name, name)


# The request side imports Quart where it is used, as vibechat.i18n does.


def choose() -> str | None:
    """The account's setting, else the browser's (its cookie), else None."""
    from quart import g, request

    user = g.get("user")
    return known(user.timezone if user else None) or known(request.cookies.get(COOKIE))


async def read_the_readers_zone() -> None:
    _zone.set(choose())


def init_timezones(app: Quart) -> None:
    # Before every request; a socket renders nothing in a zone (its frames are zone-free).
    app.before_request(read_the_readers_zone)
    app.jinja_env.filters["message_time"] = message_time
    app.jinja_env.filters["list_time"] = list_time
    app.jinja_env.globals["day_of"] = day_of
    app.jinja_env.globals["day_heading"] = day_heading
    app.jinja_env.globals["zone_label"] = label

    @app.context_processor
    def zone() -> dict:
        # None: the page says its times are in UTC.
        return {"zone": current()}
