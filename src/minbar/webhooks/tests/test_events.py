"""Which changes become events, with what in them, stored with the change itself."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from minbar.channels import actions as channel_actions
from minbar.channels.models import Channel, Health
from minbar.connectors.errors import AuthExpired
from minbar.publishing import dispatcher
from minbar.publishing.models import Post, PostState, Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import (
    make_post,
    sandbox_channel,
    set_faults,
    target_of,
)
from minbar.sandbox.tests.helpers import route_sandbox_in_process
from minbar.webhooks import delivery
from minbar.webhooks.events import emit
from minbar.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from minbar.webhooks.signing import verify
from minbar.webhooks.tests.helpers import make_endpoint
from minbar.webhooks.tests.receiver import receiver


@pytest.fixture
def hook():
    with receiver() as r:
        yield r


@pytest.mark.django_db(transaction=True)
def test_an_event_is_stored_only_if_the_change_that_caused_it_commits(world, hook):
    make_endpoint(world, hook.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        Post.objects.create(workspace=world.acme, text="rolled back")
        emit(world.acme, "post.failed", {"post": "rolled back"})
        raise RuntimeError("the change fails after the event was emitted")
    assert not WebhookDelivery.objects.exists()
    assert hook.requests == []
    with transaction.atomic():
        Post.objects.create(workspace=world.acme, text="kept")
        emit(world.acme, "post.failed", {"post": "kept"})
    # Committed: stored, and the commit kicked the queue (immediate in tests) to send it.
    (sent,) = WebhookDelivery.objects.all()
    assert sent.state == DeliveryState.DELIVERED
    assert json.loads(hook.requests[0].body)["data"] == {"post": "kept"}


def test_only_endpoints_subscribed_to_an_event_type_receive_it(world, hook):
    everything = make_endpoint(world, hook.url)
    channels_only = make_endpoint(world, hook.url, ["channel.broken", "channel.restored"])
    assert [d.endpoint_id for d in emit(world.acme, "post.failed", {})] == [everything.pk]
    assert {d.endpoint_id for d in emit(world.acme, "channel.broken", {})} == {
        everything.pk,
        channels_only.pk,
    }
    assert emit(world.globex, "post.failed", {}) == []  # another workspace's endpoints only


@pytest.fixture
def channel(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    return sandbox_channel(world)


def test_a_publishing_failure_sends_post_failed_with_the_reason_and_the_fix(
    world, channel, hook, settings
):
    settings.MINBAR_PUBLISH_MAX_ATTEMPTS = 1
    endpoint = make_endpoint(world, hook.url, ["post.failed"])
    set_faults(channel, fail_next=["server_error"])
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.FAILED
    (stored,) = WebhookDelivery.objects.all()
    assert stored.event_type == "post.failed"
    delivery.deliver_due()
    (request,) = hook.requests
    verify(endpoint.secret, request.headers["minbar-signature"], request.body)
    data = json.loads(request.body)["data"]
    assert data["target"]["id"] == target.pk and data["target"]["state"] == "failed"
    assert data["channel"] == {
        "id": channel.pk,
        "name": channel.name,
        "handle": channel.handle,
        "network": "sandbox",
    }
    assert data["error"]["kind"] == "temporary"
    assert data["error"]["message"] == target.last_error_message
    base = settings.MINBAR_BASE_URL
    assert data["links"]["post"] == f"{base}/w/acme/publishing/posts/{post.pk}/"
    assert data["links"]["retry"] == {
        "method": "POST",
        "url": f"{base}/api/v1/workspaces/acme/posts/{post.pk}/targets/{target.pk}/retry",
    }
    assert data["links"]["reschedule"]["url"].endswith(f"/targets/{target.pk}/reschedule")


def test_a_published_post_sends_post_published_with_its_address(world, channel, hook):
    make_endpoint(world, hook.url)
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED
    (stored,) = WebhookDelivery.objects.filter(event_type="post.published")
    assert stored.payload["data"]["target"]["remote_url"] == target.remote_url != ""
    assert stored.payload["data"]["error"] is None


def test_a_post_held_for_being_too_late_sends_post_held(world, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.MINBAR_LATE_CUTOFF_MINUTES = 30
    make_endpoint(world, "http://127.0.0.1:9/unused", ["post.held"])
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="late", handle="@late"
    )
    post = Post.objects.create(workspace=world.acme, text="late", state=PostState.SCHEDULED)
    target = Target.objects.create(
        post=post,
        channel=channel,
        state=TargetState.SCHEDULED,
        due_at=timezone.now() - timedelta(hours=2),
    )
    dispatcher.dispatch_due()
    target.refresh_from_db()
    assert target.state == TargetState.HELD
    (stored,) = WebhookDelivery.objects.all()
    assert stored.event_type == "post.held"
    assert stored.payload["data"]["error"]["kind"] == "held"


def test_no_endpoint_means_no_event_and_publishing_is_untouched(world, channel):
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED
    assert not WebhookDelivery.objects.exists()


def test_a_channel_that_breaks_and_is_repaired_sends_broken_then_restored(world, hook):
    make_endpoint(world, hook.url, ["channel.broken", "channel.restored"])
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="c1", handle="@roasters"
    )
    channel_actions.note_failure(channel, AuthExpired("The sign-in expired."))
    assert channel.health == Health.NEEDS_RECONNECT
    channel_actions.note_success(channel)
    channel_actions.note_success(channel)  # already working: nothing new
    events = list(WebhookDelivery.objects.order_by("id").values_list("event_type", "payload"))
    assert [e for e, _ in events] == ["channel.broken", "channel.restored"]
    broken = events[0][1]["data"]
    assert broken["channel"]["health"] == "needs_reconnect"
    assert broken["channel"]["message"] == "The sign-in expired."
    assert broken["links"]["channel"].endswith(f"/w/acme/channels/{channel.pk}/")


def test_reconnecting_a_broken_channel_sends_channel_restored(world):
    from minbar.connectors.types import AccountInfo, ConnectResult, Credentials
    from minbar.core.actor import Actor

    make_endpoint(world, "http://127.0.0.1:9/unused", ["channel.restored"])
    result = ConnectResult(AccountInfo(remote_id="r1", handle="@roasters"), Credentials())
    actor = Actor(user=world.alice)
    channel = channel_actions.save_connection(actor, world.acme, "sandbox", "", result)
    assert not WebhookDelivery.objects.exists()  # a first connection restores nothing
    Channel.objects.filter(pk=channel.pk).update(health=Health.NEEDS_RECONNECT)
    again = channel_actions.save_connection(actor, world.acme, "sandbox", "", result)
    assert again.pk == channel.pk and again.health == Health.CONNECTED
    (stored,) = WebhookDelivery.objects.all()
    assert stored.event_type == "channel.restored"
    assert stored.payload["data"]["channel"]["health"] == "connected"


def test_the_queue_runs_a_delivery_pass_every_minute():
    from huey.contrib.djhuey import HUEY

    from minbar.webhooks import tasks

    periodic = {task.name for task in HUEY._registry.periodic_tasks}
    assert tasks.deliver_every_minute.task_class.__name__ in periodic


def test_a_worker_notices_an_endpoint_added_by_another_process_within_seconds(world, monkeypatch):
    import time

    from minbar.webhooks import receivers

    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="w1", handle="@w"
    )
    post = Post.objects.create(workspace=world.acme, text="w", state=PostState.SCHEDULED)
    target = Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED)

    def fail_once() -> None:
        Target.objects.filter(pk=target.pk).update(state=TargetState.SCHEDULED)
        dispatcher._transition(
            target.pk,
            post_id=post.pk,
            from_states=(TargetState.SCHEDULED,),
            to_state=TargetState.FAILED,
            kind="target.failed",
        )

    # This worker looked a moment ago and saw no endpoint; another process adds one.
    monkeypatch.setattr(receivers, "_any_endpoint", (time.monotonic(), False))
    WebhookEndpoint.objects.create(
        workspace=world.acme, url="https://hooks.example.com/x", secret="s", events=["all"]
    )
    fail_once()
    assert not WebhookDelivery.objects.exists()  # within the few seconds it has not looked
    stale = time.monotonic() - receivers.ANY_ENDPOINT_SECONDS - 1
    monkeypatch.setattr(receivers, "_any_endpoint", (stale, False))
    fail_once()
    assert WebhookDelivery.objects.get().event_type == "post.failed"
