"""Signing in to Threads: the Authorization Window, the code exchange, long-lived tokens.

Following https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
and https://developers.facebook.com/docs/threads/get-started/long-lived-tokens:

1. The person opens ``https://threads.com/oauth/authorize?client_id=…&redirect_uri=…
   &scope=threads_basic,…&response_type=code&state=…`` (threads.net answers too)
   and approves Minbar; Threads sends them back with ``code`` (valid one hour,
   single use; ``#_`` may be appended, it is not part of the code).
2. ``POST /oauth/access_token`` (client_id, client_secret, code,
   grant_type=authorization_code, redirect_uri) → a short-lived token (one hour)
   and the ``user_id``.
3. ``GET /access_token?grant_type=th_exchange_token&client_secret=…&access_token=…``
   → a long-lived token, ``expires_in`` ≈ 60 days.
4. ``GET /refresh_access_token?grant_type=th_refresh_token&access_token=…`` renews
   a long-lived token that is at least 24 hours old and not yet expired, for
   another 60 days. An expired token cannot be refreshed: the person reconnects.

The Threads documentation describes no PKCE for this flow, so Minbar sends none;
the ``state`` parameter protects the callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, ConnectorError, Rejected, TemporaryError
from minbar.connectors.http import make_client
from minbar.connectors.threads.api import redact_secrets_in_logs
from minbar.connectors.threads.failures import error_for_response, error_for_transport

AUTHORIZE_URL = "https://threads.com/oauth/authorize"
# Everything Minbar uses, and why (docs/networks/threads.md lists them for people):
SCOPES = (
    "threads_basic",  # every endpoint: the profile, the account's posts
    "threads_content_publish",  # containers and threads_publish
    "threads_manage_replies",  # replying, hiding replies, reply_control
    "threads_read_replies",  # reading replies and conversations
    "threads_manage_insights",  # post and account insights
    "threads_delete",  # deleting posts Minbar published
    "threads_keyword_search",  # listening: keyword and topic-tag search
    "threads_manage_mentions",  # the inbox: posts that mention the account
)
# The token endpoints take secrets in the query string, which httpx logs.
redact_secrets_in_logs()
# A long-lived token can be refreshed once it is a day old, until it expires.
REFRESH_MIN_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: datetime | None
    user_id: str = ""


def authorize_url(base: str, *, client_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": ",".join(SCOPES),
        "response_type": "code",
        "state": state,
    }
    return f"{base}?{urlencode(query)}"


def clean_code(code: str) -> str:
    """The code without the ``#_`` Threads appends to the redirect."""
    return code.strip().split("#", 1)[0]


def _request(
    base_url: str, method: str, path: str, *, timeout: float, **fields: str
) -> dict[str, Any]:
    with make_client(base_url, timeout=timeout) as client:
        try:
            if method == "POST":
                response = client.post(path, data=fields)
            else:
                response = client.get(path, params=fields)
        except httpx.TransportError as exc:
            raise error_for_transport(exc) from None
    if response.status_code >= 400:
        raise error_for_response(response)
    try:
        body = response.json()
    except ValueError:
        raise TemporaryError(
            "Threads sent an answer Minbar could not read.", detail=response.text[:300]
        ) from None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise TemporaryError("Threads sent no access token.", detail=str(body)[:300])
    return body


def _expiry(body: dict[str, Any], now: datetime) -> datetime | None:
    try:
        seconds = int(body.get("expires_in") or 0)
    except (TypeError, ValueError):
        return None
    return now + timedelta(seconds=seconds) if seconds > 0 else None


def exchange_code(
    base_url: str, *, app: dict[str, str], redirect_uri: str, code: str, timeout: float
) -> Token:
    """Steps 2 and 3: the code for a short-lived token, that for a long-lived one."""
    try:
        short = _request(
            base_url,
            "POST",
            "/oauth/access_token",
            timeout=timeout,
            client_id=app["client_id"],
            client_secret=app.get("client_secret", ""),
            code=clean_code(code),
            grant_type="authorization_code",
            redirect_uri=redirect_uri,
        )
        now = datetime.now(UTC)
        long = _request(
            base_url,
            "GET",
            "/access_token",
            timeout=timeout,
            grant_type="th_exchange_token",
            client_secret=app.get("client_secret", ""),
            access_token=str(short["access_token"]),
        )
    except (AuthExpired, Rejected) as exc:
        # Nothing was connected yet: the code or the app's keys were refused.
        raise Rejected(
            "Threads refused the sign-in. Start connecting again; if it keeps failing, "
            "check MINBAR_THREADS_CLIENT_ID and MINBAR_THREADS_CLIENT_SECRET.",
            detail=exc.detail,
            status=exc.status,
        ) from None
    return Token(
        access_token=str(long["access_token"]),
        expires_at=_expiry(long, now),
        user_id=str(short.get("user_id") or ""),
    )


def refresh_token(base_url: str, *, access_token: str, timeout: float) -> Token:
    """Step 4. A refused refresh means the token is gone: :class:`AuthExpired`."""
    now = datetime.now(UTC)
    try:
        body = _request(
            base_url,
            "GET",
            "/refresh_access_token",
            timeout=timeout,
            grant_type="th_refresh_token",
            access_token=access_token,
        )
    except Rejected as exc:
        raise AuthExpired(
            "Threads would not renew this account's access. Reconnect the account.",
            detail=exc.detail,
            status=exc.status,
        ) from None
    except ConnectorError:
        raise
    return Token(access_token=str(body["access_token"]), expires_at=_expiry(body, now))
