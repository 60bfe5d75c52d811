"""The search box's language (SPEC §11), read into terms each database can match, and
the snippet a result shows with the matched words in <mark>.

What a person types is never handed to a database's query syntax: it is read here into
words (runs of letters, digits and marks, in any script), and the engine's query is
written from those words alone, so `"`, `*`, `NEAR(`, `-`, `:` or a NUL can never make
SQLite's FTS5 or PostgreSQL's tsquery refuse it.

- `word` matches words that start with it, regardless of case: `поис` finds «Поиска»
  (a word of one letter matches whole).
- `"exact phrase"` matches those words, in that order, whole.
- `e-mail`, `example.com`: a token of several words is a phrase whose last word may go
  on (`example.co` finds example.com).
- `from:alice` (or `from:@alice`) keeps the messages of one person; `in:general` (or
  `in:"Team chat"`) those of the chats the reader calls by that name. Russian
  speakers may write `от:` and `в:`.

Every word must match. Both indexes fold words the same way `fold()` does: lower case,
and «ё» read as the plain letter without its dots, which is what most Russian writers
type for both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

from vibechat import formatting

MAX_QUERY_CHARS = 500  # longer is not a search anyone types: answered "too long"
MAX_TERMS = 12  # each term is a lookup in the index; a query's cost stays bounded
SNIPPET_CHARS = 200  # a result shows about this much of its message around the match

# A word character: a letter, a digit, a mark that is part of a letter, or private use.
# SQLite's FTS5 table is made with the same categories (migration 0006).
_WORD_CATEGORIES = ("L", "N", "M", "Co")

# "from:alice", "in:general", 'in:"Team chat"', a "quoted phrase" (its closing quote may
# be missing: it runs to the end), or any other run of non-spaces.
_TOKEN = re.compile(
    r'(?P<field>from|in|от|в):(?:"(?P<quoted_value>[^"]*)"?|(?P<value>\S*))'
    r'|"(?P<phrase>[^"]*)"?'
    r"|(?P<bare>\S+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Term:
    """Words that must follow each other in a message; the last one may go on when
    `prefix` is set."""

    words: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()
    author: str | None = None  # from: a username, as typed
    chat_name: str | None = None  # in: a chat's name, as typed
    too_long: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.author or self.chat_name)


def fold(text: str) -> str:
    """A word as both indexes keep it."""
    return text.lower().replace("ё", "\u0435")  # the letter without its dots


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char).startswith(_WORD_CATEGORIES)


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Where each word of the text starts and ends."""
    spans = []
    start = None
    for index, char in enumerate(text):
        if _is_word_char(char):
            if start is None:
                start = index
        elif start is not None:
            spans.append((start, index))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def words(text: str) -> list[str]:
    """The folded words of a text, as the indexes split it."""
    return [fold(text[start:end]) for start, end in _word_spans(text)]


def parse(typed: str) -> Query:
    """Read what was typed in the search box; anything at all reads as some query."""
    typed = "".join(char for char in typed if char.isprintable() or char.isspace())
    if len(typed) > MAX_QUERY_CHARS:
        return Query(too_long=True)
    terms: list[Term] = []
    author = chat_name = None
    for token in _TOKEN.finditer(typed):
        if token["field"]:
            value = (token["quoted_value"] or token["value"] or "").strip()
            if token["field"].lower() in ("from", "от"):
                author = value.removeprefix("@") or author
            else:
                chat_name = value or chat_name
            continue
        if token["phrase"] is not None:
            found = tuple(words(token["phrase"]))
            prefix = False
        else:
            found = tuple(words(token["bare"]))
            # A word of one letter is found whole: as a beginning it would match most
            # words of the language, and the index keeps no list of one-letter beginnings.
            prefix = bool(found) and len(found[-1]) > 1
        term = Term(found, prefix)
        if found and term not in terms:
            terms.append(term)
    return Query(tuple(terms[:MAX_TERMS]), author, chat_name)


def fts5_match(query: Query, chat_ids=None) -> str:
    """The FTS5 MATCH expression: each term a quoted string in the body column, a prefix
    term starred; with chat_ids, only messages whose scope column names one of them.
    Words hold only letters, digits and marks, so the quotes can hold nothing else."""
    words = " ".join(
        '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "") for term in query.terms
    )
    if chat_ids is None:
        return f"body : ({words})"
    chats = " OR ".join(f"c{int(chat_id)}" for chat_id in chat_ids)
    return f"body : ({words}) AND scope : ({chats})"


def tsquery(query: Query) -> str:
    """The text of PostgreSQL's to_tsquery('simple', …): terms joined by &, a phrase's
    words by <->, a prefix word marked :*. Words are quoted lexemes of word
    characters only."""
    parts = []
    for term in query.terms:
        lexemes = [f"'{word}'" for word in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def _matched_spans(text: str, query: Query) -> list[tuple[int, int]]:
    spans = _word_spans(text)
    folded = [fold(text[start:end]) for start, end in spans]
    marked: set[int] = set()
    for term in query.terms:
        size = len(term.words)
        for first in range(len(folded) - size + 1):
            here = folded[first : first + size]
            whole = here[:-1] == list(term.words[:-1])
            last = here[-1]
            wanted = term.words[-1]
            if whole and (last.startswith(wanted) if term.prefix else last == wanted):
                marked.update(range(first, first + size))
    return [spans[index] for index in sorted(marked)]


def snippet(body: str, query: Query) -> Markup:
    """The message's words (its Markdown marks dropped) around the first match, each
    matched word in <mark>; escaped, so a message's text can only ever be text."""
    text = formatting.plain(body)
    matches = _matched_spans(text, query)
    start = 0
    if len(text) > SNIPPET_CHARS and matches:
        # Begin a little before the first match, at a word's start.
        start = max(0, matches[0][0] - SNIPPET_CHARS // 4)
        if start:
            start = next((s for s, _ in _word_spans(text) if s >= start), start)
    end = min(len(text), start + SNIPPET_CHARS)
    pieces = [Markup("…") if start else Markup("")]
    place = start
    for match_start, match_end in matches:
        if match_start < place or match_end > end:
            continue
        pieces.append(escape(text[place:match_start]))
        pieces.append(Markup("<mark>%s</mark>") % text[match_start:match_end])
        place = match_end
    pieces.append(escape(text[place:end]))
    if end < len(text):
        pieces.append(Markup("…"))
    return Markup("").join(pieces)
