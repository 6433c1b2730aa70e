"""Signing in with Google and choosing a location, against the fake.

Google OAuth 2.0 for web server applications:
https://developers.google.com/identity/protocols/oauth2/web-server; accounts.list
(https://developers.google.com/my-business/reference/accountmanagement/rest/v1/accounts/list)
and accounts.locations.list with a readMask
(https://developers.google.com/my-business/reference/businessinformation/rest/v1/accounts.locations/list).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.google_business import GoogleBusinessConnector
from minbar.connectors.google_business.oauth import SCOPE_MANAGE
from minbar.connectors.google_business.tests.conftest import (
    REDIRECT_URI,
    Connected,
    connect,
    make_business,
)
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile
from minbar.connectors.pkce import code_challenge
from minbar.connectors.types import Credentials


def test_the_consent_url_asks_for_business_manage_offline_and_pkce(app: dict[str, str]) -> None:
    start = GoogleBusinessConnector().start_oauth(REDIRECT_URI, "the-state")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == "/o/oauth2/v2/auth"
    assert query["client_id"] == app["client_id"]
    assert query["scope"] == SCOPE_MANAGE
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["state"] == "the-state"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == code_challenge(start.code_verifier)
    assert start.app is None


def test_the_real_google_hosts_are_used_without_an_api_url(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {
        "google_business": {"client_id": "id.apps", "client_secret": "s"}
    }
    start = GoogleBusinessConnector().start_oauth("https://minbar.example/cb/", "s")
    assert start.url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    endpoints = GoogleBusinessConnector().endpoints
    assert endpoints.token == "https://oauth2.googleapis.com/token"
    assert endpoints.management == "https://mybusinessaccountmanagement.googleapis.com/v1"
    assert endpoints.information == "https://mybusinessbusinessinformation.googleapis.com/v1"
    assert endpoints.v4 == "https://mybusiness.googleapis.com/v4"
    assert endpoints.performance == "https://businessprofileperformance.googleapis.com/v1"


def test_without_an_app_connecting_names_the_variables_to_set(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported) as caught:
        GoogleBusinessConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_GOOGLE_BUSINESS_CLIENT_ID" in caught.value.message
    assert "MINBAR_GOOGLE_BUSINESS_CLIENT_SECRET" in caught.value.message


def test_the_code_flow_connects_the_first_location_and_offers_the_others(
    fake: FakeBusinessProfile, app: dict[str, str]
) -> None:
    business = make_business(fake, "Acme Amman", "Acme Irbid", "Acme Aqaba")
    connected = connect(fake, business)
    result = connected.result
    assert result.account.remote_id == business.locations[0]
    assert result.account.display_name == "Acme Amman"
    assert result.account.url.startswith("https://maps.google.com/")
    assert [c.remote_id for c in result.choices] == business.locations[1:]
    assert [c.name for c in result.choices] == ["Acme Irbid", "Acme Aqaba"]
    assert all(c.kind == "location" for c in result.choices)
    assert result.choices[0].detail == "1 Rainbow Street, Amman, JO"
    data = result.credentials.data
    assert data["account"] == business.account and data["location"] == business.locations[0]
    assert data["scopes"] == [SCOPE_MANAGE]
    credentials = result.credentials
    assert credentials.secrets["refresh_token"].startswith("1//")
    assert credentials.expires_at is not None
    assert credentials.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    # Every location read with the read mask Google requires.
    assert all(c[2]["readMask"] for c in fake.calls("GET", "/locations"))


def test_connect_choice_acts_for_another_location_with_the_same_tokens(
    fake: FakeBusinessProfile, app: dict[str, str]
) -> None:
    business = make_business(fake, "Acme Amman", "Acme Irbid")
    connected = connect(fake, business)
    chooser = GoogleBusinessConnector(credentials=connected.result.credentials)
    chosen = chooser.connect_choice(business.locations[1])
    assert chosen.account.remote_id == business.locations[1]
    assert chosen.account.display_name == "Acme Irbid"
    assert chosen.credentials.data["location"] == business.locations[1]
    assert chosen.credentials.secrets == connected.result.credentials.secrets
    # The chosen location's own posts work at once.
    other = GoogleBusinessConnector(credentials=chosen.credentials)
    other.media_url_for = connected.connector.media_url_for
    from minbar.connectors.types import PostRequest

    published = other.publish(PostRequest(text="Now open in Irbid"))
    assert published.remote_id.startswith(f"{business.account}/{business.locations[1]}/localPosts/")


def test_a_location_reachable_through_two_accounts_is_offered_once(
    fake: FakeBusinessProfile, app: dict[str, str]
) -> None:
    business = make_business(fake, "Acme Amman", "Acme Irbid")
    group = fake.add_account(business.user, "Acme group", kind="LOCATION_GROUP")
    fake.share_location(business.locations[1], group)
    connected = connect(fake, business)
    assert [c.remote_id for c in connected.result.choices] == [business.locations[1]]


def test_choosing_a_location_the_sign_in_does_not_manage_is_refused(shop: Connected) -> None:
    chooser = GoogleBusinessConnector(credentials=shop.result.credentials)
    with pytest.raises(Rejected, match="does not manage"):
        chooser.connect_choice("locations/999")


def test_an_account_with_no_location_cannot_connect(
    fake: FakeBusinessProfile, app: dict[str, str]
) -> None:
    user = fake.add_user()
    fake.add_account(user)
    start = GoogleBusinessConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    with pytest.raises(Rejected, match="manages no business location"):
        GoogleBusinessConnector().finish_oauth(REDIRECT_URI, answer["code"], start)


def test_unticking_the_permission_is_refused_with_a_way_out(
    fake: FakeBusinessProfile, app: dict[str, str]
) -> None:
    business = make_business(fake)
    with pytest.raises(Rejected, match="permission to manage the business"):
        connect(fake, business, grant=())


def test_a_wrong_pkce_verifier_is_refused(fake: FakeBusinessProfile, app: dict[str, str]) -> None:
    business = make_business(fake)
    start = GoogleBusinessConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, business.user)
    from dataclasses import replace

    with pytest.raises(Rejected, match="did not accept the sign-in"):
        GoogleBusinessConnector().finish_oauth(
            REDIRECT_URI, answer["code"], replace(start, code_verifier="x" * 64)
        )


def test_refresh_waits_until_the_token_nears_its_end(shop: Connected) -> None:
    assert shop.connector.refresh() is None
    shop.connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=10)
    fresh = shop.connector.refresh()
    assert fresh is not None
    assert fresh.secrets["access_token"] != shop.connector.credentials.secrets["access_token"]
    # Google sends no new refresh token: merging keeps the old one.
    merged = shop.connector.credentials.merged(fresh)
    assert merged.secrets["refresh_token"] == shop.connector.credentials.secrets["refresh_token"]


def test_an_expired_access_token_is_refreshed_mid_call_and_saved(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.expire_access_tokens()
    account = shop.connector.verify()
    assert account.remote_id == shop.result.account.remote_id
    assert (
        shop.saved
        and shop.saved[-1].secrets["access_token"]
        != shop.result.credentials.secrets["access_token"]
    )


def test_a_revoked_refresh_token_means_reconnect(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.revoke_refresh_tokens(shop.business.user)
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired, match="Reconnect"):
        shop.connector.verify()
    shop.connector.credentials.expires_at = datetime.now(UTC)
    with pytest.raises(AuthExpired):
        shop.connector.refresh()


def test_a_channel_with_no_tokens_asks_for_reconnecting(app: dict[str, str]) -> None:
    connector = GoogleBusinessConnector(credentials=Credentials(data={"location": "locations/1"}))
    with pytest.raises(AuthExpired):
        connector.verify()


def test_verify_reads_the_location_and_keeps_its_title_current(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.locations[shop.result.account.remote_id]["title"] = "Acme Coffee Roasters"
    account = shop.connector.verify()
    assert account.display_name == "Acme Coffee Roasters"
    assert shop.saved[-1].data["title"] == "Acme Coffee Roasters"


def test_revoking_ends_minbars_access_to_the_business_profile(
    fake: FakeBusinessProfile, shop: Connected
) -> None:
    """https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke"""
    refresh_token = shop.connector.credentials.secrets["refresh_token"]
    shop.connector.revoke()
    assert fake.revocations == [refresh_token]
    with pytest.raises(AuthExpired):
        shop.reopen().verify()
    shop.connector.revoke()  # already revoked: nothing to do
