"""What the tests share, one module per kind of thing (tests/README.md lists them).

Test modules import helpers from here, never from each other; tests/conftest.py holds
only fixtures and hooks.
"""
