from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from minbar.analytics import collection
from minbar.analytics.providers import reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, get_store
from minbar.analytics.tests.helpers import (
    FakeNetwork,
    fake_channel,
    install_fake_networks,
    published,
)
from minbar.channels.models import Channel


@pytest.fixture(autouse=True)
def _no_links_app() -> Iterator[None]:
    set_link_provider(None)
    yield
    reset_link_provider()


@pytest.fixture
def measured(world, monkeypatch) -> tuple[Channel, Channel]:
    """Acme with a Pulse and an Echo channel and seven measured posts, two of them in Arabic."""
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    echo = fake_channel(world.acme, "echo", "@acme.echo")
    out = timezone.now() - timedelta(hours=3)
    pulse_counts = ("likes", "comments", "clicks", "impressions")
    echo_counts = ("likes", "shares", "reach")
    posts = [
        (pulse, "p1", "Iced latte is back", ["launch"], (30, 5, 5, 1000)),
        (pulse, "p2", "Monday blend", [], (2, 0, 0, 400)),
        (pulse, "p3", "قهوة عربية طازجة كل صباح", ["launch"], (12, 3, 1, 600)),
        (pulse, "p4", "Decaf, finally", [], (1, 0, 0, 90)),
        (echo, "e1", "Echo news", [], (8, 2, 250)),
        (echo, "e2", "عرض خاص لنهاية الأسبوع", [], (20, 6, 900)),
        (echo, "e3", "Cold brew notes", [], (4, 0, 100)),
    ]
    for channel, remote_id, text, tags, numbers in posts:
        published(channel, remote_id, out, text=text, tags=tags)
        keys = pulse_counts if channel == pulse else echo_counts
        FakeNetwork.counters[remote_id] = dict(zip(keys, numbers, strict=True))
    FakeNetwork.counters["@account"] = {"followers": 1500}
    collection.track_published()
    for channel in (pulse, echo):
        collection.collect_channel(channel.pk)
    get_store().roll_up(timezone.now() + LAG)
    return pulse, echo
