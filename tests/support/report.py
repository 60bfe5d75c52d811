"""Measurements a test prints: on the terminal with or without `pytest -s`."""

from __future__ import annotations


def report(request, line: str) -> None:
    """Show a measurement with `pytest -s` (print), and on the terminal without -s too."""
    print(line)
    if request.config.getoption("capture") == "no":
        return  # the print is already on the terminal
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(line)
