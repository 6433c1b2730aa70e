"""Snap Login Kit's OAuth 2.0: consent page, code exchange, refresh, and Snap's error answers.

https://developers.snap.com/snap-kit/login-kit/overview: the authorization code
flow with PKCE, for apps that keep a client secret too ("Server Side
Authorization Code Flow"). Hosts as in Snap's passport-snapchat strategy
(https://github.com/Snapchat/passport-snapchat, ``src/config.ts``):
``https://accounts.snapchat.com/accounts/oauth2/auth`` and ``…/accounts/oauth2/token``.
Scopes are full URLs (https://developers.snap.com/snap-kit/login-kit/Tutorials/web):
``user.display_name``, ``user.bitmoji.avatar`` (the person may untick it) and
``user.external_id`` (a stable id for this app). A confidential client sends its
id and secret as HTTP Basic credentials on the token endpoint (RFC 6749 §2.3.1).
Errors of the token endpoint are RFC 6749's ``{"error": "invalid_grant", ...}``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import check_outbound_url, make_client, retry_after_seconds
from minbar.connectors.types import Credentials

LABEL = "Snapchat"
AUTHORIZE_PATH = "/accounts/oauth2/auth"
TOKEN_PATH = "/accounts/oauth2/token"
SCOPE_PREFIX = "https://auth.snapchat.com/oauth2/api/"
SCOPES: tuple[str, ...] = (
    SCOPE_PREFIX + "user.display_name",
    SCOPE_PREFIX + "user.bitmoji.avatar",
    SCOPE_PREFIX + "user.external_id",
)


def authorize_url(
    accounts_base: str, *, client_id: str, redirect_uri: str, state: str, challenge: str
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{accounts_base}{AUTHORIZE_PATH}?{urlencode(params)}"


def _basic(app: dict[str, str]) -> str:
    pair = f"{app['client_id']}:{app.get('client_secret', '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _post_token(token_url: str, app: dict[str, str], data: dict[str, str], timeout: float) -> Any:
    check_outbound_url(token_url)
    with make_client(timeout=timeout) as client:
        try:
            return client.post(
                token_url,
                data={**data, "client_id": app["client_id"]},
                headers={"Authorization": _basic(app)},
            )
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", response.text[:200]
    return str(body.get("error") or ""), str(body.get("error_description") or "")


def credentials_from_token(response: httpx.Response) -> Credentials:
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(
            f"{LABEL} sent no access token. Start connecting again.", detail=response.text[:300]
        )
    expires_at = None
    if str(token.get("expires_in") or "").isdigit():
        expires_at = datetime.now(UTC) + timedelta(seconds=int(token["expires_in"]))
    data: dict[str, Any] = {}
    if "scope" in token:
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
        error, description = _oauth_error(response)
        raise Rejected(
            f"{LABEL} did not accept the sign-in ({description or error}). Start connecting again.",
            detail=response.text[:300],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(response)


def refresh(
    token_url: str, *, app: dict[str, str], refresh_token: str, timeout: float
) -> Credentials:
    """A new access token; AuthExpired when Snap no longer honours the refresh token."""
    if not refresh_token:
        raise AuthExpired(f"{LABEL}: Minbar has no refresh token for this account. Reconnect it.")
    response = _post_token(
        token_url,
        app,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout,
    )
    if response.status_code in (400, 401):
        error, description = _oauth_error(response)
        raise AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account "
            f"({description or error}). Reconnect it.",
            detail=response.text[:300],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(response)


def translate(response: httpx.Response) -> ConnectorError:
    status = response.status_code
    detail = f"{status} {response.text[:300]}"
    if status == 429:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down.",
            retry_after=retry_after_seconds(response.headers, default=60.0),
            detail=detail,
        )
    if status in (401, 403):
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account. Reconnect it.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        return TemporaryError(
            f"{LABEL} is having trouble ({status}); Minbar will try again.",
            detail=detail,
            status=status,
        )
    return Rejected(f"{LABEL} refused the request ({status}).", detail=detail, status=status)


def transport_error(exc: httpx.TransportError) -> ConnectorError:
    """Snapchat calls here only read: any transport failure is temporary."""
    return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=str(exc))
