"""Signatures on outgoing webhooks, the way Stripe and GitHub sign theirs.

``Minbar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``

The timestamp is inside the signed text, so a captured request cannot be replayed
later than the receiver's tolerance; within it, the receiver dedupes on
``Minbar-Delivery``. Several ``v1=`` values may appear (none today; room for
signing with an old and a new secret during a rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Minbar-Signature"
SECRET_PREFIX = "whsec_"


class SignatureError(ValueError):
    """The signature header is missing, malformed, wrong or too old."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the ``Minbar-Signature`` header for ``body``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={ts},v1={_digest(secret, ts, body)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> int:
    """Check a received webhook; returns its timestamp or raises :class:`SignatureError`.

    ``body`` must be the raw bytes received, before any JSON parsing.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("the timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("the header has no timestamp or no v1 signature")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("the signature does not match")
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > tolerance:
        raise SignatureError("the timestamp is outside the tolerance")
    return timestamp
