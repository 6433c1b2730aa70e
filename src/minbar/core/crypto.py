"""Encryption at rest for secrets (TOTP seeds today, network tokens later).

Keys come from ``MINBAR_ENCRYPTION_KEYS`` (comma-separated Fernet keys, newest
first) so that a key can be rotated: new values are written with the first
key and old values stay readable with the others. Without that setting a key
is derived from the secret key so the embedded default needs no setup.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key."""


def _derived_key(secret: str) -> bytes:
    digest = hashlib.sha256(("minbar-encryption:" + secret).encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    fernets = [Fernet(key.encode()) for key in keys]
    fernets.append(Fernet(_derived_key(secret)))
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.MINBAR_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "stored secret cannot be decrypted with the configured keys"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a stored value with the newest key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str:
        if not value:
            return ""
        return decrypt(value)

    def get_prep_value(self, value: object) -> str:
        if value is None or value == "":
            return ""
        return encrypt(str(value))
