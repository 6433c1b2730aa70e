"""Signing in with Google, shared by YouTube and Google Business Profile.

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
   apps whose consent screen is still in "Testing") or the password changed
   (https://developers.google.com/identity/protocols/oauth2#expiration);
4. ``/revoke`` ends the app's access when a channel is removed (:func:`revoke`).

Each network binds a :class:`GoogleSignIn` with its scopes, its name and its own
error translation (``youtube/oauth.py``, ``google_business/oauth.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlencode

import httpx

from minbar.connectors.apps import require_app
from minbar.connectors.base import OAuthStart
from minbar.connectors.errors import AuthExpired, ConnectorError, Rejected
from minbar.connectors.http import (
    check_outbound_url,
    error_for_response,
    error_for_transport,
    make_client,
)
from minbar.connectors.pkce import pkce_pair
from minbar.connectors.types import Credentials

AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
GOOGLE_ACCOUNTS = "https://accounts.google.com"
GOOGLE_TOKEN_HOST = "https://oauth2.googleapis.com"
# Refresh ahead of time: in the periodic sweep (half an hour) and before a call (a minute).
REFRESH_AHEAD = timedelta(minutes=30)
TOKEN_SLACK = timedelta(seconds=60)


class _ParsedError(Protocol):
    @property
    def reason(self) -> str: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class GoogleSignIn:
    """One network's use of Google's sign-in: what it asks for and how it words failures."""

    label: str  # the network's name in messages ("YouTube")
    account: str  # what the messages call the account ("channel", "profile")
    scopes: tuple[str, ...]
    parse_error: Callable[[httpx.Response], _ParsedError]
    translate: Callable[[httpx.Response], ConnectorError]
    transport_error: Callable[[httpx.TransportError], ConnectorError]
    # Keep an empty "scope" in the answer as "nothing granted" (Business Profile, whose
    # one scope is required) rather than as "not said" (YouTube falls back to asking).
    empty_scope_is_nothing: bool = False

    def authorize_url(
        self,
        accounts_base: str,
        *,
        client_id: str,
        redirect_uri: str,
        state: str,
        code_challenge: str,
    ) -> str:
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{accounts_base}{AUTHORIZE_PATH}?{urlencode(params)}"

    def _post_token(self, token_url: str, data: dict[str, str], timeout: float) -> httpx.Response:
        check_outbound_url(token_url)
        with make_client(timeout=timeout) as client:
            try:
                return client.post(token_url, data=data)
            except httpx.TransportError as exc:
                raise self.transport_error(exc) from exc

    def _token_json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            token = response.json()
        except ValueError:
            token = None
        if not isinstance(token, dict) or not token.get("access_token"):
            raise Rejected(
                f"{self.label}: Google sent no access token. Start connecting again.",
                detail=response.text[:500],
            )
        return token

    def credentials_from_token(
        self, token: dict[str, Any], *, now: datetime | None = None
    ) -> Credentials:
        now = now or datetime.now(UTC)
        expires_in = token.get("expires_in")
        expires_at = None
        if isinstance(expires_in, (int, float)) or str(expires_in or "").isdigit():
            expires_at = now + timedelta(seconds=int(float(str(expires_in))))
        data: dict[str, Any] = {}
        if token.get("scope") or (self.empty_scope_is_nothing and "scope" in token):
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
        self,
        token_url: str,
        *,
        app: dict[str, str],
        redirect_uri: str,
        code: str,
        code_verifier: str,
        timeout: float,
    ) -> Credentials:
        response = self._post_token(
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
            error = self.parse_error(response)
            raise Rejected(
                f"{self.label}: Google did not accept the sign-in "
                f"({error.message or error.reason}). Start connecting again.",
                detail=response.text[:500],
                status=response.status_code,
            )
        if response.status_code != 200:
            raise self.translate(response)
        return self.credentials_from_token(self._token_json(response))

    def revoke(self, revoke_url: str, credentials: Credentials, *, timeout: float) -> None:
        """End the access ``credentials`` hold: the refresh token when there is one (its
        access tokens go with it), else the access token (:func:`revoke`)."""
        secrets = credentials.secrets
        revoke(
            revoke_url,
            token=secrets.get("refresh_token") or secrets.get("access_token", ""),
            timeout=timeout,
            network=self.label,
        )

    def refresh(
        self, token_url: str, *, app: dict[str, str], refresh_token: str, timeout: float
    ) -> Credentials:
        """A new access token; AuthExpired when Google no longer honours the refresh token."""
        if not refresh_token:
            raise AuthExpired(
                f"{self.label}: Minbar has no refresh token for this {self.account}. "
                "Reconnect the channel."
            )
        response = self._post_token(
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
            error = self.parse_error(response)
            if error.reason in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise AuthExpired(
                    f"{self.label} no longer accepts Minbar's access to this {self.account} "
                    f"({error.message or error.reason}). Reconnect the channel.",
                    detail=response.text[:500],
                    status=response.status_code,
                )
            raise self.translate(response)
        if response.status_code != 200:
            raise self.translate(response)
        return self.credentials_from_token(self._token_json(response))


def revoke(revoke_url: str, *, token: str, timeout: float, network: str) -> None:
    """End the app's access that ``token`` (a refresh or an access token) grants.

    #tokenrevoke: "make a request to https://oauth2.googleapis.com/revoke and include
    the token as a parameter"; "If the token is an access token and it has a
    corresponding refresh token, the refresh token will also be revoked." 200 means
    revoked; a 400 ``invalid_token`` means Google no longer knows the token, which
    is revoked too as far as Minbar is concerned.
    """
    if not token:
        return
    check_outbound_url(revoke_url)
    with make_client(timeout=timeout) as client:
        try:
            response = client.post(
                revoke_url,
                data={"token": token},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.TransportError as exc:
            raise error_for_transport(exc, network=network) from exc
    if response.status_code == 200:
        return
    if response.status_code == 400 and _oauth_error(response) == "invalid_token":
        return
    raise error_for_response(response, network=network, reason=_oauth_error(response))


def _oauth_error(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else ""


class GoogleEndpoints(Protocol):
    @property
    def accounts(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def revoke(self) -> str: ...


class GoogleAccount:
    """The token side of a Google connector: consent page, code, refresh, revoke.

    Mixed in before :class:`~minbar.connectors.base.Connector` (YouTube, Google
    Business Profile); the connector names its :class:`GoogleSignIn` and has
    ``endpoints`` with Google's ``accounts``, ``token`` and ``revoke`` addresses.
    """

    sign_in: ClassVar[GoogleSignIn]

    if TYPE_CHECKING:  # provided by Connector and the connector itself
        network: ClassVar[str]
        credentials: Credentials
        timeout: float
        endpoints: GoogleEndpoints

        def _credentials_changed(self, newer: Credentials) -> None: ...

    def _app(self) -> dict[str, str]:
        return require_app(self.network, self.sign_in.label)

    def _fresh_token(self, *, force: bool = False) -> str:
        """An access token good for a minute at least, refreshed first when it is not."""
        token = self.credentials.secrets.get("access_token", "")
        if not token and not self.credentials.secrets.get("refresh_token"):
            raise AuthExpired(
                f"{self.sign_in.label}: this {self.sign_in.account} is not connected. Reconnect it."
            )
        expires = self.credentials.expires_at
        if force or not token or (expires is not None and expires - TOKEN_SLACK <= _now()):
            fresh = self.sign_in.refresh(
                self.endpoints.token,
                app=self._app(),
                refresh_token=self.credentials.secrets.get("refresh_token", ""),
                timeout=self.timeout,
            )
            self._credentials_changed(fresh)
            token = self.credentials.secrets["access_token"]
        return token

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """Google's consent page with offline access, forced consent and PKCE (S256)."""
        app = app if app and app.get("client_id") else self._app()
        check_outbound_url(self.endpoints.accounts)
        verifier, challenge = pkce_pair()
        url = self.sign_in.authorize_url(
            self.endpoints.accounts,
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge,
        )
        # No app in the OAuthStart: the install-wide app is read from the
        # environment each time, so a rotated secret applies to every channel.
        return OAuthStart(url=url, state=state, code_verifier=verifier)

    def _exchange(self, redirect_uri: str, code: str, start: OAuthStart) -> Credentials:
        """The consent page's code for tokens (and the scopes the person granted)."""
        app = start.app if start.app and start.app.get("client_id") else self._app()
        return self.sign_in.exchange_code(
            self.endpoints.token,
            app=app,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=start.code_verifier,
            timeout=self.timeout,
        )

    def refresh(self) -> Credentials | None:
        """A new access token when the current one ends within 30 minutes."""
        expires = self.credentials.expires_at
        if expires is not None and expires - _now() > REFRESH_AHEAD:
            return None
        return self.sign_in.refresh(
            self.endpoints.token,
            app=self._app(),
            refresh_token=self.credentials.secrets.get("refresh_token", ""),
            timeout=self.timeout,
        )

    def revoke(self) -> None:
        """Ask Google to end Minbar's access (when the channel is removed from Minbar)."""
        self.sign_in.revoke(self.endpoints.revoke, self.credentials, timeout=self.timeout)


def _now() -> datetime:
    return datetime.now(UTC)
