"""Shared by the publishing tests: two channels of acme, a contributor, and mastodon-mock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from conftest import make_user
from minbar.channels.models import Channel
from minbar.connectors.mastodon.tests.conftest import mastodon_server, mock  # noqa: F401
from minbar.workspaces.models import Membership

# A Sunday, noon UTC: "now" for the queue and series tests.
SUNDAY = datetime(2030, 6, 2, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock(SUNDAY)
    monkeypatch.setattr(timezone, "now", fixed)
    return fixed


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
