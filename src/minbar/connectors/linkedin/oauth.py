"""Signing in to LinkedIn: 3-legged OAuth 2.0, the scopes, and refreshing where granted.

The flow (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow):

1. The person approves Minbar on ``https://www.linkedin.com/oauth/v2/authorization``
   (``response_type=code``, ``client_id``, ``redirect_uri``, ``state``, ``scope``
   space-separated).
2. ``POST https://www.linkedin.com/oauth/v2/accessToken`` (form-encoded,
   ``grant_type=authorization_code``, ``code``, ``client_id``, ``client_secret``,
   ``redirect_uri``) answers ``access_token``, ``expires_in`` (5,184,000 s: 60 days)
   and ``scope`` (the permissions granted, comma-separated).
3. Only apps LinkedIn approved for programmatic refresh tokens (Marketing partners)
   also get ``refresh_token`` and ``refresh_token_expires_in`` (365 days); they
   trade it with ``grant_type=refresh_token``. The refresh token keeps its first
   expiry: after a year the person signs in again
   (https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens).
   Every other app must send the person through step 1 again before 60 days.

PKCE: LinkedIn takes it only for native (mobile/desktop) clients enabled for it;
Minbar is a web app with a client secret, so it does not send one.

Scopes depend on the LinkedIn products the operator's app has (docs/networks/linkedin.md):

* ``share`` (default): "Share on LinkedIn" + "Sign In with LinkedIn using OpenID
  Connect" — ``openid profile w_member_social``: post as the member;
* ``community``: the "Community Management API" — Pages (post, comments, statistics)
  and the member too; that product sits on an app of its own, without OpenID, so
  the member is read with ``r_basicprofile``.

``MINBAR_LINKEDIN_SCOPES`` picks one (``share``, ``community``) or lists scopes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from minbar.connectors.errors import AuthExpired, Rejected
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.linkedin.failures import (
    reason_of,
    reconnect_advice,
    translate,
    transport_error,
)
from minbar.connectors.types import Credentials

OAUTH_URL = "https://www.linkedin.com"
AUTHORIZE_PATH = "/oauth/v2/authorization"
TOKEN_PATH = "/oauth/v2/accessToken"

SHARE_SCOPES = ("openid", "profile", "w_member_social")
# https://learn.microsoft.com/en-us/linkedin/marketing/increasing-access (Community Management API)
COMMUNITY_SCOPES = (
    "r_basicprofile",  # who signed in (GET /v2/me)
    "w_member_social",  # post and comment as the member
    "r_member_postAnalytics",  # the member's own post statistics
    "rw_organization_admin",  # the Pages the member administers, Page statistics
    "r_organization_social",  # read a Page's posts and their comments
    "w_organization_social",  # post and comment as a Page
    "r_organization_followers",  # a Page's followers
)
PRESETS = {"share": SHARE_SCOPES, "community": COMMUNITY_SCOPES}

# A token is refreshed when it expires within this margin (the channels app asks 30 min ahead).
REFRESH_MARGIN = timedelta(minutes=30)


def scopes_for(app: dict[str, str]) -> tuple[str, ...]:
    raw = (app.get("scopes") or "share").strip()
    if raw.lower() in PRESETS:
        return PRESETS[raw.lower()]
    scopes = tuple(s for s in re.split(r"[\s,]+", raw) if s)
    if not scopes:
        return SHARE_SCOPES
    return scopes


def authorize_url(
    base: str, *, client_id: str, redirect_uri: str, state: str, scopes: tuple[str, ...]
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": " ".join(scopes),
    }
    return f"{base.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params)}"


def _token_request(base: str, data: dict[str, str], timeout: float) -> httpx.Response:
    url = check_outbound_url(base.rstrip("/") + TOKEN_PATH)
    with make_client(timeout=timeout) as client:
        try:
            return client.post(url, data=data)
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc


def _token(response: httpx.Response) -> dict[str, Any]:
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(
            _("LinkedIn sent no access token. Start connecting again."),
            detail=response.text[:300],
        )
    return token


def exchange_code(
    base: str, *, app: dict[str, str], redirect_uri: str, code: str, timeout: float
) -> dict[str, Any]:
    response = _token_request(
        base,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
            "redirect_uri": redirect_uri,
        },
        timeout,
    )
    if response.status_code in (400, 401):
        # invalid_request (code used or expired, redirect URI mismatch) or invalid_client.
        raise Rejected(
            _("LinkedIn did not accept the sign-in (%(reason)s). Start connecting again.")
            % {"reason": reason_of(response)},
            detail=response.text[:300],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise translate(response)
    return _token(response)


def credentials_from_token(token: dict[str, Any], now: datetime | None = None) -> Credentials:
    """Tokens and their expiries; ``scope`` is comma-separated in LinkedIn's answer."""
    now = now or datetime.now(UTC)
    secrets = {"access_token": str(token["access_token"])}
    data: dict[str, Any] = {}
    if token.get("refresh_token"):
        secrets["refresh_token"] = str(token["refresh_token"])
    if token.get("refresh_token_expires_in"):
        expiry = now + timedelta(seconds=int(token["refresh_token_expires_in"]))
        data["refresh_token_expires_at"] = expiry.isoformat()
    if token.get("scope"):
        data["scopes"] = sorted(s for s in re.split(r"[\s,]+", str(token["scope"])) if s)
    expires_in = token.get("expires_in")
    expires_at = now + timedelta(seconds=int(expires_in)) if expires_in else None
    return Credentials(secrets=secrets, data=data, expires_at=expires_at)


def refresh(
    base: str, credentials: Credentials, *, app: dict[str, str], timeout: float
) -> Credentials | None:
    """New credentials when the token expires within :data:`REFRESH_MARGIN`, else None.

    Without a refresh token (LinkedIn grants them to approved partners only) an
    expired token means the person signs in again: :class:`AuthExpired` with that
    advice, so the channel shows "needs reconnecting" before posts start failing.
    """
    expires_at = credentials.expires_at
    if expires_at is None or expires_at - datetime.now(UTC) > REFRESH_MARGIN:
        return None
    refresh_token = credentials.secrets.get("refresh_token", "")
    if not refresh_token:
        raise AuthExpired(
            _(
                "This LinkedIn sign-in expires on %(date)s and LinkedIn gives this app no "
                "way to renew it."
            )
            % {"date": expires_at.strftime("%Y-%m-%d")}
            + " "
            + reconnect_advice()
        )
    response = _token_request(
        base,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
        },
        timeout,
    )
    if response.status_code in (400, 401):
        raise AuthExpired(
            _("LinkedIn did not renew the sign-in (%(reason)s).") % {"reason": reason_of(response)}
            + " "
            + reconnect_advice(),
            detail=response.text[:300],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise translate(response)
    return credentials_from_token(_token(response))
