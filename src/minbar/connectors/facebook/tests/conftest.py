"""A Facebook Page connected to Minbar through the fake's full sign-in flow."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from minbar.connectors.facebook import FacebookConnector
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import (  # noqa: F401 (fixtures)
    REDIRECT_URI,
    fake,
    graph_server,
    meta_apps,
)


@dataclass
class Connected:
    connector: FacebookConnector
    page_id: str
    user_id: str


def connect(fake: FakeGraph, *, pages: tuple[str, ...] = ("Minbar Café",)) -> Connected:  # noqa: F811
    user = fake.add_user("Amal")
    page_ids = [fake.add_page(user, name) for name in pages]
    connector = FacebookConnector()
    start = connector.start_oauth(REDIRECT_URI, "state-1")
    answer = fake.approve_facebook(start.url, user)
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)
    return Connected(
        FacebookConnector(connector.server_url, result.credentials, timeout=5.0),
        page_ids[0],
        user,
    )


@pytest.fixture
def page(fake: FakeGraph, meta_apps: dict[str, dict[str, str]]) -> Connected:  # noqa: F811
    return connect(fake)
