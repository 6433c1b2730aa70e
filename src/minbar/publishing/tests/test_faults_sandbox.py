"""The dispatcher against the sandbox network's fault injection (docs/sandbox.md, "Faults").

Each test forces outcomes on the network's side (``fail_next``) and checks both
Minbar's state and what the network holds: every post ends up there exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from minbar.channels.models import Channel
from minbar.connectors.types import Credentials
from minbar.notifications.models import Notification
from minbar.publishing import dispatcher, reconcile
from minbar.publishing.models import PostEvent, PostState, Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import (
    kinds,
    make_post,
    network_posts,
    pass_time,
    sandbox_api,
    sandbox_channel,
    sandbox_server,
    set_faults,
    target_of,
)
from minbar.sandbox.tests.helpers import route_sandbox_in_process


@pytest.fixture
def channel(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    return sandbox_channel(world)


def test_429_with_retry_after_waits_then_publishes_once(world, channel):
    set_faults(channel, fail_next=["rate_limited"], retry_after=7)
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.SCHEDULED and target.last_error_kind == "rate_limited"
    assert network_posts(channel) == []
    pass_time(target)
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED
    assert len(network_posts(channel)) == 1


def test_5xx_before_anything_was_done_is_retried_and_publishes_once(world, channel):
    set_faults(channel, fail_next=["server_error"])
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.SCHEDULED and target.last_error_kind == "temporary"
    assert network_posts(channel) == []
    pass_time(target)
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED
    assert len(network_posts(channel)) == 1


def test_ambiguous_failure_is_reconciled_and_never_sent_twice(world, channel):
    # The network makes the post, then answers 500.
    set_faults(channel, fail_next=["ambiguous"])
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.last_error_kind == "outcome_unknown"
    assert target.next_attempt_at is not None  # a lookup is planned, not a re-send
    assert len(network_posts(channel)) == 1
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHING  # still being settled
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    [on_network] = network_posts(channel)
    assert target.state == TargetState.PUBLISHED and target.remote_id == on_network.remote_id
    assert target.attempts == 1  # found by the lookup: no second publish
    assert kinds(target) == ["target.claimed", "target.unconfirmed", "target.reconciled"]
    assert PostEvent.objects.get(target=target, kind="target.reconciled").data["found"] is True
    assert not Notification.objects.filter(kind__startswith="publishing.").exists()


def test_an_ambiguous_thread_part_is_completed_without_duplicates(world, channel):
    # The first post goes through; the network makes the thread's first part and answers 500.
    set_faults(channel, fail_next=["ok", "ambiguous"])
    post = make_post(world, [channel], text="One", thread=["Two", "Three"])
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.UNCONFIRMED
    assert [p.text for p in network_posts(channel, replies=True)] == ["One", "Two"]
    pass_time(target_of(post))
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED and len(target.thread_remote_ids) == 2
    assert [p.text for p in network_posts(channel, replies=True)] == ["One", "Two", "Three"]


def test_not_found_after_an_unknown_outcome_is_sent_again_once(world, channel):
    # A timeout *before* anything was done looks the same to the client as one after.
    post = make_post(world, [channel])
    target = target_of(post)
    Target.objects.filter(pk=target.pk).update(
        state=TargetState.UNCONFIRMED, next_attempt_at=timezone.now(), attempts=1
    )
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED and target.attempts == 2
    assert kinds(target) == ["target.reconciled", "target.claimed", "target.published"]
    assert len(network_posts(channel)) == 1


def test_a_lookup_that_cannot_be_trusted_leaves_it_to_a_person(world, channel, monkeypatch):
    monkeypatch.setitem(reconcile.LOOKUP_AUTHORITY, "sandbox", 0.0)
    post = make_post(world, [channel])
    Target.objects.filter(post=post).update(
        state=TargetState.UNCONFIRMED, next_attempt_at=timezone.now(), attempts=1
    )
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.next_attempt_at is None
    assert "no reliable way to look a post up" in target.last_error_message
    assert network_posts(channel) == []  # never re-sent blindly
    assert Notification.objects.filter(kind="publishing.unconfirmed").count() == 2
    dispatcher.dispatch_due()  # and it stays put
    assert target_of(post).next_attempt_at is None
    post.refresh_from_db()
    assert post.state == PostState.FAILED
    # The person checked the account and decides to send it.
    dispatcher.retry_target(target)
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED
    assert len(network_posts(channel)) == 1


def test_a_failing_lookup_is_tried_again_later(world, channel):
    post = make_post(world, [channel])
    Target.objects.filter(post=post).update(
        state=TargetState.UNCONFIRMED, next_attempt_at=timezone.now(), attempts=1
    )
    set_faults(channel, fail_next=["server_error"])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED
    assert target.next_attempt_at is not None and target.next_attempt_at > timezone.now()
    pass_time(target)
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED


def test_a_timeout_after_sending_against_a_real_sandbox_server(world, settings, tmp_path: Path):
    """The connector's own client timeout, over a socket, on a separate sandbox process."""
    settings.MINBAR_PUBLISH_TIMEOUT_SECONDS = 1
    settings.MINBAR_PUBLISH_RECONCILE_DELAY_SECONDS = 0
    with sandbox_server(tmp_path / "sandbox") as url:
        from minbar.connectors.sandbox import SandboxConnector

        result = SandboxConnector(url).connect_with_fields(
            {"name": "Acme Live", "flavour": "x", "speed": "0", "audience_size": "60"}
        )
        credentials: Credentials = result.credentials
        channel = Channel(
            workspace=world.acme,
            network="sandbox",
            remote_id=result.account.remote_id,
            handle=result.account.handle,
        )
        channel.set_credentials(credentials)
        channel.save()
        token = credentials.secrets["access_token"]
        # The network makes the post, then stalls past the client's timeout.
        sandbox_api(
            url, token, "PUT", "/faults", {"fail_next": ["ambiguous_timeout"], "stall_seconds": 2}
        )
        post = make_post(world, [channel])
        dispatcher.dispatch_due()
        target = target_of(post)
        assert target.state == TargetState.UNCONFIRMED, target.last_error_message
        dispatcher.dispatch_due()  # the lookup finds it
        target = target_of(post)
        assert target.state == TargetState.PUBLISHED and target.attempts == 1
        items = sandbox_api(url, token, "GET", "/posts")["items"]
        assert [i["id"] for i in items] == [target.remote_id]
