"""`make lighthouse`: Lighthouse 12.2.3 (mobile defaults) on the login and chat pages.

Serves a seeded demo (alice's Watercooler chat with 55 messages), runs Lighthouse from
tools/node_modules against Debian's Chromium, prints the four category scores per page,
keeps the JSON reports in lighthouse/ (git-ignored), and exits 1 unless accessibility
and best practices are 100 on every page.

    python -m tools.lighthouse [--json]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.servers import CHROMIUM, PROJECT_ROOT
from tools.demo_server import WATERCOOLER, cookie_header, demo_server, sign_in

LIGHTHOUSE = PROJECT_ROOT / "tools" / "node_modules" / ".bin" / "lighthouse"
REPORTS = PROJECT_ROOT / "lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic"
    ' --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"'
)
MUST_BE_PERFECT = ("accessibility", "best-practices")
RUN_AGAIN = "Please run Lighthouse again"
ATTEMPTS = 3


def audit(url: str, name: str, cookie: str | None) -> dict[str, float]:
    """One Lighthouse run; the category scores (0..1)."""
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"{name}.json"
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    for attempt in range(1, ATTEMPTS + 1):
        run = subprocess.run(
            command,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if run.returncode == 0:
            break
        sys.stderr.write(run.stderr)
        # Only Lighthouse's own "run it again" errors (a trace it failed to record, such
        # as NO_NAVSTART, seen about one run in ten with Chromium 156) earn another try;
        # anything else, or a third failure, stops the run.
        if RUN_AGAIN not in run.stderr or attempt == ATTEMPTS:
            raise subprocess.CalledProcessError(run.returncode, command, run.stdout, run.stderr)
        print(f"Lighthouse asked to be run again on {name} (try {attempt})", file=sys.stderr)
    categories = json.loads(report.read_text())["categories"]
    return {key: category["score"] for key, category in categories.items()}


def main(argv: list[str]) -> int:
    if not LIGHTHOUSE.exists():
        print("Lighthouse is missing: run `npm ci --prefix tools` (make does it).")
        return 2
    results = {}
    with demo_server(messages=50) as server:
        client, token = sign_in(server.url, "alice")
        # Lighthouse signs in with a Cookie header of its own, which Chromium leaves off
        # the WebSocket handshake once the page has written a cookie to its jar (the
        # browser's time zone, static/js/reading.js): a zone chosen on the account
        # means the page writes none, and the socket is audited signed in.
        chosen = client.post("/account/timezone", data={"csrf_token": token, "timezone": "UTC"})
        if chosen.status_code != 303:
            raise RuntimeError(f"could not choose a time zone: {chosen.status_code}")
        results["login"] = audit(server.url + "/login", "login", None)
        results["chat"] = audit(f"{server.url}/chats/{WATERCOOLER}", "chat", cookie_header(client))
        client.close()
    if "--json" in argv:
        print(json.dumps(results))
    else:
        print(f"{'page':<8}" + "".join(f"{key:>16}" for key in results["login"]))
        for page, scores in results.items():
            print(f"{page:<8}" + "".join(f"{round(score * 100):>16}" for score in scores.values()))
    perfect = all(scores[key] == 1 for scores in results.values() for key in MUST_BE_PERFECT)
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
