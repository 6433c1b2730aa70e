"""Signing in with Google against the fake: the consent URL, PKCE, refresh, revocation.

Google OAuth 2.0 for web server applications:
https://developers.google.com/identity/protocols/oauth2/web-server
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected, TemporaryError
from minbar.connectors.pkce import code_challenge
from minbar.connectors.types import Credentials
from minbar.connectors.youtube import YouTubeConnector
from minbar.connectors.youtube.oauth import (
    SCOPE_ANALYTICS,
    SCOPE_FORCE_SSL,
    SCOPE_READONLY,
    SCOPE_UPLOAD,
    SCOPES,
)
from minbar.connectors.youtube.tests.conftest import REDIRECT_URI, Connected, connect
from minbar.connectors.youtube.tests.fake import FakeYouTube


def test_the_consent_url_asks_for_offline_access_consent_and_pkce(app: dict[str, str]) -> None:
    start = YouTubeConnector().start_oauth(REDIRECT_URI, "the-state")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/o/oauth2/v2/auth"
    assert query["client_id"] == app["client_id"]
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["response_type"] == "code"
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["state"] == "the-state"
    assert query["scope"].split() == list(SCOPES)
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == code_challenge(start.code_verifier)
    assert 43 <= len(start.code_verifier) <= 128
    # The install-wide app is never cached with the sign-in (a rotated secret applies at once).
    assert start.app is None


def test_the_real_google_hosts_are_used_without_an_api_url(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {"youtube": {"client_id": "id.apps", "client_secret": "s"}}
    start = YouTubeConnector().start_oauth("https://minbar.example/cb/", "s")
    assert start.url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    endpoints = YouTubeConnector().endpoints
    assert endpoints.token == "https://oauth2.googleapis.com/token"
    assert endpoints.revoke == "https://oauth2.googleapis.com/revoke"
    assert endpoints.upload == "https://www.googleapis.com/upload/youtube/v3"
    assert endpoints.analytics == "https://youtubeanalytics.googleapis.com/v2"


def test_without_an_app_connecting_says_which_variables_to_set(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported) as caught:
        YouTubeConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_YOUTUBE_CLIENT_ID" in caught.value.message
    assert "MINBAR_YOUTUBE_CLIENT_SECRET" in caught.value.message


def test_the_code_flow_connects_the_channel(fake: FakeYouTube, app: dict[str, str]) -> None:
    user = fake.add_user("acme", subscribers=4321)
    connected = connect(fake, user)
    account = connected.account
    assert account.remote_id == user.channel_id
    assert account.handle == user.handle
    assert account.display_name == "Acme"
    assert account.followers == 4321
    assert account.url == f"https://www.youtube.com/channel/{user.channel_id}"
    credentials = connected.connector.credentials
    assert credentials.secrets["access_token"].startswith("ya29.")
    assert credentials.secrets["refresh_token"]
    assert credentials.expires_at is not None
    assert credentials.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    assert set(credentials.data["scopes"]) == set(SCOPES)
    assert credentials.data["uploads_playlist"] == fake.uploads_playlist(user)
    assert "access_token" not in repr(credentials)
    assert credentials.secrets["access_token"] not in repr(credentials)


def test_a_wrong_pkce_verifier_is_refused(fake: FakeYouTube, app: dict[str, str]) -> None:
    user = fake.add_user("pkce")
    start = YouTubeConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    forged = type(start)(url=start.url, state=start.state, code_verifier="x" * 64)
    with pytest.raises(Rejected) as caught:
        YouTubeConnector().finish_oauth(REDIRECT_URI, answer["code"], forged)
    assert "Invalid code verifier" in caught.value.message


def test_a_code_used_twice_is_refused(fake: FakeYouTube, app: dict[str, str]) -> None:
    user = fake.add_user("twice")
    start = YouTubeConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    YouTubeConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    with pytest.raises(Rejected) as caught:
        YouTubeConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    assert caught.value.status == 400


def test_unticking_the_upload_permission_fails_the_connection_clearly(
    fake: FakeYouTube, app: dict[str, str]
) -> None:
    with pytest.raises(Rejected) as caught:
        connect(fake, grant=(SCOPE_READONLY, SCOPE_FORCE_SSL))
    assert "upload videos" in caught.value.message


def test_a_google_account_without_a_channel_is_refused(
    fake: FakeYouTube, app: dict[str, str]
) -> None:
    with pytest.raises(Rejected) as caught:
        connect(fake, fake.add_user("nochannel", channel=False))
    assert "no YouTube channel" in caught.value.message


def test_fewer_permissions_switch_features_off(fake: FakeYouTube, app: dict[str, str]) -> None:
    connected = connect(fake, grant=(SCOPE_UPLOAD, SCOPE_READONLY))
    caps = connected.connector.account_capabilities()
    assert not caps.can_reply_to and not caps.can_hide and not caps.first_comment
    assert "shares" not in caps.post_metrics
    with pytest.raises(NotSupported) as caught:
        connected.connector.hide(_ref("Ugx"))
    assert "Reconnect" in caught.value.message
    full = connect(fake).connector.account_capabilities()
    assert full.can_hide and "shares" in full.post_metrics and SCOPE_ANALYTICS


def _ref(comment_id: str) -> Any:
    from minbar.connectors.types import RemoteRef

    return RemoteRef(comment_id)


def test_refresh_is_skipped_while_the_token_is_fresh(brand: Connected) -> None:
    assert brand.connector.refresh() is None


def test_refresh_gets_a_new_access_token_and_keeps_the_refresh_token(
    brand: Connected,
) -> None:
    old = brand.connector.credentials
    brand.connector.credentials = Credentials(
        secrets=old.secrets, data=old.data, expires_at=datetime.now(UTC) + timedelta(minutes=5)
    )
    fresh = brand.connector.refresh()
    assert fresh is not None
    assert fresh.secrets["access_token"] != old.secrets["access_token"]
    assert fresh.secrets["refresh_token"] == ""  # Google sends none on refresh…
    merged = brand.connector.credentials.merged(fresh)
    assert merged.secrets["refresh_token"] == old.secrets["refresh_token"]  # …so it is kept
    assert merged.expires_at is not None and merged.expires_at > old.expires_at  # type: ignore[operator]


def test_an_expired_access_token_is_refreshed_mid_operation_and_saved(
    brand: Connected, fake: FakeYouTube
) -> None:
    before = brand.connector.credentials.secrets["access_token"]
    fake.expire_access_tokens()  # Google refuses it although Minbar thinks it is valid
    assert brand.connector.verify().remote_id == brand.user.channel_id
    after = brand.connector.credentials.secrets["access_token"]
    assert after != before
    assert brand.saved and brand.saved[-1].secrets["access_token"] == after


def test_a_revoked_refresh_token_means_reconnect(brand: Connected, fake: FakeYouTube) -> None:
    fake.revoke_refresh_tokens(brand.user)
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired) as caught:
        brand.connector.verify()
    assert "Reconnect" in caught.value.message
    assert "revoked" in caught.value.message
    brand.connector.credentials = Credentials(
        secrets=brand.connector.credentials.secrets,
        data=brand.connector.credentials.data,
        expires_at=datetime.now(UTC),
    )
    with pytest.raises(AuthExpired):
        brand.connector.refresh()
    with pytest.raises(AuthExpired):
        brand.connector.post_metrics(["any"])


def test_no_tokens_at_all_means_reconnect(app: dict[str, str]) -> None:
    with pytest.raises(AuthExpired):
        YouTubeConnector(credentials=Credentials()).verify()


def test_revoking_ends_minbars_access_and_a_token_already_gone_counts_as_revoked(
    fake: FakeYouTube, brand: Connected
) -> None:
    """https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke"""
    refresh_token = brand.connector.credentials.secrets["refresh_token"]
    brand.connector.revoke()
    assert fake.revocations == [refresh_token]  # the refresh token: its access tokens go too
    with pytest.raises(AuthExpired):
        brand.reopen().verify()
    brand.connector.revoke()  # Google answers invalid_token now: nothing left to end


def test_a_revocation_google_fails_is_an_error_to_report(
    fake: FakeYouTube, brand: Connected
) -> None:
    fake.fail("POST", "/revoke", status=503)
    with pytest.raises(TemporaryError):
        brand.connector.revoke()
