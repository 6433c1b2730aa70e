"""Checking pushes from networks, as their documentation specifies.

- Meta (Facebook, Instagram, Threads, WhatsApp) signs each POST with
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
  app secret>`` and verifies a callback with a GET carrying ``hub.mode=subscribe``,
  ``hub.verify_token`` (the token the app chose) and ``hub.challenge``, which the
  callback returns as its body.
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
- X (Account Activity API) checks a callback with a CRC: a GET with ``crc_token``,
  answered with ``{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret,
  crc_token)>"}``; its POSTs carry ``x-twitter-webhooks-signature`` computed the
  same way over the body.
  https://docs.x.com/x-api/webhooks/introduction (Challenge-Response Checks)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hub_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Meta's ``X-Hub-Signature-256``, compared in constant time."""
    if not header or not secret:
        return False
    return hmac.compare_digest(hub_signature(secret, body), header.strip())


def hub_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The body to answer Meta's verification GET with, or None to refuse it (403)."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not hmac.compare_digest(params.get("hub.verify_token", ""), verify_token):
        return None
    return params.get("hub.challenge", "")


def x_crc_token(consumer_secret: str, payload: str | bytes) -> str:
    """X's ``sha256=<base64 HMAC-SHA256>`` of a CRC token or a request body."""
    data = payload.encode() if isinstance(payload, str) else payload
    digest = hmac.new(consumer_secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def x_crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    return {"response_token": x_crc_token(consumer_secret, crc_token)}


def x_signature_valid(consumer_secret: str, body: bytes, header: str | None) -> bool:
    if not header or not consumer_secret:
        return False
    return hmac.compare_digest(x_crc_token(consumer_secret, body), header.strip())
