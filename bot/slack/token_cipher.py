"""Slack tokens encrypted at rest, so that a copy of the database is not a copy of the tokens.

A stored token is ``enc:v1:`` followed by a Fernet token (AES-128-CBC, authenticated with
HMAC-SHA256) made with the first key of ``RAPPORT_ENCRYPTION_KEY``. Every key listed there
decrypts, so a key is rotated by listing a new one first: at start-up,
``bot.slack.installations.seal_stored_tokens`` re-encrypts what the others sealed, and the old key
can then be dropped. A value without the prefix is a token stored in clear by an older
Rapport; it is read as it is until sealed.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_VARIABLE = "RAPPORT_ENCRYPTION_KEY"
PREFIX = "enc:v1:"


class UnreadableToken(Exception):
    """A stored token that no key in ``RAPPORT_ENCRYPTION_KEY`` decrypts."""


def generate_key() -> str:
    """A fresh random key, as ``rapport generate-key`` prints it."""
    return Fernet.generate_key().decode()


def parse_keys(text: str) -> tuple[str, ...]:
    """The comma-separated keys of ``RAPPORT_ENCRYPTION_KEY``; ``ValueError`` naming the
    position (never the text) of the first that isn't a key."""
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(f"key {position} of {len(keys)}") from None
    return keys


class TokenCipher:
    """Seals with the first of ``keys`` and opens with any of them."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise ValueError(f"{KEY_VARIABLE} holds no key")
        self._current = Fernet(keys[0])
        self._any = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, value: str | None) -> str | None:
        """``value`` sealed with the first key. None, and a value already sealed, are
        returned as they are: slack-sdk's ``save`` hands its (sealed) bot to ``save_bot``."""
        if value is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._current.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        """The token ``value`` holds; a token still in clear is returned as it is."""
        if value is None or not value.startswith(PREFIX):
            return value
        try:
            return self._any.decrypt(value.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise UnreadableToken(f"no key in {KEY_VARIABLE} decrypts a stored token") from None

    def is_sealed_with_current_key(self, value: str) -> bool:
        if not value.startswith(PREFIX):
            return False
        try:
            self._current.decrypt(value.removeprefix(PREFIX).encode())
        except InvalidToken:
            return False
        return True
