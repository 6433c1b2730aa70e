"""Facebook Login: the dialog, the code exchange, long-lived tokens, choosing a Page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.facebook import FacebookConnector
from minbar.connectors.facebook.scopes import SCOPES
from minbar.connectors.facebook.tests.conftest import Connected, connect
from minbar.connectors.meta_graph.tests.fake_graph import APP_ID, FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import REDIRECT_URI
from minbar.connectors.meta_graph.version import GRAPH_VERSION


def test_the_dialog_url_names_the_app_the_permissions_and_the_state(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    start = FacebookConnector().start_oauth(REDIRECT_URI, "xyz")
    parts = urlsplit(start.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == f"/{GRAPH_VERSION}/dialog/oauth"
    assert query["client_id"] == APP_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == "xyz"
    assert query["response_type"] == "code"
    assert set(query["scope"].split(",")) == set(SCOPES)
    assert start.code_verifier == ""  # Facebook documents no PKCE for this flow


def test_on_the_real_network_the_dialog_is_on_www_facebook_com(settings: object) -> None:
    settings.MINBAR_NETWORK_APPS = {"facebook": {"client_id": "1", "client_secret": "s"}}  # type: ignore[attr-defined]
    start = FacebookConnector().start_oauth(REDIRECT_URI, "s")
    assert start.url.startswith(f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth?")


def test_without_the_app_configured_connecting_is_not_supported_and_names_the_variables(
    settings: object,
) -> None:
    settings.MINBAR_NETWORK_APPS = {}  # type: ignore[attr-defined]
    with pytest.raises(NotSupported) as caught:
        FacebookConnector().start_oauth(REDIRECT_URI, "s")
    assert "MINBAR_FACEBOOK_CLIENT_ID" in caught.value.message


def test_finishing_stores_a_page_token_and_the_long_lived_user_token(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    connected = connect(fake, pages=("Café One", "Café Two"))
    credentials = connected.connector.credentials
    assert credentials.data["page_id"] == connected.page_id
    assert credentials.data["page_name"] == "Café One"
    assert [p["name"] for p in credentials.data["pages"]] == ["Café One", "Café Two"]
    page_token = fake.tokens[credentials.secrets["page_access_token"]]
    assert page_token.kind == "page" and page_token.expires_at is None  # never expires
    user_token = fake.tokens[credentials.secrets["user_access_token"]]
    assert user_token.expires_at is not None  # the long-lived (60-day) exchange happened
    assert credentials.expires_at is None
    assert "pages_manage_posts" in credentials.data["scopes"]
    assert credentials.secrets["page_access_token"] not in repr(credentials)
    assert connected.connector.verify().remote_id == connected.page_id
    assert connected.connector.refresh() is None


def test_switching_to_another_shared_page(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    connected = connect(fake, pages=("Café One", "Café Two"))
    other = connected.connector.credentials.data["pages"][1]["id"]
    result = connected.connector.switch_page(other)
    assert result.account.remote_id == other
    assert result.credentials.data["page_id"] == other
    with pytest.raises(Rejected):
        connected.connector.switch_page("999")
    # The channels app's picker goes through the contract: the other Page is offered back.
    first = connected.connector.credentials.data["pages"][0]["id"]
    chosen = connected.connector.connect_choice(other)
    assert chosen.account.remote_id == other
    assert [c.remote_id for c in chosen.choices] == [first]
    assert chosen.choices[0].kind == "page"


def test_pages_the_person_may_not_publish_on_are_refused(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    user = fake.add_user("Reader")
    fake.add_page(user, "Read only", tasks=("ANALYZE",))
    connector = FacebookConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    code = fake.approve_facebook(start.url, user)["code"]
    with pytest.raises(Rejected) as caught:
        connector.finish_oauth(REDIRECT_URI, code, start)
    assert "publish" in caught.value.message


def test_no_page_shared_is_refused_with_a_way_forward(
    fake: FakeGraph, meta_apps: dict[str, dict[str, str]]
) -> None:
    user = fake.add_user("Nobody")
    connector = FacebookConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    code = fake.approve_facebook(start.url, user)["code"]
    with pytest.raises(Rejected, match="shared no Page"):
        connector.finish_oauth(REDIRECT_URI, code, start)


def test_a_used_code_is_refused(fake: FakeGraph, meta_apps: dict[str, dict[str, str]]) -> None:
    user = fake.add_user("Amal")
    fake.add_page(user, "Page")
    connector = FacebookConnector()
    start = connector.start_oauth(REDIRECT_URI, "s")
    code = fake.approve_facebook(start.url, user)["code"]
    connector.finish_oauth(REDIRECT_URI, code, start)
    with pytest.raises(Rejected, match="did not accept the sign-in"):
        connector.finish_oauth(REDIRECT_URI, code, start)


def test_a_revoked_page_token_is_auth_expired(fake: FakeGraph, page: Connected) -> None:
    fake.revoke_all()
    with pytest.raises(AuthExpired) as caught:
        page.connector.verify()
    assert "Reconnect" in caught.value.message


def test_every_call_carries_the_appsecret_proof(fake: FakeGraph, page: Connected) -> None:
    page.connector.verify()
    graph_calls = [params for method, path, params in fake.requests if path.endswith(page.page_id)]
    assert graph_calls and all(p.get("appsecret_proof") for p in graph_calls)
