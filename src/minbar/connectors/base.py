"""The connector contract: what every network package implements.

A connector instance acts for one account (a channel). It is built with the
channel's server URL and decrypted credentials and holds no Django models, so
it can be tested against a local fake or a real local server with no database.
Operations a network cannot do raise :class:`NotSupported`; the capabilities
say so up front so the UI never offers them.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from minbar.connectors.apps import api_url
from minbar.connectors.errors import NotSupported

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise
from minbar.connectors.types import (
    AccountInfo,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    Metrics,
    Page,
    PostRequest,
    PublishResult,
    RemotePost,
    RemoteRef,
)


@dataclass(frozen=True)
class AuthField:
    """One input of an app-password or token connection form."""

    name: str
    label: StrOrPromise  # translatable text, shown as the input's label
    help: StrOrPromise = ""
    secret: bool = False
    placeholder: str = ""
    # When set, the form offers these (value, label) pairs instead of free text.
    choices: tuple[tuple[str, StrOrPromise], ...] = ()


@dataclass(frozen=True)
class OAuthStart:
    """Where to send the user, and what to keep until they come back."""

    url: str
    state: str
    code_verifier: str = ""  # PKCE; stored encrypted with the state
    app: dict[str, str] | None = None  # per-server app registration to cache (Mastodon)


class Connector(ABC):
    network: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # Inputs of the connect form for APP_PASSWORD / TOKEN connectors.
    auth_fields: ClassVar[tuple[AuthField, ...]] = ()
    # Numbered steps shown on the connect page (translatable strings).
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = ()
    # Reading interactions takes them off the network's queue (Telegram's getUpdates
    # confirms what it hands out). Only the inbox's poll may read them then; a page
    # that merely looks (the channel page's recent activity) shows what the inbox stored.
    interactions_consumed_on_read: ClassVar[bool] = False
    # Where a person ends Minbar's access by hand (the account's connected-apps page),
    # offered when revoking fails; "" when the network has no such page to link to.
    access_settings_url: ClassVar[str] = ""

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        if not server_url and not self.capabilities.needs_server_url:
            # MINBAR_<NETWORK>_API_URL points a fixed-host network at a fake or proxy.
            server_url = api_url(self.network, self.capabilities.default_server_url)
        self.server_url = (server_url or self.capabilities.default_server_url).rstrip("/")
        self.credentials = credentials or Credentials()
        self.timeout = timeout
        # Called when the connector refreshes tokens mid-operation so the
        # channel saves them at once (a rotated refresh token must not be lost).
        self._on_credentials_change = on_credentials_change

    def _credentials_changed(self, newer: Credentials) -> None:
        self.credentials = self.credentials.merged(newer)
        if self._on_credentials_change is not None:
            self._on_credentials_change(self.credentials)

    def account_capabilities(self) -> Capabilities:
        """The capabilities for this very account (a server's own limits, a sandbox flavour).

        Read from the stored credentials only, never from the network, so pages
        and the composer can call it freely.
        """
        return self.capabilities

    def save_credentials(self, newer: Credentials) -> None:
        """Merge refreshed credentials and hand them to the channel to store."""
        self._credentials_changed(newer)

    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(f"{self.capabilities.label} does not support {what}.")

    # -- connecting ------------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        raise self._unsupported("signing in through the browser")

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        raise self._unsupported("signing in through the browser")

    def connect_with_fields(self, fields: dict[str, str]) -> ConnectResult:
        raise self._unsupported("connecting with a password or token")

    def connect_choice(self, remote_id: str) -> ConnectResult:
        """Act as another account the same sign-in offered (``ConnectResult.choices``).

        Called on a connector holding the sign-in's credentials; returns the
        connection for the chosen account (its own token where the network has one).
        """
        raise self._unsupported("choosing among several accounts")

    def refresh(self) -> Credentials | None:
        """New credentials when they expire soon, or None when nothing needs refreshing."""
        return None

    def verify(self) -> AccountInfo:
        """Check the credentials work and return the account ("test connection")."""
        raise self._unsupported("checking the connection")

    def revoke(self) -> None:
        """End Minbar's access on the network (the channel is being removed).

        Networks with a documented revocation endpoint override this; the default
        has nothing to revoke. A token the network no longer knows counts as revoked;
        other failures raise, and the channel is removed all the same.
        """
        return None

    # -- publishing ------------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        raise self._unsupported("publishing")

    def delete(self, remote_id: str) -> None:
        raise self._unsupported("deleting posts")

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Find a post by Minbar's idempotency key or its id: did it go out?"""
        raise self._unsupported("looking up posts")

    # -- measuring -------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        raise self._unsupported("post metrics")

    def account_metrics(self) -> Metrics:
        raise self._unsupported("account metrics")

    # -- engaging and listening -----------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        raise self._unsupported("reading comments and mentions")

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        raise self._unsupported("replying")

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        raise self._unsupported("hiding comments")

    def delete_interaction(self, interaction: RemoteRef) -> None:
        raise self._unsupported("deleting comments")

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        raise self._unsupported("search")

    # -- pushes (webhooks) -----------------------------------------------------

    def subscribe_push(self, url: str, secret: str, verify_token: str) -> None:
        """Ask the network to push this account's new interactions to ``url``."""
        raise self._unsupported("pushing new interactions (webhooks)")

    def parse_push(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[Interaction]:
        """The interactions in a push, after checking its signature (BadSignature if wrong)."""
        raise self._unsupported("pushing new interactions (webhooks)")
