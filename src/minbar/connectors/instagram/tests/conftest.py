"""Instagram accounts connected through the fake, by Instagram Login or Facebook Login."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from minbar.connectors.instagram import InstagramConnector
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import (  # noqa: F401 (fixtures)
    REDIRECT_URI,
    fake,
    graph_server,
    meta_apps,
)
from minbar.connectors.types import MediaItem


@dataclass
class Connected:
    connector: InstagramConnector
    ig_id: str


def serve_from_fake(fake: FakeGraph) -> object:  # noqa: F811
    """Stand-in for Minbar's public media links: the fake hosts the file Meta then fetches."""

    def media_url(item: MediaItem) -> str:
        with open(item.path, "rb") as handle:
            return fake.host_file(handle.read(), item.mime_type)

    return media_url


def connect_instagram_login(fake: FakeGraph) -> Connected:  # noqa: F811
    ig_id = fake.add_instagram("minbar.cafe")
    connector = InstagramConnector()
    start = connector.start_oauth(REDIRECT_URI, "state-ig")
    answer = fake.approve_instagram(start.url, ig_id)
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    connected = InstagramConnector(connector.server_url, result.credentials, timeout=5.0)
    connected.media_url_for = serve_from_fake(fake)  # type: ignore[assignment]
    connected.container_poll_interval = 0.01  # type: ignore[misc]
    return Connected(connected, ig_id)


@pytest.fixture
def account(fake: FakeGraph, meta_apps: dict[str, dict[str, str]]) -> Connected:  # noqa: F811
    return connect_instagram_login(fake)
