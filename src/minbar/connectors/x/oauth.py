"""Signing in to X: OAuth 2.0 Authorization Code with PKCE, as a confidential client.

The flow (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token):

1. The person approves Minbar on ``https://x.com/i/oauth2/authorize`` with
   ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope``, ``state``,
   ``code_challenge`` and ``code_challenge_method=S256``.
2. ``POST https://api.x.com/2/oauth2/token`` (``grant_type=authorization_code``,
   ``code``, ``redirect_uri``, ``code_verifier``) with HTTP Basic authentication
   ``client_id:client_secret`` — Minbar's app is a confidential client ("Web App,
   Automated App or Bot" in the developer portal).
3. The access token lasts two hours; with ``offline.access`` a refresh token comes
   too. ``grant_type=refresh_token`` gives a new access token *and a new refresh
   token*: X rotates them, so the old one stops working and the new one must be
   saved at once. A revoked refresh token answers 400 ``invalid_request``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, Rejected
from minbar.connectors.http import error_for_response, error_for_transport, make_client
from minbar.connectors.types import Credentials

LABEL = "X"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"

# https://docs.x.com/fundamentals/authentication/guides/v2-authentication-mapping
# (the scopes each v2 endpoint needs), the least Minbar needs:
SCOPES: tuple[str, ...] = (
    "tweet.read",  # read posts: lookup, metrics, mentions, replies, search
    "tweet.write",  # publish, reply, quote, delete
    "users.read",  # who connected; follower counts; authors of mentions
    "tweet.moderate.write",  # hide and unhide replies to the account's posts
    "media.write",  # upload images, GIFs and video
    "offline.access",  # a refresh token, so the channel stays connected past two hours
)


def authorize_url(
    *, client_id: str, redirect_uri: str, state: str, code_challenge: str, base: str = ""
) -> str:
    """X's approval page; ``base`` replaces x.com for a local fake (MINBAR_X_API_URL)."""
    endpoint = f"{base.rstrip('/')}/i/oauth2/authorize" if base else AUTHORIZE_URL
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    return f"{endpoint}?{urlencode(params)}"


def _basic(app: dict[str, str]) -> str:
    pair = f"{app['client_id']}:{app.get('client_secret', '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _reason(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        return str(data.get("error_description") or data.get("detail") or data.get("error") or "")
    return ""


def _token_request(
    api_base: str, app: dict[str, str], data: dict[str, str], timeout: float
) -> httpx.Response:
    with make_client(api_base, timeout=timeout) as client:
        try:
            return client.post(
                TOKEN_PATH,
                data={**data, "client_id": app["client_id"]},
                headers={"Authorization": _basic(app)},
            )
        except httpx.TransportError as exc:
            raise error_for_transport(exc, network=LABEL) from exc


def credentials_from_token(token: dict[str, Any], *, now: datetime | None = None) -> Credentials:
    """Credentials from a token answer: the tokens as secrets, the granted scopes as data."""
    now = now or datetime.now(UTC)
    expires_in = token.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = now + timedelta(seconds=float(expires_in))
    secrets_ = {"access_token": str(token["access_token"])}
    if token.get("refresh_token"):
        secrets_["refresh_token"] = str(token["refresh_token"])
    data: dict[str, Any] = {}
    if token.get("scope"):
        data["scopes"] = str(token["scope"]).split()
    return Credentials(secrets=secrets_, data=data, expires_at=expires_at)


def _token_answer(response: httpx.Response) -> dict[str, Any]:
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(
            "X sent no access token. Start connecting again.", detail=response.text[:500]
        )
    return token


def exchange_code(
    api_base: str,
    app: dict[str, str],
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    timeout: float,
) -> dict[str, Any]:
    """Trade the code from the redirect (and the PKCE verifier) for tokens."""
    response = _token_request(
        api_base,
        app,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        timeout,
    )
    if response.status_code in (400, 401):
        # invalid_request: a used or expired code, a wrong verifier or redirect URI;
        # 401: the app's keys are wrong (regenerated in the developer portal).
        raise Rejected(
            f"X did not accept the sign-in ({_reason(response) or 'no reason given'}). "
            "Start connecting again; if it keeps failing, check MINBAR_X_CLIENT_ID and "
            "MINBAR_X_CLIENT_SECRET.",
            detail=response.text[:500],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise error_for_response(response, network=LABEL, reason=_reason(response))
    return _token_answer(response)


def refresh_tokens(
    api_base: str, app: dict[str, str], *, refresh_token: str, timeout: float
) -> dict[str, Any]:
    """New tokens from the refresh token; a revoked or used one is :class:`AuthExpired`."""
    response = _token_request(
        api_base,
        app,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout,
    )
    if response.status_code in (400, 401):
        raise AuthExpired(
            "X no longer accepts Minbar's access to this account "
            f"({_reason(response) or 'the refresh token was refused'}). Reconnect the account.",
            detail=response.text[:500],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise error_for_response(response, network=LABEL, reason=_reason(response))
    return _token_answer(response)
