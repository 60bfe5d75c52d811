"""The vendored browser code is exactly what was recorded, and pages load it by version."""

from __future__ import annotations

import gzip
import hashlib
import re

import brotli

from vibechat.config import PROJECT_ROOT
from vibechat.templating import Script

VENDOR = PROJECT_ROOT / "static" / "vendor"
STATIC_CSS = PROJECT_ROOT / "static" / "app.css"


def recorded() -> dict[str, str]:
    sums = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


def test_every_vendored_file_matches_its_recorded_sha256():
    sums = recorded()
    files = {path.name for path in VENDOR.iterdir() if path.name != "SHA256SUMS"}
    assert files == set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_vendored_files_are_the_versions_their_names_say():
    sums = recorded()
    assert set(sums) == {"htmx-2.0.11.min.js", "htmx-ext-ws-2.0.4.min.js"}
    assert 'version:"2.0.11"' in (VENDOR / "htmx-2.0.11.min.js").read_text()
    assert 'defineExtension("ws"' in (VENDOR / "htmx-ext-ws-2.0.4.min.js").read_text()


async def test_signed_in_pages_load_htmx_the_extension_and_app_js_and_nothing_inline(alice):
    page = (await (await alice.get("/chats")).get_data()).decode()
    vendored = re.findall(r'<script src="([^"?]+)\?v=[0-9a-f]{12}" defer></script>', page)
    # Our script is one module (it imports the others), in a versioned folder.
    ours = re.findall(
        r'<script type="module" src="/static/v-[0-9a-f]{12}/([^"?]+)"></script>', page
    )
    sources = vendored + [f"/static/{name}" for name in ours]
    assert sources == [
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/htmx-ext-ws-2.0.4.min.js",
        "/static/app.js",
    ]
    assert page.count("<script") == 3
    assert "hx-on" not in page and "javascript:" not in page


def test_our_own_script_uses_no_eval_and_no_inline_handlers():
    static = PROJECT_ROOT / "static"
    for path in [static / "app.js", *(static / "js").glob("*.js")]:
        script = path.read_text()
        for forbidden in ("eval(", "new Function", "innerHTML = '<script", "setTimeout('", "hx-on"):
            assert forbidden not in script, path


async def test_static_files_have_content_hashed_urls_cached_for_a_year(alice):
    page = (await (await alice.get("/chats")).get_data()).decode()
    css = re.search(r'href="(/static/app\.css\?v=([0-9a-f]{12}))"', page)
    digest = hashlib.sha256((PROJECT_ROOT / "static" / "app.css").read_bytes()).hexdigest()
    assert css.group(2) == digest[:12]
    response = await alice.get(css.group(1))
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = await alice.get("/static/app.css")
    assert plain.headers["Cache-Control"] == "no-cache"


async def test_pages_and_assets_are_compressed_when_the_browser_accepts_it(alice):
    for path in ("/chats", "/static/app.css", "/static/vendor/htmx-2.0.11.min.js"):
        raw = await alice.get(path)
        assert "Content-Encoding" not in raw.headers
        for encoding in ("br", "gzip"):
            response = await alice.get(path, headers={"Accept-Encoding": encoding})
            assert response.headers["Content-Encoding"] == encoding, path
            assert "Accept-Encoding" in response.headers["Vary"]
            assert len(await response.get_data()) < len(await raw.get_data()) / 2, path
    page = await alice.get("/chats")
    assert page.headers["Cache-Control"] == "no-cache, private"


async def test_our_script_is_served_from_one_versioned_folder_cached_for_a_year(alice):
    page = (await (await alice.get("/chats")).get_data()).decode()
    entry = re.search(
        r'<script type="module" src="/static/v-([0-9a-f]{12})/app\.js"></script>', page
    )
    preloaded = re.findall(
        r'<link rel="modulepreload" href="/static/v-([0-9a-f]{12})/([^"]+)">', page
    )
    static = PROJECT_ROOT / "static"
    names = ["app.js", *(f"js/{path.name}" for path in sorted((static / "js").glob("*.js")))]
    # One version over every module: a change to any of them moves them all.
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (static / name).read_bytes())
    version = entry.group(1)
    assert version == digest.hexdigest()[:12]
    # A module imported on demand (app.js says when) is not preloaded: not on a first visit.
    assert preloaded == [(version, name) for name in names[1:] if name not in Script.ON_DEMAND]
    assert Script.ON_DEMAND and set(names) > Script.ON_DEMAND
    for name in names:
        response = await alice.get(f"/static/v-{version}/{name}", headers={"Accept-Encoding": "br"})
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert response.headers["Content-Encoding"] == "br"
        # Minified, compressed once at brotli's best, and nothing to revalidate with.
        shipped = brotli.decompress(await response.get_data())
        assert_minified(shipped, (static / name).read_bytes(), name)
        assert not {"ETag", "Last-Modified", "Expires"} & set(response.headers.keys()), name
        # A browser that refuses brotli by quality gets gzip, whatever the substring says,
        # of the same minified file.
        for refusing in ("gzip", "gzip, br;q=0"):
            zipped = await alice.get(
                f"/static/v-{version}/{name}", headers={"Accept-Encoding": refusing}
            )
            assert zipped.headers["Content-Encoding"] == "gzip", (name, refusing)
            assert "Accept-Encoding" in zipped.headers["Vary"], (name, refusing)
            assert gzip.decompress(await zipped.get_data()) == shipped, (name, refusing)


def assert_minified(shipped: bytes, source: bytes, name: str) -> None:
    """Our files travel without their comments and indentation: a third smaller or more.
    (That the minified script still works, every browser test shows.)"""
    assert len(shipped) < 0.75 * len(source), name
    assert b"\n  " not in shipped and b"/* " not in shipped, name
    assert b"/* " in source, name  # the file on disk keeps them


async def test_the_stylesheet_travels_minified_and_the_vendored_files_as_they_came(alice):
    page = (await (await alice.get("/chats")).get_data()).decode()
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    response = await alice.get(css, headers={"Accept-Encoding": "br"})
    assert_minified(brotli.decompress(await response.get_data()), STATIC_CSS.read_bytes(), css)
    for name in recorded():
        url = re.search(rf'src="(/static/vendor/{re.escape(name)}\?v=[0-9a-f]{{12}})"', page)
        response = await alice.get(url.group(1), headers={"Accept-Encoding": "br"})
        assert brotli.decompress(await response.get_data()) == (VENDOR / name).read_bytes()


async def test_another_version_of_our_script_is_served_but_not_kept_and_a_wrong_name_is_404(alice):
    # A page from before a deploy asks for its own version: today's file, to revalidate.
    old = await alice.get("/static/v-000000000000/app.js")
    assert old.status_code == 200
    assert old.headers["Cache-Control"] == "no-cache"
    assert await old.get_data() == (PROJECT_ROOT / "static" / "app.js").read_bytes()
    for path in (
        "/static/v-000000000000/js/nothing.js",
        "/static/v-000000000000/../../pyproject.toml",
    ):
        assert (await alice.get(path)).status_code == 404, path
