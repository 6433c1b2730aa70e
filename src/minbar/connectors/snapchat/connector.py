"""The Snapchat connector: a Snapchat account signed in with Login Kit, and nothing to post.

What Snap's public developer platform offers a business, and why this connector
is so small (the user guide, ``docs/networks/snapchat.md``, says it at length):

* **Login Kit** (https://developers.snap.com/snap-kit/login-kit/overview) is Snap's
  OAuth 2.0 service: sign-in with the authorization code flow (PKCE recommended),
  and, with the person's consent, their display name, Bitmoji avatar and an
  app-scoped external id (``GET https://kit.snapchat.com/v1/me`` with a GraphQL-like
  ``query``, as Snap's own passport-snapchat strategy calls it). "Login Kit does
  not provide access to personal user data, such as private messages, shared
  content or contacts" — nor does it post.
* **Creative Kit** shares a photo, video or link *from a phone or web page into the
  Snapchat app*, where the person finishes the Snap themselves: there is no
  server-side posting to schedule.
* The **Marketing API** manages ads, not organic content.
* The **Public Profile API** can post Stories, Saved Stories and Spotlight to a
  Public Profile and read its statistics — but it "is currently allowlist only"
  (https://developers.snap.com/api/marketing-api/Public-Profile-API/GetStarted):
  Snap grants it to partners on request, and a self-hosted Minbar has no such
  partnership.

So this connector signs in and checks the account (a Snapchat channel can stand
in plans, calendars and reports), declares no post types, no metrics and no
inbox, and answers every publishing call with a clear NotSupported.

``Credentials``: ``secrets`` hold ``access_token`` and ``refresh_token``; ``data``
holds ``external_id``, ``display_name`` and the granted ``scopes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.pkce import pkce_pair
from minbar.connectors.snapchat import oauth
from minbar.connectors.snapchat.oauth import LABEL, translate, transport_error
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Metrics,
    PostRequest,
    PublishResult,
    RemotePost,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULT_SERVER = "https://kit.snapchat.com"
SNAP_ACCOUNTS = "https://accounts.snapchat.com"
ME_QUERY = "{me{displayName bitmoji{avatar id} externalId}}"
REFRESH_AHEAD = timedelta(minutes=30)
TOKEN_SLACK = timedelta(seconds=60)
NO_POSTING = (
    f"{LABEL}: Minbar cannot post to Snapchat. Snap's Public Profile API, the only way "
    "for an app to publish Stories or Spotlight, is open to allowlisted partners only; "
    "Login Kit and Creative Kit do not publish from a server. See docs/networks/snapchat.md."
)


@dataclass(frozen=True)
class Endpoints:
    """Snap's hosts; ``MINBAR_SNAPCHAT_API_URL`` (a fake, a proxy) serves both."""

    accounts: str
    token: str
    me: str

    @classmethod
    def for_server(cls, server_url: str) -> Endpoints:
        base = server_url.rstrip("/")
        accounts = SNAP_ACCOUNTS if base == DEFAULT_SERVER else base
        return cls(accounts=accounts, token=accounts + oauth.TOKEN_PATH, me=f"{base}/v1/me")


class SnapchatConnector(Connector):
    network: ClassVar[str] = "snapchat"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="snapchat",
        label=_("Snapchat"),
        auth=AuthKind.OAUTH2,
        # Nothing can be published, so no text fits.
        text=TextRules(max_length=0),
        pkce=True,
        default_server_url=DEFAULT_SERVER,
        post_types=frozenset(),
        docs_url="https://developers.snap.com/snap-kit/login-kit/overview",
        setup_doc="docs/networks/snapchat.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens Snapchat's sign-in page: sign in with the brand's Snapchat account."),
        _(
            "Snapchat shares the account's display name and Bitmoji with Minbar, nothing "
            "more: Minbar cannot post to Snapchat, because Snap opens publishing to "
            "allowlisted partners only."
        ),
    )

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            server_url, credentials, timeout=timeout, on_credentials_change=on_credentials_change
        )
        self.endpoints = Endpoints.for_server(self.server_url)

    def _app(self) -> dict[str, str]:
        return require_app(self.network, LABEL)

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """Snap's consent page, authorization code flow with PKCE (S256)."""
        app = app if app and app.get("client_id") else self._app()
        check_outbound_url(self.endpoints.accounts)
        verifier, challenge = pkce_pair()
        url = oauth.authorize_url(
            self.endpoints.accounts,
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            challenge=challenge,
        )
        return OAuthStart(url=url, state=state, code_verifier=verifier)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        app = start.app if start.app and start.app.get("client_id") else self._app()
        self.credentials = oauth.exchange_code(
            self.endpoints.token,
            app=app,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=start.code_verifier,
            timeout=self.timeout,
        )
        account = self._me()
        self.credentials = replace(
            self.credentials,
            data={
                **self.credentials.data,
                "external_id": account.remote_id,
                "display_name": account.display_name,
            },
        )
        return ConnectResult(account=account, credentials=self.credentials)

    def refresh(self) -> Credentials | None:
        expires = self.credentials.expires_at
        if expires is not None and expires - _now() > REFRESH_AHEAD:
            return None
        return oauth.refresh(
            self.endpoints.token,
            app=self._app(),
            refresh_token=self.credentials.secrets.get("refresh_token", ""),
            timeout=self.timeout,
        )

    def verify(self) -> AccountInfo:
        """``GET /v1/me``: the signed-in account still answers, with its name and Bitmoji."""
        account = self._me()
        if account.display_name != self.credentials.data.get("display_name"):
            self._credentials_changed(Credentials(data={"display_name": account.display_name}))
        return account

    def _fresh_token(self, *, force: bool = False) -> str:
        token = self.credentials.secrets.get("access_token", "")
        if not token and not self.credentials.secrets.get("refresh_token"):
            raise AuthExpired(f"{LABEL}: this account is not connected. Reconnect it.")
        expires = self.credentials.expires_at
        if force or not token or (expires is not None and expires - TOKEN_SLACK <= _now()):
            fresh = oauth.refresh(
                self.endpoints.token,
                app=self._app(),
                refresh_token=self.credentials.secrets.get("refresh_token", ""),
                timeout=self.timeout,
            )
            self._credentials_changed(fresh)
            token = self.credentials.secrets["access_token"]
        return token

    def _me(self) -> AccountInfo:
        check_outbound_url(self.endpoints.me)
        with make_client(timeout=self.timeout) as client:
            for attempt in (1, 2):
                token = self._fresh_token(force=attempt == 2)
                try:
                    response = client.get(
                        self.endpoints.me,
                        params={"query": ME_QUERY},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.TransportError as exc:
                    raise transport_error(exc) from exc
                if response.status_code == 401 and attempt == 1:
                    continue
                if response.status_code != 200:
                    raise translate(response)
                return _account(response)
        raise AssertionError("unreachable")

    # -- what Snapchat does not let Minbar do ---------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        raise NotSupported(NO_POSTING)

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        raise NotSupported(NO_POSTING)

    def account_metrics(self) -> Metrics:
        raise NotSupported(
            f"{LABEL}: Login Kit shares no statistics; a Public Profile's subscribers and "
            "views are in Snap's allowlisted Public Profile API only."
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _account(response: httpx.Response) -> AccountInfo:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    me = ((body or {}).get("data") or {}).get("me") if isinstance(body, dict) else None
    if not isinstance(me, dict) or not me.get("externalId"):
        raise Rejected(
            f"{LABEL} did not share the account's id with Minbar. Connect again and allow it.",
            detail=response.text[:300],
        )
    name = str(me.get("displayName") or "")
    bitmoji = me.get("bitmoji") or {}
    return AccountInfo(
        remote_id=str(me["externalId"]),
        handle=name or LABEL,
        display_name=name,
        avatar_url=str(bitmoji.get("avatar") or "") if isinstance(bitmoji, dict) else "",
    )
