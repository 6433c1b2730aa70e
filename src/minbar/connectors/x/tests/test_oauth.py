"""Signing in against the local X fake: authorize URL, PKCE, code exchange, refresh, revocation.

https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and
https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minbar.connectors.base import OAuthStart
from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.types import Credentials
from minbar.connectors.x import XConnector
from minbar.connectors.x.oauth import AUTHORIZE_URL, SCOPES
from minbar.connectors.x.tests.conftest import REDIRECT_URI, Connected, connect
from minbar.connectors.x.tests.fake import CLIENT_ID, FakeX, authorize_query


def test_authorize_url_carries_pkce_s256_scopes_and_state(fake: FakeX) -> None:
    start = XConnector().start_oauth(REDIRECT_URI, "st-1")
    query = authorize_query(start.url)
    assert start.url.startswith(f"{fake.url}/i/oauth2/authorize?")
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["response_type"] == "code"
    assert query["state"] == "st-1"
    assert query["scope"].split() == list(SCOPES)
    assert {"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"} <= set(
        query["scope"].split()
    )
    digest = hashlib.sha256(start.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert 43 <= len(start.code_verifier) <= 128


def test_real_authorize_endpoint_is_x_com(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {"x": {"client_id": "cid", "client_secret": "s"}}
    start = XConnector().start_oauth(REDIRECT_URI, "st")
    assert start.url.startswith(AUTHORIZE_URL + "?")
    assert XConnector().server_url == "https://api.x.com"


def test_missing_app_config_is_a_clear_not_supported(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported) as caught:
        XConnector().start_oauth(REDIRECT_URI, "st")
    assert "MINBAR_X_CLIENT_ID" in caught.value.message
    assert "MINBAR_X_CLIENT_SECRET" in caught.value.message


def test_code_exchange_stores_tokens_user_and_expiry(brand: Connected) -> None:
    credentials = brand.connector.credentials
    assert credentials.secrets["access_token"].startswith("at-")
    assert credentials.secrets["refresh_token"].startswith("rt-")
    assert credentials.data["user_id"] == brand.user.id
    assert credentials.data["username"] == brand.user.username
    assert set(credentials.data["scopes"]) == set(SCOPES)
    assert credentials.expires_at is not None
    left = credentials.expires_at - datetime.now(UTC)
    assert timedelta(minutes=119) < left <= timedelta(hours=2)
    assert brand.account.handle == brand.user.username
    assert brand.account.followers == 1200
    assert "at-" not in repr(credentials)  # tokens never in logs


def test_wrong_pkce_verifier_is_refused(fake: FakeX) -> None:
    user = fake.add_user("pkce")
    start = XConnector().start_oauth(REDIRECT_URI, "s")
    code = fake.approve(start.url, user.username)["code"]
    forged = OAuthStart(url=start.url, state=start.state, code_verifier="x" * 60)
    with pytest.raises(Rejected) as caught:
        XConnector().finish_oauth(REDIRECT_URI, code, forged)
    assert "invalid" in caught.value.message.lower()


def test_code_cannot_be_used_twice(fake: FakeX) -> None:
    user = fake.add_user("twice")
    start = XConnector().start_oauth(REDIRECT_URI, "s")
    code = fake.approve(start.url, user.username)["code"]
    XConnector().finish_oauth(REDIRECT_URI, code, start)
    with pytest.raises(Rejected):
        XConnector().finish_oauth(REDIRECT_URI, code, start)


def test_wrong_client_secret_names_the_settings(fake: FakeX, settings: Any) -> None:
    user = fake.add_user("secret")
    start = XConnector().start_oauth(REDIRECT_URI, "s")
    code = fake.approve(start.url, user.username)["code"]
    settings.MINBAR_NETWORK_APPS = {
        "x": {"client_id": CLIENT_ID, "client_secret": "wrong", "api_url": fake.url}
    }
    with pytest.raises(Rejected) as caught:
        XConnector().finish_oauth(REDIRECT_URI, code, start)
    assert "MINBAR_X_CLIENT_SECRET" in caught.value.message


def test_refresh_only_when_close_to_expiry(brand: Connected) -> None:
    assert brand.connector.refresh() is None  # two hours left


def test_refresh_rotates_the_refresh_token_and_saves_it_at_once(
    brand: Connected, fake: FakeX
) -> None:
    connector = brand.connector
    old_refresh = connector.credentials.secrets["refresh_token"]
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=10)
    fresh = connector.refresh()
    assert fresh is not None
    assert fresh.secrets["refresh_token"] != old_refresh
    assert (
        brand.saved and brand.saved[-1].secrets["refresh_token"] == fresh.secrets["refresh_token"]
    )
    assert connector.credentials.secrets["access_token"] == fresh.secrets["access_token"]
    assert connector.verify().remote_id == brand.user.id
    # The old refresh token is spent: using it again is a revoked token.
    stale = XConnector(
        credentials=Credentials(
            secrets={"access_token": "gone", "refresh_token": old_refresh},
            expires_at=datetime.now(UTC),
        )
    )
    with pytest.raises(AuthExpired):
        stale.refresh()


def test_refresh_keeps_the_old_refresh_token_when_none_comes_back() -> None:
    old = Credentials(secrets={"access_token": "a", "refresh_token": "r1"})
    merged = old.merged(Credentials(secrets={"access_token": "b"}))
    assert merged.secrets == {"access_token": "b", "refresh_token": "r1"}


def test_revoked_tokens_are_auth_expired(brand: Connected, fake: FakeX) -> None:
    fake.revoke_all(brand.user)
    with pytest.raises(AuthExpired) as caught:
        brand.connector.verify()
    assert "Reconnect" in caught.value.message
    brand.connector.credentials.expires_at = datetime.now(UTC)
    with pytest.raises(AuthExpired):
        brand.connector.refresh()


def test_expired_access_token_is_refreshed_on_the_fly(brand: Connected, fake: FakeX) -> None:
    fake.expire_access_tokens()  # X says 401 although Minbar thought the token good
    assert brand.connector.verify().remote_id == brand.user.id
    assert brand.saved, "the rotated tokens were handed to the channel"


def test_a_sign_in_without_write_permission_is_refused(fake: FakeX) -> None:
    user = fake.add_user("readonly")
    start = XConnector().start_oauth(REDIRECT_URI, "s")
    code = fake.approve(start.url.replace("tweet.write+", ""), user.username)["code"]
    with pytest.raises(Rejected) as caught:
        XConnector().finish_oauth(REDIRECT_URI, code, start)
    assert "tweet.write" in caught.value.message


def test_connected_accounts_are_distinct(fake: FakeX) -> None:
    one, two = connect(fake, "one"), connect(fake, "two")
    assert one.account.remote_id != two.account.remote_id
