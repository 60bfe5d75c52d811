"""The XSS corpus: hostile text for every place people type (tests/test_xss.py puts it
through the app in this process, tests/test_xss_browser.py in front of Chromium).

Each payload names its own number: `window.__xss=N`, `alert(N)`, `/xss-probe-N`.

Message bodies are Markdown (vibechat/formatting.py, SPEC §10): most payloads have no
Markdown in them and read exactly as typed; the few that do say here, by hand and not
by asking the formatter, how they read (`Shown`): the words, and the formatter's own
elements with their text (and a link's address and title), in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from vibechat import forms

PROBE = "https://example.invalid/xss-probe-§"  # a link's address: shown, never fetched


@dataclass(frozen=True)
class Shown:
    """How a body with Markdown in it reads ("§" is the payload's number).

    text: what the body says without its markup (a <br> read as a newline); for blocks,
    compared with runs of white space as one space (blocks are set apart by newlines).
    marks: the formatter's elements in the body other than <br>, in document order, as
    (tag, its text with white space collapsed) or, for a link, (tag, text, href) or
    (tag, text, href, title); or, where only their kinds are fixed (deep nesting, which
    the parser cuts short), the frozenset of their tags.
    blocks: rendered as blocks (a <div class="message-body">) rather than one paragraph.
    preview: the chat list's words, where they are not `text`."""

    text: str
    marks: tuple[tuple[str, ...], ...] | frozenset[str] = ()
    blocks: bool = False
    preview: str | None = None

    def numbered(self, number: int) -> Shown:
        def n(value: str) -> str:
            return value.replace("§", str(number))

        marks = (
            self.marks
            if isinstance(self.marks, frozenset)
            else tuple(tuple(n(part) for part in mark) for mark in self.marks)
        )
        preview = None if self.preview is None else n(self.preview)
        return Shown(n(self.text), marks, self.blocks, preview)


@dataclass(frozen=True)
class Long:
    """A body of exactly forms.BODY_MAX characters once "§" is the number: head, `fill`
    for what `unit` leaves over, `unit` as many times as fit, tail. `shown(count,
    filled)` says how it reads (None: exactly as typed)."""

    unit: str
    tail: str = ""
    head: str = ""
    fill: str = "."
    shown: object = None  # (count, filled) -> Shown

    def build(self, number: int) -> tuple[str, Shown | None]:
        head, tail = (part.replace("§", str(number)) for part in (self.head, self.tail))
        room = forms.BODY_MAX - len(head) - len(tail)
        count, filled = divmod(room, len(self.unit))
        text = head + self.fill * filled + self.unit * count + tail
        return text, None if self.shown is None else self.shown(count, filled).numbered(number)


def em_run(count: int, filled: int) -> Shown:
    """`*a* ` again and again: each an <em>."""
    return Shown("." * filled + "a " * count + "alert(§)", (("em", "a"),) * count)


def backslashes(count: int, filled: int) -> Shown:
    """`\\\\` is an escaped backslash: one is shown for every two typed."""
    return Shown("alert(§) " + "." * filled + "\\" * count)


def links(count: int, filled: int) -> Shown:
    """`<http://a` again and again: no autolink (none is closed), but every http://a
    is a bare address, linked."""
    text = "." * filled + "<http://a" * count + "<javascript:alert(§)>"
    return Shown(text, (("a", "http://a", "http://a"),) * count)


# (class, payload[, how it reads when it is not exactly as typed]); "§" becomes the
# payload's number.
RAW_PAYLOADS: list[tuple] = [
    # <script> in every disguise
    ("script", "<script>window.__xss=§</script>"),
    ("script", "<script>alert(§)</script>"),
    ("script", "<SCRIPT SRC=/xss-probe-§.js></SCRIPT>"),
    ("script", '<script src="data:text/javascript,window.__xss=§"></script>'),
    ("script", '<script type="module">import("/xss-probe-§.js")</script>'),
    ("script", "</textarea><script>window.__xss=§</script>"),
    ("script", "</title><script>document.title='pwned§'</script>"),
    ("script", "\"><script>fetch('/xss-probe-§')</script>"),
    ("script", "'><script>alert(§)</script>"),
    ("script", "</p></li></ol><script>window.__xss=§</script>"),
    ("script", "<scr<script>ipt>alert(§)</scr</script>ipt>"),
    ("script", "<!--<script>--><script>alert(§)</script>"),
    ("script", "<scr\u200dipt>alert(§)</scr\u200dipt>"),
    (
        "script",
        "line one\n<script>window.__xss=§</script>\n\tline three",
        # A paragraph's lines lose their leading white space.
        Shown("line one\n<script>window.__xss=§</script>\nline three"),
    ),
    ("script", "a\u2028<script>alert(§)</script>\u2029b"),
    # style: requests, defacement
    ("style", "<style>body{background:url(/xss-probe-§)}</style>"),
    ("style", "<style>@import '/xss-probe-§.css';</style>"),
    ("style", "<style>*{display:none!important}</style>"),
    ("style", "<link rel=stylesheet href=/xss-probe-§.css>"),
    ("style", '<p style="background-image:url(/xss-probe-§)">styled §</p>'),
    ("style", '<div style="position:fixed;inset:0;background:red">cover §</div>'),
    # event handlers
    ("event", "<img src=x onerror=alert(§)>"),
    ("event", '<img src="/xss-probe-§" onerror="window.__xss=§">'),
    ("event", "<img src=x:alert(§) onerror=eval(src)>"),
    ("event", "<body onload=alert(§)>"),
    ("event", "<body onpageshow=window.__xss=§>"),
    ("event", '<details open ontoggle="window.__xss=§">'),
    ("event", '<input autofocus onfocus="alert(§)">'),
    ("event", '<video><source onerror="alert(§)"></video>'),
    ("event", "<audio src=x onerror=alert(§)>"),
    ("event", '<marquee onstart="alert(§)">§</marquee>'),
    ("event", "<x contenteditable autofocus onfocusin=alert(§)>edit me</x>"),
    ("event", '<div onpointerover="alert(§)" style="position:fixed;inset:0">§</div>'),
    ("event", '" onmouseover="alert(§)" x="'),
    ("event", "' autofocus onfocus='alert(§)' x='"),
    ("event", "<object data=x onerror=alert(§)></object>"),
    # javascript: (and friends) URLs
    ("javascript-url", '<a href="javascript:alert(§)">click me</a>'),
    ("javascript-url", '<a href="JaVaScRiPt:window.__xss=§">mixed case</a>'),
    ("javascript-url", '<a href="jav&#x09;ascript:alert(§)">entity tab</a>'),
    ("javascript-url", '<a href="jav\tascript:alert(§)">real tab</a>'),
    (
        "javascript-url",
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(§)">e</a>',
    ),
    ("javascript-url", "javascript:alert(§)"),
    ("javascript-url", "[click me](javascript:alert(§))"),
    ("javascript-url", '<form action="javascript:alert(§)"><button>send</button></form>'),
    ("javascript-url", '<button formaction="javascript:alert(§)">go</button>'),
    ("javascript-url", '<a href="data:text/html,<script>alert(§)</script>">data url</a>'),
    ("javascript-url", '<a href="vbscript:msgbox(§)">vbscript</a>'),
    # SVG and MathML
    ("svg", "<svg onload=alert(§)>"),
    ("svg", "<svg/onload=window.__xss=§//"),
    ("svg", "<svg><script>window.__xss=§</script></svg>"),
    ("svg", '<svg><animate onbegin="alert(§)" attributeName=x dur=1s>'),
    ("svg", '<svg><a xlink:href="javascript:alert(§)"><text x=9 y=9>svg link</text></a></svg>'),
    ("svg", '<svg><image href="/xss-probe-§.svg"/></svg>'),
    ("svg", "<svg><foreignObject><iframe src=/xss-probe-§></iframe></foreignObject></svg>"),
    ("svg", '<math><a xlink:href="javascript:alert(§)">math link</a></math>'),
    ("svg", "<math><mtext><table><mglyph><style><img src=x onerror=alert(§)>"),
    # frames, embeds and the document's head
    ("frame", '<iframe src="/xss-probe-§"></iframe>'),
    ("frame", '<iframe src="javascript:parent.__xss=§"></iframe>'),
    ("frame", '<iframe srcdoc="<script>parent.__xss=§</script>"></iframe>'),
    ("frame", '<object data="/xss-probe-§"></object>'),
    ("frame", '<embed src="/xss-probe-§">'),
    ("frame", "<frameset><frame src=/xss-probe-§></frameset>"),
    ("frame", '<base href="/xss-probe-§/">'),
    ("frame", '<meta http-equiv="refresh" content="0;url=/xss-probe-§">'),
    ("frame", "<template><img src=x onerror=alert(§)></template>"),
    ("frame", '<noscript><p title="</noscript><img src=x onerror=alert(§)>">'),
    ("frame", '<img src="/xss-probe-§">'),
    # template syntax: Jinja and others must come out literally
    ("template", "{{ 7*7 }}"),
    ("template", "{{7*7}} §"),
    ("template", "{% if true %}pwned§{% endif %}"),
    ("template", "{{ config }}"),
    (
        "template",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        Shown(
            "{{ ''.class.mro[1].subclasses() }}",
            (("strong", "class"), ("strong", "mro"), ("strong", "subclasses")),
        ),
    ),
    (
        "template",
        "{{ request.application.__globals__.__builtins__ }}",
        Shown(
            "{{ request.application.globals.builtins }}",
            (("strong", "globals"), ("strong", "builtins")),
        ),
    ),
    ("template", "{{ self._TemplateReference__context }}"),
    ("template", "{%raw%}{{ 7*7 }}{%endraw%}"),
    ("template", "{# a Jinja comment #}visible §"),
    ("template", "${7*7}"),
    ("template", "${alert(§)}"),
    (
        "template",
        "`${document.title='pwned§'}`",
        Shown("${document.title='pwned§'}", (("code", "${document.title='pwned§'}"),)),
    ),
    ("template", "#{7*7} <%= 7*7 %>", Shown("#{77} <%= 77 %>", (("em", "7} <%= 7"),))),
    ("template", "{{constructor.constructor('alert(§)')()}}"),
    # htmx and its ws extension: attributes smuggled into user text
    ("htmx", '<div hx-get="/xss-probe-§" hx-trigger="load">htmx load</div>'),
    ("htmx", '<a hx-post="/xss-probe-§" hx-trigger="load">post on load</a>'),
    ("htmx", '<div data-hx-get="/xss-probe-§" data-hx-trigger="load">data-hx</div>'),
    ("htmx", '<img src=x hx-on:error="window.__xss=§">'),
    ("htmx", '<div hx-on::load="window.__xss=§">hx-on::load</div>'),
    ("htmx", '<div hx-on:htmx:load="alert(§)">hx-on:htmx:load</div>'),
    ("htmx", '<div hx-get="/xss-probe-§" hx-trigger="every 1s">poll</div>'),
    ("htmx", '<div hx-get="/xss-probe-§" hx-trigger="revealed">revealed</div>'),
    ("htmx", '<div hx-get="/xss-probe-§" hx-trigger="load[window.__xss=§]">filter</div>'),
    ("htmx", "<div hx-get=\"/xss-probe-§\" hx-trigger=load hx-vals='js:{a:alert(§)}'>v</div>"),
    ("htmx", '<div hx-swap-oob="true" id="messages">the log is mine §</div>'),
    ("htmx", '<p hx-swap-oob="beforeend:#messages"><b hx-get="/xss-probe-§">oob</b></p>'),
    ("htmx", '<div hx-ext="ws" ws-connect="/xss-probe-§">ws</div>'),
    ("htmx", '<form ws-send hx-trigger="load">ws-send §</form>'),
    ("htmx", '"><div hx-get="/xss-probe-§" hx-trigger="load">attribute breakout</div>'),
    ("htmx", '<div hx-get="/xss-probe-§" hx-trigger="mouseover">hover</div>'),
    ("htmx", '<button hx-post="/chats/1/leave?xss-probe-§" hx-trigger="load">leave</button>'),
    ("htmx", '<div hx-boost="true"><a href="/xss-probe-§">boosted</a></div>'),
    ("htmx", '<htmx hx-get="/xss-probe-§" hx-trigger="load delay:10ms" hx-target="body">'),
    ("htmx", '<li id="msg-1-9999" data-seq="9999" hx-swap-oob="true">forged §</li>'),
    # text that looks escaped already, and markup that is merely odd
    ("encoding", "&lt;script&gt;alert(§)&lt;/script&gt;"),
    ("encoding", "&#60;img src=x onerror=alert(§)&#62;"),
    ("encoding", "\\u003cscript\\u003ealert(§)\\u003c/script\\u003e"),
    ("encoding", "\uff1cscript\uff1ealert(§)\uff1c/script\uff1e"),
    ("encoding", "<![CDATA[<script>alert(§)</script>]]>"),
    ("encoding", "<xmp><script>alert(§)</script></xmp>"),
    ("encoding", "<plaintext><script>alert(§)</script>"),
    ("encoding", "<!-- an unclosed comment §"),
    ("encoding", "<b>bold §</b> <i>and</i> <u>more</u>"),
    # Markdown: links to script, images, titles and code that try to leave their place,
    # raw HTML inside marks, and 4,000 characters of what parsers choke on
    ("markdown", "[click](javascript:window.__xss=§)"),
    ("markdown", "[mixed case](JaVaScRiPt:alert(§))"),
    ("markdown", "[entity](jav&#x61;script:alert(§))"),
    ("markdown", "[entity colon](javascript&colon;alert(§))"),
    ("markdown", "[percent](%6Aavascript:alert(§))"),
    ("markdown", "[percent colon](javascript%3Aalert(§))"),
    ("markdown", "[spaced]( javascript:alert(§) )"),
    ("markdown", "[split](java\tscript:alert(§))"),
    ("markdown", "[split line](java\nscript:alert(§))"),
    ("markdown", "[bracketed](<javascript:alert(§)>)"),
    ("markdown", "[escaped](javascript\\:alert(§))", Shown("[escaped](javascript:alert(§))")),
    ("markdown", "[data](data:text/html,<script>alert(§)</script>)"),
    ("markdown", "[data64](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==#§)"),
    ("markdown", "[vb](vbscript:msgbox(§))"),
    ("markdown", "![x](javascript:alert(§))"),
    ("markdown", "![x](data:image/svg+xml,<svg onload=alert(§)>)"),
    ("markdown", f"![probe §]({PROBE})", Shown("probe §", (("a", "probe §", PROBE),))),
    (
        "markdown",
        f"![]({PROBE}.png)",
        Shown(f"{PROBE}.png", (("a", f"{PROBE}.png", f"{PROBE}.png"),)),
    ),
    (
        "markdown",
        "[click][r§]\n\n[r§]: javascript:alert(§)",
        # Not a definition (its address is refused): two paragraphs of text.
        Shown(
            "[click][r§] [r§]: javascript:alert(§)",
            (("p", "[click][r§]"), ("p", "[r§]: javascript:alert(§)")),
            blocks=True,
        ),
    ),
    (
        "markdown",
        '[r§]\n\n[r§]: <JavaScript:alert(§)> "t"',
        Shown(
            '[r§] [r§]: <JavaScript:alert(§)> "t"',
            (("p", "[r§]"), ("p", '[r§]: <JavaScript:alert(§)> "t"')),
            blocks=True,
        ),
    ),
    ("markdown", "<javascript:alert(§)>"),
    ("markdown", "<JaVaScRiPt:window.__xss=§>"),
    ("markdown", "<data:text/html,alert(§)>"),
    ("markdown", "<vbscript:msgbox(§)>"),
    (
        "markdown",
        f'<{PROBE}"onmouseover="alert(§)>',
        Shown(
            f'{PROBE}"onmouseover="alert(§)',
            (("a", f'{PROBE}"onmouseover="alert(§)', f"{PROBE}%22onmouseover=%22alert(§)"),),
        ),
    ),
    (
        "markdown",
        f'{PROBE}?"onmouseover="alert(§)',
        Shown(
            f'{PROBE}?"onmouseover="alert(§)',
            (("a", f'{PROBE}?"onmouseover="alert(§)', f"{PROBE}?%22onmouseover=%22alert(§)"),),
        ),
    ),
    (
        "markdown",
        f'[x]({PROBE} "t\\" onmouseover=\\"alert(§))',
        # The title is never closed: no link, but the bare address in it is one.
        Shown(f'[x]({PROBE} "t" onmouseover="alert(§))', (("a", PROBE, PROBE),)),
    ),
    (
        "markdown",
        f'[x]({PROBE} "t\\" onmouseover=\\"alert(§)\\"")',
        Shown("x", (("a", "x", PROBE, 't" onmouseover="alert(§)"'),)),
    ),
    (
        "markdown",
        f"[x]({PROBE} 't\\' autofocus onfocus=\\'alert(§)')",
        Shown("x", (("a", "x", PROBE, "t' autofocus onfocus='alert(§)"),)),
    ),
    (
        "markdown",
        '[mail](mailto:x@example.invalid?subject="onmouseover="alert(§))',
        Shown(
            "mail", (("a", "mail", "mailto:x@example.invalid?subject=%22onmouseover=%22alert(§)"),)
        ),
    ),
    (
        "markdown",
        f"[<img src=x onerror=alert(§)>]({PROBE})",
        Shown("<img src=x onerror=alert(§)>", (("a", "<img src=x onerror=alert(§)>", PROBE),)),
    ),
    (
        "markdown",
        "**<img src=x onerror=alert(§)>**",
        Shown("<img src=x onerror=alert(§)>", (("strong", "<img src=x onerror=alert(§)>"),)),
    ),
    (
        "markdown",
        "`</code><img src=x onerror=alert(§)>`",
        Shown(
            "</code><img src=x onerror=alert(§)>",
            (("code", "</code><img src=x onerror=alert(§)>"),),
        ),
    ),
    (
        "markdown",
        "```\n</code></pre><script>alert(§)</script>\n```",
        Shown(
            "</code></pre><script>alert(§)</script>",
            (
                ("pre", "</code></pre><script>alert(§)</script>"),
                ("code", "</code></pre><script>alert(§)</script>"),
            ),
            blocks=True,
        ),
    ),
    (
        "markdown",
        '```"><script>window.__xss=§</script>\nwindow.__xss=§\n```',
        # An info string that is no language's name is the code's first line (as text),
        # never a class name.
        Shown(
            '"><script>window.__xss=§</script>\nwindow.__xss=§',
            (
                ("pre", '"><script>window.__xss=§</script> window.__xss=§'),
                ("code", '"><script>window.__xss=§</script> window.__xss=§'),
            ),
            blocks=True,
        ),
    ),
    (
        "markdown",
        "> - [x](javascript:alert(§))\n> - **<svg onload=alert(§)>**",
        Shown(
            "[x](javascript:alert(§)) <svg onload=alert(§)>",
            (
                ("blockquote", "[x](javascript:alert(§)) <svg onload=alert(§)>"),
                ("ul", "[x](javascript:alert(§)) <svg onload=alert(§)>"),
                ("li", "[x](javascript:alert(§))"),
                ("li", "<svg onload=alert(§)>"),
                ("strong", "<svg onload=alert(§)>"),
            ),
            blocks=True,
        ),
    ),
    (
        "markdown",
        "<div>\n\n*x* <script>alert(§)</script>\n\n</div>",
        Shown(
            "<div> x <script>alert(§)</script> </div>",
            (
                ("p", "<div>"),
                ("p", "x <script>alert(§)</script>"),
                ("em", "x"),
                ("p", "</div>"),
            ),
            blocks=True,
        ),
    ),
    (
        "markdown",
        "***~~_<script>alert(§)</script>_~~***",
        Shown(
            "<script>alert(§)</script>",
            tuple((tag, "<script>alert(§)</script>") for tag in ("em", "strong", "s", "em")),
        ),
    ),
    (
        "markdown",
        "*" * 20 + "window.__xss=§" + "*" * 20,
        Shown("window.__xss=§", (("strong", "window.__xss=§"),) * 10),
    ),
    ("markdown", Long("[", "](javascript:alert(§))")),
    ("markdown", Long("[x](", "javascript:alert(§)")),
    ("markdown", Long("![x](", "javascript:alert(§)")),
    ("markdown", Long("<http://a", "<javascript:alert(§)>", shown=links)),
    ("markdown", Long("*a* ", "alert(§)", shown=em_run)),
    ("markdown", Long("\\\\", head="alert(§) ", shown=backslashes)),
    # Quotes (and lists) in quotes deeper than the parser goes: shown as typed, since
    # markdown-it would drop what lies deeper (vibechat/formatting.py).
    ("markdown", Long("> ", head="<script>alert(§)</script>\n", fill=" ")),
    ("markdown", Long("> - ", head="<script>alert(§)</script>\n", fill=" ")),
]


@dataclass(frozen=True)
class Payload:
    number: int
    kind: str
    text: str
    markdown: Shown | None = None  # how its body reads, when not exactly as typed

    @property
    def body(self) -> str:
        """As a message body is stored: line endings normalised, ends trimmed."""
        return self.text.replace("\r\n", "\n").replace("\r", "\n").strip()

    @property
    def one_line(self) -> str:
        """As a title or display name is stored: runs of white space become one space."""
        return " ".join(self.text.split())

    def __str__(self) -> str:
        return f"payload {self.number} ({self.kind}) {self.text!r}"


def _payload(number: int, kind: str, text: str | Long, shown: Shown | None = None) -> Payload:
    if isinstance(text, Long):
        text, shown = text.build(number)
    elif shown is not None:
        shown = shown.numbered(number)
    return Payload(number, kind, text.replace("§", str(number)), shown)


PAYLOADS = [_payload(number, *entry) for number, entry in enumerate(RAW_PAYLOADS, 1)]
# What each body reads as where it is not exactly as typed: the rest are.
SHOWN = {p.body: p.markdown for p in PAYLOADS if p.markdown is not None}


def shown(body: str) -> Shown:
    """How a message body reads: as its payload says, or exactly as typed."""
    return SHOWN.get(body) or Shown(body)


NAME_PAYLOADS = [p for p in PAYLOADS if len(p.one_line) <= forms.DISPLAY_NAME_MAX]
TITLE_PAYLOADS = [p for p in PAYLOADS if len(p.one_line) <= forms.TITLE_MAX]
