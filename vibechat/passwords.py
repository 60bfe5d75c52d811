"""Argon2id password hashing, apart from the web stack: the app, the account commands
and the demo seed hash with the same parameters, and the command line stays quick."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY


def password_hasher(cheap: bool = False) -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory parameters; the cheapest ones for tests."""
    return PasswordHasher.from_parameters(CHEAPEST if cheap else RFC_9106_LOW_MEMORY)
