"""Connecting a Threads profile: Authorization Window, code, long-lived token, refresh.

Pages: https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
and https://developers.facebook.com/docs/threads/get-started/long-lived-tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.threads import ThreadsConnector
from minbar.connectors.threads.oauth import SCOPES
from minbar.connectors.threads.tests.conftest import REDIRECT_URI, Connected, approve, connect
from minbar.connectors.threads.tests.fake import FakeThreads
from minbar.connectors.types import Credentials


def test_authorize_url_asks_for_every_permission_minbar_uses(fake: FakeThreads) -> None:
    start = ThreadsConnector().start_oauth(REDIRECT_URI, "xyz")
    query = parse_qs(urlsplit(start.url).query)
    assert query["client_id"] == [fake.client_id]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["response_type"] == ["code"]
    assert query["state"] == ["xyz"]
    assert query["scope"][0].split(",") == list(SCOPES)
    assert "threads_keyword_search" in SCOPES and "threads_basic" in SCOPES
    # Threads documents no PKCE: nothing to keep, no challenge sent.
    assert start.code_verifier == "" and "code_challenge" not in query


def test_the_real_authorization_window_is_threads_com(settings) -> None:
    settings.MINBAR_NETWORK_APPS = {"threads": {"client_id": "1", "client_secret": "s"}}
    start = ThreadsConnector().start_oauth(REDIRECT_URI, "s")
    assert start.url.startswith("https://threads.com/oauth/authorize?")


def test_missing_app_is_a_clear_not_supported(settings) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(
        NotSupported, match="MINBAR_THREADS_CLIENT_ID and MINBAR_THREADS_CLIENT_SECRET"
    ):
        ThreadsConnector().start_oauth(REDIRECT_URI, "s")


def test_code_becomes_a_long_lived_token_and_the_profile(fake: FakeThreads) -> None:
    connected = connect(fake)
    credentials = connected.connector.credentials
    token = fake.tokens[credentials.secrets["access_token"]]
    assert token.long_lived and token.user_id == connected.user.id
    assert credentials.expires_at is not None
    assert credentials.expires_at - datetime.now(UTC) > timedelta(days=59)
    assert connected.account.remote_id == connected.user.id
    assert connected.account.handle == connected.user.username
    assert connected.account.url.endswith("@" + connected.user.username)
    assert credentials.data["user_id"] == connected.user.id
    # The code exchange and the th_exchange_token call, in that order, with the app's keys.
    exchange = [r for r in fake.requests if r["path"] == "/oauth/access_token"][-1]
    assert exchange["method"] == "POST"
    assert exchange["params"]["grant_type"] == "authorization_code"
    assert "#" not in exchange["params"]["code"]  # the "#_" is not part of the code
    long = [r for r in fake.requests if r["path"] == "/access_token"][-1]
    assert long["params"]["grant_type"] == "th_exchange_token"
    assert long["params"]["client_secret"] == fake.client_secret
    assert "THAA" not in repr(credentials)  # tokens stay out of reprs and logs


def test_a_used_code_is_refused_as_a_sign_in_problem(fake: FakeThreads) -> None:
    user = fake.create_user("again")
    connector = ThreadsConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    code = approve(fake, start.url, user.username)["code"]
    connector.finish_oauth(REDIRECT_URI, code, start)
    with pytest.raises(Rejected, match="refused the sign-in") as caught:
        ThreadsConnector().finish_oauth(REDIRECT_URI, code, start)
    assert "authorization code has been used" in caught.value.detail


def test_refresh_waits_until_the_token_nears_its_60_days(
    brand: Connected, fake: FakeThreads
) -> None:
    assert brand.connector.refresh() is None  # fresh: nothing to do
    assert not [r for r in fake.requests if r["path"] == "/refresh_access_token"]


def test_refresh_renews_a_token_in_its_last_week(brand: Connected, fake: FakeThreads) -> None:
    old = brand.connector.credentials.secrets["access_token"]
    fake.age_token(old, 55 * 86400)
    brand.connector.credentials.expires_at = datetime.now(UTC) + timedelta(days=5)
    brand.connector.credentials.data["token_issued_at"] = (
        datetime.now(UTC) - timedelta(days=55)
    ).isoformat()
    fresh = brand.connector.refresh()
    assert fresh is not None and fresh.secrets["access_token"] != old
    assert fresh.expires_at is not None and fresh.expires_at > datetime.now(UTC) + timedelta(
        days=59
    )
    call = [r for r in fake.requests if r["path"] == "/refresh_access_token"][-1]
    assert call["params"]["grant_type"] == "th_refresh_token"
    merged = brand.connector.credentials.merged(fresh)
    assert merged.data["user_id"] == brand.user.id  # the rest is kept


def test_operations_refresh_a_token_due_and_hand_it_to_the_channel(fake: FakeThreads) -> None:
    connected = connect(fake)
    saved: list[Credentials] = []
    credentials = connected.connector.credentials
    fake.age_token(credentials.secrets["access_token"], 55 * 86400)
    credentials.expires_at = datetime.now(UTC) + timedelta(days=3)
    credentials.data["token_issued_at"] = (datetime.now(UTC) - timedelta(days=57)).isoformat()
    connector = ThreadsConnector(credentials=credentials, on_credentials_change=saved.append)
    assert connector.verify().remote_id == connected.user.id
    assert (
        len(saved) == 1 and saved[0].secrets["access_token"] != credentials.secrets["access_token"]
    )


def test_a_revoked_token_is_auth_expired_for_calls_and_for_refresh(
    brand: Connected, fake: FakeThreads
) -> None:
    token = brand.connector.credentials.secrets["access_token"]
    fake.revoke(token)
    with pytest.raises(AuthExpired) as caught:
        brand.connector.verify()
    assert "code 190" in caught.value.detail and "subcode 458" in caught.value.detail
    assert token not in caught.value.message + caught.value.detail
    brand.connector.credentials.expires_at = datetime.now(UTC) + timedelta(days=1)
    brand.connector.credentials.data["token_issued_at"] = "2020-01-01T00:00:00+00:00"
    with pytest.raises(AuthExpired, match="Reconnect"):
        brand.connector.refresh()
