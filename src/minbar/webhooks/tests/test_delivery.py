"""Sending the outbox to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput
from minbar.notifications.models import Notification
from minbar.webhooks import actions, delivery
from minbar.webhooks.events import emit
from minbar.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from minbar.webhooks.signing import verify
from minbar.webhooks.tests.helpers import make_endpoint, time_passes
from minbar.webhooks.tests.receiver import receiver
from minbar.workspaces.access import access_for


@pytest.fixture
def hook():
    with receiver() as r:
        yield r


def test_event_arrives_signed_with_its_headers_and_envelope(world, hook):
    endpoint = make_endpoint(world, hook.url)
    (sent,) = emit(world.acme, "post.failed", {"post": {"id": 7}})
    assert delivery.deliver_due() == 1
    (request,) = hook.requests
    assert request.path == "/hooks/minbar"
    headers = request.headers
    verify(endpoint.secret, headers["minbar-signature"], request.body)
    assert headers["minbar-event"] == "post.failed"
    assert headers["minbar-delivery"] == str(sent.uid)
    assert headers["user-agent"].startswith("Minbar-Webhooks/")
    assert headers["content-type"].startswith("application/json")
    body = json.loads(request.body)
    assert body["id"] == str(sent.event_id) and body["type"] == "post.failed"
    assert body["workspace"] == {"slug": "acme", "name": "Acme Roasters"}
    assert body["data"] == {"post": {"id": 7}}
    assert body["created_at"].endswith("Z")
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED and sent.attempts == 1
    assert sent.last_status_code == 200 and sent.delivered_at is not None
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None and endpoint.consecutive_failures == 0


def test_a_500_is_retried_after_a_backoff_then_delivered_with_the_same_delivery_id(world, hook):
    endpoint = make_endpoint(world, hook.url)
    hook.script = [500]
    hook.answer_body = b"database is down"
    (sent,) = emit(world.acme, "post.published", {})
    before = timezone.now()
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.PENDING and sent.attempts == 1
    assert sent.last_status_code == 500 and sent.last_error == "The endpoint answered 500."
    assert sent.last_response == "database is down"
    # First retry after about a minute, with up to 20 % jitter.
    assert timedelta(seconds=59) <= sent.next_attempt_at - before <= timedelta(seconds=73)
    assert delivery.deliver_due() == 0  # not due yet
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.failing_since is not None
    time_passes(sent)
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED and sent.attempts == 2
    first, second = hook.requests
    assert first.headers["minbar-delivery"] == second.headers["minbar-delivery"]
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None


def test_the_backoff_grows_along_the_schedule_and_then_gives_up():
    waits = [delivery.backoff(n) for n in range(1, 9)]
    minimums = [60, 300, 1800, 7200, 21600, 43200, 86400]
    for wait, minimum in zip(waits, minimums, strict=False):
        assert wait is not None
        assert minimum <= wait.total_seconds() <= minimum * 1.2
    assert waits[-1] is None


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(world, hook, settings):
    settings.MINBAR_WEBHOOK_TIMEOUT = 0.3
    make_endpoint(world, hook.url)
    hook.script = [("sleep", 1.5)]
    (sent,) = emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.PENDING and sent.attempts == 1
    assert sent.last_error == "No answer within 0.3 s." and sent.last_status_code is None


def test_an_endpoint_is_turned_off_after_n_deliveries_used_up_their_retries(world, hook, settings):
    settings.MINBAR_WEBHOOK_RETRY_SCHEDULE = [1]
    settings.MINBAR_WEBHOOK_DISABLE_AFTER_FAILED = 2
    endpoint = make_endpoint(world, hook.url)
    hook.script = [500] * 10
    first, second = emit(world.acme, "post.failed", {}), emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    time_passes(*first, *second)
    delivery.deliver_due()
    states = set(WebhookDelivery.objects.values_list("state", "attempts"))
    assert states == {(DeliveryState.FAILED, 2)}
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason == "2 deliveries in a row failed after all their retries."
    assert endpoint.consecutive_failures == 4
    notice = Notification.objects.get(user=world.alice, kind="webhook.disabled")
    assert "127.0.0.1" in notice.title
    assert not Notification.objects.filter(user=world.bob).exists()  # editors are not told
    assert AuditEvent.objects.filter(action="webhook.disabled", via="system").count() == 1


def test_an_endpoint_failing_for_days_is_turned_off(world, hook):
    endpoint = make_endpoint(world, hook.url)
    hook.script = [503]
    endpoint.failing_since = timezone.now() - timedelta(days=3, minutes=1)
    endpoint.save()
    emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == "Every delivery failed for 3 days."


def test_a_turned_off_endpoint_keeps_its_events_until_it_is_turned_on(world, hook):
    endpoint = make_endpoint(world, hook.url)
    (sent,) = emit(world.acme, "post.failed", {})
    access = access_for(world.alice, "acme")
    actions.set_active(Actor(user=world.alice), access, endpoint.pk, False)
    assert delivery.deliver_due() == 0 and hook.requests == []
    assert emit(world.acme, "post.failed", {}) == []  # nothing new is queued for it
    actions.set_active(Actor(user=world.alice), access, endpoint.pk, True)
    assert delivery.deliver_due() == 1
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED


def test_private_addresses_are_refused_when_private_urls_are_not_allowed(world, hook, settings):
    make_endpoint(world, hook.url)
    (sent,) = emit(world.acme, "post.failed", {})
    settings.MINBAR_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as caught:
        make_endpoint(world, "https://127.0.0.1:8443/hook")
    assert "url" in caught.value.fields
    with pytest.raises(InvalidInput):
        make_endpoint(world, "http://example.com/hook")  # plain http to the internet
    delivery.deliver_due()
    sent.refresh_from_db()
    # Stored before the setting changed, refused when sending: no request, no retries.
    assert hook.requests == []
    assert sent.state == DeliveryState.FAILED
    assert sent.last_error.startswith("Refused")


def test_a_delivery_left_delivering_by_a_dead_worker_is_sent_again(world, hook):
    make_endpoint(world, hook.url)
    (sent,) = emit(world.acme, "post.failed", {})
    (claimed,) = delivery.claim("dead-worker", 10)
    WebhookDelivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=5)
    )
    assert delivery.deliver_due("live-worker") == 1
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED and sent.attempts == 2
    assert len(hook.requests) == 1


def test_a_long_answer_is_stored_truncated_and_errors_name_no_secret(world, hook):
    endpoint = make_endpoint(world, hook.url + "?token=very-secret-token")
    hook.script = [400]
    hook.answer_body = b"x" * 50_000
    (sent,) = emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    sent.refresh_from_db()
    assert len(sent.last_response) == delivery.RESPONSE_LIMIT
    assert "very-secret-token" not in sent.last_error + sent.last_response
    assert endpoint.secret not in sent.last_error + sent.last_response


def test_the_secret_is_encrypted_at_rest(world, hook):
    endpoint = make_endpoint(world, hook.url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        (stored,) = cursor.fetchone()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret not in stored


def test_a_failed_delivery_can_be_sent_again_with_the_same_id(world, hook, settings):
    settings.MINBAR_WEBHOOK_RETRY_SCHEDULE = []
    endpoint = make_endpoint(world, hook.url)
    hook.script = [500]
    (sent,) = emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.FAILED
    again = actions.redeliver(
        Actor(user=world.alice), access_for(world.alice, "acme"), endpoint.pk, sent.pk
    )
    assert again.state == DeliveryState.PENDING and again.attempts == 0
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED
    first, second = hook.requests
    assert first.headers["minbar-delivery"] == second.headers["minbar-delivery"]
    assert AuditEvent.objects.filter(action="webhook.redelivered").count() == 1


def test_a_pass_is_bounded(world, hook):
    make_endpoint(world, hook.url)
    for _ in range(5):
        emit(world.acme, "post.failed", {})
    assert delivery.deliver_due(limit=3) == 3
    assert WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count() == 2


def test_a_burst_of_events_enqueues_one_pass_while_one_is_waiting(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    from minbar.webhooks import tasks

    make_endpoint(world, "http://127.0.0.1:9/unused")
    enqueued: list[int] = []
    monkeypatch.setattr(tasks, "deliver_soon", lambda: enqueued.append(1))
    HUEY.delete(delivery.KICK_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            emit(world.acme, "post.failed", {})
    assert enqueued == [1]  # the queued pass has not started: it will see all three
    delivery.kick_started()  # the pass starts; later events need their own
    with django_capture_on_commit_callbacks(execute=True):
        emit(world.acme, "post.failed", {})
    assert enqueued == [1, 1]
    HUEY.delete(delivery.KICK_KEY)


def _resolves_to(monkeypatch, name: str, address: str) -> list[str]:
    """Make ``name`` resolve to ``address``; returns the names looked up, in order."""
    import socket

    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host, port, *args, **kwargs):
        if host == name:
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def test_the_request_goes_to_the_address_that_was_checked(world, hook, monkeypatch):
    port = hook.url.split(":")[2].split("/")[0]
    make_endpoint(world, hook.url)  # created while the name did not exist yet
    WebhookEndpoint.objects.update(url=f"http://hooks.example.test:{port}/hooks/minbar")
    asked = _resolves_to(monkeypatch, "hooks.example.test", "127.0.0.1")
    (sent,) = emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.DELIVERED
    # Resolved once, for the check; the connection used that answer.
    assert asked == ["hooks.example.test"]
    assert hook.requests[0].headers["host"] == f"hooks.example.test:{port}"


def test_a_name_that_turns_internal_is_refused_before_connecting(
    world, hook, monkeypatch, settings
):
    make_endpoint(world, hook.url)
    WebhookEndpoint.objects.update(url="https://hooks.example.test/minbar")
    settings.MINBAR_ALLOW_PRIVATE_URLS = False
    _resolves_to(monkeypatch, "hooks.example.test", "10.1.2.3")
    (sent,) = emit(world.acme, "post.failed", {})
    delivery.deliver_due()
    sent.refresh_from_db()
    assert sent.state == DeliveryState.FAILED and sent.last_error.startswith("Refused")
    assert hook.requests == []


def test_finished_deliveries_are_forgotten_after_the_keep_period(world, settings):
    settings.MINBAR_WEBHOOK_KEEP_DAYS = 30
    make_endpoint(world, "http://127.0.0.1:9/unused")
    old_done, old_failed, old_pending, recent = (
        emit(world.acme, "post.failed", {})[0] for _ in range(4)
    )
    long_ago = timezone.now() - timedelta(days=31)
    WebhookDelivery.objects.filter(pk=old_done.pk).update(
        state=DeliveryState.DELIVERED, created_at=long_ago
    )
    WebhookDelivery.objects.filter(pk=old_failed.pk).update(
        state=DeliveryState.FAILED, created_at=long_ago
    )
    WebhookDelivery.objects.filter(pk=old_pending.pk).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk=recent.pk).update(state=DeliveryState.DELIVERED)
    assert delivery.purge_old(chunk=1) == 2
    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert remaining == {old_pending.pk, recent.pk}  # what is still owed is never dropped
