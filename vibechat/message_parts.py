"""What a message shows besides its own text (SPEC §10), put in the shape its partial
(templates/messages/_message.html) shows: the quote of the message it replies to, its
reactions with who reacted, and who it mentions. Template globals; nothing here
depends on who reads, so the partial stays one HTML per version and language."""

from __future__ import annotations

from dataclasses import dataclass

from babel.lists import format_list

from vibechat import formatting, i18n
from vibechat.models import Message

QUOTE_CHARS = 140  # SPEC §10: a reply quotes the first 140 characters of its original
# The reactions offered a tap away (any other emoji can be typed): the ones chats
# have found people use most.
QUICK_REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀")


@dataclass(frozen=True)
class Quote:
    seq: int
    author: str | None  # None: a former member
    text: str | None  # None: the original was deleted


@dataclass(frozen=True)
class ReactionGroup:
    emoji: str
    count: int
    users: str  # ids, space-separated: the reader's stylesheet marks their own
    names: str  # "Alice, Bob and Carol", in the language rendered


def quote(message: Message) -> Quote | None:
    """The original a reply quotes, as it is now; None when it is not a reply."""
    if message.reply_to_seq is None:
        return None
    original = message.quoted
    if original is None or original.deleted_at is not None:
        return Quote(message.reply_to_seq, None, None)
    return excerpt(original)


def excerpt(original: Message) -> Quote:
    """A message as a quote shows it: its author and the start of its words."""
    author = original.author.display_name if original.author else None
    text = formatting.plain(original.body)
    if len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS].rstrip() + "…"
    return Quote(original.seq, author, text)


def reactions(message: Message) -> list[ReactionGroup]:
    """One group per emoji, in the order each was first used."""
    groups: dict[str, list] = {}
    for reaction in message.reactions:
        groups.setdefault(reaction.emoji, []).append(reaction.user)
    return [
        ReactionGroup(
            emoji,
            len(people),
            " ".join(str(person.id) for person in people),
            format_list([person.display_name for person in people], locale=i18n.current()),
        )
        for emoji, people in groups.items()
    ]


def mentions(message: Message) -> tuple[str, ...]:
    """The usernames whose `@name` the body shows as a link."""
    return tuple(person.username for person in message.mentioned)


def mention_ids(message: Message) -> str:
    return " ".join(str(person.id) for person in message.mentioned)


def register(app) -> None:
    for helper in (quote, excerpt, reactions, mentions, mention_ids):
        app.jinja_env.globals[f"message_{helper.__name__}"] = helper
