"""Signing in to a Mastodon instance: app registration, the authorize URL, the code exchange.

These three calls use httpx (through :func:`minbar.connectors.http.make_client`)
rather than Mastodon.py, because Mastodon.py's ``auth_request_url``/``log_in``
cannot send PKCE's ``code_challenge``/``code_verifier`` and turn every token
error into ``MastodonIllegalArgumentError``, losing the status Minbar needs.

The flow (https://docs.joinmastodon.org/client/token/,
https://docs.joinmastodon.org/methods/apps/#create,
https://docs.joinmastodon.org/methods/oauth/):

1. ``POST /api/v1/apps`` registers Minbar once per instance and redirect URI;
   the caller caches ``client_id``/``client_secret`` (``OAuthStart.app``).
2. The person approves Minbar on ``GET /oauth/authorize``.
3. ``POST /oauth/token`` (``grant_type=authorization_code``) gives a token that
   does not expire (no refresh token; Mastodon tokens last until revoked).

PKCE (RFC 7636, S256) is sent when the instance's
``/.well-known/oauth-authorization-server`` lists S256 in
``code_challenge_methods_supported`` — Mastodon 4.3 and later
(https://docs.joinmastodon.org/spec/oauth/). Older instances publish no such
document and get the plain code flow; the client secret still protects it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from minbar.connectors.errors import Rejected
from minbar.connectors.http import (
    check_outbound_url,
    error_for_response,
    error_for_transport,
    make_client,
)

APP_NAME = "Minbar"
APP_WEBSITE = "https://github.com/minbar-social/minbar"

# Granular scopes (https://docs.joinmastodon.org/api/oauth-scopes/), the least
# Minbar needs; each is named on the instance's approval page:
SCOPES: tuple[str, ...] = (
    "read:accounts",  # who connected, follower counts (verify_credentials, accounts/:id)
    "read:statuses",  # post metrics, looking posts up, hashtag timelines, DM threads
    "write:statuses",  # publishing, replying, deleting
    "write:media",  # uploading images and video with their descriptions
    "read:notifications",  # mentions, replies, favourites, boosts, follows
    "read:search",  # searching posts
)


@dataclass(frozen=True)
class ServerInfo:
    """Where an instance's OAuth endpoints are and whether it takes PKCE."""

    authorize_endpoint: str
    token_endpoint: str
    pkce: bool


def discover(client: httpx.Client, base_url: str) -> ServerInfo:
    """Read RFC 8414 metadata; instances before 4.3 have none and use the fixed paths."""
    default = ServerInfo(f"{base_url}/oauth/authorize", f"{base_url}/oauth/token", pkce=False)
    try:
        response = client.get("/.well-known/oauth-authorization-server")
    except httpx.TransportError as exc:
        raise error_for_transport(exc, network=_label(base_url)) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise error_for_response(response, network=_label(base_url))
    if response.status_code != 200:
        return default
    try:
        data = response.json()
    except ValueError:  # some older instances answer with their web app's HTML
        return default
    if not isinstance(data, dict):
        return default
    methods = data.get("code_challenge_methods_supported") or []
    return ServerInfo(
        authorize_endpoint=_endpoint(
            data.get("authorization_endpoint"), default.authorize_endpoint
        ),
        token_endpoint=_endpoint(data.get("token_endpoint"), default.token_endpoint),
        pkce="S256" in methods,
    )


def _endpoint(value: Any, default: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        return default
    return value


def _label(base_url: str) -> str:
    return f"Mastodon ({urlsplit(base_url).netloc})"


def _reason(response: httpx.Response) -> str:
    """The instance's words: ``error_description`` (OAuth) or ``error`` (API)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        return str(data.get("error_description") or data.get("error") or "")
    return ""


def register_app(client: httpx.Client, base_url: str, redirect_uri: str) -> dict[str, str]:
    """Register Minbar on the instance; returns ``client_id`` and ``client_secret``."""
    try:
        response = client.post(
            "/api/v1/apps",
            data={
                "client_name": APP_NAME,
                "redirect_uris": redirect_uri,
                "scopes": " ".join(SCOPES),
                "website": APP_WEBSITE,
            },
        )
    except httpx.TransportError as exc:
        raise error_for_transport(exc, network=_label(base_url)) from exc
    if response.status_code != 200:
        raise error_for_response(response, network=_label(base_url), reason=_reason(response))
    try:
        data = response.json()
        return {"client_id": str(data["client_id"]), "client_secret": str(data["client_secret"])}
    except (ValueError, KeyError, TypeError):
        raise Rejected(
            f"{_label(base_url)} did not register Minbar; is this a Mastodon instance?",
            detail=response.text[:500],
        ) from None


def pkce_pair() -> tuple[str, str]:
    """A code verifier (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)  # 86 characters
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def authorize_url(
    info: ServerInfo,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str = "",
) -> str:
    """The instance's approval page for Minbar."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        # Ask the person to sign in even when their browser is already signed
        # in to the instance: people who manage several accounts on one
        # instance must choose the account deliberately.
        "force_login": "true",
    }
    if code_challenge:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in info.authorize_endpoint else "?"
    return f"{info.authorize_endpoint}{separator}{urlencode(params)}"


def exchange_code(
    base_url: str,
    info: ServerInfo,
    *,
    app: dict[str, str],
    redirect_uri: str,
    code: str,
    code_verifier: str,
    timeout: float,
) -> dict[str, Any]:
    """Trade the code from the redirect for an access token."""
    token_endpoint = check_outbound_url(info.token_endpoint)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app.get("client_secret", ""),
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
    }
    if code_verifier:
        data["code_verifier"] = code_verifier
    with make_client(timeout=timeout) as client:
        try:
            response = client.post(token_endpoint, data=data)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, network=_label(base_url)) from exc
    if response.status_code in (400, 401):
        # invalid_grant (code used, expired or for another redirect URI) or
        # invalid_client (the app registration was deleted on the instance).
        raise Rejected(
            f"{_label(base_url)} did not accept the sign-in "
            f"({_reason(response) or 'no reason given'}). Start connecting again.",
            detail=response.text[:500],
            status=response.status_code,
        )
    if response.status_code != 200:
        raise error_for_response(response, network=_label(base_url), reason=_reason(response))
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(
            f"{_label(base_url)} sent no access token. Start connecting again.",
            detail=response.text[:500],
        )
    return token


def open_client(base_url: str, timeout: float) -> httpx.Client:
    """An httpx client for the instance (the URL is checked against SSRF first)."""
    return make_client(check_outbound_url(base_url), timeout=timeout)
