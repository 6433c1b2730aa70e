"""Collecting counters: tracking, deltas as events, the schedule, and the networks' errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from minbar.analytics import collection
from minbar.analytics.models import (
    AccountSnapshot,
    Collector,
    MetricEvent,
    Snapshot,
    Tracker,
)
from minbar.analytics.tests.helpers import (
    FakeNetwork,
    fake_channel,
    install_fake_networks,
    published,
)
from minbar.channels.models import Channel, Health
from minbar.connectors.errors import AuthExpired, NotSupported, RateLimited, TemporaryError


@pytest.fixture
def pulse(world, monkeypatch):
    install_fake_networks(monkeypatch)
    return fake_channel(world.acme, "pulse")


def events_of(tracker: Tracker) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for event in MetricEvent.objects.filter(target_id=tracker.target_id).order_by("id"):
        found.setdefault(event.metric, []).append(event.value)
    return found


def test_published_targets_with_a_remote_id_are_tracked_once(pulse):
    out = timezone.now() - timedelta(minutes=5)
    target = published(pulse, "p1", out, tags=["launch", "coffee"])
    published(pulse, "", out)  # no remote id: nothing to measure
    assert collection.track_published() == 1
    assert collection.track_published() == 0
    tracker = Tracker.objects.get(target=target)
    assert tracker.next_collect_at == out + timedelta(hours=1)
    assert tracker.workspace_id == pulse.workspace_id


def test_snapshots_become_delta_events_and_absent_keys_none(pulse):
    out = timezone.now() - timedelta(hours=2)
    published(pulse, "p1", out)
    collection.track_published()
    tracker = Tracker.objects.get()
    FakeNetwork.counters["p1"] = {"likes": 10, "comments": 2, "impressions": 500}
    now = timezone.now()
    got = collection.collect_channel(pulse.pk, now)
    assert (got.posts, got.events) == (1, 3)
    FakeNetwork.counters["p1"] = {"likes": 14, "comments": 1, "impressions": 800}
    Tracker.objects.filter(pk=tracker.pk).update(next_collect_at=now)
    Collector.objects.filter(channel=pulse).update(lease_until=None)
    collection.collect_channel(pulse.pk, now + timedelta(hours=5))
    tracker.refresh_from_db()
    # An unlike-style decrease is kept, so the events always add up to the counters.
    assert events_of(tracker) == {"likes": [10, 4], "comments": [2, -1], "impressions": [500, 300]}
    assert "clicks" not in events_of(tracker)  # Pulse reports clicks but gave none: no event
    assert "shares" not in tracker.values  # not provided, not 0
    assert tracker.values == {"likes": 14, "comments": 1, "impressions": 800}
    assert Snapshot.objects.filter(tracker=tracker).count() == 2


def test_the_schedule_moves_on_after_each_snapshot(pulse):
    out = timezone.now() - timedelta(hours=1, minutes=1)
    published(pulse, "p1", out)
    collection.track_published()
    FakeNetwork.counters["p1"] = {"likes": 1}
    collection.collect_channel(pulse.pk)
    tracker = Tracker.objects.get()
    assert tracker.step == 1
    assert tracker.next_collect_at == out + timedelta(hours=6)
    # Not due yet: the channel is not handed out for posts.
    assert collection.collect_channel(pulse.pk).posts == 0


def test_a_post_found_weeks_late_gets_one_snapshot_then_the_30_day_one(pulse):
    out = timezone.now() - timedelta(days=10)
    published(pulse, "p1", out)
    collection.track_published()
    FakeNetwork.counters["p1"] = {"likes": 80}
    collection.collect_channel(pulse.pk)
    tracker = Tracker.objects.get()
    assert tracker.snapshots == 1
    assert tracker.next_collect_at == out + timedelta(days=30)


def test_a_post_the_network_stops_returning_is_given_up_after_three_tries(pulse):
    published(pulse, "gone", timezone.now() - timedelta(days=40))
    collection.track_published()
    tracker = Tracker.objects.get()
    for _ in range(3):
        Tracker.objects.filter(pk=tracker.pk).update(next_collect_at=timezone.now())
        Collector.objects.filter(channel=pulse).update(lease_until=None)
        collection.collect_channel(pulse.pk)
    tracker.refresh_from_db()
    assert tracker.next_collect_at is None
    assert tracker.misses == 3
    assert "did not return" in tracker.last_error


def test_posts_are_fetched_in_batches_of_100(pulse):
    out = timezone.now() - timedelta(hours=2)
    for i in range(130):
        published(pulse, f"p{i}", out, text=f"post {i}")
        FakeNetwork.counters[f"p{i}"] = {"likes": i}
    collection.track_published()
    got = collection.collect_channel(pulse.pk)
    assert got.posts == 130
    assert [len(call) for call in FakeNetwork.calls] == [100, 30]


def test_a_rate_limit_waits_for_the_network_and_tells_the_channel(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    FakeNetwork.error = RateLimited("Slow down.", retry_after=900)
    now = timezone.now()
    result = collection.collect_channel(pulse.pk, now)
    assert result.error == "Slow down."
    collector = Collector.objects.get(channel=pulse)
    assert collector.wait_until is not None and collector.wait_until > now + timedelta(minutes=14)
    channel = Channel.objects.get(pk=pulse.pk)
    assert channel.health == Health.RATE_LIMITED
    assert Tracker.objects.get().snapshots == 0  # nothing lost: it stays due
    assert pulse.pk not in collection.due_channels(now + timedelta(minutes=1))
    FakeNetwork.error = None
    FakeNetwork.counters["p1"] = {"likes": 3}
    later = now + timedelta(minutes=16)
    assert pulse.pk in collection.due_channels(later)
    assert collection.collect_channel(pulse.pk, later).posts == 1
    assert Channel.objects.get(pk=pulse.pk).health == Health.CONNECTED


def test_an_expired_sign_in_is_noted_on_the_channel_and_collection_stops(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    FakeNetwork.error = AuthExpired("Sign in again.")
    collection.collect_channel(pulse.pk)
    assert Channel.objects.get(pk=pulse.pk).health == Health.NEEDS_RECONNECT
    FakeNetwork.calls.clear()
    later = timezone.now() + timedelta(hours=1)
    assert pulse.pk not in collection.due_channels(later)
    collection.collect_channel(pulse.pk, later)
    assert FakeNetwork.calls == []  # the network is not asked again until reconnected


def test_network_errors_back_off_doubling(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    FakeNetwork.error = TemporaryError("Down for maintenance.")
    now = timezone.now()
    collection.collect_channel(pulse.pk, now)
    first = Collector.objects.get(channel=pulse).wait_until
    assert first == now + timedelta(minutes=5)
    later = first + timedelta(seconds=1)
    collection.collect_channel(pulse.pk, later)
    assert Collector.objects.get(channel=pulse).wait_until == later + timedelta(minutes=10)
    assert Channel.objects.get(pk=pulse.pk).health == Health.CONNECTED  # a hiccup, not broken


def test_a_network_without_post_metrics_is_not_asked_again(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    FakeNetwork.error = NotSupported("No metrics here.")
    collection.collect_channel(pulse.pk)
    assert Collector.objects.get(channel=pulse).posts_unsupported
    assert Tracker.objects.get().next_collect_at is None


def test_one_worker_at_a_time_per_channel(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    FakeNetwork.counters["p1"] = {"likes": 1}
    now = timezone.now()
    Collector.objects.create(channel=pulse, lease_until=now + timedelta(minutes=5))
    assert collection.collect_channel(pulse.pk, now).posts == 0
    assert pulse.pk not in collection.due_channels(now)
    assert FakeNetwork.calls == []


def test_a_snapshot_raced_by_another_worker_is_not_recorded_twice(pulse):
    published(pulse, "p1", timezone.now() - timedelta(hours=2))
    collection.track_published()
    stale = Tracker.objects.get()
    from minbar.connectors.types import Metrics

    metrics = Metrics(values={"likes": 5}, fetched_at=timezone.now())
    assert collection.record_snapshot(stale, metrics, timezone.now()) == 1
    assert collection.record_snapshot(stale, metrics, timezone.now()) == 0  # stale copy
    assert MetricEvent.objects.count() == 1


def test_account_counters_once_a_day(pulse, world, monkeypatch):
    FakeNetwork.counters["@account"] = {"followers": 1200, "following": 5}
    now = timezone.now()
    assert pulse.pk in collection.due_channels(now)
    collection.collect_channel(pulse.pk, now)
    snap = AccountSnapshot.objects.get(channel=pulse)
    assert snap.values == {"followers": 1200, "following": 5}
    assert pulse.pk not in collection.due_channels(now + timedelta(minutes=5))


def test_an_echo_channel_without_account_metrics_is_not_asked_for_them(world, monkeypatch):
    install_fake_networks(monkeypatch)
    echo = fake_channel(world.acme, "echo")
    collection.collect_channel(echo.pk)
    assert Collector.objects.get(channel=echo).account_unsupported
    assert not AccountSnapshot.objects.exists()


def test_sandbox_counters_grow_as_its_audience_reacts(world, monkeypatch):
    """The demo network: a real post, its simulated audience, snapshots that keep rising."""
    from minbar.channels.actions import connector_for
    from minbar.connectors.types import PostRequest
    from minbar.publishing.tests.test_dispatcher_helpers import sandbox_account
    from minbar.sandbox import actions as sandbox_actions
    from minbar.sandbox.tests.helpers import route_sandbox_in_process

    route_sandbox_in_process(monkeypatch)
    from minbar.channels import actions as channel_actions
    from minbar.core.actor import Actor
    from minbar.workspaces.access import access_for

    channel = channel_actions.connect_with_fields(
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
    out = connector_for(channel).publish(
        PostRequest(text="Iced latte is back! Which flavour next? https://acme.example #coffee")
    )
    published(channel, out.remote_id, timezone.now() - timedelta(hours=2))
    collection.track_published()
    account = sandbox_account(channel)
    seen = []
    for hours in (1, 5, 18):
        sandbox_actions.advance(account, hours * 3600)
        account.refresh_from_db()
        Tracker.objects.update(next_collect_at=timezone.now())
        Collector.objects.update(lease_until=None, account_day=None)
        collection.collect_channel(channel.pk)
        seen.append(Tracker.objects.get().values)
    impressions = [v["impressions"] for v in seen]
    assert impressions[0] > 0
    assert impressions[0] < impressions[1] < impressions[2]
    assert set(seen[-1]) == {"likes", "comments", "shares", "clicks", "impressions", "reach"}
    total = sum(MetricEvent.objects.filter(metric="impressions").values_list("value", flat=True))
    assert total == impressions[-1]
