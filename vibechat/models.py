"""User, Chat, Membership, Message, Reaction, Session: columns and relations only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, foreign, mapped_column, relationship, remote

# Ids, seqs and revs are 32-bit integers in the database; a larger number in a URL or a
# form would make the driver raise, so it is refused (404 or 400) before any query.
MAX_ID = 2**31 - 1

# Explicit constraint names, so migrations name things the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def kept_by_the_models(_object, name: str | None, type_: str, reflected: bool, _compare_to) -> bool:
    """Alembic's include_object: False for the search index (migration 0006), which
    the models leave out: on SQLite a virtual table and its shadow tables, on
    PostgreSQL a generated column and its index that no query loads as an attribute."""
    if not reflected or name is None:
        return True
    return not (name.startswith("message_search") or name in ("search", "ix_messages_search"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased username: the unique key, so "Alice" and "alice" are one account.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by `vibechat deactivate-user`: no sign-in, no session; the messages stay.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language chosen with POST /language ("en", "ru"); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(8))
    # The IANA time zone chosen with POST /account/timezone; None: the browser's.
    timezone: Mapped[str | None] = mapped_column(String(64))


class Session(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        CheckConstraint("kind IN ('group', 'direct')", name="kind"),
        CheckConstraint("(kind = 'direct') = (direct_key IS NOT NULL)", name="direct_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The last seq and rev handed out; bumping them serialises writers per chat.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_rev: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "<smaller user id>:<larger user id>" for direct chats: one chat per pair.
    direct_key: Mapped[str | None] = mapped_column(String(32), unique=True)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint("role IN ('owner', 'member')", name="role"),)

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)

    chat: Mapped[Chat] = relationship()
    user: Mapped[User] = relationship()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "seq"),
        UniqueConstraint("chat_id", "rev"),
        UniqueConstraint("chat_id", "author_id", "client_token"),
        # An edit or a deletion finds the replies that quote the message, to refresh them.
        Index("ix_messages_chat_id_reply_to_seq", "chat_id", "reply_to_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    rev: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_token: Mapped[str | None] = mapped_column(String(64))
    # The seq of the message this one replies to, in the same chat (SPEC §10).
    reply_to_seq: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User | None] = relationship(lazy="joined")
    # What a message shows besides its own text, loaded with it wherever it is loaded
    # (every change to them gives the message a new rev, so the cached HTML stays true):
    # the message it quotes, as that is now (one level: a quote shows no quote) ...
    quoted: Mapped[Message | None] = relationship(
        primaryjoin=lambda: (
            (remote(Message.chat_id) == foreign(Message.chat_id))
            & (remote(Message.seq) == foreign(Message.reply_to_seq))
        ),
        viewonly=True,
        lazy="joined",
        join_depth=1,
    )
    # ... its reactions, oldest first (a reaction's place does not move) ...
    reactions: Mapped[list[Reaction]] = relationship(
        lazy="selectin", viewonly=True, order_by=lambda: (Reaction.created_at, Reaction.user_id)
    )
    # ... and who it mentions.
    mentioned: Mapped[list[User]] = relationship(
        secondary=lambda: message_mentions, lazy="selectin", viewonly=True, order_by=User.id
    )


message_mentions = Table(
    "message_mentions",
    Base.metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # GET /mentions: a person's mentions, newest (highest message id) first.
    Index("ix_message_mentions_user_id_message_id", "user_id", "message_id"),
)


class Reaction(Base):
    """One person's emoji on a message (SPEC §10): toggled by
    POST /chats/<id>/messages/<seq>/reactions."""

    __tablename__ = "reactions"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    emoji: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
