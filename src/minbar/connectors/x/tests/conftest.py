"""Fixtures: a local X API fake per session, Minbar's X app pointed at it, connected accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from minbar.connectors.types import AccountInfo, Credentials
from minbar.connectors.x import XConnector
from minbar.connectors.x.connector import WINDOWS
from minbar.connectors.x.tests.fake import CLIENT_ID, CLIENT_SECRET, FakeX, User

# Minbar's callback as the channels app serves it; nothing needs to listen on it.
REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def x_server() -> Iterator[FakeX]:
    server = FakeX().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(x_server: FakeX, settings: Any) -> Iterator[FakeX]:
    """The fake with no fault or limit left over, and MINBAR_X_* pointing at it."""
    settings.MINBAR_NETWORK_APPS = {
        "x": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_url": x_server.url}
    }
    settings.MINBAR_ALLOW_PRIVATE_URLS = True
    x_server.reset()
    WINDOWS.clear()
    yield x_server
    x_server.reset()
    WINDOWS.clear()


@dataclass
class Connected:
    connector: XConnector
    account: AccountInfo
    user: User
    saved: list[Credentials]


def connect(fake: FakeX, username: str = "brand", *, timeout: float = 5.0) -> Connected:
    """A new account connected through the whole OAuth flow (authorize → approve → token)."""
    user = fake.add_user(f"{username}{fake.new_id()[-6:]}", followers=1200)
    start = XConnector(timeout=timeout).start_oauth(REDIRECT_URI, f"state-{user.username}")
    answer = fake.approve(start.url, user.username)
    assert answer["state"] == start.state
    result = XConnector(timeout=timeout).finish_oauth(REDIRECT_URI, answer["code"], start)
    saved: list[Credentials] = []

    def save(credentials: Credentials) -> None:
        saved.append(credentials)

    connector = XConnector(
        credentials=result.credentials, timeout=timeout, on_credentials_change=save
    )
    return Connected(connector=connector, account=result.account, user=user, saved=saved)


@pytest.fixture
def brand(fake: FakeX) -> Connected:
    return connect(fake)


@pytest.fixture
def fan(fake: FakeX) -> User:
    return fake.add_user(f"fan{fake.new_id()[-6:]}", "A Fan")
