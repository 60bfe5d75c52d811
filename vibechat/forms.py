"""Validation of what people type: each function returns the clean value or raises Invalid.

The lengths of usernames, display names, titles and message bodies follow SPEC §3, the
password minimum §8; PASSWORD_MAX and MEMBERS_MAX are this app's own. A field that is
missing altogether is malformed (400); a field that is present but unacceptable is
invalid (422).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import emoji as emoji_data
from werkzeug.exceptions import BadRequest

from vibechat.i18n import _, lazy_gettext, ngettext
from vibechat.models import MAX_ID

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,32}")
DISPLAY_NAME_MAX = 64
TITLE_MAX = 100
BODY_MAX = 4000
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # Argon2 would hash megabytes happily; nobody types this much.
MEMBERS_MAX = 100
EMOJI_MAX = 16  # code points: the longest emoji sequences (families, tag flags) have 7-10
# Uniqueness is the database's to decide (username_key), so it is checked on insert.
USERNAME_TAKEN = lazy_gettext("That username is taken.")


def _at_most(limit: int) -> str:
    return ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", limit)


class Invalid(ValueError):
    """A value that breaks a rule; the message is shown next to its field."""


class FormErrors(Exception):
    """Several fields were invalid: re-render the form with 422."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(dict(errors))
        self.errors = dict(errors)


def require(form: Mapping[str, str], *names: str) -> dict[str, str]:
    """The named fields, or 400 when the request did not even carry one of them."""
    missing = [name for name in names if name not in form]
    if missing:
        raise BadRequest(_("The form is missing: %(fields)s.", fields=", ".join(missing)))
    return {name: form[name] for name in names}


# Format characters (Unicode Cf) are how scripts write: ZWNJ (U+200C) in Persian and
# Kurdish words, ZWJ in emoji, LRM/RLM/ALM (U+200E/F, U+061C) in Hebrew and Arabic, TAG
# characters in subdivision flags, the soft hyphen, Arabic number signs, Egyptian
# hieroglyph controls. Refused are only those that make text read differently from what
# was written: the bidi embeddings, overrides and isolates, which reorder what is shown
# around them (a name spoofed to read as another, a file name whose extension reads
# backwards: "Trojan Source", CVE-2021-42574); and the interlinear annotation controls,
# which Unicode keeps for use inside one program: one screen shows the annotated text,
# another hides it.
REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ANNOTATION = frozenset("\ufff9\ufffa\ufffb")
# Not Cf, but showing nothing all the same (default-ignorable): Hangul fillers, Khmer
# inherent vowels, Mongolian and other variation selectors, the combining grapheme
# joiner. Text of only these (and spaces and Cf) counts as empty.
SHOWS_NOTHING = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# A byte order mark pasted at the start (copied from a file) is dropped; one inside the
# text is a zero-width no-break space and stays.
LEADING_SPACE_OR_BOM = re.compile(r"^[\s\ufeff]+")


def _is_blank(text: str) -> bool:
    """Nothing visible: only spaces, format characters (such as U+200D) and fillers."""
    return all(c.isspace() or c in SHOWS_NOTHING or unicodedata.category(c) == "Cf" for c in text)


def _named(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{code} {name}" if name else code


def _check_characters(text: str, subject: str, allowed: str = "") -> None:
    """Invalid, naming the first character that may not be in text, and why."""
    for c in text:
        if c in REORDERING:
            raise Invalid(
                _(
                    "%(subject)s contains %(character)s, which reorders the text shown"
                    " around it, so it could read differently from what was written."
                    " Please remove it.",
                    subject=subject,
                    character=_named(c),
                )
            )
        if c in ANNOTATION:
            raise Invalid(
                _(
                    "%(subject)s contains %(character)s, which some screens show and others"
                    " hide. Please remove it.",
                    subject=subject,
                    character=_named(c),
                )
            )
        if unicodedata.category(c) == "Cc" and c not in allowed:
            raise Invalid(
                _(
                    "%(subject)s contains a control character (%(character)s) that cannot be"
                    " shown. Use visible characters only.",
                    subject=subject,
                    character=_named(c),
                )
            )


def _one_line(value: str) -> str:
    """Single-spaced and trimmed, without a pasted byte order mark in front."""
    return " ".join(LEADING_SPACE_OR_BOM.sub("", value).split())


def username(value: str) -> str:
    value = value.strip()
    if not USERNAME_RE.fullmatch(value):
        raise Invalid(_("Use 3 to 32 characters: letters a to z, digits, and the signs _ . or -."))
    return value


def display_name(value: str, fallback: str) -> str:
    value = _one_line(value)
    if _is_blank(value):
        return fallback
    if len(value) > DISPLAY_NAME_MAX:
        raise Invalid(_at_most(DISPLAY_NAME_MAX))
    _check_characters(value, _("The name"))
    return value


def new_password(value: str, for_username: str) -> str:
    if len(value) < PASSWORD_MIN:
        raise Invalid(
            ngettext(
                "Use at least %(num)d character.", "Use at least %(num)d characters.", PASSWORD_MIN
            )
        )
    if len(value) > PASSWORD_MAX:
        raise Invalid(_at_most(PASSWORD_MAX))
    if for_username and for_username.lower() in value.lower():
        raise Invalid(_("The password must not contain the username."))
    return value


def new_account(
    username_value: str, display_name_value: str, password: str
) -> tuple[str, str, str]:
    """The clean username, display name and password of a new account, or FormErrors.

    One set of rules for every way an account is made: the register form and
    `vibechat create-user`.
    """
    errors: dict[str, str] = {}
    try:
        clean_username = username(username_value)
    except Invalid as error:
        errors["username"] = str(error)
        clean_username = ""
    try:
        clean_display_name = display_name(display_name_value, fallback=clean_username)
    except Invalid as error:
        errors["display_name"] = str(error)
    try:
        clean_password = new_password(password, for_username=clean_username)
    except Invalid as error:
        errors["password"] = str(error)
    if errors:
        raise FormErrors(errors)
    return clean_username, clean_display_name, clean_password


def title(value: str) -> str:
    value = _one_line(value)
    if _is_blank(value):
        raise Invalid(_("Give the chat a title."))
    if len(value) > TITLE_MAX:
        raise Invalid(_at_most(TITLE_MAX))
    _check_characters(value, _("The title"))
    return value


def body(value: str) -> str:
    # Normalise line endings, trim the ends; keep the writer's inner spacing.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = LEADING_SPACE_OR_BOM.sub("", value).rstrip()
    if _is_blank(value):
        raise Invalid(_("Write a message first."))
    if len(value) > BODY_MAX:
        raise Invalid(
            ngettext(
                "A message can be at most %(max)d characters (this one has %(num)d).",
                "A message can be at most %(max)d characters (this one has %(num)d).",
                len(value),
                max=BODY_MAX,
            )
        )
    _check_characters(value, _("The message"), allowed="\n\t")
    return value


def usernames(value: str) -> list[str]:
    """Usernames separated by commas or spaces; an @ in front is allowed."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in re.split(r"[\s,]+", value.strip()):
        if not raw:
            continue
        name = raw.removeprefix("@")
        if not USERNAME_RE.fullmatch(name):
            raise Invalid(_("“%(name)s” is not a valid username.", name=raw[:40]))
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    if len(names) > MEMBERS_MAX:
        raise Invalid(
            ngettext(
                "Add at most %(num)d person at once.",
                "Add at most %(num)d people at once.",
                MEMBERS_MAX,
            )
        )
    return names


def client_token(value: str) -> str | None:
    """The form's random send token; blank means "no idempotency" (a hand-made post)."""
    value = value.strip()
    if not value:
        return None
    if len(value) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise Invalid(_("The send token is malformed; reload the page."))
    return value


def reply_to(value: str) -> int | None:
    """The seq of the message a post replies to; blank: not a reply. Whether it is a
    message of this chat is the view's to check."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        raise Invalid(_("The message you are replying to was not found in this chat."))
    return int(value)


def emoji(value: str) -> str:
    """One emoji (a grapheme cluster: "👍", "👍🏽", "🇷🇺", "👨‍👩‍👧"), as its fully qualified
    form, so that "❤" and "❤️" are one reaction."""
    value = value.strip()
    if not value:
        raise Invalid(_("Choose an emoji."))
    if len(value) > EMOJI_MAX or not emoji_data.is_emoji(value):
        raise Invalid(_("A reaction is a single emoji, such as 👍."))
    qualified = value + "\ufe0f"
    if (
        "\ufe0f" not in value
        and emoji_data.EMOJI_DATA.get(qualified, {}).get("status")
        == (emoji_data.STATUS["fully_qualified"])
    ):
        return qualified
    return value


def non_negative_int(value: str | None, name: str) -> int | None:
    """A query parameter that must be a whole number ≥ 0 when present (400 otherwise)."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise BadRequest(
            _("%(name)s must be a whole number from 0 to %(max)d.", name=name, max=MAX_ID)
        )
    return int(value)
