"""Channels for the inbox tests: in-process sandbox ones, and the real peers' fixtures."""

from __future__ import annotations

import pytest

from minbar.connectors.bluesky.tests.conftest import atproto_network  # noqa: F401 - fixture
from minbar.connectors.mastodon.tests.conftest import fan, mastodon_server, mock  # noqa: F401
from minbar.media.tests.conftest import media_root  # noqa: F401 - fixture
from minbar.publishing.tests.test_dispatcher_helpers import sandbox_channel
from minbar.sandbox.tests.helpers import route_sandbox_in_process


@pytest.fixture
def channel(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    return sandbox_channel(world)


@pytest.fixture
def busy_channel(world, monkeypatch):
    """A sandbox account with an audience big enough to comment, like and write.

    The network's clock is fixed (its audience is more active at some hours than at
    others), so what the audience does is the same whenever the test runs.
    """
    from datetime import UTC, datetime

    from minbar.channels import actions as channel_actions
    from minbar.core.actor import Actor
    from minbar.sandbox import clock
    from minbar.sandbox.tests.helpers import Clock
    from minbar.workspaces.access import access_for

    monkeypatch.setattr(clock, "now", Clock(datetime.now(UTC).replace(hour=9, minute=0)))
    route_sandbox_in_process(monkeypatch)
    return channel_actions.connect_with_fields(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        "sandbox",
        {
            "name": "Acme Busy",
            "flavour": "facebook",
            "speed": "0",
            "audience_size": "3000",
            "seed": "42",
        },
    )
