"""Fixtures: one fake TikTok per test session, a registered app, connected accounts."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.tiktok import PostSettings, TikTokConnector
from minbar.connectors.tiktok.tests.fake import FakeServer, FakeTikTok, User
from minbar.connectors.types import AccountInfo, Credentials, MediaItem

REDIRECT_URI = "https://minbar.example.com/channels/oauth/callback/"
CHUNK = 64 * 1024


class SmallChunks(TikTokConnector):
    """TikTok's chunk rules scaled down (the fake is told the same), and quick polling."""

    chunk_size = CHUNK
    min_chunk = CHUNK
    max_chunk = 4 * CHUNK
    poll_intervals = (0.01,)
    publish_wait_seconds = 1.0


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> Iterator[FakeTikTok]:
    fake_server.fake.clear()
    fake_server.fake.min_chunk, fake_server.fake.max_chunk = CHUNK, 4 * CHUNK
    fake_server.fake.verified_domains = {"minbar.example.com"}
    yield fake_server.fake
    fake_server.fake.clear()


@pytest.fixture
def app(fake_server: FakeServer, settings: Any, tmp_path: Path) -> dict[str, str]:
    """Minbar's TikTok app, as MINBAR_TIKTOK_CLIENT_ID/_SECRET/_API_URL would configure it."""
    key, secret = fake_server.fake.register_client()
    settings.MINBAR_NETWORK_APPS = {
        "tiktok": {"client_id": key, "client_secret": secret, "api_url": fake_server.url}
    }
    settings.MINBAR_BASE_URL = "https://minbar.example.com"
    settings.MEDIA_ROOT = str(tmp_path)
    return {"client_id": key, "client_secret": secret}


@dataclass
class Connected:
    connector: SmallChunks
    account: AccountInfo
    user: User
    saved: list[Credentials] = field(default_factory=list)

    def reopen(self) -> SmallChunks:
        """A new connector from what was saved (what another worker would build)."""
        latest = self.connector.credentials
        return SmallChunks(credentials=latest, on_credentials_change=self.saved.append, timeout=5.0)


def connect(
    fake: FakeTikTok, user: User | None = None, grant: tuple[str, ...] | None = None
) -> Connected:
    """An account connected through the whole OAuth code flow (PKCE included)."""
    user = user or fake.add_user("acme.coffee", followers=1200, following=80, likes=5400)
    start = TikTokConnector().start_oauth(REDIRECT_URI, f"state-{user.username}")
    answer = fake.approve(start.url, user, grant)
    assert answer["state"] == start.state
    result = TikTokConnector().finish_oauth(REDIRECT_URI, answer["code"], start)
    saved: list[Credentials] = []
    connector = SmallChunks(
        credentials=result.credentials, on_credentials_change=saved.append, timeout=5.0
    )
    return Connected(connector=connector, account=result.account, user=user, saved=saved)


@pytest.fixture
def brand(fake: FakeTikTok, app: dict[str, str]) -> Connected:
    """A connected account on which a person chose "Everyone" and allowed comments."""
    connected = connect(fake)
    connected.connector.set_post_settings(PostSettings(privacy="public", allow_comment=True))
    return connected


def mp4_bytes(seconds: float, size: int) -> bytes:
    """An MP4-shaped file: ftyp, a moov whose mvhd says ``seconds``, then mdat padding."""
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 512, b"isom")
    mvhd_payload = struct.pack(">B3sIIII", 0, b"\0\0\0", 0, 0, 1000, int(seconds * 1000))
    mvhd_payload += b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_payload), b"mvhd") + mvhd_payload
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    head = ftyp + moov
    padding = max(0, size - len(head) - 8)
    mdat = struct.pack(">I4s", 8 + padding, b"mdat") + bytes(range(256)) * (padding // 256)
    mdat += b"\1" * (padding % 256)
    return head + mdat


def video_file(
    tmp_path: Path, size: int = 3 * CHUNK + 1000, seconds: float = 15.0, name: str = "clip.mp4"
) -> MediaItem:
    """A few hundred KB standing in for a video (the fake does not decode it)."""
    path = tmp_path / name
    path.write_bytes(mp4_bytes(seconds, size))
    return MediaItem(str(path), "video/mp4", width=1080, height=1920)


def photo_file(tmp_path: Path, name: str = "photo.jpg") -> MediaItem:
    from PIL import Image

    path = tmp_path / name
    Image.new("RGB", (108, 192), (200, 30, 30)).save(path, "JPEG")
    return MediaItem(str(path), "image/jpeg", width=108, height=192)
