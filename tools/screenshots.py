"""`make screenshots`: every page at 360 and 1280 px wide, light and dark, as PNGs.

Serves the seeded demo and drives Debian's Chromium with Playwright; the pictures go to
screenshots/ (git-ignored). Two of them are copied by hand into docs/ for the README.

    python -m tools.screenshots [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT
from tools.demo_server import WATERCOOLER, demo_server, sign_in

SIGNED_OUT = {"login": "/login", "register": "/register"}
SIGNED_IN = {
    "chats": "/chats",
    "chat": f"/chats/{WATERCOOLER}",
    "members": f"/chats/{WATERCOOLER}/members",
    "settings": "/account",
    "password": "/account/password",
    "older": f"/chats/{WATERCOOLER}/messages?before=20",
    "edit": f"/chats/{WATERCOOLER}/messages/1/edit",
    "react": f"/chats/{WATERCOOLER}/messages/2/reactions",
    "mentions": "/mentions",
    "person": "/people/bob",
    "not-found": "/chats/999999",
}
WIDTHS = {"phone": (360, 740), "desktop": (1280, 800)}


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else PROJECT_ROOT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    with demo_server(messages=50) as server, sync_playwright() as playwright:
        client, _token = sign_in(server.url, "alice")
        cookies = [
            {"name": name, "value": value, "url": server.url}
            for name, value in client.cookies.items()
        ]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width_name, (width, height) in WIDTHS.items():
            for scheme in ("light", "dark"):
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    color_scheme=scheme,
                    device_scale_factor=1,
                )
                page = context.new_page()
                for name, path in SIGNED_OUT.items():
                    page.goto(server.url + path)
                    page.screenshot(path=folder / f"{name}-{width_name}-{scheme}.png")
                context.add_cookies(cookies)
                for name, path in SIGNED_IN.items():
                    page.goto(server.url + path)
                    if name == "chat":
                        page.wait_for_selector("#connection-state:not([hidden])")
                    page.screenshot(path=folder / f"{name}-{width_name}-{scheme}.png")
                context.close()
        browser.close()
        client.close()
    print(f"wrote {len(list(folder.glob('*.png')))} screenshots to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
