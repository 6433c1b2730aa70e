"""PKCE (RFC 7636) with the S256 method, shared by the networks that use it.

TikTok is the exception: it checks a hex SHA-256 challenge (connectors/tiktok/oauth.py).
"""

from __future__ import annotations

import base64
import hashlib
import secrets


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: base64url of its SHA-256, without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A code verifier (86 characters, within RFC 7636's 43-128) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    return verifier, code_challenge(verifier)
