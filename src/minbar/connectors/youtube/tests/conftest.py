"""Fixtures: one fake Google per test session, a registered app, connected channels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.types import AccountInfo, Credentials, MediaItem
from minbar.connectors.youtube import YouTubeConnector
from minbar.connectors.youtube.tests.fake import FakeServer, FakeYouTube, User

REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"
CHUNK = 256 * 1024


class SmallChunks(YouTubeConnector):
    """Uploads in 256 KiB chunks, so a few hundred KB make several chunks."""

    upload_chunk_size = CHUNK


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> Iterator[FakeYouTube]:
    fake_server.fake.clear()
    yield fake_server.fake
    fake_server.fake.clear()


@pytest.fixture
def app(fake_server: FakeServer, settings: Any) -> dict[str, str]:
    """Minbar's Google Cloud OAuth client, as MINBAR_YOUTUBE_* would configure it."""
    client_id, secret = fake_server.fake.register_client()
    settings.MINBAR_NETWORK_APPS = {
        "youtube": {"client_id": client_id, "client_secret": secret, "api_url": fake_server.url}
    }
    return {"client_id": client_id, "client_secret": secret}


@dataclass
class Connected:
    connector: SmallChunks
    account: AccountInfo
    user: User
    saved: list[Credentials] = field(default_factory=list)

    def reopen(self) -> SmallChunks:
        """A new connector from what was saved (what another worker would build)."""
        latest = self.saved[-1] if self.saved else self.connector.credentials
        return SmallChunks(credentials=latest, on_credentials_change=self.saved.append, timeout=5.0)


def connect(
    fake: FakeYouTube, user: User | None = None, grant: tuple[str, ...] | None = None
) -> Connected:
    """A channel connected through the whole OAuth code flow (PKCE included)."""
    user = user or fake.add_user("brand", subscribers=1200)
    start = YouTubeConnector().start_oauth(REDIRECT_URI, f"state-{user.email}")
    answer = fake.approve(start.url, user, grant)
    assert answer["state"] == start.state
    result = YouTubeConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    saved: list[Credentials] = []
    connector = SmallChunks(
        credentials=result.credentials, on_credentials_change=saved.append, timeout=5.0
    )
    return Connected(connector=connector, account=result.account, user=user, saved=saved)


@pytest.fixture
def brand(fake: FakeYouTube, app: dict[str, str]) -> Connected:
    return connect(fake)


def video_file(tmp_path: Path, size: int = 3 * CHUNK + 1000, name: str = "clip.mp4") -> MediaItem:
    """A few hundred KB of bytes standing in for a video (the fake does not decode it)."""
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * (size // 256) + b"\0" * (size % 256))
    return MediaItem(str(path), "video/mp4", width=1080, height=1920)


def image_file(tmp_path: Path, name: str = "thumb.png") -> MediaItem:
    from PIL import Image

    path = tmp_path / name
    Image.new("RGB", (64, 36), (200, 30, 30)).save(path)
    return MediaItem(str(path), "image/png", width=64, height=36)
