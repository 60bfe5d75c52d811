"""What a message says, formatted: the body is stored exactly as typed and shown through
markdown-it-py (a CommonMark parser that is kept, fast on hostile input, and has raw
HTML off here), with the subset chats use (SPEC §10): paragraphs and line breaks,
**bold**, *italic*, ~~strike~~, `code`, fenced code blocks, block quotes, lists and
links. Bare URLs become links (linkify-it-py).

Not ours to write: a parser (hand-written ones are where XSS lives) or a sanitizer
(bleach is deprecated; with raw HTML off nothing needs cleaning). What is ours: which
rules are on, which links survive (http, https and mailto only, checked after the
parser has decoded the URL), the `rel` every link carries, and images shown as links,
never loaded (no request to a third party, no tracking pixel).

Mentions are ours too, as one inline rule: `@username` of someone the message
mentions becomes a link to their page, where the parser sees text (not in code, not in
a link's words); who that is was settled when the message was stored (`mentioned_in`).

A body that is one paragraph (most messages) is returned inline, for the
`<p class="message-body">` that a message has always had; anything else is blocks, for
a `<div>`. Rendered once per text and process (an LRU): the message cache keeps whole
messages per version, and this keeps the body across the languages and zones a message
is rendered for.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

SCHEMES = ("http:", "https:", "mailto:")
LANGUAGE_NAME = re.compile(r"[\w+#.-]{1,32}")

# Beyond these a body is shown as typed, or without links (see `formatted`).
MOST_LINK_OPENERS = 256
REL = "nofollow noopener noreferrer ugc"

# CommonMark's rules that a chat has no use for: "# " and "---" would turn a line
# someone typed into a heading or a rule, four spaces of indent into code; and "&lt;"
# stays the four characters typed, not a "<" (an entity is HTML, which is off).
OFF = ["heading", "lheading", "hr", "code", "html_block", "html_inline", "entity"]


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        """Only web and mail links; the URL is normalized (entities decoded, percent-
        encoded) before it is asked, so "jav&#x61;script:" arrives as "javascript:"."""
        return url.strip().lower().startswith(SCHEMES)


def _link_open(renderer, tokens: list[Token], idx: int, options, env) -> str:
    if tokens[idx].markup != MENTION_MARKUP:  # a person's page here, not a link out
        tokens[idx].attrSet("rel", REL)
    return renderer.renderToken(tokens, idx, options, env)


# A username (SPEC §3: 3 to 32 letters, digits, "_", "." and "-") after an "@" that does not
# follow a letter or digit (bob@example.com is an address). "@bob." ends a sentence: the
# dots and dashes it ends with are dropped until the name is someone's.
MENTION = re.compile(r"@([A-Za-z0-9_.-]{3,32})")
MENTION_MARKUP = "@"
NOT_BEFORE_A_MENTION = frozenset("_.-@/")


def _names(name: str):
    """The name as typed, then without each dot or dash it ends with."""
    while len(name) >= 3:
        yield name
        if name[-1] not in ".-":
            return
        name = name[:-1]


def _mention(state, silent: bool) -> bool:
    """`@name` of someone in env["people"] (lower-cased name -> username) as a link to
    their page; the names linked are noted in env["mentioned"]."""
    people = state.env.get("people")
    if not people or state.src[state.pos] != "@" or state.linkLevel > 0:
        return False
    before = state.src[state.pos - 1] if state.pos else " "
    if before.isalnum() or before in NOT_BEFORE_A_MENTION:
        return False
    match = MENTION.match(state.src, state.pos)
    if match is None:
        return False
    name = next((name for name in _names(match[1]) if name.lower() in people), None)
    if name is None:
        return False
    if not silent:
        username = people[name.lower()]
        link = state.push("link_open", "a", 1)
        link.attrs = {"href": f"/people/{username}", "class": "mention"}
        link.markup = MENTION_MARKUP
        state.push("text", "", 0).content = "@" + name
        state.push("link_close", "a", -1).markup = MENTION_MARKUP
        state.env.setdefault("mentioned", set()).add(name.lower())
    state.pos += 1 + len(name)
    return True


def _image(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """![alt](src) as a link to src, named by its alt text (or the address)."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    text = renderer.renderInlineAsText(token.children or [], options, env) or src
    link = Token("link_open", "a", 1, attrs={"href": src, "rel": REL})
    return renderer.renderToken([link], 0, options, env) + escape(text) + "</a>"


def _fence(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """A fenced block without its info string: nothing here highlights code, and the
    words after ``` would only become a class name the sender chose. What is not a
    language's name ("```let x = 1", a fence never closed) stays, as the first line."""
    token = tokens[idx]
    token.content, token.info = _code(token), ""
    return renderer.fence(tokens, idx, options, env)


def _code(fence: Token) -> str:
    info = fence.info.strip()
    if info and not LANGUAGE_NAME.fullmatch(info):
        return f"{info}\n{fence.content}"
    return fence.content


def _line_break(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """A line break as <br> alone: the newline markdown-it adds after it is bytes in
    every frame, and would be a second break where white-space is kept."""
    return "<br>"


def escape(text: str) -> str:
    return str(Markup.escape(text))


def _parser(*, links: bool = True) -> MarkdownIt:
    options = {"html": False, "linkify": True, "breaks": True, "xhtmlOut": False}
    md = _Markdown("commonmark", options)
    md.disable(OFF if links else [*OFF, "link", "image"])
    md.enable(["strikethrough", "linkify"])
    # Only addresses with a scheme become links: "notes.md" and "file.py" are file
    # names, not web sites in Moldova and Paraguay.
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    if links:
        md.inline.ruler.before("link", "mention", _mention)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("softbreak", _line_break)  # "breaks": a newline is a line break
    md.add_render_rule("hardbreak", _line_break)
    return md


MARKDOWN = _parser()
# For a body with more "[" than any message has links: finding where each would end
# takes time that grows with the square of their number (45 ms for 4,000 of them,
# `python -m bench.formatting`); without the link rules they are text, in linear time.
WITHOUT_LINKS = _parser(links=False)


@dataclass(frozen=True)
class Formatted:
    html: Markup
    inline: bool  # one paragraph: goes in a <p>; else blocks, in a <div>


def as_typed(body: str) -> Formatted:
    """The text as typed, each line a line."""
    return Formatted(Markup("<br>").join(body.split("\n")), True)


def _parser_for(body: str) -> MarkdownIt | None:
    """The block structure first (linear in the text): nested past the parser's depth,
    markdown-it drops what is deeper, so such a body is shown as typed (None); one
    whose text outside code holds more "[" than MOST_LINK_OPENERS has no links."""
    blocks: list[Token] = []
    MARKDOWN.block.parse(body, MARKDOWN, {}, blocks)
    if any(token.level >= MARKDOWN.options["maxNesting"] - 1 for token in blocks):
        return None
    openers = sum(token.content.count("[") for token in blocks if token.type == "inline")
    return MARKDOWN if openers <= MOST_LINK_OPENERS else WITHOUT_LINKS


def _people(usernames) -> dict[str, str]:
    return {username.lower(): username for username in usernames}


@functools.lru_cache(maxsize=4096)
def formatted(body: str, mentions: tuple[str, ...] = ()) -> Formatted:
    """The body as HTML; mentions: the usernames whose `@name` becomes a link."""
    md = _parser_for(body)
    if md is None:
        return as_typed(body)
    env = {"people": _people(mentions)}
    tokens = md.parse(body, env)
    kinds = [token.type for token in tokens]
    if kinds == ["paragraph_open", "inline", "paragraph_close"]:
        html = md.renderer.render(tokens[1:2], md.options, env)
        inline = True
    else:
        html = md.renderer.render(tokens, md.options, env)
        inline = False
    if not html.strip():  # only a link reference definition ("[a]: https://…")
        return as_typed(body)
    # markdown-it escaped every character of the text it did not turn into markup.
    return Formatted(Markup(html.strip()), inline)  # noqa: S704  # nosec B704


def _text(tokens: list[Token]) -> str:
    """An inline run's text as it reads: marks dropped, a line break a space."""
    parts = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":  # as the body shows it: its words, else its address
            parts.append(_text(token.children or []) or token.attrGet("src") or "")
    return "".join(parts)


def _words(tokens: list[Token]) -> list[str]:
    """Each block's text (a paragraph, a list item, a code block)."""
    return [
        _text(token.children or []) if token.type == "inline" else _code(token)
        for token in tokens
        if token.type in ("inline", "fence")
    ]


@functools.lru_cache(maxsize=4096)
def plain(body: str) -> str:
    """The words without the marks, for a line that shows a message short (the chat
    list's preview): "**Done** see `make test`" reads "Done see make test"."""
    md = _parser_for(body)
    words = [body] if md is None else _words(md.parse(body))
    return " ".join(" ".join(words).split())


def mention_candidates(body: str) -> set[str]:
    """Every lower-cased name an `@` in the body could stand for: whose are they?"""
    return {name.lower() for match in MENTION.finditer(body) for name in _names(match[1])}


def mentioned_in(body: str, usernames) -> set[str]:
    """Which of these people (usernames: members of the chat) the body mentions, where
    it shows: "@bob" in `code` or in a link's words is not a mention. Lower-cased."""
    md = _parser_for(body)
    if md is None or md is WITHOUT_LINKS:
        return set()
    env = {"people": _people(usernames)}
    md.parse(body, env)
    return env.get("mentioned", set())
