"""Instagram Login and Facebook Login, token refresh, and missing configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.instagram import InstagramConnector
from minbar.connectors.instagram.login import FACEBOOK_LOGIN_SCOPES, INSTAGRAM_LOGIN_SCOPES
from minbar.connectors.instagram.tests.conftest import Connected, connect_instagram_login
from minbar.connectors.meta_graph.tests.fake_graph import (
    APP_ID,
    APP_SECRET,
    IG_APP_ID,
    FakeGraph,
)
from minbar.connectors.meta_graph.tests.fixtures import REDIRECT_URI
from minbar.connectors.types import Credentials


def test_instagram_login_authorize_url(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    start = InstagramConnector().start_oauth(REDIRECT_URI, "st")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/oauth/authorize"
    assert query["client_id"] == IG_APP_ID and query["state"] == "st"
    assert query["scope"].split(",") == list(INSTAGRAM_LOGIN_SCOPES)


def test_on_the_real_network_instagram_login_is_on_www_instagram_com(settings: object) -> None:
    settings.MINBAR_NETWORK_APPS = {"instagram": {"client_id": "9", "client_secret": "s"}}  # type: ignore[attr-defined]
    assert (
        InstagramConnector()
        .start_oauth(REDIRECT_URI, "s")
        .url.startswith("https://www.instagram.com/oauth/authorize?")
    )


def test_instagram_login_keeps_a_60_day_token_and_the_account(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    connected = connect_instagram_login(fake)
    credentials = connected.connector.credentials
    assert credentials.data["login"] == "instagram"
    assert credentials.data["ig_user_id"] == connected.ig_id
    assert credentials.data["username"] == "minbar.cafe"
    assert credentials.expires_at is not None
    assert credentials.expires_at - datetime.now(UTC) > timedelta(days=59)
    assert connected.connector.verify().handle == "minbar.cafe"


def test_refresh_waits_until_a_week_before_expiry_then_swaps_the_token(
    fake: FakeGraph, account: Connected
) -> None:
    assert account.connector.refresh() is None  # 60 days left
    old = account.connector.credentials.secrets["access_token"]
    account.connector.credentials.expires_at = datetime.now(UTC) + timedelta(days=3)
    fresh = account.connector.refresh()
    assert fresh is not None and fresh.secrets["access_token"] != old
    assert fresh.expires_at is not None and fresh.expires_at - datetime.now(UTC) > timedelta(
        days=59
    )
    merged = account.connector.credentials.merged(fresh)
    assert merged.data["ig_user_id"] == account.ig_id


def test_a_revoked_token_cannot_be_refreshed(fake: FakeGraph, account: Connected) -> None:
    account.connector.credentials.expires_at = datetime.now(UTC) + timedelta(hours=1)
    fake.revoke_all()
    with pytest.raises(AuthExpired):
        account.connector.refresh()


def test_a_bad_code_is_refused(fake: FakeGraph, meta_apps: dict[str, dict[str, str]]) -> None:
    connector = InstagramConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    with pytest.raises(Rejected, match="did not accept the sign-in"):
        connector.finish_oauth(REDIRECT_URI, "not-a-code", start)


def test_facebook_login_when_only_the_facebook_app_is_set(
    fake: FakeGraph, settings: object
) -> None:
    settings.MINBAR_NETWORK_APPS = {  # type: ignore[attr-defined]
        "facebook": {"client_id": APP_ID, "client_secret": APP_SECRET, "api_url": fake.url},
        "instagram": {"api_url": fake.url},
    }
    user = fake.add_user("Amal")
    fake.add_page(user, "No Instagram")
    page = fake.add_page(user, "Café", instagram="cafe.ig")
    connector = InstagramConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    assert set(parse_qs(urlsplit(start.url).query)["scope"][0].split(",")) == set(
        FACEBOOK_LOGIN_SCOPES
    )
    code = fake.approve_facebook(start.url, user)["code"]
    result = connector.finish_oauth(REDIRECT_URI, code, start)
    assert result.account.handle == "cafe.ig"
    assert result.credentials.data["login"] == "facebook"
    assert result.credentials.data["page_id"] == page
    assert result.credentials.expires_at is None  # the Page token does not expire
    linked = InstagramConnector(connector.server_url, result.credentials)
    assert linked.refresh() is None
    assert linked.verify().handle == "cafe.ig"


def test_facebook_login_without_a_linked_account_is_refused(
    fake: FakeGraph, settings: object
) -> None:
    settings.MINBAR_NETWORK_APPS = {  # type: ignore[attr-defined]
        "facebook": {"client_id": APP_ID, "client_secret": APP_SECRET, "api_url": fake.url},
        "instagram": {"api_url": fake.url},
    }
    user = fake.add_user("Amal")
    fake.add_page(user, "Page only")
    connector = InstagramConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    code = fake.approve_facebook(start.url, user)["code"]
    with pytest.raises(Rejected, match="Instagram professional account linked"):
        connector.finish_oauth(REDIRECT_URI, code, start)


def test_no_app_configured_names_both_ways(settings: object) -> None:
    settings.MINBAR_NETWORK_APPS = {}  # type: ignore[attr-defined]
    with pytest.raises(NotSupported) as caught:
        InstagramConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_INSTAGRAM_CLIENT_ID" in caught.value.message
    assert "MINBAR_FACEBOOK_CLIENT_ID" in caught.value.message


def test_not_connected_is_auth_expired() -> None:
    with pytest.raises(AuthExpired):
        InstagramConnector("http://127.0.0.1:9", Credentials()).verify()
