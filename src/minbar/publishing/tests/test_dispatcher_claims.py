"""Claims are exclusive and posting limits are shared, under real concurrency.

PostgreSQL: several threads, each with its own connection, claim at the same
moment (``SELECT … FOR UPDATE SKIP LOCKED`` and the advisory locks). SQLite:
several *processes* on one WAL database file, as embedded Minbar and a second
``minbar worker`` would be (the test database itself is an in-memory one, whose
shared-cache locks do not wait, so threads would not show SQLite's real
behaviour).

Nothing is published here: the claims themselves are what is under test, so
every claimed target stays ``publishing`` (counted against the limit and the
concurrency cap, as if its publish were still in flight).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from django.db import connection

from minbar.channels.models import Channel
from minbar.connectors.sandbox import capabilities_for
from minbar.connectors.types import RateLimitRule
from minbar.publishing import claims, dispatcher, limits
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import ROOT, clean_env, stopped_on_failure

CHANNELS, PER_CHANNEL, LIMIT, WORKERS = 3, 15, 6, 4
RULE = RateLimitRule("publish", LIMIT, 3600)
# Between two claims of one worker: long enough that the others, waiting in SQLite's
# busy handler (it sleeps up to 100 ms between looks), get the lock in between —
# a batch claim takes a few milliseconds, so with 20 ms one worker could take all.
PUBLISH_SECONDS = 0.12


def _limited(channel: Channel):
    return replace(capabilities_for("x"), rate_limits=(RULE,))


def claim_some(run: dispatcher._Pass, batch: int) -> list[Target]:
    """One claim: a single target (``_claim_next``) or a batch (``claims.claim_batch``)."""
    if batch == 1:
        target = dispatcher._claim_next(run, [])
        return [] if target is None else [target]
    return claims.claim_batch(run, batch, [])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch", [1, 4], ids=["single", "batch"])
def test_concurrent_claims_never_share_a_target_and_respect_a_shared_limit(
    world, settings, monkeypatch, tmp_path, batch
):
    if connection.vendor == "postgresql":
        _postgres_threads(world, settings, monkeypatch, batch)
    else:
        _sqlite_processes(tmp_path, batch)


def _postgres_threads(world, settings, monkeypatch, batch: int) -> None:
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 100
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    monkeypatch.setattr(limits, "capabilities_of", _limited)
    channels = [
        Channel.objects.create(
            workspace=world.acme, network="sandbox", remote_id=f"a{n}", handle=f"@c{n}"
        )
        for n in range(CHANNELS)
    ]
    for channel in channels:
        for n in range(PER_CHANNEL):
            post = Post.objects.create(workspace=world.acme, text=f"{n}", state=PostState.SCHEDULED)
            Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED)

    start = threading.Barrier(WORKERS)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claim(worker: str) -> None:
        mine: list[int] = []
        try:
            start.wait(timeout=10)
            run = dispatcher._Pass(worker=worker)
            while got := claim_some(run, batch):
                mine += [target.pk for target in got]
                time.sleep(PUBLISH_SECONDS)  # the publish call, between two claims
        except BaseException as exc:
            errors.append(exc)
        finally:
            claimed[worker] = mine
            connection.close()

    threads = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    _check(claimed, dict(Target.objects.values_list("pk", "claimed_by")))
    assert PostEvent.objects.filter(kind="target.claimed").count() == CHANNELS * LIMIT
    per_channel = Counter(
        Target.objects.filter(state=TargetState.PUBLISHING).values_list("channel_id", flat=True)
    )
    assert sorted(per_channel.values()) == [LIMIT] * CHANNELS


def _check(claimed: dict[str, list[int]], owners: dict[int, str]) -> None:
    everything = [pk for ids in claimed.values() for pk in ids]
    assert len(everything) == len(set(everything)), "a target was claimed twice"
    assert len(everything) == CHANNELS * LIMIT, claimed
    for worker, ids in claimed.items():
        assert all(owners[pk] == worker for pk in ids)
    # More than one worker did claim (the test is not accidentally sequential).
    assert sum(1 for ids in claimed.values() if ids) >= 2


SETUP = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from minbar.channels.models import Channel
from minbar.publishing.models import Post, PostState, Target, TargetState
from minbar.workspaces.models import Organization, Workspace
org = Organization.objects.create(name="Acme Inc", slug="acme-org")
ws = Workspace.objects.create(organization=org, name="Acme", slug="acme")
for c in range({channels}):
    channel = Channel.objects.create(
        workspace=ws, network="sandbox", remote_id=f"a{{c}}", handle=f"@c{{c}}"
    )
    for n in range({per_channel}):
        post = Post.objects.create(workspace=ws, text=str(n), state=PostState.SCHEDULED)
        Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED)
"""

CLAIMER = """
import django, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from django.conf import settings
from minbar.publishing import dispatcher, limits
from minbar.publishing.tests import test_dispatcher_claims as t
settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 100
settings.MINBAR_LATE_CUTOFF_MINUTES = None
limits.capabilities_of = t._limited
start_at = float(sys.argv[1])
dispatcher.due_targets(dispatcher.now()).count()  # connect before the start line
while time.time() < start_at:
    time.sleep(0.001)
run = dispatcher._Pass(worker=sys.argv[2])
mine = []
while got := t.claim_some(run, int(sys.argv[3])):
    mine += [target.pk for target in got]
    time.sleep(t.PUBLISH_SECONDS)  # the publish call, between two claims
print(json.dumps(mine))
"""


def _sqlite_processes(tmp_path: Path, batch: int) -> None:
    env = clean_env(MINBAR_DATA_DIR=str(tmp_path))
    for script in (
        None,
        SETUP.format(channels=CHANNELS, per_channel=PER_CHANNEL),
    ):
        args = ["-m", "minbar", "migrate", "-v0"] if script is None else ["-c", script]
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True, timeout=120)
    start_at = time.time() + 3  # all claimers are connected and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(start_at), f"p{n}", str(batch)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    claimed: dict[str, list[int]] = {}
    with stopped_on_failure(*procs):
        for n, proc in enumerate(procs):
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            claimed[f"p{n}"] = json.loads(out.strip().splitlines()[-1])
    db = sqlite3.connect(tmp_path / "minbar.sqlite3")
    try:
        owners = dict(db.execute("SELECT id, claimed_by FROM publishing_target").fetchall())
        per_channel = db.execute(
            "SELECT channel_id, count(*) FROM publishing_target WHERE state = 'publishing' "
            "GROUP BY channel_id"
        ).fetchall()
        events = db.execute(
            "SELECT count(*) FROM publishing_postevent WHERE kind = 'target.claimed'"
        ).fetchone()[0]
    finally:
        db.close()
    _check(claimed, owners)
    assert sorted(count for _, count in per_channel) == [LIMIT] * CHANNELS
    assert events == CHANNELS * LIMIT
