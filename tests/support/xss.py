"""The XSS corpus: hostile text for every place people type (tests/test_xss.py puts it
through the app in this process, tests/test_xss_browser.py in front of Chromium).

Each payload names its own number: `window.__xss=N`, `alert(N)`, `/xss-probe-N`.
"""

from __future__ import annotations

from dataclasses import dataclass

from vibechat import forms

# (class, payload); "§" becomes the payload's number.
RAW_PAYLOADS: list[tuple[str, str]] = [
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
    ("script", "line one\n<script>window.__xss=§</script>\n\tline three"),
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
    ("template", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    ("template", "{{ request.application.__globals__.__builtins__ }}"),
    ("template", "{{ self._TemplateReference__context }}"),
    ("template", "{%raw%}{{ 7*7 }}{%endraw%}"),
    ("template", "{# a Jinja comment #}visible §"),
    ("template", "${7*7}"),
    ("template", "${alert(§)}"),
    ("template", "`${document.title='pwned§'}`"),
    ("template", "#{7*7} <%= 7*7 %>"),
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
]


@dataclass(frozen=True)
class Payload:
    number: int
    kind: str
    text: str

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


PAYLOADS = [
    Payload(number, kind, text.replace("§", str(number)))
    for number, (kind, text) in enumerate(RAW_PAYLOADS, 1)
]
NAME_PAYLOADS = [p for p in PAYLOADS if len(p.one_line) <= forms.DISPLAY_NAME_MAX]
TITLE_PAYLOADS = [p for p in PAYLOADS if len(p.one_line) <= forms.TITLE_MAX]
