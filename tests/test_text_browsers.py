"""w3m and lynx, driven key by key in a terminal, sign in and send against a real server.

w3m posts HTTP/1.0 with a CRLF after the body that Content-Length does not count;
hypercorn answered a bare 400 until vibechat/http1.py forgave it (tests/test_http1.py
has the same bytes on a raw socket). lynx posts without the CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import live_server
from tests.support.terminal import Terminal, below_line, needs, on_line

pytestmark = pytest.mark.slow  # a hypercorn process, tmux and a text browser


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("text-browsers")) as url:
        yield url


def csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def someone_with_a_chat(base: str, title: str) -> tuple[str, httpx.Client, int]:
    """A person signed up (over HTTP/1.1) with a group chat: name, their client, chat id."""
    username = unique("wendy")
    client = httpx.Client(base_url=base, timeout=30)
    form = {"csrf_token": csrf(client.get("/register")), "username": username}
    assert client.post("/register", data={**form, "password": PASSWORD}).status_code == 303
    made = client.post("/chats", data={"csrf_token": csrf(client.get("/chats")), "title": title})
    assert made.status_code == 303
    return username, client, int(made.headers["Location"].rsplit("/", 1)[1])


def stored(client: httpx.Client, chat: int, text: str) -> bool:
    """The chat holds exactly one message (SPEC: `<li id="msg-…" data-seq>`), this one."""
    page = client.get(f"/chats/{chat}").text
    return len(re.findall(r'<li id="msg-[^"]*"[^>]* data-seq="', page)) == 1 and text in page


@pytest.fixture
def terminals(tmp_path) -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def test_w3m_signs_in_and_sends_a_message(server, tmp_path, terminals):
    needs("tmux", "w3m")
    username, client, chat = someone_with_a_chat(server, "Text browsers")
    # w3m edits a textarea in an editor: this one writes the message into its file.
    message = tmp_path / "message.txt"
    message.write_text("Hello from w3m\n")
    w3m = Terminal(
        ["w3m", "-o", "accept_cookie=1", "-o", "use_cookie=1",
         "-o", f"editor=cp {message}", f"{server}/login"],
        tmp_path / "home",
    )  # fmt: skip
    terminals.append(w3m)
    w3m.wait_for_text("Password [")

    w3m.move_to(on_line("Username ["), "Tab", "the username field")
    w3m.keys("Enter")
    w3m.wait_for_text("TEXT:")
    w3m.type(username)
    w3m.keys("Enter")
    w3m.move_to(on_line("Password ["), "Tab", "the password field")
    w3m.keys("Enter")
    w3m.wait_for_text("Password:")
    w3m.type(PASSWORD)
    w3m.keys("Enter")
    w3m.move_to(lambda lines, row: lines[row].strip() == "Log in", "Tab", "the Log in button")
    w3m.keys("Enter")  # POST /login over HTTP/1.0, with CRLF after the body
    w3m.wait_for_text("Your chats")

    w3m.move_to(on_line("Text browsers"), "Tab", "the chat's link")
    w3m.keys("Enter")
    w3m.wait_for_text("Say hello!")
    # The link landed at #newest, after the composer (issue 15): from the first line,
    # Tab goes forward to the composer's textarea, whose next line carries the label.
    w3m.keys("g")
    w3m.move_to(
        lambda lines, row: "[" in lines[row] and "Message" in lines[row] + lines[row + 1],
        "Tab",
        "the message box",
    )
    w3m.keys("Enter")
    w3m.wait_for_text("[Hello from w3m")
    w3m.move_to(lambda lines, row: lines[row].strip() == "Send", "Tab", "the Send button")
    w3m.keys("Enter")  # POST /chats/<id>/messages, the same shape

    w3m.wait_for(lambda screen: "Hello from w3m" in screen and "Say hello!" not in screen, "sent")
    assert stored(client, chat, "Hello from w3m")


def test_lynx_signs_in_and_sends_a_message(server, tmp_path, terminals):
    needs("tmux", "lynx")
    username, client, chat = someone_with_a_chat(server, "Text browsers")
    lynx = Terminal(["lynx", "-accept_all_cookies", "-nopause", f"{server}/login"], tmp_path)
    terminals.append(lynx)
    lynx.wait_for_text("Password ____")

    # lynx types into the field under the cursor; Down moves from field to field.
    lynx.move_to(on_line("Username ____"), "Down", "the username field")
    lynx.type(username)
    lynx.move_to(on_line("Password ____"), "Down", "the password field")
    lynx.type(PASSWORD)
    lynx.move_to(on_line("(BUTTON) Log in"), "Down", "the Log in button")
    lynx.keys("Enter")
    lynx.wait_for_text("Your chats")

    lynx.move_to(on_line("Text browsers"), "Down", "the chat's link")
    lynx.keys("Enter")
    lynx.wait_for_text("Say hello!")
    lynx.move_to(below_line("Message"), "Down", "the message box")
    lynx.type("Hello from lynx")
    lynx.move_to(on_line("(BUTTON) Send"), "Down", "the Send button")
    lynx.keys("Enter")

    lynx.wait_for(lambda screen: "Hello from lynx" in screen and "Say hello!" not in screen, "sent")
    assert stored(client, chat, "Hello from lynx")
