"""Snapchat: Login Kit sign-in against the fake, and honest refusals to publish.

Login Kit: https://developers.snap.com/snap-kit/login-kit/overview; the Public
Profile API's allowlist: https://developers.snap.com/api/marketing-api/Public-Profile-API/GetStarted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.pkce import code_challenge
from minbar.connectors.registry import get_connector
from minbar.connectors.snapchat import SnapchatConnector
from minbar.connectors.snapchat.oauth import SCOPES
from minbar.connectors.snapchat.tests.fake import BITMOJI, DISPLAY_NAME, FakeServer, FakeSnap
from minbar.connectors.types import ConnectResult, Credentials, PostRequest
from minbar.publishing.validation import problems_for

REDIRECT_URI = "https://minbar.example/channels/oauth/callback/"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    running = FakeServer()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def fake(server: FakeServer, settings: Any) -> FakeSnap:
    client_id, secret = server.fake.register_client()
    settings.MINBAR_NETWORK_APPS = {
        "snapchat": {"client_id": client_id, "client_secret": secret, "api_url": server.url}
    }
    server.fake.me_status = None
    return server.fake


def connect(fake: FakeSnap, grant: tuple[str, ...] | None = None) -> ConnectResult:
    user = fake.add_user("Acme Snacks")
    start = SnapchatConnector().start_oauth(REDIRECT_URI, "st")
    answer = fake.approve(start.url, user, grant)
    return SnapchatConnector().finish_oauth(REDIRECT_URI, answer["code"], start)


def test_the_consent_url_asks_for_name_bitmoji_and_id_with_pkce(fake: FakeSnap) -> None:
    start = SnapchatConnector().start_oauth(REDIRECT_URI, "the-state")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/accounts/oauth2/auth"
    assert query["scope"].split() == list(SCOPES)
    assert query["state"] == "the-state"
    assert query["code_challenge"] == code_challenge(start.code_verifier)
    assert query["code_challenge_method"] == "S256"


def test_the_real_snap_hosts_are_used_without_an_api_url(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {"snapchat": {"client_id": "c", "client_secret": "s"}}
    start = SnapchatConnector().start_oauth(REDIRECT_URI, "s")
    assert start.url.startswith("https://accounts.snapchat.com/accounts/oauth2/auth?")
    endpoints = SnapchatConnector().endpoints
    assert endpoints.token == "https://accounts.snapchat.com/accounts/oauth2/token"
    assert endpoints.me == "https://kit.snapchat.com/v1/me"


def test_without_an_app_connecting_names_the_variables(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported, match="MINBAR_SNAPCHAT_CLIENT_ID"):
        SnapchatConnector().start_oauth(REDIRECT_URI, "s")


def test_signing_in_connects_the_account_with_its_name_and_bitmoji(fake: FakeSnap) -> None:
    result = connect(fake)
    account = result.account
    assert account.remote_id.startswith("CAESI")
    assert account.display_name == "Acme Snacks" and account.handle == "Acme Snacks"
    assert account.avatar_url.startswith("https://render.bitstrips.example/")
    assert result.credentials.secrets["refresh_token"]
    assert result.credentials.data["external_id"] == account.remote_id
    assert result.credentials.expires_at is not None


def test_the_bitmoji_may_be_unticked(fake: FakeSnap) -> None:
    grant = tuple(s for s in SCOPES if s != BITMOJI)
    result = connect(fake, grant)
    assert result.account.avatar_url == ""
    assert BITMOJI not in result.credentials.data["scopes"]


def test_without_the_external_id_there_is_no_account_to_connect(fake: FakeSnap) -> None:
    with pytest.raises(Rejected, match="did not share the account's id"):
        connect(fake, (DISPLAY_NAME,))


def test_a_wrong_code_verifier_is_refused(fake: FakeSnap) -> None:
    from dataclasses import replace

    user = fake.add_user()
    start = SnapchatConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    with pytest.raises(Rejected, match="Invalid code_verifier"):
        SnapchatConnector().finish_oauth(
            REDIRECT_URI, answer["code"], replace(start, code_verifier="y" * 64)
        )


def test_an_expired_token_is_refreshed_and_a_revoked_one_means_reconnect(fake: FakeSnap) -> None:
    result = connect(fake)
    saved: list[Credentials] = []
    connector = SnapchatConnector(
        credentials=result.credentials, on_credentials_change=saved.append
    )
    fake.expire_access_tokens()
    assert connector.verify().remote_id == result.account.remote_id
    assert (
        saved and saved[-1].secrets["refresh_token"] != result.credentials.secrets["refresh_token"]
    )
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    assert connector.refresh() is not None
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(hours=2)
    assert connector.refresh() is None
    fake.revoke(next(u for u in fake.users.values() if u.external_id == result.account.remote_id))
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired, match="Reconnect"):
        connector.verify()


def test_snap_slowing_down_or_failing_is_rate_limited_or_temporary(fake: FakeSnap) -> None:
    connector = SnapchatConnector(credentials=connect(fake).credentials)
    fake.me_status = 429
    with pytest.raises(RateLimited):
        connector.verify()
    fake.me_status = 503
    with pytest.raises(TemporaryError):
        connector.verify()


def test_publishing_is_not_supported_and_says_why(fake: FakeSnap) -> None:
    connector = SnapchatConnector(credentials=connect(fake).credentials)
    for call in (
        lambda: connector.publish(PostRequest(text="hello")),
        lambda: connector.lookup(idempotency_key="k"),
        lambda: connector.delete("x"),
    ):
        with pytest.raises(NotSupported) as caught:
            call()
        assert "Snapchat" in caught.value.message
    with pytest.raises(NotSupported, match="allowlisted partners"):
        connector.publish(PostRequest(text="hello"))
    with pytest.raises(NotSupported, match="Public Profile API"):
        connector.account_metrics()
    with pytest.raises(NotSupported):
        connector.interactions()


def test_capabilities_declare_nothing_to_post_measure_or_answer() -> None:
    caps = get_connector("snapchat").capabilities
    assert caps.post_types == frozenset()
    assert not caps.post_metrics and not caps.account_metrics
    assert not caps.interactions and not caps.can_reply_to and not caps.search
    assert caps.pkce and caps.setup_doc == "docs/networks/snapchat.md"
    # The composer's check already refuses any text for Snapchat.
    assert problems_for(caps, text="hello")
