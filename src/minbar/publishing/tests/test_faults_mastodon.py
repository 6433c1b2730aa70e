"""The dispatcher against mastodon-mock's fault injection: 429, 503, and a timeout after sending.

mastodon-mock runs as a real HTTP process (see connectors/mastodon/tests/mockserver.py);
Mastodon's rate-limit headers are documented at https://docs.joinmastodon.org/api/rate-limits/.
Every test ends by counting the account's statuses on the instance: exactly one.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from minbar.channels.models import Channel
from minbar.connectors.mastodon.tests.conftest import Connected, connect
from minbar.connectors.mastodon.tests.mockserver import MockServer, statuses_of
from minbar.core.actor import Actor
from minbar.media import actions as media_actions
from minbar.publishing import dispatcher
from minbar.publishing.models import Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import kinds, make_post, pass_time, target_of
from minbar.workspaces.access import access_for

STATUSES = "/api/v1/statuses"


@pytest.fixture
def brand(world, mock: MockServer) -> tuple[Channel, Connected]:
    connected = connect(mock)
    channel = Channel(
        workspace=world.acme,
        network="mastodon",
        server_url=mock.url,
        remote_id=connected.account.remote_id,
        handle=connected.account.handle,
    )
    channel.set_credentials(connected.connector.credentials)
    channel.save()
    return channel, connected


def _statuses(mock: MockServer, connected: Connected) -> list[dict]:
    return statuses_of(mock, connected.account.remote_id)


def test_429_waits_for_the_reset_then_publishes_once(world, mock, brand):
    channel, connected = brand
    reset = (datetime.now(UTC) + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    mock.add_fault(
        method="POST",
        path=STATUSES,
        effect={"type": "ratelimit", "headers": {"X-RateLimit-Reset": reset}},
    )
    post = make_post(world, [channel], text="Launch day")
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.SCHEDULED and target.attempts == 0
    assert target.next_attempt_at is not None
    assert 25 <= (target.next_attempt_at - datetime.now(UTC)).total_seconds() <= 35
    assert _statuses(mock, connected) == []
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED
    assert [s["id"] for s in _statuses(mock, connected)] == [target.remote_id]


def test_503_is_retried_and_publishes_once(world, mock, brand):
    channel, connected = brand
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "status", "status": 503})
    post = make_post(world, [channel], text="Hello again")
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.SCHEDULED and target.last_error_kind == "temporary"
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED and target.attempts == 2
    assert [s["id"] for s in _statuses(mock, connected)] == [target.remote_id]


def test_a_timeout_after_sending_is_reconciled_and_published_once(world, mock, brand, settings):
    channel, connected = brand
    settings.MINBAR_PUBLISH_TIMEOUT_SECONDS = 1
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "latency", "delay_ms": 2500})
    post = make_post(world, [channel], text="Slow network day")
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.last_error_kind == "outcome_unknown"
    time.sleep(2.0)  # let the instance finish (or drop) the request
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED
    assert "target.reconciled" in kinds(target)
    # Found by its key, or (mastodon-mock drops a request whose client hung up)
    # certainly absent within the hour Mastodon remembers keys and sent again.
    assert [s["id"] for s in _statuses(mock, connected)] == [target.remote_id]


def test_an_ambiguous_500_after_an_hour_is_left_to_a_person(world, mock, brand):
    channel, connected = brand
    mock.add_fault(method="POST", path=STATUSES, effect={"type": "status", "status": 500})
    post = make_post(world, [channel], text="Did it?")
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED
    # The lookup comes late: Mastodon has forgotten the key by now.
    Target.objects.filter(pk=target.pk).update(
        claimed_at=target.claimed_at - timedelta(hours=2)  # type: ignore[operator]
    )
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.next_attempt_at is None
    assert "within 1 hour of sending" in target.last_error_message
    assert _statuses(mock, connected) == []  # not re-sent blindly


def test_library_media_goes_out_with_the_posts_alt_text(world, mock, brand, settings, tmp_path):
    """A post's library image is prepared, uploaded to the instance and attached, once."""
    settings.MEDIA_ROOT = tmp_path / "media"
    channel, connected = brand
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, "PNG")
    [outcome] = media_actions.upload(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        [SimpleUploadedFile("red.png", picture.getvalue())],
        alt_text="Library text",
    )
    post = make_post(world, [channel], text="With a picture")
    post.media = [{"asset": outcome.asset.pk, "alt_text": "A red square"}]
    post.save()
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED, target.last_error_message
    [status] = _statuses(mock, connected)
    assert [(m["type"], m["description"]) for m in status["media_attachments"]] == [
        ("image", "A red square")
    ]
