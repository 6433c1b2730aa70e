"""Helpers shared by the dispatcher's tests (no tests here).

Channels are real sandbox channels, connected through the channels app; the
sandbox network answers either in process (Django's WSGI app, inside the test's
transaction) or as a separate ``minbar sandbox serve`` process (:func:`sandbox_server`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone

from minbar.channels import actions as channel_actions
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState
from minbar.sandbox import actions as sandbox_actions
from minbar.sandbox.models import SandboxAccount, SandboxPost
from minbar.workspaces.access import access_for

ROOT = Path(__file__).resolve().parents[4]


def sandbox_channel(world: Any, name: str = "Acme Roasters", flavour: str = "x") -> Channel:
    """A sandbox account connected as a channel of acme, as the connect page does it.

    The test must route the sandbox in process first (``route_sandbox_in_process``).
    """
    access = access_for(world.alice, "acme")
    return channel_actions.connect_with_fields(
        Actor(user=world.alice),
        access,
        "sandbox",
        {"name": name, "flavour": flavour, "speed": "0", "audience_size": "60"},
    )


def make_post(
    world: Any,
    channels: Iterable[Channel],
    *,
    text: str = "Fresh roast today",
    due: datetime | None = None,
    thread: Iterable[str] = (),
    first_comment: str = "",
    state: str = TargetState.SCHEDULED,
) -> Post:
    due = due or timezone.now()
    post = Post.objects.create(
        workspace=world.acme,
        author=world.bob,
        text=text,
        thread=list(thread),
        first_comment=first_comment,
        state=PostState.SCHEDULED,
        scheduled_at=due,
    )
    for channel in channels:
        Target.objects.create(post=post, channel=channel, state=state, due_at=due)
    return post


def target_of(post: Post) -> Target:
    return Target.objects.select_related("channel", "post").get(post=post)


def sandbox_account(channel: Channel) -> SandboxAccount:
    account = sandbox_actions.authenticate(channel.get_credentials().secrets["access_token"])
    assert account is not None
    return account


def network_posts(channel: Channel, *, replies: bool = False) -> list[SandboxPost]:
    """What the sandbox network holds for the channel's account (top-level posts by default)."""
    posts = SandboxPost.objects.filter(account=sandbox_account(channel), deleted_at__isnull=True)
    if not replies:
        posts = posts.filter(reply_to_post__isnull=True, reply_to_event__isnull=True)
    return list(posts.order_by("number"))


def set_faults(channel: Channel, **faults: Any) -> None:
    sandbox_actions.set_faults(sandbox_account(channel), faults)


def pass_time(*targets: Target) -> None:
    """Time passes: every wait (retry, window, the network's 429) is over."""
    past = timezone.now() - timedelta(seconds=1)
    ids = [t.pk for t in targets]
    Target.objects.filter(pk__in=ids, next_attempt_at__isnull=False).update(next_attempt_at=past)
    Channel.objects.filter(targets__pk__in=ids).update(rate_limited_until=None)


def kinds(target: Target) -> list[str]:
    return list(PostEvent.objects.filter(target=target).values_list("kind", flat=True))


def refreshed(target: Target) -> Target:
    return Target.objects.select_related("channel", "post").get(pk=target.pk)


# -- separate processes ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a child Minbar process: none of this test run's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MINBAR_", "DATABASE_URL", "PYTEST", "DJANGO_SETTINGS"))
    }
    # The sandbox server listens on loopback, which the outbound guard refuses otherwise.
    env["MINBAR_ALLOW_PRIVATE_URLS"] = "true"
    env.update(extra)
    return env


def stop(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM by PID, then SIGKILL if it has not gone within the bound."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def stopped_on_failure(*procs: subprocess.Popen[Any]) -> Iterator[None]:
    """Stop these processes (by PID) if the block fails; a failing test must not leak them."""
    try:
        yield
    except BaseException:
        for proc in procs:
            stop(proc)
        raise


def minbar(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "minbar", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(check: Any, *, timeout: float, what: str, logs: Iterable[Path] = ()) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            text = "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in logs if p.exists())
            pytest.fail(f"timed out waiting for {what}\n{text}")
        time.sleep(0.1)


@contextmanager
def sandbox_server(data_dir: Path, threads: int = 8) -> Iterator[str]:
    """``minbar sandbox serve`` on a free loopback port, with its own database; yields its URL."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "sandbox.log"
    proc = minbar(
        ["sandbox", "serve", "--port", str(port), "--threads", str(threads)],
        clean_env(MINBAR_DATA_DIR=str(data_dir)),
        log,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the sandbox server exited early:\n{log.read_text()}")
        try:
            return httpx.get(f"{url}/sandbox/api/v1/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(healthy, timeout=60, what="the sandbox server", logs=[log])
        yield url
    finally:
        stop(proc)


def sandbox_api(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method,
        f"{url}/sandbox/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code < 300, response.text
    return response.json()
