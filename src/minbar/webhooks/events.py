"""What Minbar tells webhook endpoints, and how an event enters the outbox.

:func:`emit` writes the deliveries in the caller's transaction: the event exists
exactly when the change that caused it is committed. The queue is only kicked
after the commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from minbar.channels.models import Channel
    from minbar.publishing.models import Target
    from minbar.workspaces.models import Workspace

EVENT_TYPES: dict[str, StrOrPromise] = {
    "post.published": _("A post went out on a channel"),
    "post.failed": _("A post could not be published on a channel"),
    "post.held": _("A post was held (too late, or over a posting limit)"),
    "post.unconfirmed": _("Minbar cannot tell whether a post went out"),
    "channel.broken": _("A channel stopped working"),
    "channel.restored": _("A channel works again"),
    "inbox.alert": _("An inbox rule raised an alert about a new item"),
}
# Sent only by the "Send a test event" button, to the one endpoint.
TEST_EVENT = "webhook.test"
DETAIL_LIMIT = 2000


def absolute(path: str) -> str:
    return settings.MINBAR_BASE_URL.rstrip("/") + path


def envelope(workspace: Workspace, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created_at": timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "workspace": {"slug": workspace.slug, "name": workspace.name},
        "data": data,
    }


def emit(
    workspace: Workspace,
    event_type: str,
    data: dict[str, Any],
    *,
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[WebhookDelivery]:
    """Store one event for every active endpoint of ``workspace`` that subscribed to it."""
    if endpoints is None:
        endpoints = [
            e
            for e in WebhookEndpoint.objects.filter(workspace=workspace, active=True).only(
                "pk", "events"
            )
            if e.wants(event_type)
        ]
    if not endpoints:
        return []
    body = envelope(workspace, event_type, data)
    event_id = uuid.UUID(body["id"])
    moment = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event_type=event_type,
                event_id=event_id,
                payload=body,
                next_attempt_at=moment,
                created_at=moment,
            )
            for endpoint in endpoints
        ]
    )
    from minbar.webhooks.delivery import kick

    kick()
    return deliveries


def event_choices() -> list[tuple[str, StrOrPromise]]:
    return [(ALL_EVENTS, _("All events")), *EVENT_TYPES.items()]


# -- payloads ---------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _channel_data(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "name": channel.name or channel.handle,
        "handle": channel.handle,
        "network": channel.network,
    }


def target_data(target: Target) -> dict[str, Any]:
    """A post on one channel, with what went wrong and how to fix it."""
    post = target.post
    slug = post.workspace.slug
    post_path = reverse("publishing:detail", args=[slug, post.pk])
    retry_path = f"/api/v1/workspaces/{slug}/posts/{post.pk}/targets/{target.pk}/retry"
    reschedule_path = f"/api/v1/workspaces/{slug}/posts/{post.pk}/targets/{target.pk}/reschedule"
    error = None
    if target.last_error_kind or target.last_error_message:
        error = {
            "kind": target.last_error_kind,
            "message": target.last_error_message,
            "detail": target.last_error_detail[:DETAIL_LIMIT],
        }
    return {
        "post": {"id": post.pk, "url": absolute(post_path)},
        "target": {
            "id": target.pk,
            "state": target.state,
            "attempts": target.attempts,
            "due_at": _iso(target.due_at),
            "published_at": _iso(target.published_at),
            "remote_id": target.remote_id,
            "remote_url": target.remote_url,
        },
        "channel": _channel_data(target.channel),
        "error": error,
        "links": {
            "post": absolute(post_path),
            "retry": {"method": "POST", "url": absolute(retry_path)},
            "reschedule": {
                "method": "POST",
                "url": absolute(reschedule_path),
                "body": {"at": "<ISO 8601 date and time, with its offset>"},
            },
        },
    }


def channel_data(channel: Channel) -> dict[str, Any]:
    path = reverse("channels:detail", args=[channel.workspace.slug, channel.pk])
    return {
        "channel": {
            **_channel_data(channel),
            "health": channel.health,
            "message": channel.health_message,
        },
        "links": {"channel": absolute(path)},
    }


def emit_for_channel(channel: Channel, event_type: str) -> None:
    emit(channel.workspace, event_type, channel_data(channel))


def channel_health_changed(channel: Channel, before: str) -> None:
    """``channel.restored`` when a broken channel works again (breaking is told elsewhere)."""
    from minbar.channels.models import Health

    if before in (Health.NEEDS_RECONNECT, Health.ERROR) and channel.health == Health.CONNECTED:
        emit_for_channel(channel, "channel.restored")
