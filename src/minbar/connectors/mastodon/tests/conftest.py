"""Fixtures: one mastodon-mock process per test session, and connected accounts on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from minbar.connectors.mastodon import MastodonConnector
from minbar.connectors.mastodon.tests.mockserver import Account, MockServer, MockServerError
from minbar.connectors.types import AccountInfo

# Minbar's callback as the channels app serves it; the mock redirects the
# browser there, and nothing needs to listen on it.
REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def mastodon_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """mastodon-mock on a free loopback port; failing to start fails the tests, with its log."""
    log_path = tmp_path_factory.mktemp("mastodon-mock") / "server.log"
    try:
        server = MockServer.start(log_path)
    except MockServerError as exc:
        pytest.fail(f"mastodon-mock could not be started: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mock(mastodon_server: MockServer) -> Iterator[MockServer]:
    """The server, with no fault rule left over from another test (before or after)."""
    mastodon_server.clear_faults()
    yield mastodon_server
    mastodon_server.clear_faults()


@dataclass
class Connected:
    connector: MastodonConnector
    account: AccountInfo
    username: str


def connect(server: MockServer, prefix: str = "brand", *, timeout: float = 20.0) -> Connected:
    """A new account connected to Minbar through the full browser-less OAuth code flow."""
    username, _ = server.create_account(prefix)
    connector = MastodonConnector(server.url, timeout=timeout)
    start = connector.start_oauth(REDIRECT_URI, f"state-{username}")
    answer = server.approve(start.url, username)
    assert answer["state"] == start.state
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    return Connected(
        connector=MastodonConnector(server.url, result.credentials, timeout=timeout),
        account=result.account,
        username=username,
    )


@pytest.fixture
def brand(mock: MockServer) -> Connected:
    return connect(mock)


@pytest.fixture
def fan(mock: MockServer) -> Account:
    username, token = mock.create_account("fan")
    return Account(mock, username, token)
