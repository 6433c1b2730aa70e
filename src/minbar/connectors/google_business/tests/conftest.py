"""Fixtures: one fake Google per test session, a registered app, connected locations."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.google_business import GoogleBusinessConnector
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile, FakeServer, User
from minbar.connectors.types import ConnectResult, Credentials, MediaItem

REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> Iterator[FakeBusinessProfile]:
    fake_server.fake.clear()
    yield fake_server.fake
    fake_server.fake.clear()


@pytest.fixture
def app(fake_server: FakeServer, settings: Any) -> dict[str, str]:
    """Minbar's Google Cloud OAuth client, as MINBAR_GOOGLE_BUSINESS_* would configure it."""
    client_id, secret = fake_server.fake.register_client()
    settings.MINBAR_NETWORK_APPS = {
        "google_business": {
            "client_id": client_id,
            "client_secret": secret,
            "api_url": fake_server.url,
        }
    }
    return {"client_id": client_id, "client_secret": secret}


@dataclass
class Business:
    """A Google account owning one business account with locations."""

    user: User
    account: str
    locations: list[str]


@dataclass
class Connected:
    connector: GoogleBusinessConnector
    result: ConnectResult
    business: Business
    saved: list[Credentials] = field(default_factory=list)

    @property
    def parent(self) -> str:
        return f"{self.business.account}/{self.result.account.remote_id}"

    def reopen(self) -> GoogleBusinessConnector:
        """A new connector from what was saved (what another worker would build)."""
        latest = self.saved[-1] if self.saved else self.connector.credentials
        return hosted(
            GoogleBusinessConnector(
                credentials=latest, on_credentials_change=self.saved.append, timeout=5.0
            ),
            self.connector,
        )


def hosted(
    connector: GoogleBusinessConnector, like: GoogleBusinessConnector
) -> GoogleBusinessConnector:
    connector.media_url_for = like.media_url_for
    return connector


def make_business(fake: FakeBusinessProfile, *titles: str) -> Business:
    user = fake.add_user("owner")
    account = fake.add_account(user, "Acme Coffee")
    locations = [fake.add_location(account, title) for title in titles or ("Acme Coffee Amman",)]
    return Business(user=user, account=account, locations=locations)


def connect(
    fake: FakeBusinessProfile, business: Business, grant: tuple[str, ...] | None = None
) -> Connected:
    """A location connected through the whole OAuth code flow (PKCE included)."""
    start = GoogleBusinessConnector().start_oauth(REDIRECT_URI, "state-1")
    answer = fake.approve(start.url, business.user, grant)
    assert answer["state"] == start.state
    result = GoogleBusinessConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    saved: list[Credentials] = []
    connector = GoogleBusinessConnector(
        credentials=result.credentials, on_credentials_change=saved.append, timeout=5.0
    )

    def serve_from_fake(item: MediaItem) -> str:
        return fake.host_media(Path(item.path).read_bytes(), Path(item.path).name)

    connector.media_url_for = serve_from_fake
    return Connected(connector=connector, result=result, business=business, saved=saved)


@pytest.fixture
def shop(fake: FakeBusinessProfile, app: dict[str, str]) -> Connected:
    return connect(fake, make_business(fake, "Acme Coffee Amman"))


def photo(tmp_path: Path, name: str = "latte.jpg", size: tuple[int, int] = (400, 300)) -> MediaItem:
    """A JPEG of noise, so it weighs more than Google's 10 KB minimum."""
    from PIL import Image

    image = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    path = tmp_path / name
    image.save(path, "JPEG", quality=90)
    return MediaItem(str(path), "image/jpeg", width=size[0], height=size[1])
