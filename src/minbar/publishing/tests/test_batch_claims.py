"""Batch claims and the threaded pass: the same guarantees as claiming one target at a time.

A batch (``claims.claim_batch``) must respect the per-channel concurrency cap and
the posting limits inside the batch as well as between workers, claim in due
order, write each target's history and bring the posts up to date. The
threaded pass (``pipeline.run_pass``) must publish every claimed target once.
Real concurrency between workers (threads on PostgreSQL, processes on SQLite)
is in test_dispatcher_claims.py, for single and batch claims alike.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minbar.channels.models import Channel
from minbar.connectors.sandbox import capabilities_for
from minbar.connectors.types import Credentials, PublishResult, RateLimitRule
from minbar.publishing import claims, dispatcher, limits, pipeline
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState


def _channels(world: Any, count: int) -> list[Channel]:
    return [
        Channel.objects.create(
            workspace=world.acme, network="sandbox", remote_id=f"a{n}", handle=f"@c{n}"
        )
        for n in range(count)
    ]


def _schedule(world: Any, channel: Channel, count: int, *, minutes_ago: int = 1) -> list[Target]:
    made = []
    for n in range(count):
        due = timezone.now() - timedelta(minutes=minutes_ago, seconds=count - n)
        post = Post.objects.create(
            workspace=world.acme, text=f"{n}", state=PostState.SCHEDULED, scheduled_at=due
        )
        made.append(
            Target.objects.create(
                post=post, channel=channel, state=TargetState.SCHEDULED, due_at=due
            )
        )
    return made


def _rules(monkeypatch: Any, *rules: RateLimitRule) -> None:
    monkeypatch.setattr(
        limits, "capabilities_of", lambda channel: replace(capabilities_for("x"), rate_limits=rules)
    )


def test_a_batch_claims_the_earliest_target_of_each_channel(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    _rules(monkeypatch)
    channels = _channels(world, 3)
    scheduled = {channel.pk: _schedule(world, channel, 2) for channel in channels}
    run = dispatcher._Pass(worker="w1")
    batch = claims.claim_batch(run, 10, [])
    assert sorted(t.pk for t in batch) == sorted(ts[0].pk for ts in scheduled.values())
    for target in Target.objects.filter(pk__in=[t.pk for t in batch]):
        assert target.state == TargetState.PUBLISHING
        assert target.claimed_by == "w1" and target.attempts == 1
        assert target.post.state == PostState.PUBLISHING
    assert PostEvent.objects.filter(kind="target.claimed").count() == 3
    # The second of each channel waits for the first to be out (cap 1).
    assert claims.claim_batch(dispatcher._Pass(worker="w2"), 10, []) == []
    assert Target.objects.filter(state=TargetState.SCHEDULED).count() == 3


def test_a_batch_reads_its_channels_credentials_in_one_query(world, settings):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    channels = _channels(world, 4)
    for channel in channels:
        channel.set_credentials(Credentials(secrets={"token": f"token-{channel.pk}"}))
        channel.save()
        _schedule(world, channel, 1)
    run = dispatcher._Pass(worker="w1")
    with CaptureQueriesContext(connection) as queries:
        batch = claims.claim_batch(run, 10, [])
    reads = [q["sql"] for q in queries if "credentials_blob" in q["sql"]]
    assert len(batch) == 4 and len(reads) == 1
    # The limits were read from each account's connector, with its own token.
    assert set(run.rules) == {c.pk for c in channels}
    assert {t.channel.get_credentials().secrets["token"] for t in batch} == {
        f"token-{c.pk}" for c in channels
    }
    # Connectors made later in the pass need no query of their own.
    connectors = pipeline.Connectors()
    with CaptureQueriesContext(connection) as queries:
        connectors.prepare(batch)
        for target in batch:
            connectors.get(target.channel)
    assert len(queries) == 0


def test_a_pass_reads_credentials_once_for_the_channels_it_has_no_connector_for(world):
    for channel in _channels(world, 3):
        _schedule(world, channel, 1)
    fresh = list(
        Target.objects.select_related("channel").defer("channel__credentials_blob").order_by("pk")
    )
    connectors = pipeline.Connectors()
    connectors.get(fresh[0].channel)  # made already: its credentials are not read again
    later = Channel.objects.defer("credentials_blob").get(pk=fresh[0].channel_id)
    fresh[0].channel = later
    with CaptureQueriesContext(connection) as queries:
        connectors.prepare(fresh)
    assert len(queries) == 1
    assert "credentials_blob" not in later.__dict__
    assert all("credentials_blob" in t.channel.__dict__ for t in fresh[1:])


def test_a_batch_takes_no_more_than_it_is_asked_for(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    _rules(monkeypatch)
    for channel in _channels(world, 5):
        _schedule(world, channel, 1)
    assert len(claims.claim_batch(dispatcher._Pass(worker="w1"), 2, [])) == 2
    assert len(claims.claim_batch(dispatcher._Pass(worker="w2"), 10, [])) == 3


def test_a_batch_respects_the_channel_concurrency_cap_across_workers(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 2
    _rules(monkeypatch)
    (channel,) = _channels(world, 1)
    targets = _schedule(world, channel, 5)
    first = claims.claim_batch(dispatcher._Pass(worker="a"), 10, [])
    assert [t.pk for t in first] == [targets[0].pk, targets[1].pk]  # in due order
    other = dispatcher._Pass(worker="b")
    assert claims.claim_batch(other, 10, []) == []
    assert channel.pk in other.busy  # another worker's posts are on their way there
    Target.objects.filter(pk=targets[0].pk).update(state=TargetState.PUBLISHED)
    again = claims.claim_batch(dispatcher._Pass(worker="c"), 10, [])
    assert [t.pk for t in again] == [targets[2].pk]


def test_a_batch_skips_the_channels_its_caller_has_full(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    _rules(monkeypatch)
    busy, free = _channels(world, 2)
    _schedule(world, busy, 1)
    (waiting,) = _schedule(world, free, 1)
    batch = claims.claim_batch(dispatcher._Pass(worker="w"), 10, [], skip_channels=[busy.pk])
    assert [t.pk for t in batch] == [waiting.pk]


def test_a_batch_stops_at_an_account_posting_limit(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 100
    _rules(monkeypatch, RateLimitRule("publish", 2, 3600))
    (channel,) = _channels(world, 1)
    targets = _schedule(world, channel, 4)
    batch = claims.claim_batch(dispatcher._Pass(worker="a"), 10, [])
    assert [t.pk for t in batch] == [targets[0].pk, targets[1].pk]
    # The next pass finds the window full: the rest wait for it, with a message.
    assert claims.claim_batch(dispatcher._Pass(worker="b"), 10, []) == []
    rest = Target.objects.filter(pk__in=[targets[2].pk, targets[3].pk])
    assert all(t.state == TargetState.SCHEDULED and t.next_attempt_at for t in rest)
    assert PostEvent.objects.filter(kind="target.waiting").count() == 2


def test_a_network_wide_limit_is_shared_by_the_channels_of_one_batch(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 100
    _rules(monkeypatch, RateLimitRule("publish", 3, 3600, scope="app"))
    for channel in _channels(world, 3):
        _schedule(world, channel, 2)
    batch = claims.claim_batch(dispatcher._Pass(worker="a"), 10, [])
    assert len(batch) == 3
    assert claims.claim_batch(dispatcher._Pass(worker="b"), 10, []) == []
    assert Target.objects.filter(state=TargetState.PUBLISHING).count() == 3


def test_a_batch_holds_a_target_past_the_late_cutoff(world, settings, monkeypatch):
    settings.MINBAR_LATE_CUTOFF_MINUTES = 30
    _rules(monkeypatch)
    late_channel, fine_channel = _channels(world, 2)
    (late,) = _schedule(world, late_channel, 1, minutes_ago=45)
    (fine,) = _schedule(world, fine_channel, 1)
    notices: list[tuple[int, str]] = []
    batch = claims.claim_batch(dispatcher._Pass(worker="w"), 10, notices)
    assert [t.pk for t in batch] == [fine.pk]
    late.refresh_from_db()
    assert late.state == TargetState.HELD
    assert notices == [(late.pk, "held")]


def test_posts_are_marked_publishing_only_while_a_target_is_on_its_way(world):
    (channel,) = _channels(world, 1)
    out, waiting = _schedule(world, channel, 2)
    Target.objects.filter(pk=out.pk).update(state=TargetState.PUBLISHING)
    Target.objects.filter(pk=waiting.pk).update(state=TargetState.PUBLISHED)
    assert claims.mark_posts_publishing([out.post_id, waiting.post_id]) == 1
    assert Post.objects.get(pk=out.post_id).state == PostState.PUBLISHING
    assert Post.objects.get(pk=waiting.post_id).state == PostState.SCHEDULED


class _SlowNetwork:
    """A connector stand-in: every call waits, and what it was asked to publish is kept."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()
        self.in_flight = Counter[int]()
        self.most_at_once: Counter[int] = Counter()

    def for_channel(self, channel: Channel) -> Any:
        network = self

        class Connector:
            timeout = 20.0

            def publish(self, request: Any) -> PublishResult:
                with network.lock:
                    network.in_flight[channel.pk] += 1
                    network.most_at_once[channel.pk] = max(
                        network.most_at_once[channel.pk], network.in_flight[channel.pk]
                    )
                time.sleep(0.02)
                with network.lock:
                    network.in_flight[channel.pk] -= 1
                    network.keys.append(request.idempotency_key)
                return PublishResult(remote_id=f"r-{request.idempotency_key}", url="")

        return Connector()


THREADED_PASS = """
import django, json, os, types
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from django.conf import settings
from minbar.publishing import dispatcher, limits
from minbar.publishing.models import Post, Target
from minbar.publishing.tests import test_batch_claims as t
from minbar.workspaces.models import Organization, Workspace
org = Organization.objects.create(name="Acme Inc", slug="acme-org")
acme = Workspace.objects.create(organization=org, name="Acme", slug="acme")
world = types.SimpleNamespace(acme=acme)
settings.MINBAR_LATE_CUTOFF_MINUTES = None
settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 2
limits.capabilities_of = t.unlimited
network = t._SlowNetwork()
dispatcher._connector = network.for_channel
from huey.contrib.djhuey import HUEY
from minbar.publishing import tasks
HUEY.immediate = False
asked = []
tasks.dispatch_soon = lambda: asked.append(1)
channels = t._channels(world, 4)
targets = [x for channel in channels for x in t._schedule(world, channel, 6)]
handled = dispatcher.dispatch_due(threads=6)
print(json.dumps({
    "handled": handled,
    "expected": sorted(str(x.idempotency_key) for x in targets),
    "keys": sorted(network.keys),
    "most_at_once": list(network.most_at_once.values()),
    "targets": sorted(set(Target.objects.values_list("state", flat=True))),
    "posts": sorted(set(Post.objects.values_list("state", flat=True))),
    "asked": len(asked),
}))
"""


def unlimited(channel: Channel) -> Any:
    return replace(capabilities_for("x"), rate_limits=())


@pytest.mark.django_db(transaction=True)
def test_a_threaded_pass_publishes_every_target_once_within_the_cap(
    world, settings, monkeypatch, tmp_path
):
    """Six publishing threads, a cap of two per channel: each post once, never three at once.

    On SQLite the pass runs in a process of its own on a database file (the test
    suite's in-memory database cannot be shared by threads), as in production.
    """
    if connection.vendor == "sqlite":
        result = _threaded_pass_on_a_sqlite_file(tmp_path)
        assert result["handled"] == len(result["expected"]) == 24
        assert result["keys"] == result["expected"]
        assert max(result["most_at_once"]) == 2
        assert result["targets"] == [TargetState.PUBLISHED]
        assert result["posts"] == [PostState.PUBLISHED]
        assert result["asked"] == 1  # a pool's worth at once: one more pass asked for, once
        return
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 2
    _rules(monkeypatch)
    network = _SlowNetwork()
    monkeypatch.setattr(dispatcher, "_connector", network.for_channel)
    asked = _count_help_asked(monkeypatch)
    channels = _channels(world, 4)
    targets = [t for channel in channels for t in _schedule(world, channel, 6)]
    assert dispatcher.dispatch_due(threads=6) == len(targets)
    assert asked == [1]  # a pool's worth at once: one more pass asked for, once
    assert sorted(network.keys) == sorted(str(t.idempotency_key) for t in targets)
    assert all(n <= 2 for n in network.most_at_once.values())
    assert max(network.most_at_once.values()) == 2  # and the threads did overlap
    assert set(Target.objects.values_list("state", flat=True)) == {TargetState.PUBLISHED}
    assert set(Post.objects.values_list("state", flat=True)) == {PostState.PUBLISHED}


def _count_help_asked(monkeypatch: Any) -> list[int]:
    from huey.contrib.djhuey import HUEY

    from minbar.publishing import tasks

    asked: list[int] = []
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(tasks, "dispatch_soon", lambda: asked.append(1))
    return asked


def test_a_pass_asks_the_queue_for_help_and_carries_on_when_it_is_down(monkeypatch, caplog):
    from minbar.publishing import pipeline

    asked = _count_help_asked(monkeypatch)
    assert pipeline._ask_for_help() is True
    assert asked == [1]

    def down() -> None:
        raise ConnectionError("queue down")

    from minbar.publishing import tasks

    monkeypatch.setattr(tasks, "dispatch_soon", down)
    assert pipeline._ask_for_help() is True
    assert "could not enqueue a helping dispatcher pass" in caplog.text


def test_a_pass_never_asks_for_help_when_the_queue_runs_tasks_at_once(monkeypatch):
    from huey.contrib.djhuey import HUEY

    from minbar.publishing import pipeline, tasks

    asked: list[int] = []
    monkeypatch.setattr(HUEY, "immediate", True)
    monkeypatch.setattr(tasks, "dispatch_soon", lambda: asked.append(1))
    assert pipeline._ask_for_help() is True
    assert asked == []  # it would run inside the pass that asked


def _threaded_pass_on_a_sqlite_file(tmp_path: Any) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    from minbar.publishing.tests.test_dispatcher_helpers import ROOT, clean_env

    env = clean_env(MINBAR_DATA_DIR=str(tmp_path))
    subprocess.run(
        [sys.executable, "-m", "minbar", "migrate", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-c", THREADED_PASS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
