"""Signing in: the authorize URL, the code exchange, Pages, refresh where granted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.linkedin.oauth import COMMUNITY_SCOPES, SHARE_SCOPES
from minbar.connectors.linkedin.tests.conftest import (
    REDIRECT_URI,
    Connected,
    approve,
    configure,
    sign_in,
)
from minbar.connectors.linkedin.tests.fake import FakeLinkedIn, Running


def test_authorize_url_asks_for_the_configured_products_scopes(
    app: dict[str, str], running: Running
) -> None:
    start = LinkedInConnector().start_oauth(REDIRECT_URI, "s1")
    parts = urlsplit(start.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{running.url}/oauth/v2/authorization"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": running.fake.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "scope": " ".join(COMMUNITY_SCOPES),
    }
    assert start.code_verifier == ""  # LinkedIn takes PKCE from native clients only


def test_the_default_product_is_share_on_linkedin_with_openid(
    settings, running: Running, fake: FakeLinkedIn
) -> None:
    configure(settings, running, scopes="")
    start = LinkedInConnector().start_oauth(REDIRECT_URI, "s2")
    assert parse_qs(urlsplit(start.url).query)["scope"] == [" ".join(SHARE_SCOPES)]
    member = fake.add_member("Lina")
    connected = sign_in(running, member)
    # OpenID's userinfo names the member; no Page can be read with these scopes.
    assert connected.account.remote_id == member.urn
    assert connected.account.display_name == "Lina Doe"
    assert connected.connector.credentials.data["organizations"] == []
    assert connected.connector.pages() == []
    caps = connected.connector.account_capabilities()
    assert caps.post_metrics == frozenset() and caps.interactions == frozenset()


def test_missing_app_is_a_clear_not_supported(settings) -> None:
    settings.MINBAR_NETWORK_APPS = {}
    with pytest.raises(NotSupported) as caught:
        LinkedInConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_LINKEDIN_CLIENT_ID" in caught.value.message


def test_code_exchange_connects_the_member_and_lists_their_pages(
    app: dict[str, str], running: Running, fake: FakeLinkedIn
) -> None:
    member = fake.add_member("Rami", "Aziz")
    mine = fake.add_page("Rami Coffee", [member], followers=321)
    fake.add_page("Someone Else", [fake.add_member("Other")])
    connected = sign_in(running, member)
    credentials = connected.connector.credentials
    assert connected.account.remote_id == member.urn
    assert connected.account.handle == member.vanity  # /v2/me with r_basicprofile
    assert credentials.data["author"] == member.urn
    assert [o["urn"] for o in credentials.data["organizations"]] == [mine]
    assert credentials.expires_at is not None
    assert credentials.expires_at - datetime.now(UTC) > timedelta(days=59)
    assert "refresh_token" not in credentials.secrets
    assert "w_organization_social" in credentials.data["scopes"]

    pages = connected.connector.pages()
    assert [(p.remote_id, p.display_name) for p in pages] == [(mine, "Rami Coffee")]
    page = connected.connector.page_connection(mine)
    assert page.account.remote_id == mine
    assert page.account.followers == 321
    assert page.account.url == "https://www.linkedin.com/company/rami-coffee/"
    assert page.credentials.data["author"] == mine
    assert page.credentials.secrets == credentials.secrets
    # The channels app's picker goes through the contract.
    assert connected.connector.connect_choice(mine).account.remote_id == mine


def test_a_page_the_member_does_not_administer_is_refused(
    member_channel: Connected, fake: FakeLinkedIn
) -> None:
    other = fake.add_page("Not Hers", [fake.add_member("Sam")])
    with pytest.raises(Rejected, match="not an administrator"):
        member_channel.connector.page_connection(other)


def test_a_used_code_is_rejected(app: dict[str, str], running: Running, fake: FakeLinkedIn) -> None:
    connector = LinkedInConnector()
    start = connector.start_oauth(REDIRECT_URI, "s3")
    answer = approve(running, start.url, fake.add_member("Nour"))
    connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    with pytest.raises(Rejected) as caught:
        LinkedInConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    assert caught.value.status == 400
    assert "authorization code expired" in caught.value.message


def test_an_ungranted_scope_comes_back_as_an_error(
    settings, running: Running, fake: FakeLinkedIn
) -> None:
    configure(settings, running, scopes="w_member_social r_member_social")
    start = LinkedInConnector().start_oauth(REDIRECT_URI, "s4")
    answer = approve(running, start.url, fake.add_member("Ziad"))
    assert answer["error"] == "unauthorized_scope_error"
    assert "r_member_social" in answer["error_description"]


def test_without_a_refresh_token_an_expiring_sign_in_asks_for_a_reconnect(
    member_channel: Connected,
) -> None:
    connector = member_channel.connector
    assert connector.refresh() is None  # 60 days left: nothing to do
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=10)
    with pytest.raises(AuthExpired) as caught:
        connector.refresh()
    assert "reconnect the channel" in caught.value.message
    assert "60 days" in caught.value.message


def test_partners_refresh_tokens_renew_the_access_token(
    app: dict[str, str], running: Running, fake: FakeLinkedIn
) -> None:
    fake.refresh_tokens_enabled = True
    connected = sign_in(running, fake.add_member("Hala"))
    connector = connected.connector
    old = dict(connector.credentials.secrets)
    assert old["refresh_token"]
    assert connector.credentials.data["refresh_token_expires_at"]
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    fresh = connector.refresh()
    assert fresh is not None
    assert fresh.secrets["access_token"] != old["access_token"]
    assert fresh.expires_at is not None and fresh.expires_at > datetime.now(UTC) + timedelta(
        days=59
    )
    connector.save_credentials(fresh)
    assert connector.verify().remote_id == connected.member.urn  # the new token works


def test_a_revoked_refresh_token_is_auth_expired(
    app: dict[str, str], running: Running, fake: FakeLinkedIn
) -> None:
    fake.refresh_tokens_enabled = True
    connector = sign_in(running, fake.add_member("Dana")).connector
    for grant in fake.refresh.values():
        grant["revoked"] = True
    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    with pytest.raises(AuthExpired) as caught:
        connector.refresh()
    assert caught.value.status == 400
    assert "invalid, expired or revoked" in caught.value.message


def test_a_revoked_access_token_is_auth_expired(
    member_channel: Connected, fake: FakeLinkedIn
) -> None:
    for token in fake.tokens.values():
        if token.member == member_channel.member.urn:
            token.revoked = True
    with pytest.raises(AuthExpired) as caught:
        member_channel.connector.verify()
    assert caught.value.status == 401
    assert "revoked by the user" in caught.value.message
