"""Shared by the publishing tests: two channels of acme, a contributor, and mastodon-mock."""

from __future__ import annotations

import pytest

from conftest import make_user
from minbar.channels.models import Channel
from minbar.connectors.mastodon.tests.conftest import mastodon_server, mock  # noqa: F401
from minbar.workspaces.models import Membership


@pytest.fixture
def channels(world):
    make = lambda handle: Channel.objects.create(  # noqa: E731
        workspace=world.acme,
        network="fakenet",
        remote_id=handle,
        handle=handle,
        server_url="https://fake.example",
    )
    return make("acme.one"), make("acme.two")


@pytest.fixture
def contributor(world):
    user = make_user("cora")
    Membership.objects.create(user=user, workspace=world.acme, role="contributor")
    return user
