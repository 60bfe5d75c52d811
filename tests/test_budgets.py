"""The bandwidth budgets of SPEC section 7, measured by Chromium itself on a phone.

A 360x740 mobile context (touch, DPR 2, JavaScript on) opens a chat page holding 50
messages of about 200 characters each from five people, and the bytes are read from the
browser's own network events through a CDP session on the page (BROWSER.md section 5):

- first visit, cache disabled, everything included: at most 40 KB;
- repeat visit in the same context, cache enabled: at most 12 KB, and the versioned
  assets come from the cache (or are not requested at all);
- the WebSocket frame carrying a 200-character message: at most 1 KB of payload;
- pages, CSS and JavaScript arrive brotli-compressed; HTML is never cached without
  revalidation, versioned assets are cached for a year and immutable.

What a visit counts (every figure is printed, run with `pytest -s` to see them):

- every HTTP response whose request started during the visit: the document, app.css,
  the reader's /style/mine-<id>.css, htmx and its ws extension, our script (app.js and
  the modules it imports, static/js/*.js), and what app.js asks for once the socket is
  open (the catch-up GET). Each counts with the `encodedDataLength` of its
  Network.loadingFinished event: the bytes received for it, response headers included,
  compressed as they travelled. One exception: a request
  whose response the page never reads (such as a 204) may be cancelled by Chromium once
  its response has arrived (loadingFailed, net::ERR_ABORTED, canceled) and reports no
  loadingFinished; such a request counts what had arrived by then (responseReceived's
  encodedDataLength plus any dataReceived), which for a 204 is all of it. The favicon is
  a data: URL
  (`<link rel="icon" href="data:,">`), so it costs nothing and is never fetched;
- the WebSocket, which has no loadingFinished event: its handshake response (the
  headersText CDP reports, or the status line and headers rebuilt when it reports none)
  and every frame received during the visit, each counted as its uncompressed payload
  plus the 2-10 byte frame header. With permessage-deflate on the wire carries less, so
  this is an upper bound.

Request bytes sent by the browser are not counted: the budget is for what a slow phone
has to download.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    expect,
)

from tests.support.html import csrf_from
from tests.support.people import PASSWORD
from tests.support.servers import CHROMIUM_ARGS, PROJECT_ROOT, ServerFailed, live_server
from vibechat.templating import Script

pytestmark = pytest.mark.browser

KB = 1024
FIRST_VISIT_BUDGET = 40 * KB
REPEAT_VISIT_BUDGET = 12 * KB
LIVE_FRAME_BUDGET = 1 * KB
LIVE_MESSAGE_CHARS = 200
IMMUTABLE = "public, max-age=31536000, immutable"

TIMEOUT = 10_000  # ms, for every wait and expectation
QUIET = 1.5  # s without a network event (and nothing in flight) that ends a visit;
# longer than app.js's 500 ms read-mark delay, so what follows a read mark is counted too
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "java_script_enabled": True,
}
LOCALES = {"en": "en-US", "ru": "ru-RU"}
# Our own script: the entry module and the modules it imports, all fetched on a first
# visit (base.html preloads them).
# What a first visit fetches of our script: the entry and the modules it imports at
# once, not those it imports on demand (Script.ON_DEMAND: @ suggestions, on the message
# box's first focus).
OUR_SCRIPT = ["/static/app.js"] + [
    f"/static/js/{path.name}"
    for path in (PROJECT_ROOT / "static" / "js").glob("*.js")
    if f"js/{path.name}" not in Script.ON_DEMAND
]
SCRIPTS = [
    "/static/vendor/htmx-2.0.11.min.js",
    "/static/vendor/htmx-ext-ws-2.0.4.min.js",
    *OUR_SCRIPT,
]
READER = "maya"
PEOPLE = {
    "maya": "Maya Thompson",
    "priya": "Priya Raman",
    "jonas": "Jonas Becker",
    "wen": "Wen Li",
    "tomas": "Tomás García",
}


# -- fixtures: overrides of pytest-playwright's, and the live server ----------------------


@pytest.fixture(scope="module")
def browser(playwright, chromium_executable) -> Iterator[Browser]:
    # Chromium, whatever --browser says: the measurements need its DevTools protocol.
    browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def server_url(chromium_executable, tmp_path_factory) -> Iterator[str]:
    try:
        with live_server(tmp_path_factory.mktemp("budgets-instance")) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


# -- people and the chat, made over plain HTTP ---------------------------------------------


@dataclass
class Person:
    """Someone signed in through the forms with an HTTP client of their own."""

    username: str
    client: httpx.Client
    token: str = ""

    def refresh_token(self, path: str = "/chats") -> None:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        self.token = csrf_from(response.text)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.client.post(path, data={**data, "csrf_token": self.token})


def sign_up(server_url: str, username: str, display_name: str) -> Person:
    # httpx's 5 s is short for a busy machine (make test); an answer still must come.
    client = httpx.Client(base_url=server_url, follow_redirects=False, timeout=30)
    person = Person(username, client)
    person.refresh_token("/register")
    response = person.post(
        "/register",
        {"username": username, "display_name": display_name, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    person.refresh_token()
    return person


@dataclass
class Chat:
    url: str  # the chat page, absolute
    origin: str
    people: dict[str, Person]

    def cookies_of(self, username: str) -> list[dict]:
        """The person's cookies, to sign a browser context in as them."""
        return [
            {"name": cookie.name, "value": cookie.value, "url": self.origin}
            for cookie in self.people[username].client.cookies.jar
        ]


@pytest.fixture(scope="module")
def chat(server_url) -> Iterator[Chat]:
    """A group chat of five with the 50 messages of CONVERSATION, seeded over HTTP."""
    people = {name: sign_up(server_url, name, shown) for name, shown in PEOPLE.items()}
    others = " ".join(name for name in PEOPLE if name != READER)
    response = people[READER].post("/chats", {"title": "Street party 2025", "members": others})
    assert response.status_code == 303, response.text
    path = response.headers["Location"]
    assert re.fullmatch(r"/chats/\d+", path), path
    assert len(CONVERSATION) == 50
    assert len({author for author, _ in CONVERSATION}) == len(PEOPLE)
    for seq, (author, body) in enumerate(CONVERSATION, start=1):
        assert 190 <= len(body) <= 220, (len(body), body)
        form = {"body": dressed(seq, body)}
        if seq % REPLY_EVERY == 3:
            form["reply_to"] = str(seq - 2)
        response = people[author].post(path + "/messages", form)
        assert response.status_code == 303, response.text
    for seq, reactors in reactions().items():
        for name, emoji in reactors:
            answer = people[name].post(f"{path}/messages/{seq}/reactions", {"emoji": emoji})
            assert answer.status_code == 303, answer.text
    yield Chat(server_url + path, server_url, people)
    for person in people.values():
        person.client.close()


# A realistic mix (issue 17): a third of the messages formatted (a bold opening, every
# other one with a link), every fifth mentions someone, every seventh replies, every
# fourth has reactions. The texts stay CONVERSATION's, measured before the marks.
FORMAT_EVERY, MENTION_EVERY, REPLY_EVERY, REACT_EVERY = 3, 5, 7, 4


def dressed(seq: int, body: str) -> str:
    if seq % FORMAT_EVERY == 0:
        words = body.split(" ")
        body = "**" + " ".join(words[:4]) + "** " + " ".join(words[4:])
        if seq % (2 * FORMAT_EVERY) == 0:
            body += " Plan: https://streetparty.example/plan"
    if seq % MENTION_EVERY == 2:
        author = CONVERSATION[seq - 2][0]
        body = f"@{author} {body}"
    return body


def reactions() -> dict[int, list[tuple[str, str]]]:
    """seq -> (who, emoji): one to three people, one or two emoji."""
    names = list(PEOPLE)
    mixed = {}
    for seq in range(1, len(CONVERSATION) + 1):
        if seq % REACT_EVERY == 1:
            people = names[seq % 3 : seq % 3 + 1 + seq % 3]
            mixed[seq] = [(name, "👍" if i % 2 == 0 else "❤️") for i, name in enumerate(people)]
    return mixed


# -- the browser's own account of the bytes ------------------------------------------------


def frame_header_bytes(payload: int) -> int:
    """RFC 6455: 2 bytes, plus 2 or 8 for the extended length (server frames are unmasked)."""
    return 2 if payload < 126 else 4 if payload < 65536 else 10


def payload_bytes(frame: dict) -> int:
    """Length in bytes of a frame's payload: text is UTF-8, binary comes base64-encoded."""
    data = frame["payloadData"]
    return len(base64.b64decode(data)) if frame["opcode"] == 2 else len(data.encode())


def lower_keys(headers: dict) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


@dataclass
class Response:
    """One HTTP request of a visit, as the Network domain told it."""

    request_id: str
    url: str
    method: str
    kind: str = ""  # Document, Stylesheet, Script, Fetch...
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    encoded: int | None = None  # loadingFinished.encodedDataLength
    received: int = 0  # bytes so far: responseReceived's encodedDataLength + dataReceived
    from_cache: bool = False
    failed: str | None = None
    canceled: bool = False

    @property
    def done(self) -> bool:
        return self.encoded is not None or self.failed is not None

    @property
    def bytes(self) -> int:
        return self.encoded if self.encoded is not None else self.received

    @property
    def problem(self) -> str | None:
        """Why this request cannot be counted as a whole, if it cannot."""
        if self.encoded is not None:
            return None
        if self.canceled and self.status is not None:
            return None  # the page dropped a response it had already received
        return f"{self.url}: {self.failed or 'no loadingFinished'}"

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def encoding(self) -> str:
        return self.headers.get("content-encoding", "-")


@dataclass
class Socket:
    request_id: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    handshake: int = 0  # bytes of the handshake response (status line and headers)
    frames: list[dict] = field(default_factory=list)  # received: {"opcode", "payloadData"}

    @property
    def frame_bytes(self) -> int:
        return sum(
            payload_bytes(frame) + frame_header_bytes(payload_bytes(frame)) for frame in self.frames
        )

    @property
    def deflate(self) -> str:
        return self.headers.get("sec-websocket-extensions", "")


class Traffic:
    """Listens on a page's CDP session; `start()` begins a fresh account.

    Only requests and sockets that begin after start() are counted: late events of the
    previous document (a socket closing, a cancelled fetch) carry ids it does not know."""

    def __init__(self, cdp: CDPSession) -> None:
        self.cdp = cdp
        self.responses: dict[str, Response] = {}
        self.sockets: dict[str, Socket] = {}
        self.extra_request_headers: dict[str, dict] = {}
        self.redirects: list[str] = []
        self.last_event = time.monotonic()
        handlers = {
            "Network.requestWillBeSent": self._request,
            "Network.requestWillBeSentExtraInfo": self._request_extra,
            "Network.responseReceived": self._response,
            "Network.dataReceived": self._data,
            "Network.requestServedFromCache": self._served_from_cache,
            "Network.loadingFinished": self._finished,
            "Network.loadingFailed": self._failed,
            "Network.webSocketCreated": self._socket,
            "Network.webSocketHandshakeResponseReceived": self._handshake,
            "Network.webSocketFrameReceived": self._frame,
        }
        for event, handler in handlers.items():
            cdp.on(event, handler)
        cdp.send("Network.enable")

    def start(self) -> None:
        self.responses = {}
        self.sockets = {}
        self.extra_request_headers = {}
        self.redirects = []
        self.last_event = time.monotonic()

    def _seen(self) -> None:
        self.last_event = time.monotonic()

    def _request(self, event: dict) -> None:
        self._seen()
        request_id = event["requestId"]
        if "redirectResponse" in event:
            # Same id, next hop: the hop before would go uncounted, so it is a problem.
            self.redirects.append(f"unexpected redirect to {event['request']['url']}")
        self.responses[request_id] = Response(
            request_id,
            event["request"]["url"],
            event["request"]["method"],
            kind=event.get("type", ""),
            request_headers=self.extra_request_headers.get(request_id, {}),
        )

    def _request_extra(self, event: dict) -> None:
        # The headers as sent on the wire (Accept-Encoding is added below Blink).
        headers = lower_keys(event.get("headers", {}))
        self.extra_request_headers[event["requestId"]] = headers
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]].request_headers = headers

    def _response(self, event: dict) -> None:
        self._seen()
        entry = self.responses.get(event["requestId"])
        if entry is None:
            return
        response = event["response"]
        entry.status = response["status"]
        entry.headers = lower_keys(response.get("headers", {}))
        entry.kind = event.get("type", entry.kind)
        entry.received += int(response.get("encodedDataLength", 0))
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            entry.from_cache = True

    def _data(self, event: dict) -> None:
        self._seen()
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]].received += int(event.get("encodedDataLength", 0))

    def _served_from_cache(self, event: dict) -> None:
        self._seen()
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]].from_cache = True

    def _finished(self, event: dict) -> None:
        self._seen()
        if event["requestId"] in self.responses:
            self.responses[event["requestId"]].encoded = int(event["encodedDataLength"])

    def _failed(self, event: dict) -> None:
        self._seen()
        if event["requestId"] in self.responses:
            entry = self.responses[event["requestId"]]
            entry.failed = event.get("errorText", "failed")
            entry.canceled = bool(event.get("canceled"))

    def _socket(self, event: dict) -> None:
        self._seen()
        self.sockets[event["requestId"]] = Socket(event["requestId"], event["url"])

    def _handshake(self, event: dict) -> None:
        self._seen()
        socket = self.sockets.get(event["requestId"])
        if socket is None:
            return
        response = event["response"]
        socket.status = response["status"]
        socket.headers = lower_keys(response.get("headers", {}))
        text = response.get("headersText") or (
            f"HTTP/1.1 {response['status']} {response.get('statusText', '')}\r\n"
            + "".join(f"{key}: {value}\r\n" for key, value in response["headers"].items())
            + "\r\n"
        )
        socket.handshake = len(text.encode())

    def _frame(self, event: dict) -> None:
        self._seen()
        socket = self.sockets.get(event["requestId"])
        if socket is not None:
            socket.frames.append(event["response"])

    def settle(self, page: Page, timeout: float = TIMEOUT / 1000) -> None:
        """Wait until nothing is in flight and no event has come for QUIET seconds."""
        deadline = time.monotonic() + timeout
        while True:
            page.wait_for_timeout(100)  # lets Playwright dispatch the CDP events
            pending = [entry.url for entry in self.responses.values() if not entry.done]
            if not pending and time.monotonic() - self.last_event >= QUIET:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the network did not settle; still loading: {pending}")

    def total(self) -> int:
        http = sum(entry.bytes for entry in self.responses.values())
        ws = sum(socket.handshake + socket.frame_bytes for socket in self.sockets.values())
        return http + ws

    def report(self, title: str, origin: str) -> str:
        rows = [f"{title}:"]
        for entry in self.responses.values():
            url = entry.url.removeprefix(origin)
            cached = " (from cache)" if entry.from_cache else ""
            failed = f" FAILED {entry.failed}" if entry.failed else ""
            if entry.failed and not entry.problem:
                failed = f" ({entry.failed}: dropped by the page after its response arrived)"
            rows.append(
                f"  {entry.bytes:>7,} B  {entry.status or '-'}  {entry.encoding:<5}"
                f"  {entry.method:<4} {url}{cached}{failed}"
            )
        for socket in self.sockets.values():
            url = socket.url.replace(origin.replace("http", "ws", 1), "")
            rows.append(
                f"  {socket.handshake:>7,} B  {socket.status or '-'}  -      WS   {url}"
                f" handshake response (extensions: {socket.deflate or 'none'})"
            )
            rows.append(
                f"  {socket.frame_bytes:>7,} B  -    -      WS   {url}"
                f" {len(socket.frames)} frame(s) received"
            )
        rows.append(f"  {self.total():>7,} B  total ({self.total() / KB:.1f} KB)")
        return "\n".join(rows)

    def problems(self) -> list[str]:
        found = [entry.problem for entry in self.responses.values() if entry.problem]
        return self.redirects + found


@dataclass
class Visit:
    total: int
    responses: list[Response]
    sockets: list[Socket]
    problems: list[str]

    def by_path(self, path: str) -> list[Response]:
        return [entry for entry in self.responses if entry.path == path]


def open_chat(page: Page, traffic: Traffic, url: str) -> Visit:
    """Navigate, wait for the page to be live and the network to go quiet, count."""
    traffic.start()
    response = page.goto(url)
    assert response is not None and response.status == 200, response and response.status
    # Live, in whichever language the page speaks.
    expect(page.locator("#connection-state")).to_have_attribute(
        "data-live", "true", timeout=TIMEOUT
    )
    expect(page.locator("#messages > li.message")).to_have_count(50, timeout=TIMEOUT)
    traffic.settle(page)
    return Visit(
        traffic.total(),
        list(traffic.responses.values()),
        list(traffic.sockets.values()),
        traffic.problems(),
    )


def phone(browser: Browser, chat: Chat, language: str) -> tuple[BrowserContext, Page, Traffic]:
    """The phone, in a browser that asks for `language` first (Accept-Language)."""
    context = browser.new_context(**PHONE, locale=LOCALES[language])
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    context.add_cookies(chat.cookies_of(READER))
    page = context.new_page()
    return context, page, Traffic(context.new_cdp_session(page))


@dataclass
class Visits:
    first: Visit
    repeat: Visit


@pytest.fixture(scope="module", params=list(LOCALES))
def visits(browser, chat, request) -> Iterator[Visits]:
    """The same phone opens the chat twice: cold with the cache off, then with it on; in
    English and in Russian (whose words take two bytes a letter)."""
    context, page, traffic = phone(browser, chat, request.param)
    try:
        traffic.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        first = open_chat(page, traffic, chat.url)
        print("\n" + traffic.report("First visit (cache disabled)", chat.origin))
        traffic.cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        repeat = open_chat(page, traffic, chat.url)
        print("\n" + traffic.report("Repeat visit (cache enabled)", chat.origin))
        yield Visits(first, repeat)
    finally:
        context.close()


def is_versioned_asset(entry: Response) -> bool:
    """The URLs that never change: /static/...?v=<hash>, our script under
    /static/v-<hash>/, and /style/mine-<id>.css."""
    parts = urlsplit(entry.url)
    if parts.path.startswith("/static/"):
        return "v=" in parts.query or re.match(r"/static/v-[0-9a-f]{12}/", parts.path) is not None
    return re.fullmatch(r"/style/mine-\d+\.css", parts.path) is not None


# -- the budgets ---------------------------------------------------------------------------


def test_first_visit_of_a_chat_with_50_messages_is_at_most_40_kb(visits, chat):
    first = visits.first
    assert not first.problems, first.problems
    kinds = {entry.kind for entry in first.responses}
    assert {"Document", "Stylesheet", "Script"} <= kinds, kinds
    scripts = sorted(
        re.sub(r"^/static/v-[0-9a-f]{12}/", "/static/", entry.path)
        for entry in first.responses
        if entry.path.endswith(".js")
    )
    assert scripts == sorted(SCRIPTS), scripts
    assert first.by_path("/static/app.css"), "app.css was not loaded"
    assert [entry for entry in first.responses if entry.path.startswith("/style/mine-")]
    assert not [entry for entry in first.responses if entry.from_cache], "the cache was used"
    # No third-party requests of any kind (SPEC 7): everything is the server's own.
    origin = urlsplit(chat.origin).netloc
    foreign = [
        entry.url
        for entry in first.responses
        if urlsplit(entry.url).scheme != "data" and urlsplit(entry.url).netloc != origin
    ] + [socket.url for socket in first.sockets if urlsplit(socket.url).netloc != origin]
    assert not foreign, foreign
    print(f"\nfirst visit: {first.total:,} B of {FIRST_VISIT_BUDGET:,} B")
    assert first.total <= FIRST_VISIT_BUDGET, (
        f"first visit downloads {first.total:,} B, more than {FIRST_VISIT_BUDGET:,} B"
    )


def test_repeat_visit_is_at_most_12_kb_with_the_assets_from_the_cache(visits):
    first, repeat = visits.first, visits.repeat
    assert not repeat.problems, repeat.problems
    documents = [entry for entry in repeat.responses if entry.kind == "Document"]
    assert len(documents) == 1 and documents[0].status == 200, documents
    assets = [entry.url for entry in first.responses if is_versioned_asset(entry)]
    # app.css, mine-<id>.css, htmx, its ws extension, app.js and its modules
    assert len(assets) == 4 + len(OUR_SCRIPT), assets
    refetched = [
        f"{entry.url}: {entry.encoded} B"
        for entry in repeat.responses
        if entry.url in assets and not (entry.from_cache and not entry.encoded)
    ]
    assert not refetched, f"versioned assets came over the network again: {refetched}"
    print(f"\nrepeat visit: {repeat.total:,} B of {REPEAT_VISIT_BUDGET:,} B")
    assert repeat.total <= REPEAT_VISIT_BUDGET, (
        f"repeat visit downloads {repeat.total:,} B, more than {REPEAT_VISIT_BUDGET:,} B"
    )


@pytest.mark.parametrize("language", list(LOCALES))
def test_live_frame_for_a_200_character_message_is_at_most_1_kb(browser, chat, language):
    context, page, traffic = phone(browser, chat, language)
    try:
        open_chat(page, traffic, chat.url)
        [socket] = [socket for socket in traffic.sockets.values() if socket.status == 101]
        before = len(socket.frames)
        marker = secrets.token_hex(6)
        text = (
            f"Permit pack posted by recorded delivery today, tracking number {marker}. "
            "The broker's certificate is in the shared folder and the council promised a reply "
            "within ten working days. Fingers crossed!"
        )
        assert len(text) == LIVE_MESSAGE_CHARS
        response = chat.people["priya"].post(urlsplit(chat.url).path + "/messages", {"body": text})
        assert response.status_code == 303, response.text
        expect(page.locator("#messages > li.message").last).to_contain_text(marker, timeout=TIMEOUT)
        frames = [
            frame for frame in socket.frames[before:] if marker in frame.get("payloadData", "")
        ]
        assert len(frames) == 1, f"{len(frames)} frames carry the message"
        size = payload_bytes(frames[0])
        deflate = socket.deflate
        print(
            f"\nlive frame for a {LIVE_MESSAGE_CHARS}-character message: {size:,} B of payload"
            f" (budget {LIVE_FRAME_BUDGET:,} B); permessage-deflate negotiated:"
            f" {'yes (' + deflate + ')' if 'permessage-deflate' in deflate else 'no'}"
            f"\n  payload: {frames[0]['payloadData']}"
        )
        assert size <= LIVE_FRAME_BUDGET, (
            f"the frame for a {LIVE_MESSAGE_CHARS}-character message is {size:,} B: "
            + frames[0]["payloadData"]
        )
    finally:
        context.close()


def test_pages_and_assets_are_brotli_compressed_with_the_right_cache_headers(visits):
    first = visits.first
    [document] = [entry for entry in first.responses if entry.kind == "Document"]
    [css] = first.by_path("/static/app.css")
    scripts = [entry for entry in first.responses if entry.path.endswith(".js")]
    assert "br" in document.request_headers.get("accept-encoding", ""), document.request_headers
    wrong = {
        entry.path: entry.encoding for entry in [document, css, *scripts] if entry.encoding != "br"
    }
    assert not wrong, f"not brotli-compressed: {wrong}"
    cache_control = document.headers.get("cache-control", "")
    assert "no-cache" in [part.strip() for part in cache_control.split(",")], cache_control
    assets = [entry for entry in first.responses if is_versioned_asset(entry)]
    wrong = {
        entry.url: entry.headers.get("cache-control")
        for entry in assets
        if entry.headers.get("cache-control") != IMMUTABLE
    }
    assert not wrong, f"versioned assets without {IMMUTABLE!r}: {wrong}"
    # Bytes for nothing on every response (vibechat/hypercorn_config.py, headers.py).
    advertised = [entry.path for entry in first.responses if "server" in entry.headers]
    assert not advertised, f"a Server header on {advertised}"
    assets = [entry for entry in first.responses if entry.kind in ("Stylesheet", "Script")]
    assert assets and not [entry for entry in assets if "referrer-policy" in entry.headers]


# -- the conversation: 50 messages of about 200 characters, five people ----------------

CONVERSATION = [
    (
        "priya",
        "Morning all! The council finally replied about the street party permit. They "
        "want a map of the closed section, a named first-aider and proof of insurance "
        "by Friday the 14th, otherwise we slip to July.",
    ),
    (
        "jonas",
        "Great news, sort of. I can draw the map tonight: it's only the stretch from "
        "the bakery corner to the school gate, right? Do they want it on their template "
        "or is a hand-drawn sketch with measurements fine?",
    ),
    (
        "maya",
        "Their template, sadly. It's a PDF form with a grid on page 3. I filled one in "
        "for the plant sale two years ago, so I'll dig out my copy and send it over so "
        "you can see what level of detail they accepted.",
    ),
    (
        "wen",
        "I did the first-aid course at work in March and the certificate is valid for "
        "three years. Happy to be the named person as long as someone covers me for an "
        "hour around lunch so I can actually eat something.",
    ),
    (
        "tomas",
        "Insurance is the tricky one. Last year's policy was through the residents' "
        "association and it lapsed in December. I rang the broker yesterday; they "
        "quoted £185 for one day, public liability up to five million.",
    ),
    (
        "priya",
        "£185 is more than I hoped but less than I feared. We have £240 left in the "
        "kitty from the quiz night, so it's covered, but that leaves almost nothing for "
        "bunting, the bouncy castle deposit or the sound system.",
    ),
    (
        "maya",
        "We could ask the bakery and the pub to chip in? They both did well out of it "
        "last time. Rosa at the bakery said she sold out of sausage rolls by two "
        "o'clock and had to send her nephew for more flour.",
    ),
    (
        "jonas",
        "I'll ask at the Red Lion when I'm in on Thursday for the pub quiz. Gary owes "
        "us a favour anyway after we moved the recycling bins away from his beer garden "
        "so the smell stopped bothering his customers.",
    ),
    (
        "wen",
        "Does anyone know if we still need the road closure signs from the highways "
        "people, or can we borrow the folding ones the school uses for the drop-off "
        "zone? Those have the proper reflective strips on them.",
    ),
    (
        "tomas",
        "Council rules say official signs, placed 48 hours before. The school ones "
        "won't pass. Highways lends them for free but you have to collect from the "
        "depot in Ashford between 8 and 10 on a weekday morning.",
    ),
    (
        "priya",
        "I work from home on Wednesdays so I can do the depot run if someone with a "
        "bigger car comes along. My hatchback fits maybe four signs, and I think we "
        "need six: two at each end and one for each side street.",
    ),
    (
        "maya",
        "My brother has a van he barely uses. I'll ask if we can borrow it for the "
        "morning of the 26th. He'll want it back with a full tank and probably a slice "
        "of Wen's lemon drizzle cake as a thank-you, to be fair.",
    ),
    (
        "wen",
        "Cake can be arranged 😄 I was planning to bake for the stall anyway. Last year "
        "we raised £96 from cakes alone. This year I'd like to label everything with "
        "allergens, because two parents asked about nuts.",
    ),
    (
        "jonas",
        "Good shout on the allergens. There's a free printable template on the Food "
        "Standards Agency site with the fourteen major allergens listed. I'll print a "
        "stack of them at the library when I'm next in.",
    ),
    (
        "tomas",
        "Speaking of which, do we need a food hygiene certificate for a cake stall? I "
        "remember some argument about it last year but not how it ended. I'd rather not "
        "get caught out by an inspector on the day.",
    ),
    (
        "priya",
        "For a one-off community event selling homemade cakes, no registration is "
        "needed, but we should follow basic hygiene: covered food, tongs, hand gel and "
        "a note of who baked what in case anyone reacts badly.",
    ),
    (
        "maya",
        "I'll keep the list of bakers with names and phone numbers in a folder at the "
        "stall. Easy enough. Who's organising the music this year? Last time the "
        "speaker died halfway through the raffle announcement.",
    ),
    (
        "wen",
        "My cousin DJs at weddings and offered to do two hours for free if we feed him "
        "and let him hand out a few business cards. He has his own PA and a generator, "
        "so we wouldn't need power from anyone's house.",
    ),
    (
        "jonas",
        "Free plus a generator sounds ideal. Can we check the noise rules though? The "
        "council letter mentions amplified music only between 12:00 and 18:00 and a "
        "complaints phone number displayed at both ends of the road.",
    ),
    (
        "tomas",
        "The phone number could just be one of ours on the same sign as the programme. "
        "I'm happy for it to be mine; I'll be around the whole day anyway, running the "
        "tombola and guarding the cash box next to the stall.",
    ),
    (
        "priya",
        "Perfect. So, the draft plan: 11:00 setup, 12:00 opening, 13:00 kids' races, "
        "14:30 dog show, 16:00 raffle, 17:30 music winds down, 18:00 road reopens. Have "
        "I missed anything obvious from last year's schedule?",
    ),
    (
        "maya",
        "The tug of war! The kids from number 12 and 14 have been training since "
        "Easter, apparently. Also the face painting, though Hannah said she can only do "
        "the morning because of her daughter's swimming gala.",
    ),
    (
        "wen",
        "Put face painting 12:00 to 14:00 then. Tug of war after the dog show, maybe "
        "15:30, when people have had lunch and are feeling competitive. We need a long "
        "rope: the scout hut had one, if it hasn't rotted.",
    ),
    (
        "jonas",
        "I'm a scout leader, as it happens, and the rope is fine. It's 20 metres, so "
        "it'll fit between the lamp posts outside numbers 30 and 38. I'll bring gloves "
        "too after the blister incident of two years ago.",
    ),
    (
        "tomas",
        "Please never mention the blister incident in front of my mother again. She "
        "still thinks it was a sports injury and tells the neighbours I was hurt "
        "playing rugby, which I am very happy to let her believe.",
    ),
    (
        "priya",
        "Haha, noted. Budget check: insurance £185, generator fuel maybe £20, bunting "
        "£30 if we buy new, prizes £40. That's £275 against £240 in the kitty, so we "
        "need at least £35 in donations before we order anything.",
    ),
    (
        "maya",
        "Could we reuse last year's bunting? I think it's in a bin bag in my loft. Some "
        "of it got rained on, but most of the flags were fine. I'll have a look tonight "
        "and count how many metres survived the winter.",
    ),
    (
        "wen",
        "If it's mouldy, don't bother; it'll smell for the whole day. But if it's just "
        "creased we can iron it. My mum has an industrial steam iron from her "
        "dressmaking days and would love an excuse to lend it out.",
    ),
    (
        "jonas",
        "Just spoke to Gary at the pub: he'll give £50 and put our poster in the "
        "window, on condition we mention the Red Lion in the programme and let him sell "
        "drinks from a table outside. Seems fair to me?",
    ),
    (
        "tomas",
        "Fine by me, as long as drinks stay on his side of the road. The licence "
        "condition last year was that alcohol couldn't be carried into the closed "
        "section, and the police did actually check it around four.",
    ),
    (
        "priya",
        "Good point. I'll add a sentence to the programme: 'Drinks from the Red Lion "
        "stay at the Red Lion.' Friendly but clear. Rosa from the bakery also said yes, "
        "£30, plus a voucher for the raffle as a prize.",
    ),
    (
        "maya",
        "Brilliant, that's £80 in donations, so we're in the black even before the cake "
        "stall. I found the bunting: about 60 metres usable, 15 metres mouldy. The "
        "mouldy bits have gone straight in the general waste.",
    ),
    (
        "wen",
        "60 metres is plenty for our stretch. Jonas, can you borrow the scouts' long "
        "ladder too? Last year we had someone standing on a wheelie bin to tie the "
        "bunting to the lamp posts, which still gives me nightmares.",
    ),
    (
        "jonas",
        "Ladder is booked for the 25th and 26th. I'll need help carrying it though; "
        "it's aluminium but still awkward round corners. Tomás, you're on the other end "
        "of it, since you're the one with the rugby injury.",
    ),
    (
        "tomas",
        "Very funny. Yes, I'll help. Anything else for the permit form? I want to post "
        "it on Thursday by recorded delivery so there's proof it arrived, because last "
        "time they claimed it got lost and we nearly lost the date.",
    ),
    (
        "priya",
        "Map from Jonas, first-aider Wen with a copy of her certificate, insurance "
        "certificate once we pay, and a list of stewards. We need four stewards with "
        "hi-vis vests, each named with a mobile number.",
    ),
    (
        "maya",
        "I can steward in the afternoon. My sister-in-law offered the morning slot. And "
        "I'll ask Mr Okafor at number 9; he used to be a lollipop man outside the "
        "primary school and loves an excuse to wear a hi-vis.",
    ),
    (
        "wen",
        "I'll be first-aider so I can't steward, sadly. Does the first-aid kit from "
        "last year still exist? It was in the scout hut next to the rope, I think, in a "
        "green box with a white cross and a broken clasp.",
    ),
    (
        "jonas",
        "It's there, but half the plasters went on the blister incident 😬 I'll restock "
        "it from the chemist: plasters, wipes, cold packs, gloves, a foil blanket, and "
        "some antihistamine cream for the wasp season.",
    ),
    (
        "tomas",
        "Stewards so far: Maya afternoon, Maya's sister-in-law morning, maybe Mr "
        "Okafor. I can do the first hour before the tombola. We still need one more "
        "person for the whole day, or two people to split the day.",
    ),
    (
        "priya",
        "I'll put a call out in the residents' newsletter. Someone usually volunteers "
        "if you promise them a free slice of cake and a mention in the thank-you list, "
        "especially the retired couple at number 41.",
    ),
    (
        "maya",
        "The newsletter goes out on the 10th, which is after the permit deadline. Can "
        "we name stewards later, or does the council need the full list up front? Worth "
        "checking before we post the form on Thursday.",
    ),
    (
        "wen",
        "I rang the events team just now. They need at least two names on the form and "
        "the rest can follow by email up to a week before. So Maya and Tomás on the "
        "form, and the others when we know who they are.",
    ),
    (
        "jonas",
        "Map is done. I measured with a wheel this morning: 210 metres from the bakery "
        "corner to the school gate, two side streets, six signs. Uploading the scan to "
        "the shared folder now; tell me if it's too blurry.",
    ),
    (
        "tomas",
        "Map looks great. One thing: the council form asks for the access route for "
        "emergency vehicles. I'd say the middle of the road stays clear, 3.5 metres "
        "wide, with the stalls on the pavement side only.",
    ),
    (
        "priya",
        "Agreed, and I'll mark it on the map in red. Also, for the dog show: should we "
        "ask people to register in advance? Last year 23 dogs turned up and the judging "
        "took an hour and a half in the hot sun.",
    ),
    (
        "maya",
        "Advance registration with a cap of 15 dogs. And a water bowl station in the "
        "shade by the school gate. I'll make a simple sign-up sheet and leave it at the "
        "bakery counter, next to the charity tin.",
    ),
    (
        "wen",
        "Love it. Categories? Waggiest tail, best trick, dog most like its owner, and "
        "best rescue. The vet on Station Road said she'd judge again if we start the "
        "show on time so she can get back to her surgery.",
    ),
    (
        "jonas",
        "Permit pack checklist: form signed, map, insurance once paid, first-aid "
        "certificate, two steward names, emergency route in red. Tomás, send me the "
        "broker's payment link and I'll sort it from the kitty.",
    ),
    (
        "tomas",
        "Link sent. Thanks everyone, this is the most organised we've ever been three "
        "weeks out. If the weather holds, it'll be the best one yet. Same time next "
        "week for a check-in, or whenever something goes wrong?",
    ),
]
