"""SIGKILL a real worker in the middle of a burst; a new one finishes; every post is out once.

The peer is a separate ``minbar sandbox serve`` process with its own database and
150 ms of latency per call, so the killed worker has requests in flight. The
network's side is counted through its API (each account's posts and the
idempotency keys they were made with): every target exactly once, none lost,
none stuck. Two layouts, started the way ``core/tests/test_processes.py`` starts
them and stopped by PID:

* embedded — ``minbar serve`` (web, scheduler and worker threads in one process)
  on SQLite with the SQLite queue;
* distributed — ``minbar worker`` processes sharing a fresh PostgreSQL database
  and Redis.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.sandbox import SandboxConnector
from minbar.publishing.tests.test_dispatcher_helpers import (
    ROOT,
    clean_env,
    free_port,
    minbar,
    sandbox_api,
    sandbox_server,
    stop,
    stopped_on_failure,
    wait_for,
)

CHANNELS, PER_CHANNEL, LATENCY_MS = 4, 12, 150
TOTAL = CHANNELS * PER_CHANNEL

SETUP = r"""
import django, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from django.utils import timezone
from minbar.accounts.models import User
from minbar.channels.models import Channel
from minbar.connectors.types import Credentials
from minbar.publishing import dispatcher
from minbar.publishing.models import Post, PostState, Target, TargetState
from minbar.workspaces.models import Membership, Organization, Workspace
from minbar.workspaces.roles import Role

spec = json.loads(sys.argv[1])
alice = User.objects.create_user(username="alice", password="x" * 12, email="alice@example.com")
org = Organization.objects.create(name="Acme Inc", slug="acme-org")
workspace = Workspace.objects.create(organization=org, name="Acme", slug="acme")
Membership.objects.create(user=alice, workspace=workspace, role=Role.OWNER)
due = timezone.now()
for n, account in enumerate(spec["accounts"]):
    channel = Channel(
        workspace=workspace, network="sandbox", remote_id=account["remote_id"],
        handle=account["handle"],
    )
    channel.set_credentials(
        Credentials(secrets={"access_token": account["token"]}, data=account["data"])
    )
    channel.save()
    for i in range(spec["per_channel"]):
        post = Post.objects.create(
            workspace=workspace, author=alice, text=f"Burst {n}-{i}",
            state=PostState.SCHEDULED, scheduled_at=due,
        )
        Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED, due_at=due)
dispatcher.kick()  # outside a transaction: enqueued at once, into the workers' queue
"""


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_server(tmp_path_factory.mktemp("network"), threads=16) as url:
        yield url


def _accounts(url: str) -> list[dict[str, Any]]:
    """Fresh sandbox accounts (X-like: 50 posts per 15 minutes), each answering in 150 ms."""
    accounts = []
    for n in range(CHANNELS):
        result = SandboxConnector(url).connect_with_fields(
            {"name": f"Burst {uuid.uuid4().hex[:6]} {n}", "flavour": "x", "speed": "0",
             "audience_size": "40"}
        )  # fmt: skip
        token = result.credentials.secrets["access_token"]
        sandbox_api(url, token, "PUT", "/faults", {"latency_ms": LATENCY_MS})
        accounts.append(
            {
                "remote_id": result.account.remote_id,
                "handle": result.account.handle,
                "token": token,
                "data": result.credentials.data,
            }
        )
    return accounts


def _on_network(url: str, accounts: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each account's posts' idempotency keys, as the network reports them."""
    keys: dict[str, list[str]] = {}
    for account in accounts:
        items = _get(url, account["token"], "/posts", {"limit": "100"})["items"]
        keys[account["handle"]] = [item["idempotency_key"] for item in items]
    return keys


def _get(url: str, token: str, path: str, params: dict[str, str]) -> Any:
    import httpx

    response = httpx.get(
        f"{url}/sandbox/api/v1{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _posts_out(url: str, accounts: list[dict[str, Any]]) -> int:
    return sum(_get(url, a["token"], "/metrics/account", {})["values"]["posts"] for a in accounts)


Query = Callable[[str], list[tuple[Any, ...]]]


def _kill_mid_burst(
    url: str,
    env: dict[str, str],
    tmp_path: Path,
    accounts: list[dict[str, Any]],
    first: subprocess.Popen[bytes],
    query: Query,
) -> dict[str, int]:
    """Schedule the burst, SIGKILL the worker once a quarter is out; the states at that moment."""
    spec = json.dumps({"accounts": accounts, "per_channel": PER_CHANNEL})
    subprocess.run([sys.executable, "-c", SETUP, spec], env=env, cwd=ROOT, check=True, timeout=120)
    # Kill it once a quarter of the burst is out, with requests in flight.
    wait_for(
        lambda: _posts_out(url, accounts) >= TOTAL // 4,
        timeout=90,
        what="the first worker to start publishing",
        logs=list(tmp_path.glob("*.log")),
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    at_kill: dict[str, int] = dict(
        query("SELECT state, count(*) FROM publishing_target GROUP BY state")
    )
    assert at_kill.get("publishing", 0) >= 1, at_kill  # it died mid-call
    assert at_kill.get("published", 0) < TOTAL, "the burst finished before the kill"
    return at_kill


def _burst_survives_a_sigkill(
    *,
    url: str,
    env: dict[str, str],
    tmp_path: Path,
    start: Callable[[str], subprocess.Popen[bytes]],
    query: Query,
) -> None:
    accounts = _accounts(url)
    first = start("first")
    try:
        at_kill = _kill_mid_burst(url, env, tmp_path, accounts, first, query)
    finally:
        stop(first)  # already dead unless the test failed before the kill
    second = start("second")
    try:

        def settled() -> bool:
            rows = query("SELECT state, count(*) FROM publishing_target GROUP BY state")
            counts: dict[str, int] = dict(rows)
            return counts.get("published", 0) == TOTAL

        wait_for(
            settled,
            timeout=90,
            what="the new worker to finish",
            logs=list(tmp_path.glob("*.log")),
        )
    finally:
        stop(second)

    targets = query(
        "SELECT t.idempotency_key, t.remote_id, t.state, c.handle FROM publishing_target t "
        "JOIN channels_channel c ON c.id = t.channel_id"
    )
    assert len(targets) == TOTAL and {state for _, _, state, _ in targets} == {"published"}
    assert len({remote for _, remote, _, _ in targets}) == TOTAL
    on_network = _on_network(url, accounts)
    for handle, keys in on_network.items():
        expected = sorted(key for key, _, _, h in targets if h == handle)
        assert sorted(keys) == expected, f"{handle}: not exactly once"
    assert sum(len(keys) for keys in on_network.values()) == TOTAL
    # The claims the dead worker held were recovered through the reaper and a lookup.
    reaped = query("SELECT count(*) FROM publishing_postevent WHERE kind = 'target.reaped'")
    assert reaped[0][0] == at_kill["publishing"]
    assert (
        query("SELECT count(*) FROM publishing_postevent WHERE kind = 'target.reconciled'")[0][0]
        == at_kill["publishing"]
    )


def test_sigkill_embedded_serve_mid_burst(network: str, tmp_path: Path) -> None:
    env = clean_env(MINBAR_DATA_DIR=str(tmp_path))

    def start(name: str) -> subprocess.Popen[bytes]:
        port = free_port()
        proc = minbar(
            ["serve", "--port", str(port)],
            {**env, "MINBAR_PORT": str(port)},
            tmp_path / f"{name}.log",
        )
        with stopped_on_failure(proc):
            wait_for(
                lambda: (
                    (tmp_path / "minbar.sqlite3").exists()
                    and "Minbar is serving" in (tmp_path / f"{name}.log").read_text()
                ),
                timeout=60,
                what=f"minbar serve ({name})",
                logs=[tmp_path / f"{name}.log"],
            )
        return proc

    def query(sql: str) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(tmp_path / "minbar.sqlite3", timeout=10)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    _burst_survives_a_sigkill(url=network, env=env, tmp_path=tmp_path, start=start, query=query)


def test_sigkill_distributed_worker_mid_burst(
    network: str, tmp_path: Path, postgres_admin_url: str, redis_url: str
) -> None:
    import psycopg
    import redis

    name = f"minbar_kill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    redis.Redis.from_url(redis_url).flushdb()
    env = clean_env(
        MINBAR_DATA_DIR=str(tmp_path), DATABASE_URL=database_url, MINBAR_QUEUE_URL=redis_url
    )
    try:
        subprocess.run(
            [sys.executable, "-m", "minbar", "migrate", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )

        def start(label: str) -> subprocess.Popen[bytes]:
            log = tmp_path / f"{label}.log"
            proc = minbar(["worker", "--workers", "2"], env, log)
            with stopped_on_failure(proc):
                wait_for(
                    lambda: "Minbar worker on queue redis://" in log.read_text(),
                    timeout=60,
                    what=f"minbar worker ({label})",
                    logs=[log],
                )
            return proc

        def query(sql: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(database_url) as conn:
                return list(conn.execute(sql).fetchall())

        _burst_survives_a_sigkill(url=network, env=env, tmp_path=tmp_path, start=start, query=query)
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
