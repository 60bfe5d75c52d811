"""The search index of messages (SPEC §11), filled with the messages already there.

SQLite: `message_search`, a contentless FTS5 table (rowid = messages.id) kept in step
by triggers, so a post, an edit or a deletion changes the index in its own
transaction, whatever wrote it (the app, `copy-to`, a hand-run UPDATE). Contentless,
since a result's snippet is cut from messages.body (vibechat/search.py), and
the index keeps «ё» as «е», which an external-content table would not allow; its
'delete' command is given the old text exactly as it was indexed. The tokenizer:
unicode61 with letters, digits, marks and private use as word characters, case folded
in every script, diacritics kept (café is not cafe). Beside the body, the scope
column holds "c<chat id>", so a search in a few chats skips the others' messages inside
the index; prefix='2 3' keeps lists of 2- and 3-letter beginnings, so a short
beginning reads one list rather than those of every word it begins (`a*` over a
million messages: 48 ms without, 9 ms with).

PostgreSQL: `messages.search`, a generated tsvector of the body, with a GIN index.
`simple` (no stemming) with every typed word matched by its beginning: measured by
`python -m bench.search_recall` on 80 Russian and English messages and 31 queries,
it found something for every query (recall 0.70, precision 0.92), where `russian` and
`english` with websearch_to_tsquery came back empty for 5 and 6 (a word begun, such
as «поис», matches nothing there), and it finds exactly what SQLite's FTS5, which has
no Russian stemmer, finds. Punctuation is made a space first, so a word is a run of
letters and digits as in SQLite (PostgreSQL's parser would keep e-mail addresses,
hosts and hyphenated words whole).

A later migration that copies `messages` in batch mode on SQLite drops the triggers
with the old table: it must create them again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

# ruff: noqa: RUF001, RUF002, RUF003 -- Russian letters are the point here

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What SQLite indexes of a message: its body, «ё» read as «е» (FTS5 folds the case).
# The 'delete' command must be given the old text exactly as it was indexed.
_SQLITE = (
    "CREATE VIRTUAL TABLE message_search USING fts5(body, scope, content='', prefix='2 3',"
    " tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* M* Co'\")",
    "INSERT INTO message_search(rowid, body, scope)"
    " SELECT id, replace(replace(body, 'ё', 'е'), 'Ё', 'Е'), 'c' || chat_id FROM messages",
    "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN"
    " INSERT INTO message_search(rowid, body, scope)"
    " VALUES (new.id, replace(replace(new.body, 'ё', 'е'), 'Ё', 'Е'), 'c' || new.chat_id);"
    " END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF body ON messages BEGIN"
    " INSERT INTO message_search(message_search, rowid, body, scope)"
    " VALUES ('delete', old.id, replace(replace(old.body, 'ё', 'е'), 'Ё', 'Е'),"
    " 'c' || old.chat_id);"
    " INSERT INTO message_search(rowid, body, scope)"
    " VALUES (new.id, replace(replace(new.body, 'ё', 'е'), 'Ё', 'Е'), 'c' || new.chat_id);"
    " END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN"
    " INSERT INTO message_search(message_search, rowid, body, scope)"
    " VALUES ('delete', old.id, replace(replace(old.body, 'ё', 'е'), 'Ё', 'Е'),"
    " 'c' || old.chat_id);"
    " END",
)

# What PostgreSQL indexes: the words of the body, lower case, «ё» read as «е».
_POSTGRES = (
    "ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig,"
    " translate(regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'), 'Ёё', 'Ее'))"
    ") STORED",
    "CREATE INDEX ix_messages_search ON messages USING gin (search)",
)


def upgrade() -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER message_search_{trigger}")
        op.execute("DROP TABLE message_search")
    else:
        op.execute("DROP INDEX ix_messages_search")
        op.execute("ALTER TABLE messages DROP COLUMN search")
