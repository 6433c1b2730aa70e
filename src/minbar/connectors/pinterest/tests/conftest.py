"""Fixtures: one fake Pinterest per session, Minbar's app pointed at it, a connected account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from minbar.connectors.pinterest import PinterestConnector
from minbar.connectors.pinterest.tests.fake import FakePinterest, User
from minbar.connectors.types import ConnectResult, Credentials, MediaItem

REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


class FastPinterest(PinterestConnector):
    """Checks video processing without waiting seconds between reads."""

    media_poll_interval = 0.01
    media_timeout = 5.0


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakePinterest]:
    fake = FakePinterest()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake(fake_server: FakePinterest, settings: Any) -> Iterator[FakePinterest]:
    """The fake with no fault or limit left over, and MINBAR_PINTEREST_* pointing at it."""
    fake_server.reset()
    settings.MINBAR_NETWORK_APPS = {
        "pinterest": {
            "client_id": fake_server.client_id,
            "client_secret": fake_server.client_secret,
            "api_url": fake_server.url,
        }
    }
    yield fake_server
    fake_server.reset()


@dataclass
class Connected:
    connector: FastPinterest
    result: ConnectResult
    user: User
    boards: dict[str, dict[str, Any]]
    saved: list[Credentials] = field(default_factory=list)

    def reopen(self) -> FastPinterest:
        """A new connector from what was saved last (what another worker would build)."""
        latest = self.saved[-1] if self.saved else self.connector.credentials
        return FastPinterest(credentials=latest, on_credentials_change=self.saved.append)


def sign_in(fake: FakePinterest, user: User, grant: tuple[str, ...] | None = None) -> ConnectResult:
    """The whole browser sign-in: consent page, redirect, code exchange."""
    connector = PinterestConnector()
    start = connector.start_oauth(REDIRECT_URI, f"state-{user.id}")
    answer = fake.approve(start.url, user, grant)
    assert answer["state"] == start.state
    return PinterestConnector().finish_oauth(REDIRECT_URI, answer["code"], start)


def connect(fake: FakePinterest, **extra: Any) -> Connected:
    user = fake.add_user("brand", follower_count=1200, following_count=80, **extra)
    recipes = fake.add_board(user, "Recipes")
    desserts = fake.add_section(recipes, "Desserts")
    travel = fake.add_board(user, "Travel")
    result = sign_in(fake, user)
    saved: list[Credentials] = []
    connector = FastPinterest(credentials=result.credentials, on_credentials_change=saved.append)
    return Connected(
        connector=connector,
        result=result,
        user=user,
        boards={"recipes": recipes, "desserts": desserts, "travel": travel},
        saved=saved,
    )


@pytest.fixture
def brand(fake: FakePinterest) -> Connected:
    return connect(fake)


def image_file(
    tmp_path: Path, name: str = "photo.png", alt: str = "A red square", kind: str = "PNG"
) -> MediaItem:
    path = tmp_path / name
    Image.new("RGB", (120, 180), (200, 30, 30)).save(path, kind)
    mime = "image/png" if kind == "PNG" else "image/jpeg"
    return MediaItem(str(path), mime, alt_text=alt, width=120, height=180)


def video_file(tmp_path: Path, name: str = "clip.mp4") -> MediaItem:
    """A few KB standing in for an MP4 (the fake does not decode video)."""
    path = tmp_path / name
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16)
    return MediaItem(str(path), "video/mp4", width=1080, height=1920)
