"""Sessions: cookies, idle and absolute lifetimes, and the password-change page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support.app import app_config
from tests.support.db import count, user_id
from tests.support.html import field_error, html
from tests.support.live import close_code, live
from tests.support.people import PASSWORD, People, sign_in_again
from vibechat.app import create_app
from vibechat.models import Session, User, utcnow
from vibechat.sessions import TOUCH_EVERY

NEW_PASSWORD = "a brand new passphrase"


def cookie_attributes(response, name: str) -> list[str]:
    """The attributes of the Set-Cookie header for one cookie, lower-cased."""
    for header in response.headers.get_all("Set-Cookie"):
        if header.startswith(name + "="):
            return [part.strip().lower() for part in header.split(";")[1:]]
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_all('Set-Cookie')}")


async def register(person, username: str, **kwargs):
    await person.refresh_token("/register")
    return await person.post(
        "/register", {"username": username, "display_name": "", "password": PASSWORD}, **kwargs
    )


async def sessions_of(db, username: str) -> list[Session]:
    async with db.read() as session:
        uid = await user_id(db, username)
        return list(await session.scalars(select(Session).where(Session.user_id == uid)))


async def age_sessions(db, username: str, **ago) -> None:
    """Move every session of a person back in time (created_at / last_seen_at)."""
    uid = await user_id(db, username)
    async with db.write() as session:
        values = {column: utcnow() - delta for column, delta in ago.items()}
        await session.execute(update(Session).where(Session.user_id == uid).values(**values))
        await session.commit()


# -- cookies -----------------------------------------------------------------------------


async def test_over_plain_http_the_session_cookie_is_httponly_lax_and_not_secure(people):
    response = await register(people.anonymous(), "erin")
    attributes = cookie_attributes(response, "vibechat_session")
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "secure" not in attributes


async def test_over_https_every_cookie_is_secure_by_default(people):
    person = people.anonymous()
    page = await person.client.get("/register", scheme="https")
    assert "secure" in cookie_attributes(page, "vibechat_csrf")
    person.token = html(await page.get_data()).css_first('[name="csrf_token"]').attributes["value"]
    response = await person.post(
        "/register",
        {"username": "erin", "display_name": "", "password": PASSWORD},
        scheme="https",
        headers={"Origin": "https://localhost"},
    )
    assert response.status_code == 303
    attributes = cookie_attributes(response, "vibechat_session")
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)


@pytest.mark.parametrize(
    ("setting", "scheme", "secure"), [(True, "http", True), (False, "https", False)]
)
async def test_the_secure_cookies_setting_forces_the_flag_either_way(
    app_database_url, tmp_path, setting, scheme, secure
):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_SECURE_COOKIES=setting), testing=True
    )
    async with app.test_app():
        response = await app.test_client().get("/register", scheme=scheme)
    assert ("secure" in cookie_attributes(response, "vibechat_csrf")) is secure


async def test_behind_a_trusted_proxy_https_is_taken_from_x_forwarded_proto(
    app_database_url, tmp_path
):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    app = create_app(app_config(app_database_url, tmp_path, VIBECHAT_PROXY_HOPS=1), testing=True)
    async with app.test_app():
        response = await app.test_client().get("/register", headers=forwarded)
    assert "secure" in cookie_attributes(response, "vibechat_csrf")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_without_a_trusted_proxy_x_forwarded_proto_is_ignored(app):
    forwarded = {"X-Forwarded-Proto": "https"}
    response = await app.test_client().get("/register", headers=forwarded)
    assert "secure" not in cookie_attributes(response, "vibechat_csrf")
    assert "Strict-Transport-Security" not in response.headers


# -- lifetimes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ago",
    [
        {"last_seen_at": timedelta(days=14, seconds=1)},  # idle too long
        {"created_at": timedelta(days=30, seconds=1)},  # too old, though just used
    ],
    ids=["idle", "absolute"],
)
async def test_a_session_past_its_lifetime_ends(alice, db, ago):
    await age_sessions(db, "alice", **ago)
    response = await alice.get("/chats")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert await sessions_of(db, "alice") == []
    # The browser is told to forget the cookie as well.
    assert "max-age=0" in cookie_attributes(response, "vibechat_session") or any(
        "expires=thu, 01 jan 1970" in attribute
        for attribute in cookie_attributes(response, "vibechat_session")
    )


async def test_a_session_just_inside_its_lifetimes_still_works(alice, db):
    await age_sessions(
        db, "alice", created_at=timedelta(days=29, hours=23), last_seen_at=timedelta(days=13)
    )
    assert (await alice.get("/chats")).status_code == 200


async def test_lifetimes_are_settings(app_database_url, tmp_path):
    app = create_app(
        app_config(
            app_database_url, tmp_path, VIBECHAT_SESSION_IDLE=60, VIBECHAT_SESSION_LIFETIME=3600
        ),
        testing=True,
    )
    async with app.test_app():
        people = People(app)
        alice = await people("alice")
        db = app.extensions["db"]
        await age_sessions(db, "alice", last_seen_at=timedelta(seconds=59))
        assert (await alice.get("/chats")).status_code == 200
        await age_sessions(db, "alice", last_seen_at=timedelta(seconds=61))
        assert (await alice.get("/chats")).status_code == 303
        alice = await sign_in_again(people, "alice")
        await age_sessions(db, "alice", created_at=timedelta(seconds=3601))
        assert (await alice.get("/chats")).status_code == 303


async def test_using_a_session_keeps_it_alive_without_a_write_per_request(alice, db):
    await age_sessions(db, "alice", last_seen_at=TOUCH_EVERY / 2)
    (before,) = await sessions_of(db, "alice")
    await alice.get("/chats")
    (unchanged,) = await sessions_of(db, "alice")
    assert unchanged.last_seen_at == before.last_seen_at

    await age_sessions(db, "alice", last_seen_at=TOUCH_EVERY * 2)
    await alice.get("/chats")
    (touched,) = await sessions_of(db, "alice")
    assert utcnow() - touched.last_seen_at < timedelta(seconds=5)


async def test_signing_in_clears_the_persons_expired_sessions(people, alice, db):
    await age_sessions(db, "alice", last_seen_at=timedelta(days=20))
    await sign_in_again(people, "alice")
    assert len(await sessions_of(db, "alice")) == 1


async def test_an_open_socket_closes_when_its_session_lifetime_ends(
    app_database_url,
    tmp_path,
):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_SESSION_LIFETIME=2), testing=True
    )
    async with app.test_app():
        alice = await People(app)("alice")
        async with live(alice.client) as socket:
            assert await close_code(socket, within=5) == 1008


# -- changing the password ---------------------------------------------------------------


async def test_the_password_page_is_for_signed_in_people(people, alice):
    anonymous = people.anonymous()
    response = await anonymous.get("/account/password")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fpassword"
    page = await alice.page("/account/password")
    assert page.css_first("h1").text() == "Change your password"
    assert page.css_first("#current_password").attributes["autocomplete"] == "current-password"
    assert page.css_first("#new_password").attributes["autocomplete"] == "new-password"
    # The header links to the settings from every page, and they to it.
    chats = await alice.page("/chats")
    assert chats.css_first('nav a[href="/account"]') is not None
    settings = await alice.page("/account")
    assert settings.css_first('main a[href="/account/password"]') is not None


async def test_changing_the_password_ends_every_other_session_but_this_one(
    people, alice, bob, watercooler, db, app
):
    other_browser = await sign_in_again(people, "alice")
    bob_session = (await sessions_of(db, "bob"))[0].token_hash
    async with live(other_browser.client) as other_socket:
        response = await alice.post(
            "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/password?changed=1"
        assert await close_code(other_socket, within=2) == 1008

    page = await alice.page("/account/password?changed=1")
    assert "signed out" in page.css_first('[role="status"]').text()
    assert (await other_browser.get("/chats")).status_code == 303
    assert [s.token_hash for s in await sessions_of(db, "bob")] == [bob_session]
    assert len(await sessions_of(db, "alice")) == 1

    # The old password no longer signs in; the new one does.
    stranger = people.anonymous()
    await stranger.refresh_token("/login")
    old = await stranger.post("/login", {"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    new = await stranger.post("/login", {"username": "alice", "password": NEW_PASSWORD})
    assert new.status_code == 303


async def password_hash(db, username: str) -> str:
    async with db.read() as session:
        return await session.scalar(select(User.password_hash).where(User.username == username))


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        ("wrong password", NEW_PASSWORD, "current_password", "not your current password"),
        (PASSWORD, "short", "new_password", "at least 8"),
        (PASSWORD, "my alice password", "new_password", "must not contain the username"),
        (PASSWORD, "x" * 1025, "new_password", "at most 1024"),
    ],
)
async def test_a_refused_password_change_changes_nothing(
    people, alice, db, current, new, field, message
):
    other_browser = await sign_in_again(people, "alice")
    before = await password_hash(db, "alice")
    response = await alice.post(
        "/account/password", {"current_password": current, "new_password": new}
    )
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, field)
    # Nothing typed comes back in the page.
    assert current not in (await response.get_data(as_text=True))
    assert await password_hash(db, "alice") == before
    assert (await other_browser.get("/chats")).status_code == 200
    assert len(await sessions_of(db, "alice")) == 2


async def test_a_password_change_needs_this_sessions_token(people, alice, bob, db):
    before = await password_hash(db, "alice")
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    for token in (None, "0" * 64, bob.token):
        form = dict(data) if token is None else {**data, "csrf_token": token}
        response = await alice.post("/account/password", form, csrf=token is not None)
        assert response.status_code == 403
    assert await password_hash(db, "alice") == before
    assert await count(db, Session) == 2
