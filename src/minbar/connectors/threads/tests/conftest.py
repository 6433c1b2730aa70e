"""Fixtures: the fake Threads API, a connected account, and Minbar serving its media."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from PIL import Image

from minbar.connectors.threads import ThreadsConnector
from minbar.connectors.threads.connector import LEDGER
from minbar.connectors.threads.tests.fake import FakeThreads, User
from minbar.connectors.types import AccountInfo, MediaItem

REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def threads_server() -> Iterator[FakeThreads]:
    fake = FakeThreads()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake(threads_server: FakeThreads, settings: Any) -> Iterator[FakeThreads]:
    """The fake with no fault or quota left over, and Minbar's app pointed at it."""
    threads_server.reset()
    LEDGER.clear()
    settings.MINBAR_NETWORK_APPS = {
        "threads": {
            "client_id": threads_server.client_id,
            "client_secret": threads_server.client_secret,
            "api_url": threads_server.url,
        }
    }
    yield threads_server
    threads_server.reset()


def approve(fake: FakeThreads, authorize_url: str, username: str) -> dict[str, str]:
    """Be the person in the Authorization Window: approve, and read the redirect back."""
    parts = urlsplit(authorize_url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    answer = httpx.get(f"{fake.url}{parts.path}", params={**query, "username": username})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(query["redirect_uri"])
    back = urlsplit(location)
    found = {key: values[0] for key, values in parse_qs(back.query).items()}
    found["code"] += "#" + back.fragment  # as the browser hands it over: with "#_"
    return found


@dataclass
class Connected:
    connector: ThreadsConnector
    account: AccountInfo
    user: User


def connect(fake: FakeThreads, username: str = "brand") -> Connected:
    user = fake.create_user(f"{username}{fake.new_id()[-6:]}", followers=42)
    connector = ThreadsConnector()
    start = connector.start_oauth(REDIRECT_URI, "state-1")
    answer = approve(fake, start.url, user.username)
    assert answer["state"] == "state-1"
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    fast = type("FastThreads", (ThreadsConnector,), {"container_poll_interval": 0.05})
    return Connected(
        connector=fast(credentials=result.credentials), account=result.account, user=user
    )


@pytest.fixture
def brand(fake: FakeThreads) -> Connected:
    return connect(fake)


@pytest.fixture
def fan(fake: FakeThreads) -> User:
    return fake.create_user(f"fan{fake.new_id()[-6:]}")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def minbar_site(settings: Any, tmp_path: Path) -> Iterator[str]:
    """Minbar itself (its WSGI app) on loopback, so Threads can download signed media links."""
    from django.core.wsgi import get_wsgi_application

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ALLOWED_HOSTS = ["*"]
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MINBAR_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield settings.MINBAR_BASE_URL
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def library_image(
    settings: Any, name: str = "photo.png", size: tuple[int, int] = (64, 48)
) -> MediaItem:
    """A prepared PNG under MEDIA_ROOT, as Minbar's media processing leaves one."""
    folder = Path(settings.MEDIA_ROOT) / "1" / "renditions" / "7"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return MediaItem(str(path), "image/png", alt_text="A red square", width=size[0], height=size[1])


def library_video(settings: Any, name: str = "clip.mp4") -> MediaItem:
    """A few KB standing in for an MP4 (the fake does not decode video)."""
    folder = Path(settings.MEDIA_ROOT) / "1" / "renditions" / "8"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4096))
    return MediaItem(str(path), "video/mp4", alt_text="A short clip")
