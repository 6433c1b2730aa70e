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
def measured(world, monkeypatch) -> tuple[Channel, Channel]:  # type: ignore[no-untyped-def]
    """Acme with a Pulse and an Echo channel and seven measured posts, two of them in Arabic."""
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    echo = fake_channel(world.acme, "echo", "@acme.echo")
    out = timezone.now() - timedelta(hours=3)
    posts = [
        (pulse, "p1", "Iced latte is back", ["launch"], {"likes": 30, "comments": 5, "clicks": 5, "impressions": 1000}),
        (pulse, "p2", "Monday blend", [], {"likes": 2, "comments": 0, "clicks": 0, "impressions": 400}),
        (pulse, "p3", "قهوة عربية طازجة كل صباح", ["launch"], {"likes": 12, "comments": 3, "clicks": 1, "impressions": 600}),
        (pulse, "p4", "Decaf, finally", [], {"likes": 1, "comments": 0, "clicks": 0, "impressions": 90}),
        (echo, "e1", "Echo news", [], {"likes": 8, "shares": 2, "reach": 250}),
        (echo, "e2", "عرض خاص لنهاية الأسبوع", [], {"likes": 20, "shares": 6, "reach": 900}),
        (echo, "e3", "Cold brew notes", [], {"likes": 4, "shares": 0, "reach": 100}),
    ]
    for channel, remote_id, text, tags, counters in posts:
        published(channel, remote_id, out, text=text, tags=tags)
        FakeNetwork.counters[remote_id] = counters
    FakeNetwork.counters["@account"] = {"followers": 1500}
    collection.track_published()
    for channel in (pulse, echo):
        collection.collect_channel(channel.pk)
    get_store().roll_up(timezone.now() + LAG)
    return pulse, echo
