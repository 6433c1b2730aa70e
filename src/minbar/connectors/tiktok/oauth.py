"""Signing in with TikTok (Login Kit for Web, OAuth v2): authorize, code exchange, refresh, revoke.

The flow (https://developers.tiktok.com/doc/login-kit-web,
https://developers.tiktok.com/doc/oauth-user-access-token-management):

1. the person is sent to ``https://www.tiktok.com/v2/auth/authorize/`` with
   ``client_key`` (TikTok's name for the client id), ``response_type=code``, the
   comma-separated ``scope``, ``redirect_uri`` (registered in the app's Login Kit
   settings: https only, static, no query or fragment) and ``state``;
2. PKCE: TikTok now refuses web authorizations without ``code_challenge`` (the
   consent page answers "correct the following: code_challenge"; reports in
   https://github.com/better-auth/better-auth/issues/3114 and
   https://github.com/mystery-man/passport-tiktok/issues/9). TikTok's PKCE differs
   from RFC 7636: the challenge is the SHA-256 of the verifier as **hex**, with
   ``code_challenge_method=S256`` (Login Kit for Desktop,
   https://developers.tiktok.com/doc/login-kit-desktop/; the same finding in
   https://github.com/n8n-io/n8n/pull/15160 and
   https://github.com/brightbeanxyz/brightbean-studio/pull/103);
3. ``POST https://open.tiktokapis.com/v2/oauth/token/`` (form encoded) with
   ``client_key``, ``client_secret``, ``code``, ``grant_type=authorization_code``,
   ``redirect_uri`` and ``code_verifier`` answers ``open_id``, ``scope`` (comma
   separated, what the person actually allowed), ``access_token``, ``expires_in``,
   ``refresh_token``, ``refresh_expires_in`` and ``token_type``
   (https://developers.tiktok.com/doc/oauth-get-a-user-access-token);
4. ``grant_type=refresh_token`` gives a new access token *and a new refresh
   token*: TikTok rotates them, the old one stops working
   (https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token);
5. ``POST /v2/oauth/revoke/`` with ``client_key``, ``client_secret`` and ``token``
   ends Minbar's access.

Lifetimes: the v2 guide said 24 hours for access tokens and 365 days for refresh
tokens; TikTok's newer pages say 2 hours and 180 days and ask clients to use
``expires_in``/``refresh_expires_in`` rather than hard-coded figures
(https://developers.tiktok.com/docs/zh-Hans/oauth-user-access-token-management), which
is what Minbar does. OAuth errors come as ``{"error": "invalid_grant",
"error_description": "...", "log_id": "..."}``
(https://developers.tiktok.com/doc/oauth-error-handling).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected, TemporaryError
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.tiktok.failures import LABEL, transport_error
from minbar.connectors.types import Credentials

AUTHORIZE_HOST = "https://www.tiktok.com"
AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"
REVOKE_PATH = "/v2/oauth/revoke/"

SCOPE_BASIC = "user.info.basic"  # open_id, avatar, display name
SCOPE_PROFILE = "user.info.profile"  # username (the @handle), profile link, verified
SCOPE_STATS = "user.info.stats"  # followers, following, likes, videos
SCOPE_PUBLISH = "video.publish"  # Direct Post: creator_info, video/photo init, status
SCOPE_UPLOAD = "video.upload"  # upload to the creator's inbox as a draft
SCOPE_LIST = "video.list"  # /v2/video/list/ and /v2/video/query/ (the metrics)

SCOPES: tuple[str, ...] = (
    SCOPE_BASIC,
    SCOPE_PROFILE,
    SCOPE_STATS,
    SCOPE_PUBLISH,
    SCOPE_UPLOAD,
    SCOPE_LIST,
)
# Without a way to post, a TikTok channel is of no use to Minbar.
POSTING_SCOPES = (SCOPE_PUBLISH, SCOPE_UPLOAD)


def code_challenge(verifier: str) -> str:
    """TikTok's S256 challenge: the SHA-256 of the verifier, hex encoded (not base64url)."""
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43-128 unreserved characters) and its TikTok challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    return verifier, code_challenge(verifier)


def authorize_url(
    authorize_base: str, *, client_key: str, redirect_uri: str, state: str, challenge: str
) -> str:
    params = {
        "client_key": client_key,
        "response_type": "code",
        "scope": ",".join(SCOPES),
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{authorize_base.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(params)}"


def _post_form(
    url: str, data: dict[str, str], timeout: float, client: httpx.Client | None = None
) -> httpx.Response:
    check_outbound_url(url)
    if client is not None:  # the connector's own (its TLS set-up is not free)
        return _send_form(client, url, data)
    with make_client(timeout=timeout) as own:
        return _send_form(own, url, data)


def _send_form(client: httpx.Client, url: str, data: dict[str, str]) -> httpx.Response:
    try:
        return client.post(url, data=data, headers={"Cache-Control": "no-cache"})
    except httpx.TransportError as exc:
        raise transport_error(exc) from exc


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500 and not (isinstance(body, dict) and body.get("error")):
        raise TemporaryError(
            f"{LABEL}'s sign-in service is having trouble ({response.status_code}); "
            "try again in a moment.",
            status=response.status_code,
        )
    if not isinstance(body, dict):
        raise Rejected(
            f"{LABEL} sent an answer Minbar could not read while signing in.",
            detail=response.text[:300],
            status=response.status_code,
        )
    return body


def _oauth_error(body: dict[str, Any]) -> tuple[str, str]:
    error = body.get("error")
    if isinstance(error, str) and error:
        said = str(body.get("error_description") or error)
        log_id = str(body.get("log_id") or "")
        return error, f"{error}: {said}" + (f" (log_id {log_id})" if log_id else "")
    return "", ""


def credentials_from_token(token: dict[str, Any], *, now: datetime | None = None) -> Credentials:
    """Credentials from a token answer; the lifetimes come from the answer itself."""
    now = now or datetime.now(UTC)
    if not token.get("access_token"):
        raise Rejected(f"{LABEL} sent no access token. Start connecting again.")
    expires_at = None
    if str(token.get("expires_in") or "").isdigit():
        expires_at = now + timedelta(seconds=int(token["expires_in"]))
    data: dict[str, Any] = {}
    if token.get("scope"):
        data["scopes"] = sorted({s.strip() for s in str(token["scope"]).split(",") if s.strip()})
    if token.get("open_id"):
        data["open_id"] = str(token["open_id"])
    if str(token.get("refresh_expires_in") or "").isdigit():
        refresh_end = now + timedelta(seconds=int(token["refresh_expires_in"]))
        data["refresh_expires_at"] = refresh_end.isoformat()
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
    client: httpx.Client | None = None,
) -> Credentials:
    body = _answer(
        _post_form(
            token_url,
            {
                "client_key": app["client_id"],
                "client_secret": app.get("client_secret", ""),
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            timeout,
            client,
        )
    )
    error, detail = _oauth_error(body)
    if error == "invalid_client":
        raise NotSupported(
            f"{LABEL} does not recognise Minbar's app: check MINBAR_TIKTOK_CLIENT_ID (the "
            "app's client key) and MINBAR_TIKTOK_CLIENT_SECRET.",
            detail=detail,
        )
    if error:
        raise Rejected(
            f"{LABEL} did not accept the sign-in ({error}). Start connecting again.",
            detail=detail,
        )
    return credentials_from_token(body)


def refresh(
    token_url: str,
    *,
    app: dict[str, str],
    refresh_token: str,
    timeout: float,
    client: httpx.Client | None = None,
) -> Credentials:
    """A new access token and the rotated refresh token; AuthExpired when TikTok refuses."""
    if not refresh_token:
        raise AuthExpired(f"{LABEL}: Minbar has no refresh token for this channel. Reconnect it.")
    body = _answer(
        _post_form(
            token_url,
            {
                "client_key": app["client_id"],
                "client_secret": app.get("client_secret", ""),
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            timeout,
            client,
        )
    )
    error, detail = _oauth_error(body)
    if error:
        # invalid_grant: expired, revoked, or an older refresh token (they rotate).
        raise AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account ({error}). "
            "Reconnect the channel.",
            detail=detail,
        )
    return credentials_from_token(body)


def revoke(
    revoke_url: str,
    *,
    app: dict[str, str],
    token: str,
    timeout: float,
    client: httpx.Client | None = None,
) -> None:
    """End Minbar's access to the account; a token TikTok no longer knows counts as revoked."""
    if not token:
        return
    body = _answer(
        _post_form(
            revoke_url,
            {
                "client_key": app["client_id"],
                "client_secret": app.get("client_secret", ""),
                "token": token,
            },
            timeout,
            client,
        )
    )
    error, detail = _oauth_error(body)
    if error and error != "invalid_grant":
        raise Rejected(f"{LABEL} did not revoke Minbar's access ({error}).", detail=detail)
