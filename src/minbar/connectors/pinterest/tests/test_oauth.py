"""Signing in, choosing the board, refreshing tokens, and losing access."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.pinterest import PinterestConnector
from minbar.connectors.pinterest.boards import NEW_BOARD
from minbar.connectors.pinterest.tests.conftest import (
    REDIRECT_URI,
    Connected,
    FastPinterest,
    connect,
    sign_in,
)
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import Credentials, PostRequest


def test_authorize_url_asks_for_the_five_scopes_with_state_and_no_pkce(
    fake: FakePinterest,
) -> None:
    start = PinterestConnector().start_oauth(REDIRECT_URI, "state-abc")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert start.url.startswith(f"{fake.url}/oauth/?")
    assert query == {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "boards:read,boards:write,pins:read,pins:write,user_accounts:read",
        "state": "state-abc",
    }
    assert start.code_verifier == ""


def test_the_real_authorize_page_is_www_pinterest_com(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {"pinterest": {"client_id": "1234", "client_secret": "s"}}
    start = PinterestConnector().start_oauth(REDIRECT_URI, "s1")
    assert start.url.startswith("https://www.pinterest.com/oauth/?client_id=1234&")


def test_without_an_app_connecting_names_the_variables_to_set(settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported) as caught:
        PinterestConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_PINTEREST_CLIENT_ID" in caught.value.message
    assert "MINBAR_PINTEREST_CLIENT_SECRET" in caught.value.message


def test_code_exchange_uses_basic_auth_and_keeps_tokens_scopes_and_expiries(
    fake: FakePinterest, brand: Connected
) -> None:
    credentials = brand.result.credentials
    assert credentials.secrets["access_token"].startswith("pina_")
    assert credentials.secrets["refresh_token"].startswith("pinr_")
    assert credentials.data["scopes"] == [
        "boards:read",
        "boards:write",
        "pins:read",
        "pins:write",
        "user_accounts:read",
    ]
    assert credentials.expires_at is not None
    assert timedelta(days=29) < credentials.expires_at - datetime.now(UTC) <= timedelta(days=30)
    refresh_until = datetime.fromisoformat(credentials.data["refresh_expires_at"])
    assert timedelta(days=59) < refresh_until - datetime.now(UTC) <= timedelta(days=60)
    # The token request itself: Basic client authentication, continuous refresh asked for.
    (form,) = fake.sent("POST", "/v5/oauth/token")
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == REDIRECT_URI
    assert form["continuous_refresh"] == "true"
    assert "client_secret" not in form  # it travels in the Basic header the fake checked
    assert credentials.secrets["access_token"] not in repr(credentials)


def test_sign_in_connects_the_account_with_its_first_board_and_offers_the_others(
    brand: Connected,
) -> None:
    result, user, boards = brand.result, brand.user, brand.boards
    # One channel per board: the first board is this channel; the user id is kept aside.
    assert result.account.remote_id != user.id
    assert result.credentials.data["user_id"] == user.id
    assert result.account.handle == user.username
    assert result.account.display_name == f"{user.business_name} · Recipes"
    assert result.account.url == f"https://www.pinterest.com/{user.username}/"
    assert result.account.followers == 1200
    data = result.credentials.data
    assert (data["board_id"], data["section_id"]) == (boards["recipes"]["id"], "")
    assert data["account_type"] == "BUSINESS"
    offered = [(c.remote_id, c.name, c.kind) for c in result.choices]
    assert offered == [
        (
            f"{boards['recipes']['id']}/{boards['desserts']['id']}",
            "Recipes \u203a Desserts",
            "board section",
        ),
        (boards["travel"]["id"], "Travel", "board"),
        (NEW_BOARD, "New board “Minbar”", "new board"),
    ]


def test_choosing_a_section_sends_later_pins_there(
    fake: FakePinterest, brand: Connected, tmp_path: Any
) -> None:
    from minbar.connectors.pinterest.tests.conftest import image_file

    chosen = brand.result.choices[0]
    connector = FastPinterest(credentials=brand.result.credentials)
    result = connector.connect_choice(chosen.remote_id)
    assert result.account.remote_id == chosen.remote_id  # a channel of its own
    assert result.account.display_name.endswith("Recipes \u203a Desserts")
    assert result.credentials.data["section_id"] == brand.boards["desserts"]["id"]
    pin = FastPinterest(credentials=result.credentials).publish(
        PostRequest(text="Lemon tart", media=(image_file(tmp_path),))
    )
    assert fake.pins[pin.remote_id]["board_section_id"] == brand.boards["desserts"]["id"]


def test_choosing_a_new_board_creates_it_once(fake: FakePinterest, brand: Connected) -> None:
    connector = FastPinterest(credentials=brand.result.credentials)
    first = connector.connect_choice(NEW_BOARD)
    again = connector.connect_choice(NEW_BOARD)
    assert first.credentials.data["board_name"] == "Minbar"
    assert again.credentials.data["board_id"] == first.credentials.data["board_id"]
    created = fake.sent("POST", "/v5/boards")
    assert created == [
        {"name": "Minbar", "description": "Pins published with Minbar.", "privacy": "PUBLIC"}
    ]


def test_a_choice_that_is_not_a_board_is_refused(brand: Connected) -> None:
    connector = FastPinterest(credentials=brand.result.credentials)
    with pytest.raises(Rejected):
        connector.connect_choice("../../user_account")
    with pytest.raises(Rejected) as gone:
        connector.connect_choice("123456789")
    assert gone.value.status == 404


def test_an_account_without_boards_connects_and_is_told_to_choose_one(
    fake: FakePinterest, tmp_path: Any
) -> None:
    from minbar.connectors.pinterest.tests.conftest import image_file

    user = fake.add_user("newcomer")
    result = sign_in(fake, user)
    assert result.credentials.data["board_id"] == ""
    assert [c.remote_id for c in result.choices] == [NEW_BOARD]
    with pytest.raises(Rejected) as caught:
        FastPinterest(credentials=result.credentials).publish(
            PostRequest(text="Hello", media=(image_file(tmp_path),))
        )
    assert "no board" in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []


def test_a_sign_in_without_pin_permissions_is_refused(fake: FakePinterest) -> None:
    user = fake.add_user("stingy")
    with pytest.raises(Rejected) as caught:
        sign_in(fake, user, grant=("boards:read", "user_accounts:read"))
    assert "pins:write" in caught.value.message


def test_a_wrong_app_secret_fails_the_sign_in_clearly(fake: FakePinterest, settings: Any) -> None:
    user = fake.add_user("brand")
    start = PinterestConnector().start_oauth(REDIRECT_URI, "s")
    answer = fake.approve(start.url, user)
    settings.MINBAR_NETWORK_APPS["pinterest"]["client_secret"] = "wrong"
    with pytest.raises(Rejected) as caught:
        PinterestConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    assert "MINBAR_PINTEREST_CLIENT_SECRET" in caught.value.message
    assert "Authentication failed" in caught.value.detail


def test_refresh_waits_until_the_token_nearly_expires(brand: Connected) -> None:
    assert brand.connector.refresh() is None


def test_refresh_renews_both_tokens_when_the_access_token_expires_soon(
    fake: FakePinterest, brand: Connected
) -> None:
    old = brand.connector.credentials
    brand.connector.credentials = Credentials(
        secrets=dict(old.secrets),
        data=dict(old.data),
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )
    fresh = brand.connector.refresh()
    assert fresh is not None
    assert fresh.secrets["access_token"] != old.secrets["access_token"]
    assert fresh.secrets["refresh_token"] != old.secrets["refresh_token"]  # continuous refresh
    merged = old.merged(fresh)
    assert merged.expires_at is not None and merged.expires_at > datetime.now(UTC) + timedelta(
        days=29
    )
    # The old refresh token was replaced: using it again is refused.
    brand.connector.credentials = Credentials(
        secrets=dict(old.secrets), data=dict(old.data), expires_at=datetime.now(UTC)
    )
    with pytest.raises(AuthExpired):
        brand.connector.refresh()


def test_a_refused_access_token_is_refreshed_once_and_saved(
    fake: FakePinterest, brand: Connected
) -> None:
    fake.expire_access_tokens()  # Pinterest refuses it though Minbar thinks it is valid
    account = brand.connector.verify()
    assert account.remote_id == brand.result.account.remote_id
    assert brand.saved, "the refreshed tokens were not handed to the channel"
    assert (
        brand.saved[-1].secrets["access_token"] != brand.result.credentials.secrets["access_token"]
    )


def test_revoked_access_is_auth_expired(fake: FakePinterest, brand: Connected) -> None:
    fake.revoke(brand.user)
    with pytest.raises(AuthExpired) as caught:
        brand.connector.verify()
    assert "Reconnect" in caught.value.message
    assert brand.result.credentials.secrets["refresh_token"] not in caught.value.message


def test_refreshing_a_revoked_refresh_token_is_auth_expired(
    fake: FakePinterest, brand: Connected
) -> None:
    fake.revoke(brand.user)
    brand.connector.credentials = Credentials(
        secrets=dict(brand.result.credentials.secrets),
        data=dict(brand.result.credentials.data),
        expires_at=datetime.now(UTC),
    )
    with pytest.raises(AuthExpired) as caught:
        brand.connector.refresh()
    assert "Invalid refresh token" in caught.value.detail


def test_basic_auth_header_is_the_app_id_and_secret(fake: FakePinterest) -> None:
    from minbar.connectors.pinterest.oauth import basic_auth

    header = basic_auth({"client_id": "1234", "client_secret": "s3cret"})
    assert base64.b64decode(header.removeprefix("Basic ")) == b"1234:s3cret"


def test_a_second_account_is_a_separate_sign_in(fake: FakePinterest) -> None:
    one, two = connect(fake), connect(fake)
    assert one.result.account.remote_id != two.result.account.remote_id
