"""Element ids: the one place that spells them.

Templates (through the `dom_id` Jinja global), Python (frames, anchors) and, through
the data attributes the templates render, app.js name elements by these ids; a live
frame replaces or deletes an element by its id, so one spelling everywhere is what
makes a frame land. SPEC §5 fixes `msg-<chat>-<seq>`.

Ids that only tie one element to another inside one template stay written there: a
heading named by aria-labelledby, a form field's `<name>-error` (templates/_forms.html),
the skip link's `#main`.
"""

from __future__ import annotations

# kind -> what follows it, in order. Ids that name one thing of a kind take its numbers;
# the page's singletons (the message list, the chat list …) take none.
KINDS: dict[str, tuple[str, ...]] = {
    "msg": ("chat", "seq"),
    "member": ("chat", "user"),
    "chat": ("chat",),  # the chat's entry in the chat list
    "chat-name": ("chat",),
    "chat-title": ("chat",),
    "chat-preview": ("chat",),
    "chat-status": ("chat",),
    "member-count": ("chat",),  # the chat header's "N members"
    "unread": ("chat",),
    "typing": ("chat",),
    "older": ("chat",),
    "presence": ("user",),
    "messages": (),
    "chat-list": (),
    "member-list": (),
    "connection-state": (),
    "outbox": (),
    "composer": (),
    "newest": (),  # after the composer: links to a chat land here (#newest)
    "react": (),  # the page's one reaction form, which every reaction button submits
    "unread-divider": (),  # "New messages", where the reader left off
    "search-q": (),  # the search page's box, whose typing updates the results
    "search-results": (),
    "search-status": (),  # the count, said by screen readers as results update
}


def dom_id(kind: str, *numbers: int) -> str:
    """The id of an element: dom_id("msg", 3, 12) == "msg-3-12"; ValueError for an
    unknown kind, or numbers that are not the kind's (a typo must not make an id that
    no frame will ever find)."""
    try:
        wanted = KINDS[kind]
    except KeyError:
        raise ValueError(f"no element id of kind {kind!r}") from None
    # type() rather than isinstance(): True is an int too, and would make "chat-True".
    if len(numbers) != len(wanted) or any(type(number) is not int for number in numbers):
        raise ValueError(f"{kind!r} ids take {wanted}, not {numbers!r}")
    return "-".join((kind, *map(str, numbers)))
