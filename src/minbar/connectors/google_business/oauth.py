"""Signing in with Google for the Business Profile APIs: consent page, code exchange, refresh.

Google's OAuth 2.0 for web server applications
(https://developers.google.com/identity/protocols/oauth2/web-server), as the
YouTube connector uses it: ``access_type=offline`` and ``prompt=consent`` so a
refresh token comes back on every connection, PKCE (S256), and the scopes read
from the token answer. The Business Profile APIs take one scope,
``https://www.googleapis.com/auth/business.manage``, for reading and writing
alike (every method's reference page lists it under "Authorization scopes", e.g.
https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts/create).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, Rejected
from minbar.connectors.google_business.failures import (
    LABEL,
    parse_error,
    translate,
    transport_error,
)
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.types import Credentials

AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
GOOGLE_ACCOUNTS = "https://accounts.google.com"
GOOGLE_TOKEN_HOST = "https://oauth2.googleapis.com"

SCOPE_MANAGE = "https://www.googleapis.com/auth/business.manage"
SCOPES: tuple[str, ...] = (SCOPE_MANAGE,)


def authorize_url(
    accounts_base: str, *, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{accounts_base}{AUTHORIZE_PATH}?{urlencode(params)}"


def _post_token(token_url: str, data: dict[str, str], timeout: float) -> httpx.Response:
    check_outbound_url(token_url)
    with make_client(timeout=timeout) as client:
        try:
            return client.post(token_url, data=data)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc


def _token_json(response: httpx.Response) -> dict[str, Any]:
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(
            f"{LABEL}: Google sent no access token. Start connecting again.",
            detail=response.text[:500],
        )
    return token


def credentials_from_token(token: dict[str, Any], *, now: datetime | None = None) -> Credentials:
    now = now or datetime.now(UTC)
    expires_at = None
    expires_in = str(token.get("expires_in") or "")
    if expires_in.isdigit():
        expires_at = now + timedelta(seconds=int(expires_in))
    data: dict[str, Any] = {}
    if "scope" in token:  # Google always says what was granted; "" is nothing
        data["scopes"] = sorted(str(token["scope"] or "").split())
    return Credentials(
        secrets={
            "access_token": str(token["access_token"]),
            "refresh_token": str(token.get("refresh_token") or ""),
        },
        data=data,
        expires_at=expires_at,
    )


def exchange_code(
    token_url: str,
    *,
    app: dict[str, str],
    redirect_uri: str,
    code: str,
    code_verifier: str,
    timeout: float,
) -> Credentials:
    response = _post_token(
        token_url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        timeout,
    )
    if response.status_code in (400, 401):
        error = parse_error(response)
        raise Rejected(
            f"{LABEL}: Google did not accept the sign-in ({error.message or error.reason}). "
            "Start connecting again.",
            detail=response.text[:500],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(_token_json(response))


def refresh(
    token_url: str, *, app: dict[str, str], refresh_token: str, timeout: float
) -> Credentials:
    """A new access token; AuthExpired when Google no longer honours the refresh token.

    Google answers ``invalid_grant`` when the refresh token was revoked, expired
    (after seven days while the consent screen is in "Testing") or the password
    changed (https://developers.google.com/identity/protocols/oauth2#expiration).
    """
    if not refresh_token:
        raise AuthExpired(
            f"{LABEL}: Minbar has no refresh token for this profile. Reconnect the channel."
        )
    response = _post_token(
        token_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
        },
        timeout,
    )
    if response.status_code in (400, 401):
        error = parse_error(response)
        if error.reason in ("invalid_grant", "invalid_client", "unauthorized_client"):
            raise AuthExpired(
                f"{LABEL} no longer accepts Minbar's access to this profile "
                f"({error.message or error.reason}). Reconnect the channel.",
                detail=response.text[:500],
                status=response.status_code,
            )
        raise translate(response)
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(_token_json(response))
