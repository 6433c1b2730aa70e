"""Fixtures shared by the Facebook and Instagram tests: one fake Graph server per session.

Import them in a package's conftest (``from ...fixtures import fake, graph, meta_apps``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from minbar.connectors.meta_graph.tests.fake_graph import (
    APP_ID,
    APP_SECRET,
    IG_APP_ID,
    IG_APP_SECRET,
    FakeGraph,
)
from minbar.connectors.meta_graph.usage import BRAKE

# Minbar's callback as the channels app serves it; nothing needs to listen on it.
REDIRECT_URI = "http://127.0.0.1:9/channels/oauth/callback/"


@pytest.fixture(scope="session")
def graph_server() -> Iterator[FakeGraph]:
    server = FakeGraph().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(graph_server: FakeGraph) -> Iterator[FakeGraph]:
    """The fake with no fault, usage header or brake left over from another test."""
    graph_server.reset_faults()
    graph_server.require_proof = True
    graph_server.video_polls = 2
    graph_server.container_outcome = "FINISHED"
    graph_server.publish_quota = 50
    BRAKE.clear()
    yield graph_server
    graph_server.reset_faults()
    BRAKE.clear()


@pytest.fixture
def meta_apps(settings: pytest.FixtureRequest, fake: FakeGraph) -> dict[str, dict[str, str]]:
    """Both Meta apps configured, pointed at the fake (MINBAR_<NETWORK>_* in the environment)."""
    apps = {
        "facebook": {"client_id": APP_ID, "client_secret": APP_SECRET, "api_url": fake.url},
        "instagram": {"client_id": IG_APP_ID, "client_secret": IG_APP_SECRET, "api_url": fake.url},
    }
    settings.MINBAR_NETWORK_APPS = apps  # type: ignore[attr-defined]
    return apps


def jpeg(path: Path, size: tuple[int, int] = (1080, 1080)) -> Path:
    Image.new("RGB", size, (200, 40, 90)).save(path, "JPEG")
    return path


def video(path: Path) -> Path:
    """A few KB standing in for an MP4 (the fake does not decode video)."""
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4096))
    return path
