"""Replies, mentions and reactions (SPEC §10).

messages.reply_to_seq: the seq of the message a reply quotes, in the same chat (not a
foreign key: a seq is a place in a chat, and the original may be a tombstone).
message_mentions: who a message mentions, for `data-mentions` and GET /mentions.
reactions: one row per person and emoji on a message.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("reply_to_seq", sa.Integer(), nullable=True))
    # An edit or a deletion finds the replies that quote the message, to refresh them.
    op.create_index("ix_messages_chat_id_reply_to_seq", "messages", ["chat_id", "reply_to_seq"])
    op.create_table(
        "message_mentions",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_mentions_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_message_mentions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", name="pk_message_mentions"),
    )
    # GET /mentions: a person's mentions, newest (highest message id) first.
    op.create_index(
        "ix_message_mentions_user_id_message_id", "message_mentions", ["user_id", "message_id"]
    )
    op.create_table(
        "reactions",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("emoji", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_reactions_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_reactions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("message_id", "user_id", "emoji", name="pk_reactions"),
    )


def downgrade() -> None:
    op.drop_table("reactions")
    op.drop_index("ix_message_mentions_user_id_message_id", table_name="message_mentions")
    op.drop_table("message_mentions")
    op.drop_index("ix_messages_chat_id_reply_to_seq", table_name="messages")
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("reply_to_seq")
