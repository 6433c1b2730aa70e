"""Fake networks for analytics tests: counters set by the test, errors on demand.

"Pulse" reports likes, comments, clicks and impressions (no shares, no reach);
"Echo" reports likes, shares and reach (no impressions). Both are registered as
real connectors for the test, so labels and capabilities flow as in production.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.utils import timezone

from minbar.channels.models import Channel
from minbar.connectors import registry
from minbar.connectors.base import Connector
from minbar.connectors.errors import ConnectorError
from minbar.connectors.types import AuthKind, Capabilities, Metrics, TextRules
from minbar.publishing.models import Post, PostState, Target, TargetState


class FakeNetwork(Connector):
    network: ClassVar[str] = "pulse"
    # remote id -> counters; "@account" holds the account's counters.
    counters: ClassVar[dict[str, dict[str, int]]] = {}
    error: ClassVar[ConnectorError | None] = None
    calls: ClassVar[list[list[str]]] = []

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        type(self).calls.append(list(remote_ids))
        if type(self).error is not None:
            raise type(self).error  # type: ignore[misc]
        now = timezone.now()
        return {
            rid: Metrics(values=dict(self.counters[rid]), fetched_at=now)
            for rid in remote_ids
            if rid in self.counters
        }

    def account_metrics(self) -> Metrics:
        if type(self).error is not None:
            raise type(self).error  # type: ignore[misc]
        return Metrics(values=dict(self.counters.get("@account", {})), fetched_at=timezone.now())


class Pulse(FakeNetwork):
    network = "pulse"
    capabilities = Capabilities(
        network="pulse",
        label="Pulse",
        auth=AuthKind.TOKEN,
        text=TextRules(max_length=500),
        post_metrics=frozenset({"likes", "comments", "clicks", "impressions"}),
        account_metrics=frozenset({"followers"}),
    )


class Echo(FakeNetwork):
    network = "echo"
    capabilities = Capabilities(
        network="echo",
        label="Echo",
        auth=AuthKind.TOKEN,
        text=TextRules(max_length=500),
        post_metrics=frozenset({"likes", "shares", "reach"}),
        account_metrics=frozenset(),
    )


def install_fake_networks(monkeypatch: Any) -> None:
    real = registry.all_connectors()
    monkeypatch.setattr(registry, "all_connectors", lambda: {**real, "pulse": Pulse, "echo": Echo})
    FakeNetwork.counters = {}
    FakeNetwork.error = None
    FakeNetwork.calls = []


def fake_channel(workspace: Any, network: str = "pulse", handle: str = "@acme") -> Channel:
    return Channel.objects.create(
        workspace=workspace, network=network, remote_id=f"{network}-{handle}", handle=handle
    )


def published(
    channel: Channel,
    remote_id: str,
    at: datetime,
    *,
    tags: list[str] | None = None,
    text: str = "Fresh roast today",
    post: Post | None = None,
) -> Target:
    """A post out on ``channel`` at ``at`` (as the dispatcher leaves it)."""
    if post is None:
        post = Post.objects.create(
            workspace=channel.workspace,
            text=text,
            state=PostState.PUBLISHED,
            tags=tags or [],
        )
    return Target.objects.create(
        post=post,
        channel=channel,
        state=TargetState.PUBLISHED,
        remote_id=remote_id,
        remote_url=f"https://{channel.network}.example/{remote_id}",
        published_at=at,
    )
