"""All SQL, as named async functions that take a session.

Chats are always looked up through the reader's memberships, so "not yours" and
"does not exist" are the same None, and the views answer both with 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from vibechat import formatting, search
from vibechat.forms import USERNAME_RE
from vibechat.i18n import _
from vibechat.models import (
    Chat,
    Membership,
    Message,
    Reaction,
    Session,
    User,
    message_mentions,
    utcnow,
)

PAGE_SIZE = 50
CATCH_UP_LIMIT = 500
MENTIONS_PAGE = 20
REACTIONS_MAX = 20  # distinct emoji on one message (SPEC §10)
# What a message shows besides its text, loaded again after a change to it.
SHOWN_WITH_A_MESSAGE = ["author", "quoted", "reactions", "mentioned"]


# -- users and sessions ------------------------------------------------------------------


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    # A string that cannot be a username (a NUL byte, say) has no user, and must not
    # reach a driver that would reject it with an error.
    if not USERNAME_RE.fullmatch(username):
        return None
    return await session.scalar(select(User).where(User.username_key == username.lower()))


async def person_known_to(session: AsyncSession, reader: User, username: str) -> User | None:
    """The person with this username (in any case) when the reader may see them: the
    reader, or someone who shares a chat with the reader. Anyone else is None, as nobody
    is, so a person's page cannot tell a stranger's username from an unused one."""
    if not USERNAME_RE.fullmatch(username):
        return None
    mine, theirs = aliased(Membership), aliased(Membership)
    shares_a_chat = (
        select(mine.chat_id)
        .join(theirs, theirs.chat_id == mine.chat_id)
        .where(mine.user_id == reader.id, theirs.user_id == User.id)
        .exists()
    )
    return await session.scalar(
        select(User).where(
            User.username_key == username.lower(), or_(User.id == reader.id, shares_a_chat)
        )
    )


async def users_to_add(session: AsyncSession, usernames: list[str]) -> list[User]:
    """The people with these usernames who can join a chat: a deactivated account is as
    good as unknown (nobody can start a chat with, or add, someone who cannot sign in)."""
    keys = [name.lower() for name in usernames if USERNAME_RE.fullmatch(name)]
    if not keys:
        return []
    return list(
        await session.scalars(
            select(User).where(User.username_key.in_(keys), User.deactivated_at.is_(None))
        )
    )


async def create_user(
    session: AsyncSession, username: str, display_name: str, password_hash: str
) -> User | None:
    """The new user, or None when the username (in any case) is taken."""
    user = User(
        username=username,
        username_key=username.lower(),
        display_name=display_name,
        password_hash=password_hash,
    )
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:
        return None
    return user


async def create_session(session: AsyncSession, user_id: int, token_hash: str) -> None:
    now = utcnow()
    session.add(Session(token_hash=token_hash, user_id=user_id, created_at=now, last_seen_at=now))
    await session.execute(update(User).where(User.id == user_id).values(last_seen_at=now))


async def session_by_token_hash(session: AsyncSession, token_hash: str) -> Session | None:
    return await session.scalar(select(Session).where(Session.token_hash == token_hash))


async def existing_session_hashes(session: AsyncSession, token_hashes) -> set[str]:
    """Which of these sessions still exist (the others were ended: logout elsewhere,
    an admin command, expiry)."""
    wanted = list(token_hashes)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists, on any database
        chunk = wanted[start : start + 500]
        found.update(
            await session.scalars(select(Session.token_hash).where(Session.token_hash.in_(chunk)))
        )
    return found


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(Session).where(Session.token_hash == token_hash))


async def touch_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))


async def delete_other_sessions(session: AsyncSession, user_id: int, keep_hash: str) -> list[str]:
    """End every session of a person but one; return the token hashes that ended."""
    ended = list(
        await session.scalars(
            delete(Session)
            .where(Session.user_id == user_id, Session.token_hash != keep_hash)
            .returning(Session.token_hash)
        )
    )
    return ended


async def delete_sessions_of(session: AsyncSession, user_id: int) -> list[str]:
    """End every session of a person; return the token hashes that ended."""
    return list(
        await session.scalars(
            delete(Session).where(Session.user_id == user_id).returning(Session.token_hash)
        )
    )


async def delete_stale_sessions(
    session: AsyncSession, user_id: int, idle_before: datetime, started_before: datetime
) -> None:
    """Forget a person's sessions that have run out, so the table does not grow forever."""
    await session.execute(
        delete(Session).where(
            Session.user_id == user_id,
            (Session.last_seen_at < idle_before) | (Session.created_at < started_before),
        )
    )


async def set_password(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash)
    )


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(language=language))


async def set_timezone(session: AsyncSession, user_id: int, timezone: str | None) -> None:
    await session.execute(update(User).where(User.id == user_id).values(timezone=timezone))


async def set_deactivated(session: AsyncSession, user_id: int, when: datetime | None) -> None:
    """Deactivate a person as of when, or (None) let them sign in again."""
    await session.execute(update(User).where(User.id == user_id).values(deactivated_at=when))


# -- chats -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatSummary:
    """One line of the chat list."""

    chat: Chat
    membership: Membership
    name: str
    unread: int
    last_message: Message | None


def _unread_count(user_id: int):
    """Messages after the reader's mark, not deleted, not written by the reader."""
    return (
        select(func.count(Message.id))
        .where(
            Message.chat_id == Membership.chat_id,
            Message.seq > Membership.last_read_seq,
            Message.deleted_at.is_(None),
            or_(Message.author_id.is_(None), Message.author_id != user_id),
        )
        .correlate(Membership)
        .scalar_subquery()
    )


async def chat_summaries(
    session: AsyncSession, user: User, limit: int | None = None, only: int | None = None
) -> list[ChatSummary]:
    """The user's chats, newest activity first, with unread counts and a preview: all of
    them, the `limit` most recently active, or `only` the one with that id."""
    query = (
        select(Chat, Membership, _unread_count(user.id))
        .join(Membership, Membership.chat_id == Chat.id)
        .where(Membership.user_id == user.id)
        .order_by(Chat.last_activity_at.desc(), Chat.id.desc())
        .limit(limit)
    )
    if only is not None:
        query = query.where(Chat.id == only)
    rows = (await session.execute(query)).all()
    chat_ids = [chat.id for chat, _, _ in rows]
    previews = await _latest_visible_messages(session, chat_ids)
    names = await chat_names(session, [chat for chat, _, _ in rows], user)
    return [
        ChatSummary(chat, membership, names[chat.id], unread, previews.get(chat.id))
        for chat, membership, unread in rows
    ]


async def _latest_visible_messages(
    session: AsyncSession, chat_ids: list[int]
) -> dict[int, Message]:
    if not chat_ids:
        return {}
    latest = (
        select(Message.chat_id, func.max(Message.seq).label("seq"))
        .where(Message.chat_id.in_(chat_ids), Message.deleted_at.is_(None))
        .group_by(Message.chat_id)
        .subquery()
    )
    messages = await session.scalars(
        select(Message).join(
            latest, and_(Message.chat_id == latest.c.chat_id, Message.seq == latest.c.seq)
        )
    )
    return {message.chat_id: message for message in messages}


async def latest_visible_message(session: AsyncSession, chat_id: int) -> Message | None:
    """The chat list's preview: the newest message that was not deleted."""
    return (await _latest_visible_messages(session, [chat_id])).get(chat_id)


async def chat_names(session: AsyncSession, chats: list[Chat], reader: User) -> dict[int, str]:
    """A group chat's title; for a direct chat, the other person's display name."""
    names = {chat.id: chat.title or "" for chat in chats}
    direct_ids = [chat.id for chat in chats if chat.kind == "direct"]
    if direct_ids:
        others = await session.execute(
            select(Membership.chat_id, User.display_name)
            .join(User, User.id == Membership.user_id)
            .where(Membership.chat_id.in_(direct_ids), Membership.user_id != reader.id)
        )
        for chat_id, display_name in others:
            names[chat_id] = display_name
    for chat in chats:
        if not names[chat.id]:
            names[chat.id] = _("Just you") if chat.kind == "direct" else _("Untitled chat")
    return names


async def membership_in(
    session: AsyncSession, chat_id: int, user: User, *, lock: bool = False
) -> Membership | None:
    """The reader's membership of the chat (with the chat loaded), or None."""
    membership = await session.scalar(
        select(Membership).where(Membership.chat_id == chat_id, Membership.user_id == user.id)
    )
    if membership is not None:
        # Load the chat row; with lock=True it is locked for this transaction on
        # PostgreSQL (SQLite's writers already hold the database's write lock).
        chat_query = select(Chat).where(Chat.id == chat_id)
        if lock:
            chat_query = chat_query.with_for_update()
        membership.chat = await session.scalar(chat_query)
    return membership


async def chats_of(session: AsyncSession, user_id: int, chat_ids) -> list[Chat]:
    """The chats with these ids that the person is in (any others are left out)."""
    wanted = set(chat_ids)
    if not wanted:
        return []
    return list(
        await session.scalars(
            select(Chat)
            .join(Membership, Membership.chat_id == Chat.id)
            .where(Membership.user_id == user_id, Chat.id.in_(wanted))
        )
    )


async def chat_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    return list(
        await session.scalars(select(Membership.chat_id).where(Membership.user_id == user_id))
    )


async def member_ids_of(session: AsyncSession, chat_id: int) -> list[int]:
    return list(
        await session.scalars(select(Membership.user_id).where(Membership.chat_id == chat_id))
    )


async def owner_of(session: AsyncSession, chat_id: int) -> tuple[Membership, User] | None:
    row = (
        await session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.chat_id == chat_id, Membership.role == "owner")
            .limit(1)
        )
    ).first()
    return tuple(row) if row else None


async def unread_count(session: AsyncSession, chat_id: int, user_id: int) -> int:
    return (
        await session.scalar(
            select(_unread_count(user_id)).where(
                Membership.chat_id == chat_id, Membership.user_id == user_id
            )
        )
        or 0
    )


async def members_of(session: AsyncSession, chat_id: int) -> list[tuple[Membership, User]]:
    """Owners first, then by display name."""
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.chat_id == chat_id)
        .order_by(Membership.role.desc(), func.lower(User.display_name), User.id)
    )
    return [(membership, user) for membership, user in rows]


async def create_group_chat(
    session: AsyncSession, creator: User, title: str, members: list[User]
) -> Chat:
    chat = Chat(kind="group", title=title, created_by=creator.id)
    session.add(chat)
    await session.flush()
    session.add(Membership(chat_id=chat.id, user_id=creator.id, role="owner"))
    for member in members:
        if member.id != creator.id:
            session.add(Membership(chat_id=chat.id, user_id=member.id, role="member"))
    await session.flush()
    return chat


def direct_key(a: User, b: User) -> str:
    low, high = sorted((a.id, b.id))
    return f"{low}:{high}"


async def find_or_create_direct_chat(
    session: AsyncSession, me: User, other: User
) -> tuple[Chat, bool]:
    """The one direct chat of this pair, created on first use; (chat, created)."""
    key = direct_key(me, other)
    existing = await session.scalar(select(Chat).where(Chat.direct_key == key))
    if existing is not None:
        return existing, False
    try:
        async with session.begin_nested():
            chat = Chat(kind="direct", created_by=me.id, direct_key=key)
            session.add(chat)
            await session.flush()
            for user in {me.id: me, other.id: other}.values():
                session.add(Membership(chat_id=chat.id, user_id=user.id, role="member"))
    except IntegrityError:
        # Another request created it between our look-up and our insert.
        return await session.scalar(select(Chat).where(Chat.direct_key == key)), False
    return chat, True


async def add_members(session: AsyncSession, chat: Chat, users: list[User]) -> list[User]:
    """Add the users who are not members yet; return those added.

    Newcomers can read the history, but it does not count as unread for them.
    """
    existing = set(
        await session.scalars(select(Membership.user_id).where(Membership.chat_id == chat.id))
    )
    added = [user for user in users if user.id not in existing]
    for user in added:
        session.add(
            Membership(chat_id=chat.id, user_id=user.id, role="member", last_read_seq=chat.last_seq)
        )
    await session.flush()
    return added


async def remove_member(session: AsyncSession, chat: Chat, user_id: int) -> bool:
    """Remove a member; when the last owner goes, the longest-standing member takes over.

    Returns False when the user was not a member. A chat left without members is deleted.
    """
    result = await session.execute(
        delete(Membership).where(Membership.chat_id == chat.id, Membership.user_id == user_id)
    )
    if result.rowcount == 0:
        return False
    remaining = list(
        await session.scalars(
            select(Membership)
            .where(Membership.chat_id == chat.id)
            .order_by(Membership.joined_at, Membership.user_id)
        )
    )
    if not remaining:
        await session.delete(chat)
    elif not any(m.role == "owner" for m in remaining) and chat.kind == "group":
        remaining[0].role = "owner"
    await session.flush()
    return True


async def rename_chat(session: AsyncSession, chat: Chat, title: str) -> None:
    chat.title = title
    await session.flush()


async def delete_chat(session: AsyncSession, chat: Chat) -> None:
    await session.delete(chat)
    await session.flush()


async def mark_read(session: AsyncSession, chat_id: int, user_id: int, seq: int) -> None:
    """Move the read mark forward to seq, never back. The caller keeps seq ≤ last_seq."""
    await session.execute(
        update(Membership)
        .where(
            Membership.chat_id == chat_id,
            Membership.user_id == user_id,
            Membership.last_read_seq < seq,
        )
        .values(last_read_seq=seq)
    )


# -- messages ----------------------------------------------------------------------------


async def latest_messages(
    session: AsyncSession, chat_id: int, limit: int = PAGE_SIZE
) -> list[Message]:
    """The newest messages, oldest first."""
    rows = await session.scalars(
        select(Message).where(Message.chat_id == chat_id).order_by(Message.seq.desc()).limit(limit)
    )
    return list(reversed(rows.all()))


async def messages_before(
    session: AsyncSession, chat_id: int, seq: int, limit: int = PAGE_SIZE
) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.chat_id == chat_id, Message.seq < seq)
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))


async def messages_after(
    session: AsyncSession, chat_id: int, seq: int, limit: int = CATCH_UP_LIMIT
) -> list[Message]:
    """Messages after seq as they are now, tombstones included."""
    rows = await session.scalars(
        select(Message)
        .where(Message.chat_id == chat_id, Message.seq > seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(rows)


async def messages_since(
    session: AsyncSession, chat_id: int, rev: int, limit: int = CATCH_UP_LIMIT
) -> list[Message]:
    """Every message whose latest change (post, edit, deletion) came after rev, by seq."""
    rows = await session.scalars(
        select(Message)
        .where(Message.chat_id == chat_id, Message.rev > rev)
        .order_by(Message.rev)
        .limit(limit)
    )
    return sorted(rows, key=lambda message: message.seq)


async def message_at(session: AsyncSession, chat_id: int, seq: int) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.chat_id == chat_id, Message.seq == seq)
    )


async def post_message(
    session: AsyncSession,
    chat: Chat,
    author: User,
    body: str,
    client_token: str | None,
    reply_to: int | None = None,
) -> tuple[Message, bool]:
    """Store a message with the chat's next seq and rev; (message, False) for a repeat.

    The caller holds the chat's lock (membership_in(lock=True)), so the next seq is
    ours alone and a repeated client_token is seen before a second row is written.
    """
    if client_token is not None:
        existing = await session.scalar(
            select(Message).where(
                Message.chat_id == chat.id,
                Message.author_id == author.id,
                Message.client_token == client_token,
            )
        )
        if existing is not None:
            return existing, False
    now = utcnow()
    chat.last_seq += 1
    chat.last_rev += 1
    chat.last_activity_at = now
    message = Message(
        chat_id=chat.id,
        seq=chat.last_seq,
        rev=chat.last_rev,
        author_id=author.id,
        body=body,
        created_at=now,
        client_token=client_token,
        reply_to_seq=reply_to,
    )
    session.add(message)
    await session.flush()
    await _set_mentions(session, message, new=True)
    # Load what it shows in this session, for rendering after it closes.
    await session.refresh(message, ["author", "quoted"])
    return message, True


def _next_rev(chat: Chat) -> int:
    chat.last_rev += 1
    return chat.last_rev


async def edit_message(
    session: AsyncSession, chat: Chat, message: Message, body: str
) -> list[Message]:
    """Change the text; returns the replies whose quote of it changed with it."""
    message.body = body
    message.edited_at = utcnow()
    message.rev = _next_rev(chat)
    await session.flush()
    await _set_mentions(session, message)
    await session.refresh(message, SHOWN_WITH_A_MESSAGE)
    return await _requote(session, chat, message)


async def delete_message(session: AsyncSession, chat: Chat, message: Message) -> list[Message]:
    """Keep a tombstone: the row stays, its text, mentions and reactions go. Returns the
    replies whose quote now says "Message deleted"."""
    message.body = ""
    message.deleted_at = utcnow()
    message.rev = _next_rev(chat)
    await session.execute(delete(Reaction).where(Reaction.message_id == message.id))
    await session.execute(
        delete(message_mentions).where(message_mentions.c.message_id == message.id)
    )
    await session.flush()
    await session.refresh(message, SHOWN_WITH_A_MESSAGE)
    return await _requote(session, chat, message)


async def _requote(session: AsyncSession, chat: Chat, original: Message) -> list[Message]:
    """A reply shows its original as it is now: each reply (not itself deleted) takes a
    new rev, so that open pages are sent it again and catch-up finds it."""
    replies = list(
        await session.scalars(
            select(Message)
            .where(
                Message.chat_id == chat.id,
                Message.reply_to_seq == original.seq,
                Message.deleted_at.is_(None),
            )
            .order_by(Message.seq)
        )
    )
    # Loaded just now, with what they show (the quote: the original as changed, from
    # this session); only their rev moves.
    for reply in replies:
        reply.rev = _next_rev(chat)
    await session.flush()
    return replies


async def _set_mentions(session: AsyncSession, message: Message, *, new: bool = False) -> None:
    """Note who the body mentions: members of the chat named `@username` where the text
    shows (formatting.mentioned_in). Anyone else's name stays text. new: a message just
    stored, which has no mentions (nor reactions) to forget, and no query is spent
    loading either back."""
    if not new:
        await session.execute(
            delete(message_mentions).where(message_mentions.c.message_id == message.id)
        )
    mentioned: list[User] = []
    candidates = formatting.mention_candidates(message.body)
    if candidates:
        members = list(
            await session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.chat_id == message.chat_id, User.username_key.in_(candidates))
                .order_by(User.id)
            )
        )
        names = formatting.mentioned_in(message.body, [person.username for person in members])
        mentioned = [person for person in members if person.username.lower() in names]
    if mentioned:
        await session.execute(
            message_mentions.insert(),
            [{"message_id": message.id, "user_id": person.id} for person in mentioned],
        )
    if new:
        set_committed_value(message, "mentioned", mentioned)
        set_committed_value(message, "reactions", [])


class TooManyReactions(Exception):
    """A message has REACTIONS_MAX different emoji already."""


async def toggle_reaction(
    session: AsyncSession, chat: Chat, message: Message, user_id: int, emoji: str
) -> bool:
    """Add the person's emoji to the message, or take it back; True when added. The
    message takes a new rev: what it shows changed. The caller holds the chat's lock."""
    mine = await session.get(Reaction, (message.id, user_id, emoji))
    if mine is not None:
        await session.delete(mine)
    else:
        shown = {reaction.emoji for reaction in message.reactions}
        if emoji not in shown and len(shown) >= REACTIONS_MAX:
            raise TooManyReactions
        session.add(Reaction(message_id=message.id, user_id=user_id, emoji=emoji))
    message.rev = _next_rev(chat)
    await session.flush()
    await session.refresh(message, SHOWN_WITH_A_MESSAGE)
    return mine is None


async def mentions_of(
    session: AsyncSession, user_id: int, before: int | None = None, limit: int = MENTIONS_PAGE
) -> list[Message]:
    """The messages that mention the person, newest first, in chats they are still in;
    before: a message id, for the next page."""
    query = (
        select(Message)
        .join(message_mentions, message_mentions.c.message_id == Message.id)
        .join(
            Membership,
            and_(Membership.chat_id == Message.chat_id, Membership.user_id == user_id),
        )
        .where(message_mentions.c.user_id == user_id, Message.deleted_at.is_(None))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Message.id < before)
    return list(await session.scalars(query))


async def messages_around(
    session: AsyncSession, chat_id: int, seq: int, side: int = PAGE_SIZE // 2
) -> list[Message]:
    """The message at seq with up to `side` before and after it, by seq."""
    before = await messages_before(session, chat_id, seq + 1, side + 1)
    after = await messages_after(session, chat_id, seq, side)
    return before + after


# -- search ------------------------------------------------------------------------------

SEARCH_PAGE = 20  # SPEC §11
# Matches are counted up to this many: a count reads every match it counts (on
# PostgreSQL, newest first through the messages: 1,000 of a common word took 30-180 ms
# at a million messages), and past a few pages a number says nothing a person can use.
SEARCH_COUNT_CAP = 100
SQLITE_SCOPE_MAX = 20  # chats named in an FTS5 query's scope (see search_messages)


@dataclass(frozen=True)
class SearchHit:
    id: int
    chat_id: int
    seq: int
    body: str
    created_at: datetime
    author_name: str | None  # None: a former member


# SQLite: the FTS5 index drives, newest match first, and each match is kept when its
# message is not deleted and is in a chat the reader is in now. CROSS JOIN fixes that
# order: driven from the chat's messages instead, FTS5 would run the query once per
# message (a prefix query merges its words' lists each time).
_SQLITE_SEARCH = """
SELECT m.id, m.chat_id, m.seq, m.body, m.created_at, u.display_name
FROM message_search
CROSS JOIN messages AS m ON m.id = message_search.rowid
CROSS JOIN memberships AS mb ON mb.chat_id = m.chat_id AND mb.user_id = :reader
LEFT JOIN users AS u ON u.id = m.author_id
WHERE message_search MATCH :match AND m.deleted_at IS NULL {filters}
ORDER BY message_search.rowid DESC
"""


def _search_filters(chat_ids: list[int] | None, author_id: int | None):
    """The optional filters (chats, author) as SQL text and its bound parameters."""
    clauses, params = [], []
    if chat_ids is not None:
        clauses.append("AND m.chat_id IN :chats")
        params.append(bindparam("chats", chat_ids, expanding=True))
    if author_id is not None:
        clauses.append("AND m.author_id = :author")
        params.append(bindparam("author", author_id))
    return " ".join(clauses), params


_HIT_COLUMNS = (
    Message.id,
    Message.chat_id,
    Message.seq,
    Message.body,
    Message.created_at,
    User.display_name,
)


def _sqlite_search(reader_id: int, query: search.Query, chat_ids, author_id, indexed_scope):
    """The SQLite statement, as a function of (limit, offset). indexed_scope: the chats
    the FTS5 query itself keeps to (its scope column), else None."""
    filters, params = _search_filters(chat_ids, author_id)
    sql = _SQLITE_SEARCH.format(filters=filters) + " LIMIT :limit OFFSET :offset"
    match = search.fts5_match(query, indexed_scope)
    statement = text(sql).bindparams(*params, match=match, reader=reader_id).columns(*_HIT_COLUMNS)
    return lambda limit, offset: statement.bindparams(limit=limit, offset=offset)


def _portable_search(query: search.Query, scope: list[int], author_id):
    """The statement for PostgreSQL, and for a search by filters alone on either."""
    statement = (
        select(*_HIT_COLUMNS)
        .outerjoin(User, User.id == Message.author_id)
        .where(Message.chat_id.in_(scope), Message.deleted_at.is_(None))
        .order_by(Message.id.desc())
    )
    if query.terms:  # the GIN index of messages.search (migration 0006)
        statement = statement.where(
            text("messages.search @@ to_tsquery('simple', :tsquery)").bindparams(
                tsquery=search.tsquery(query)
            )
        )
    if author_id is not None:
        statement = statement.where(Message.author_id == author_id)
    return lambda limit, offset: statement.limit(limit).offset(offset)


async def search_messages(
    session: AsyncSession,
    reader_id: int,
    query: search.Query,
    *,
    chat_ids: list[int] | None = None,
    author_id: int | None = None,
    page: int = 1,
) -> tuple[list[SearchHit], int]:
    """A page of the messages that match, newest first, from the chats the reader is in
    now (chat_ids narrows them), and how many match in all, counted up to
    SEARCH_COUNT_CAP + 1."""
    mine = await chat_ids_of(session, reader_id)
    scope = mine if chat_ids is None else sorted(set(chat_ids).intersection(mine))
    if not scope:
        return [], 0
    if query.terms and session.bind.dialect.name == "sqlite":
        # The index keeps each message's chat, so a query can skip the chats of others
        # while it reads: a common word searched in one chat of 1,000 would otherwise
        # cost a look at every match in the others. Naming many chats costs each search
        # more than it saves (100 chats: 15-25 ms), so past SQLITE_SCOPE_MAX the join
        # with the reader's memberships alone keeps to their chats.
        indexed = scope if len(scope) <= SQLITE_SCOPE_MAX else None
        narrowed = scope if chat_ids is not None else None
        statement = _sqlite_search(reader_id, query, narrowed, author_id, indexed)
    else:
        if query.terms:
            # asyncpg prepares each statement, and after five runs PostgreSQL may keep one
            # generic plan for every query text, made without the words: it took seconds
            # for a common word at a million messages. A plan made for the words at hand
            # reads newest first through the messages for a common word and through the
            # index for a rare one. The chats are named (IN) rather than joined from the
            # memberships, so the plan reads a prefix's index entries once rather than
            # once per chat (a prefix of middling frequency: p99 176 to 40 ms).
            await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        statement = _portable_search(query, scope, author_id)
    counted = statement(SEARCH_COUNT_CAP + 1, 0).subquery()
    total = await session.scalar(select(func.count()).select_from(counted))
    rows = await session.execute(statement(SEARCH_PAGE, (page - 1) * SEARCH_PAGE))
    return [SearchHit(*row) for row in rows], total
