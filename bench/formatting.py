"""How long the worst message takes to format: hostile Markdown of the longest body a
form accepts (forms.BODY_MAX), each input rendered from scratch (the cache emptied)
five times, the best of the five kept (the machine is shared), the worst input named.

    .venv/bin/python -m bench.formatting

A message is formatted once per version and process (vibechat/formatting.py), in the
event loop: the figure is how long one hostile post can hold up every socket. Issue
17's target: under 50 ms. Also part of `make bench` ("formatting").
"""

from __future__ import annotations

import time

from vibechat.formatting import formatted
from vibechat.forms import BODY_MAX

# Inputs that make Markdown parsers backtrack or rescan: unclosed link and autolink
# openers, delimiter runs that never pair, deep nesting, long reference lists.
UNITS = {
    "brackets": "[",
    "image openers": "![",
    "links in links": "[[a](",
    "link openers": "[a](",
    "autolink openers": "<http://a",
    "lone stars": "*a **a ",
    "star runs": "*" * 20 + "a",
    "underscores": "_a",
    "tildes": "~~a",
    "backticks": "`a``",
    "nested quotes": ">",
    "emphasis in links": "[*a](",
    "references": "[a]: b\n",
    "bare URLs": "https://example.org/",
    "typical (formatted)": "**Ship it** on *Friday*: see https://example.org and `make test`.\n",
}


def inputs() -> dict[str, str]:
    return {name: (unit * BODY_MAX)[:BODY_MAX] for name, unit in UNITS.items()}


def best_ms(body: str, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        formatted.cache_clear()
        started = time.perf_counter()
        formatted(body)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure() -> dict[str, float | str]:
    formatted("warm *up*: the parser's rules and regular expressions")
    times = {name: best_ms(body) for name, body in inputs().items()}
    worst = max(times, key=times.get)
    return {"worst ms (4,000 characters)": times[worst], "worst input": worst, **times}


def main() -> None:
    figures = measure()
    for name, value in figures.items():
        print(f"{name:32} {value if isinstance(value, str) else f'{value:8.1f}'}")


if __name__ == "__main__":
    main()
