"""Signing in to Pinterest: the consent page, the code exchange and refreshing tokens.

Following https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/
(and the ``oauth/token`` operation of https://developers.pinterest.com/docs/api/v5/):

1. The person opens ``https://www.pinterest.com/oauth/?client_id=…&redirect_uri=…
   &response_type=code&scope=boards:read,…&state=…`` and approves Minbar; Pinterest
   sends them back with ``code`` and ``state``.
2. ``POST https://api.pinterest.com/v5/oauth/token`` with HTTP Basic authentication
   (the app id and secret) and the form ``grant_type=authorization_code``, ``code``,
   ``redirect_uri`` → ``access_token`` (``expires_in`` ≈ 30 days), ``refresh_token``
   (``refresh_token_expires_in``), ``scope`` (what the person granted), ``token_type``.
3. ``grant_type=refresh_token`` with the ``refresh_token`` → a new access token.
   Since May 14, 2025 every refresh token is a "continuous" one: 60 days, and each
   refresh answers a new refresh token with a fresh 60 days, so a channel that is
   refreshed in time never has to sign in again. Minbar still sends
   ``continuous_refresh=true`` (the parameter that asked for it before it became
   the only kind) and keeps the old refresh token when an answer has none
   (``Credentials.merged``). A refused refresh (revoked access, a refresh token
   past its 60 days) is :class:`AuthExpired`.

Pinterest documents no PKCE for this flow, so Minbar sends none; the ``state``
parameter protects the callback. The secret travels in the ``Authorization``
header, never in a URL.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, ConnectorError, Rejected, TemporaryError
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.pinterest.failures import LABEL, error_for_response, error_for_transport
from minbar.connectors.types import Credentials

AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
TOKEN_PATH = "/v5/oauth/token"
# What Minbar asks for, and why (https://developers.pinterest.com/docs/getting-started/scopes/):
SCOPES: tuple[str, ...] = (
    "boards:read",  # list boards and sections to choose where Pins go; read a board's Pins
    "boards:write",  # create a board for Minbar's Pins; creating a Pin requires it too
    "pins:read",  # read Pins back, their analytics, media upload status
    "pins:write",  # create and delete Pins, register video uploads
    "user_accounts:read",  # the profile, follower counts and account analytics
)
REQUIRED_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write")


def basic_auth(app: dict[str, str]) -> str:
    pair = f"{app['client_id']}:{app.get('client_secret', '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def authorize_url(base: str, *, client_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": ",".join(SCOPES),
        "state": state,
    }
    return f"{base}?{urlencode(query)}"


def granted_scopes(raw: Any) -> list[str]:
    """Pinterest lists scopes with commas (its examples) — spaces are accepted too."""
    return sorted({s for s in str(raw or "").replace(",", " ").split() if s})


def credentials_from_token(token: dict[str, Any], *, now: datetime | None = None) -> Credentials:
    now = now or datetime.now(UTC)
    data: dict[str, Any] = {}
    if token.get("scope"):
        data["scopes"] = granted_scopes(token["scope"])
    refresh_seconds = _seconds(token.get("refresh_token_expires_in"))
    if token.get("refresh_token_expires_at"):
        at = _seconds(token.get("refresh_token_expires_at"))
        if at:
            data["refresh_expires_at"] = datetime.fromtimestamp(at, UTC).isoformat()
    elif refresh_seconds and token.get("refresh_token"):
        data["refresh_expires_at"] = (now + timedelta(seconds=refresh_seconds)).isoformat()
    expires_in = _seconds(token.get("expires_in"))
    return Credentials(
        secrets={
            "access_token": str(token["access_token"]),
            "refresh_token": str(token.get("refresh_token") or ""),
        },
        data=data,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
    )


def _seconds(value: Any) -> int:
    try:
        return max(0, int(float(str(value))))
    except (TypeError, ValueError):
        return 0


def _post_token(
    api_base: str, app: dict[str, str], form: dict[str, str], timeout: float
) -> dict[str, Any]:
    check_outbound_url(api_base)
    with make_client(api_base, timeout=timeout) as client:
        try:
            response = client.post(
                TOKEN_PATH, data=form, headers={"Authorization": basic_auth(app)}
            )
        except httpx.TransportError as exc:
            raise error_for_transport(exc) from None
    if response.status_code >= 400:
        raise error_for_response(response)
    try:
        body = response.json()
    except ValueError:
        raise TemporaryError(
            f"{LABEL} sent an answer Minbar could not read.", detail=response.text[:300]
        ) from None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise TemporaryError(f"{LABEL} sent no access token.", detail=str(body)[:300])
    return body


def exchange_code(
    api_base: str, *, app: dict[str, str], redirect_uri: str, code: str, timeout: float
) -> Credentials:
    """Step 2: the code for an access token and a (continuous) refresh token."""
    try:
        body = _post_token(
            api_base,
            app,
            {
                "grant_type": "authorization_code",
                "code": code.strip(),
                "redirect_uri": redirect_uri,
                "continuous_refresh": "true",
            },
            timeout,
        )
    except (AuthExpired, Rejected) as exc:
        # Nothing was connected yet: the code, the redirect URI or the app's keys were refused.
        raise Rejected(
            f"{LABEL} refused the sign-in. Start connecting again; if it keeps failing, "
            "check MINBAR_PINTEREST_CLIENT_ID, MINBAR_PINTEREST_CLIENT_SECRET and the "
            "redirect URI registered for the app.",
            detail=exc.detail,
            status=exc.status,
        ) from None
    return credentials_from_token(body)


def refresh(
    api_base: str, *, app: dict[str, str], refresh_token: str, timeout: float
) -> Credentials:
    """Step 3; a refused refresh token means the person must sign in again."""
    if not refresh_token:
        raise AuthExpired(
            f"{LABEL}: Minbar has no refresh token for this account. Reconnect the account."
        )
    try:
        body = _post_token(
            api_base,
            app,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "continuous_refresh": "true",
            },
            timeout,
        )
    except Rejected as exc:
        raise AuthExpired(
            f"{LABEL} would not renew Minbar's access to this account. Reconnect the account.",
            detail=exc.detail,
            status=exc.status,
        ) from None
    except ConnectorError:
        raise
    return credentials_from_token(body)
