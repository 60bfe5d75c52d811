"""Demo people and chats for `vibechat seed` / `make demo`."""

from __future__ import annotations

from vibechat import queries
from vibechat.config import Settings, database_url
from vibechat.db import Database
from vibechat.i18n import _
from vibechat.passwords import password_hasher

DEMO_PASSWORD = "vibechat-demo"  # noqa: S105 - printed for the person trying the demo
PEOPLE = (
    ("alice", "Alice Liddell"),
    ("bob", "Bob Dylan"),
    ("carol", "Carol Danvers"),
    ("dave", "Dave Bowman"),
)
# (author, text, the number of the message it replies to): a conversation that shows
# what a message can say (SPEC §10): formatting, a mention, a reply, reactions.
WATERCOOLER = (
    ("alice", "Morning, everyone! Coffee's on in the kitchen.", None),
    ("bob", "On my way. Did anyone see the **release notes**?", None),
    ("carol", "Yes: the chat works *without JavaScript* now. Try it with scripts off.", 2),
    ("dave", "I'm afraid I can't do that, @carol. Kidding, reading it now.", None),
    ("alice", "Long words wrap too: pneumonoultramicroscopicsilicovolcanoconiosis.", None),
    ("bob", "And code stays code:\n```\nmake run\n```\nDocs: https://example.org", None),
)
# (message number, who, emoji)
REACTIONS = ((1, "bob", "☕"), (1, "carol", "☕"), (3, "alice", "🎉"), (4, "carol", "😂"))


async def seed_demo(settings: Settings) -> list[str]:
    """Create the demo people, a group chat and a direct chat; skip what exists."""
    db = Database(database_url(settings))
    report: list[str] = []
    try:
        async with db.write() as session:
            if await queries.user_by_username(session, "alice") is not None:
                return [_("The demo people exist already (alice, bob, carol, dave).")]
            password_hash = password_hasher().hash(DEMO_PASSWORD)
            users = {}
            for username, name in PEOPLE:
                users[username] = await queries.create_user(session, username, name, password_hash)
            await session.flush()
            watercooler = await queries.create_group_chat(
                session, users["alice"], "Watercooler", list(users.values())
            )
            await session.flush()
            posted = []
            for username, body, reply_to in WATERCOOLER:
                message, _new = await queries.post_message(
                    session, watercooler, users[username], body, None, reply_to
                )
                posted.append(message)
            for number, username, emoji in REACTIONS:
                await queries.toggle_reaction(
                    session, watercooler, posted[number - 1], users[username].id, emoji
                )
            direct, _created = await queries.find_or_create_direct_chat(
                session, users["alice"], users["bob"]
            )
            await queries.post_message(session, direct, users["bob"], "Lunch at one?", None)
            await session.commit()
        report.append(
            _(
                "Created alice, bob, carol and dave; each has the password %(password)s",
                password=DEMO_PASSWORD,
            )
        )
        report.append(
            _("Alice owns the group chat 'Watercooler'; alice and bob share a direct chat.")
        )
    finally:
        await db.dispose()
    return report
