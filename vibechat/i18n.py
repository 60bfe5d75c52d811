"""Languages: which one a request speaks, and its words (gettext catalogs through Babel).

English is the language the code is written in (every msgid is the English text), so it
needs no catalog; translations/ru/LC_MESSAGES/messages.po holds the Russian. A catalog
is compiled in memory the first time its language is spoken (Babel's read_po and
write_mo), so no compiled .mo file is committed or built at install: a .po that changes
is what runs at the next start.

The language of a request is chosen before its view runs (`choose`): the account's
choice, else the `vibechat_language` cookie (set by POST /language when signed out),
else the browser's Accept-Language by quality, else English. It lives in a ContextVar,
so `gettext` here and in templates ({% trans %}, _(), ngettext) needs no argument, and
a live frame, rendered outside any request, says which language it is rendered in with
`speaking(language)`. The `vibechat` command speaks the language of its environment
(`from_environment`: LANGUAGE, LC_ALL, LC_MESSAGES, LANG), as other Unix tools do.

A hook of our own rather than quart-babel: that extension (1.0.7) expects compiled .mo
files on disk, pulls in pytz, and selects a locale only inside a request, while frames
are rendered once per language outside one; what we need of it is these few lines.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from vibechat import paths

if TYPE_CHECKING:
    from quart import Quart

LANGUAGES = ("en", "ru")
DEFAULT = "en"
COOKIE = "vibechat_language"
# What each language is called in itself: the switch offers them in these words.
NAMES = {"en": "English", "ru": "Русский"}

_language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def catalog(language: str) -> Path:
    """The .po file of a language other than English."""
    return paths.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The language's catalog, compiled once per process; English has none."""
    if language == DEFAULT:
        return NullTranslations()
    with catalog(language).open("rb") as po:
        messages = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)  # a fuzzy guess is not a translation
    compiled.seek(0)
    return Translations(compiled)


def current() -> str:
    return _language.get()


def gettext(message: str, **variables) -> str:
    text = translations(current()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """The form for n in the current language (Russian has three: 1, 2-4, 5 and more);
    `%(num)d` in the text is n."""
    text = translations(current()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def N_(message: str) -> str:
    """Marks a text for the catalog where it is defined (gettext_noop); whoever says it
    passes it through `gettext` then."""
    return message


# A number of each CLDR plural category, for rendering that category's form.
_SAMPLES = {"one": 1, "few": 2, "many": 5, "other": 5}


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """A count's text in each plural category (one, few, many, other), for a page's
    script to choose from with Intl.PluralRules and fill in; `{n}` and other braces are
    left for it. Rendered as data-one, data-few … attributes."""
    catalog = translations(current())
    return {name: catalog.ungettext(singular, plural, n) for name, n in _SAMPLES.items()}


def lazy_gettext(message: str, **variables) -> LazyProxy:
    """For text defined at import time (constants): translated where it is used."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """Render or say something in `language` (a frame is rendered once per language)."""
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def known(language: str | None) -> str | None:
    return language if language in LANGUAGES else None


# The locale variables in the order gettext reads them: LANGUAGE (a colon-separated list
# of preferences) first, then LC_ALL, LC_MESSAGES and LANG.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def from_environment(environ: Mapping[str, str]) -> str:
    """The command line's language, chosen as Python's gettext.find chooses a catalog:
    the first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set decides alone, and
    its first entry that we speak wins (LANGUAGE=de:ru speaks Russian). `ru_RU.UTF-8`
    is Russian; `C`, `POSIX`, unset or only languages we lack are English."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            for entry in value.split(":"):
                # language[_territory][.codeset][@modifier]: the language is what counts.
                language = entry.split("@")[0].split(".")[0].split("_")[0].lower()
                if language in ("c", "posix"):
                    break
                if known(language):
                    return language
            return DEFAULT
    return DEFAULT


# The request side below imports Quart where it is used: the command line imports this
# module for its words (forms.py), and must not load the web stack for them
# (tests/test_quick_cli.py).


def choose() -> str:
    """The account's choice, else the cookie, else Accept-Language by quality, else
    English."""
    from quart import g, has_websocket_context, request, websocket

    user = g.get("user")
    asking = websocket if has_websocket_context() else request
    return (
        known(user.language if user else None)
        or known(asking.cookies.get(COOKIE))
        or asking.accept_languages.best_match(LANGUAGES)
        or DEFAULT
    )


async def speak_the_readers_language() -> None:
    """Before every request and socket (after the session is known)."""
    _language.set(choose())


def init_i18n(app: Quart) -> None:
    app.before_request(speak_the_readers_language)
    app.before_websocket(speak_the_readers_language)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # {% trans %} blocks may wrap like the HTML around them: their whitespace is
    # collapsed, in the page and in the catalog alike (babel.cfg says the same).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # Jinja's "newstyle" gettext: it escapes and fills in %(name)s itself, and fails
    # loudly on a missing variable instead of leaving a "%s" on the page.
    # pgettext: one English word, two Russian ones ("Log in": the page «Вход», the
    # button «Войти»); the context tells them apart.
    app.jinja_env.install_gettext_callables(
        lambda message: translations(current()).ugettext(message),
        lambda singular, plural, n: translations(current()).ungettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, message: translations(current()).upgettext(context, message),
    )

    app.jinja_env.globals["plural_forms"] = plural_forms

    @app.context_processor
    def language() -> dict:
        return {"language": current(), "languages": NAMES}
