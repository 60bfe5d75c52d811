"""People who sign up over HTTP in a browser context of their own (JavaScript off), and
the browsers opened signed in as them: for browser modules whose tests each make their
own people on one served instance (tests/test_pages_browser.py,
tests/test_timezones_browser.py). The in-process twin is tests/support/people.py."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Browser, BrowserContext, Page

from tests.support.browser import TIMEOUT
from tests.support.pages import csrf_in
from tests.support.people import PASSWORD
from tests.support.remote import unique


@dataclass
class Person:
    """Someone signed up over HTTP; People.page() opens browsers signed in as them."""

    username: str
    display_name: str
    first: BrowserContext  # the context they signed up in (JavaScript off: no socket)

    def post(self, path: str, form: dict) -> str:
        """A form POST as them, not followed: the Location of the 303."""
        token = csrf_in(self.first.request.get("/chats").text())
        answer = self.first.request.post(path, form={**form, "csrf_token": token}, max_redirects=0)
        assert answer.status == 303, (path, answer.status, answer.text()[:300])
        return answer.headers["location"]

    def create_chat(self, title: str, *members: Person) -> int:
        location = self.post(
            "/chats", {"title": title, "members": " ".join(m.username for m in members)}
        )
        return int(re.search(r"/chats/(\d+)", location).group(1))

    def say(self, chat: int, body: str) -> None:
        self.post(f"/chats/{chat}/messages", {"body": body, "client_token": uuid.uuid4().hex})


class People:
    """Makes people by name (a unique username each) and their browsers; `defaults` are
    context options every browser gets unless a call says otherwise."""

    def __init__(self, browser: Browser, url: str, **defaults) -> None:
        self.browser, self.url, self.defaults = browser, url, defaults
        self.contexts: list[BrowserContext] = []

    def __call__(self, name: str, display_name: str) -> Person:
        context = self.context(java_script_enabled=False)
        token = csrf_in(context.request.get("/register").text())
        form = {
            "username": unique(name),
            "display_name": display_name,
            "password": PASSWORD,
            "csrf_token": token,
        }
        answer = context.request.post("/register", form=form, max_redirects=0)
        assert answer.status == 303, answer.text()[:300]
        return Person(form["username"], display_name, context)

    def context(self, person: Person | None = None, **args) -> BrowserContext:
        if person is not None:
            # Only the session: the first context's cookies (it ran no script).
            args["storage_state"] = person.first.storage_state()
        context = self.browser.new_context(base_url=self.url, **{**self.defaults, **args})
        context.set_default_timeout(TIMEOUT)
        context.set_default_navigation_timeout(TIMEOUT)
        self.contexts.append(context)
        return context

    def page(self, person: Person, **args) -> Page:
        return self.context(person, **args).new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()
