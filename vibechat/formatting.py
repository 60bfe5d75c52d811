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

A body that is one paragraph (most messages) is returned inline, for the
`<p class="message-body">` that a message has always had; anything else is blocks, for
a `<div>`. Rendered once per text and process (an LRU): the message cache keeps whole
messages per version, and this keeps the body across the languages and zones a message
is rendered for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

SCHEMES = ("http:", "https:", "mailto:")
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
    tokens[idx].attrSet("rel", REL)
    return renderer.renderToken(tokens, idx, options, env)


def _image(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """![alt](src) as a link to src, named by its alt text (or the address)."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    text = renderer.renderInlineAsText(token.children or [], options, env) or src
    link = Token("link_open", "a", 1, attrs={"href": src, "rel": REL})
    return renderer.renderToken([link], 0, options, env) + escape(text) + "</a>"


def _fence(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """A fenced block without its info string: nothing here highlights code, and the
    words after ``` would only become a class name the sender chose."""
    tokens[idx].info = ""
    return renderer.fence(tokens, idx, options, env)


def _line_break(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """A line break as <br> alone: the newline markdown-it adds after it is bytes in
    every frame, and would be a second break where white-space is kept."""
    return "<br>"


def escape(text: str) -> str:
    return str(Markup.escape(text))


def _parser() -> MarkdownIt:
    options = {"html": False, "linkify": True, "breaks": True, "xhtmlOut": False}
    md = _Markdown("commonmark", options)
    md.disable(OFF)
    md.enable(["strikethrough", "linkify"])
    # Only addresses with a scheme become links: "notes.md" and "file.py" are file
    # names, not web sites in Moldova and Paraguay.
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("softbreak", _line_break)  # "breaks": a newline is a line break
    md.add_render_rule("hardbreak", _line_break)
    return md


MARKDOWN = _parser()


@dataclass(frozen=True)
class Formatted:
    html: Markup
    inline: bool  # one paragraph: goes in a <p>; else blocks, in a <div>


@functools.lru_cache(maxsize=4096)
def formatted(body: str) -> Formatted:
    tokens = MARKDOWN.parse(body)
    kinds = [token.type for token in tokens]
    if kinds == ["paragraph_open", "inline", "paragraph_close"]:
        html = MARKDOWN.renderer.render(tokens[1:2], MARKDOWN.options, {})
        inline = True
    else:
        html = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
        inline = False
    if not html.strip():  # only a link reference definition ("[a]: https://…")
        return Formatted(Markup.escape(body), True)
    # markdown-it escaped every character of the text it did not turn into markup.
    return Formatted(Markup(html.strip()), inline)  # noqa: S704  # nosec B704


@functools.lru_cache(maxsize=4096)
def plain(body: str) -> str:
    """The words without the marks, for a line that shows a message short (the chat
    list's preview): "**Done** see `make test`" reads "Done see make test"."""
    words = []
    for token in MARKDOWN.parse(body):
        if token.type == "inline":
            words.append(MARKDOWN.renderer.renderInlineAsText(token.children or [], {}, {}))
        elif token.type == "fence":
            words.append(token.content)
    return " ".join(" ".join(words).split())
