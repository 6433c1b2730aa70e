"""Signing in with Google: the consent page, the code exchange and refreshing tokens.

Google's OAuth 2.0 for web server applications
(https://developers.google.com/identity/protocols/oauth2/web-server):

1. the person is sent to ``https://accounts.google.com/o/oauth2/v2/auth`` with
   ``access_type=offline`` (so a refresh token comes back), ``prompt=consent`` (so
   it comes back on a reconnect too: Google sends one only when the person is
   shown the consent page), ``include_granted_scopes=true`` and PKCE's
   ``code_challenge`` with ``code_challenge_method=S256``;
2. Minbar trades the code at ``https://oauth2.googleapis.com/token``
   (``grant_type=authorization_code``, with the ``code_verifier``) for an access
   token (about an hour), a refresh token and the scopes actually granted —
   Google's consent page lets people untick scopes, so they are read from the
   answer rather than assumed;
3. ``grant_type=refresh_token`` gives a new access token; Google usually sends no
   new refresh token (the old one stays, see ``Credentials.merged``) and answers
   ``invalid_grant`` when the refresh token was revoked, expired (seven days for
   apps whose consent screen is still in "Testing") or the password changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, Rejected
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.types import Credentials
from minbar.connectors.youtube.failures import LABEL, parse_error, translate, transport_error

AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
GOOGLE_ACCOUNTS = "https://accounts.google.com"
GOOGLE_TOKEN_HOST = "https://oauth2.googleapis.com"

SCOPE_UPLOAD = "https://www.googleapis.com/auth/youtube.upload"
SCOPE_READONLY = "https://www.googleapis.com/auth/youtube.readonly"
SCOPE_FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
SCOPE_ANALYTICS = "https://www.googleapis.com/auth/yt-analytics.readonly"

# What Minbar asks for (https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps
# lists the YouTube scopes), and why:
SCOPES: tuple[str, ...] = (
    SCOPE_UPLOAD,  # videos.insert, thumbnails.set
    SCOPE_READONLY,  # channels.list mine=true, videos.list, the uploads playlist
    SCOPE_FORCE_SSL,  # comments: read, reply, moderate, delete; playlistItems.insert
    SCOPE_ANALYTICS,  # YouTube Analytics reports (shares)
)
# Without these the channel cannot publish at all; the others only switch features off.
REQUIRED_SCOPES = (SCOPE_UPLOAD,)
READ_SCOPES = (SCOPE_READONLY, SCOPE_FORCE_SSL)


def authorize_url(
    accounts_base: str, *, client_id: str, redirect_uri: str, state: str, code_challenge: str
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
        "code_challenge": code_challenge,
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
    expires_in = token.get("expires_in")
    expires_at = None
    if isinstance(expires_in, (int, float)) or str(expires_in or "").isdigit():
        expires_at = now + timedelta(seconds=int(float(str(expires_in))))
    data: dict[str, Any] = {}
    if token.get("scope"):
        data["scopes"] = sorted(str(token["scope"]).split())
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
    """New access token; AuthExpired when Google no longer honours the refresh token."""
    if not refresh_token:
        raise AuthExpired(
            f"{LABEL}: Minbar has no refresh token for this channel. Reconnect the channel."
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
                f"{LABEL} no longer accepts Minbar's access to this channel "
                f"({error.message or error.reason}). Reconnect the channel.",
                detail=response.text[:500],
                status=response.status_code,
            )
        raise translate(response)
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(_token_json(response))
