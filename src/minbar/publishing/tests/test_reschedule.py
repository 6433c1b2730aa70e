"""A failed, held or unconfirmed channel gets a new time from the post page or the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.audit.models import AuditEvent
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.notifications.models import Notification
from minbar.publishing import dispatcher
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import (
    make_post,
    sandbox_channel,
    set_faults,
    target_of,
)
from minbar.sandbox.tests.helpers import route_sandbox_in_process


def _failed_target(world, state: str = TargetState.FAILED) -> Target:
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="r1", handle="@roasters"
    )
    post = Post.objects.create(workspace=world.acme, author=world.alice, state=PostState.FAILED)
    return Target.objects.create(
        post=post,
        channel=channel,
        state=state,
        attempts=5,
        last_error_kind="rejected",
        last_error_message="The network refused the post.",
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_post_page_offers_a_new_time_for_a_failed_channel(world):
    target = _failed_target(world)
    page = _client(world.alice).get(f"/w/acme/publishing/posts/{target.post_id}/")
    html = page.content.decode()
    assert f'data-testid="reschedule-{target.pk}"' in html and "Europe/London" in html


@pytest.mark.parametrize("state", [TargetState.FAILED, TargetState.HELD, TargetState.UNCONFIRMED])
def test_a_channel_that_did_not_go_out_is_given_a_new_time_in_the_persons_zone(world, state):
    target = _failed_target(world, state)
    url = f"/w/acme/publishing/posts/{target.post_id}/targets/{target.pk}/reschedule/"
    response = _client(world.bob).post(url, {"at": "2030-05-01T09:30"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.state == TargetState.SCHEDULED and target.attempts == 0
    # 09:30 in London in May is 08:30 UTC.
    assert target.due_at == datetime(2030, 5, 1, 8, 30, tzinfo=UTC)
    assert target.last_error_message == ""
    event = PostEvent.objects.get(target=target, kind="target.rescheduled")
    assert event.actor == world.bob and "2030-05-01 09:30 BST" in event.message
    assert AuditEvent.objects.filter(action="post.target_rescheduled").count() == 1
    target.post.refresh_from_db()
    assert target.post.state == PostState.SCHEDULED


def test_a_time_in_the_past_is_refused_and_nothing_changes(world):
    target = _failed_target(world)
    url = f"/w/acme/publishing/posts/{target.post_id}/targets/{target.pk}/reschedule/"
    response = _client(world.alice).post(url, {"at": "2020-01-01T09:00"}, follow=True)
    assert "That time has passed" in response.content.decode()
    target.refresh_from_db()
    assert target.state == TargetState.FAILED


def test_a_published_channel_cannot_be_rescheduled(world):
    target = _failed_target(world, TargetState.PUBLISHED)
    url = f"/w/acme/publishing/posts/{target.post_id}/targets/{target.pk}/reschedule/"
    response = _client(world.alice).post(url, {"at": "2030-05-01T09:30"}, follow=True)
    assert "can be given a new time" in response.content.decode()
    target.refresh_from_db()
    assert target.state == TargetState.PUBLISHED


def test_outsider_gets_404_when_rescheduling(world):
    target = _failed_target(world)
    url = f"/w/acme/publishing/posts/{target.post_id}/targets/{target.pk}/reschedule/"
    assert _client(world.charlie).post(url, {"at": "2030-05-01T09:30"}).status_code == 404
    target.refresh_from_db()
    assert target.state == TargetState.FAILED


def test_the_api_reschedules_with_an_offset_only(world):
    target = _failed_target(world)
    token = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    api = Client(headers={"Authorization": f"Bearer {token}"})
    url = f"/api/v1/workspaces/acme/posts/{target.post_id}/targets/{target.pk}/reschedule"
    naive = api.post(url, {"at": "2030-05-01T09:30:00"}, content_type="application/json")
    assert naive.status_code == 422 and "at" in naive.json()["error"]["fields"]
    done = api.post(url, {"at": "2030-05-01T09:30:00+03:00"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "scheduled"
    target.refresh_from_db()
    assert target.due_at == datetime(2030, 5, 1, 6, 30, tzinfo=UTC)
    outsider = create_api_token(Actor.system(), world.charlie, world.globex, name="c").secret
    response = Client(headers={"Authorization": f"Bearer {outsider}"}).post(
        url, {"at": "2030-05-01T09:30:00+03:00"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_the_failure_notice_points_to_retry_and_reschedule(
    world, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.MINBAR_PUBLISH_MAX_ATTEMPTS = 1
    route_sandbox_in_process(monkeypatch)
    channel = sandbox_channel(world)
    set_faults(channel, fail_next=["server_error"])
    post = make_post(world, [channel])
    with django_capture_on_commit_callbacks(execute=True):
        dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.FAILED
    notice = Notification.objects.get(user=world.alice, kind="publishing.failed")
    assert "try it again now or give it a new time" in notice.body
    assert notice.url == f"/w/acme/publishing/posts/{post.pk}/"
    email = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert "give it a new time" in email.body
    assert f"/w/acme/publishing/posts/{post.pk}/" in email.body
