"""Signing in with TikTok: the authorization URL, PKCE, the code exchange, refresh and revoke."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.base import OAuthStart
from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.tiktok import TikTokConnector
from minbar.connectors.tiktok.tests.conftest import REDIRECT_URI, Connected, connect
from minbar.connectors.tiktok.tests.fake import FakeTikTok
from minbar.connectors.types import Credentials


def test_the_authorization_url_uses_client_key_scopes_and_tiktoks_hex_pkce(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    start = TikTokConnector().start_oauth(REDIRECT_URI, "state-1")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/v2/auth/authorize/"
    assert query["client_key"] == app["client_id"]
    assert "client_id" not in query and "client_secret" not in query
    assert query["scope"] == (
        "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload,video.list"
    )
    assert query["redirect_uri"] == REDIRECT_URI and query["state"] == "state-1"
    assert query["code_challenge_method"] == "S256"
    # TikTok's challenge is the SHA-256 of the verifier in hex, not base64url.
    assert query["code_challenge"] == hashlib.sha256(start.code_verifier.encode()).hexdigest()
    assert 43 <= len(start.code_verifier) <= 128


def test_the_real_authorization_page_is_on_www_tiktok_com(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {"tiktok": {"client_id": "aw1", "client_secret": "s"}}
    start = TikTokConnector().start_oauth(REDIRECT_URI, "s")
    assert start.url.startswith("https://www.tiktok.com/v2/auth/authorize/?")


def test_signing_in_keeps_the_tokens_lifetimes_scopes_and_account(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    connected = connect(fake)
    credentials = connected.connector.credentials
    assert credentials.secrets["access_token"].startswith("act.")
    assert credentials.secrets["refresh_token"].startswith("rft.")
    assert credentials.data["open_id"] == connected.user.open_id
    assert credentials.data["username"] == "acme.coffee"
    assert "video.publish" in credentials.data["scopes"]
    assert credentials.expires_at is not None
    assert credentials.expires_at - datetime.now(UTC) > timedelta(hours=23)
    refresh_end = datetime.fromisoformat(credentials.data["refresh_expires_at"])
    assert refresh_end - datetime.now(UTC) > timedelta(days=364)
    assert credentials.data["creator"]["privacy_level_options"][0] == "PUBLIC_TO_EVERYONE"
    assert connected.account.remote_id == connected.user.open_id
    assert connected.account.handle == "acme.coffee"
    assert connected.account.followers == 1200
    assert connected.account.url == "https://vm.tiktok.com/acme.coffee"
    assert "act." not in repr(credentials)


def test_a_wrong_code_verifier_is_refused(fake: FakeTikTok, app: dict[str, str]) -> None:
    user = fake.add_user("someone")
    start = TikTokConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    forged = OAuthStart(url=start.url, state=start.state, code_verifier="x" * 64)
    with pytest.raises(Rejected, match="did not accept the sign-in") as caught:
        TikTokConnector().finish_oauth(REDIRECT_URI, answer["code"], forged)
    assert "code challenge" in caught.value.detail


def test_a_sign_in_without_posting_permission_is_refused(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    with pytest.raises(Rejected, match="permission to post"):
        connect(fake, grant=("user.info.basic",))


def test_missing_app_configuration_says_which_variables_to_set(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported, match="MINBAR_TIKTOK_CLIENT_ID"):
        TikTokConnector().start_oauth(REDIRECT_URI, "s")


def test_a_wrong_client_secret_is_an_app_problem(
    fake: FakeTikTok, app: dict[str, str], settings: Any
) -> None:
    user = fake.add_user("someone")
    start = TikTokConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    settings.MINBAR_NETWORK_APPS["tiktok"]["client_secret"] = "wrong"
    with pytest.raises(NotSupported, match="MINBAR_TIKTOK_CLIENT_SECRET"):
        TikTokConnector().finish_oauth(REDIRECT_URI, answer["code"], start)


def _expiring(connected: Connected, minutes: int) -> None:
    credentials = connected.connector.credentials
    connected.connector.credentials = Credentials(
        secrets=dict(credentials.secrets),
        data=dict(credentials.data),
        expires_at=datetime.now(UTC) + timedelta(minutes=minutes),
    )


def test_refresh_rotates_the_refresh_token_and_only_when_needed(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    connected = connect(fake)
    _expiring(connected, minutes=120)
    assert connected.connector.refresh() is None
    _expiring(connected, minutes=10)
    old = connected.connector.credentials.secrets["refresh_token"]
    fresh = connected.connector.refresh()
    assert fresh is not None
    assert fresh.secrets["refresh_token"] != old
    assert fresh.expires_at is not None and fresh.expires_at > datetime.now(UTC)
    # The old refresh token stopped working when the new one was issued.
    assert old not in fake.refresh_tokens


def test_a_revoked_sign_in_is_auth_expired(fake: FakeTikTok, app: dict[str, str]) -> None:
    connected = connect(fake)
    fake.revoke_user(connected.user)
    _expiring(connected, minutes=1)
    with pytest.raises(AuthExpired, match="Reconnect"):
        connected.connector.refresh()
    with pytest.raises(AuthExpired):
        connected.connector.verify()


def test_an_access_token_refused_mid_operation_is_refreshed_once_and_saved(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    connected = connect(fake)
    fake.expire_access_tokens()  # TikTok says access_token_invalid before the stored expiry
    before = connected.connector.credentials.secrets["refresh_token"]
    account = connected.connector.verify()
    assert account.handle == "acme.coffee"
    assert connected.saved and connected.saved[-1].secrets["refresh_token"] != before
    assert connected.saved[-1].secrets["refresh_token"] in fake.refresh_tokens


def test_revoking_ends_minbars_access(fake: FakeTikTok, app: dict[str, str]) -> None:
    connected = connect(fake)
    connected.connector.revoke()
    assert not [g for g in fake.access.values() if g["open_id"] == connected.user.open_id]
    with pytest.raises(AuthExpired):
        connected.connector.verify()
