from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from minbar.core.actor import Actor
from minbar.webhooks import actions
from minbar.webhooks.models import WebhookDelivery, WebhookEndpoint
from minbar.workspaces.access import access_for


def make_endpoint(world: Any, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    return actions.create_endpoint(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        url=url,
        events=events or ["all"],
        description="CRM",
    )


def time_passes(*deliveries: WebhookDelivery) -> None:
    """Every retry wait is over."""
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(next_attempt_at=past)
