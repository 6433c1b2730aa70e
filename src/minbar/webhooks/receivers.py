"""Publishing outcomes become webhook events in the transaction that records them.

Every change of a target's state writes a ``PostEvent`` inside the same
transaction as the change (``dispatcher._transition``). Listening for those rows
stores the webhook with the change — a crash after the commit loses no event,
and a rolled-back change sends none — without touching the dispatcher's code.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from minbar.publishing.models import PostEvent, Target, TargetState
from minbar.webhooks.events import emit, target_data
from minbar.webhooks.models import WebhookEndpoint

logger = logging.getLogger("minbar.webhooks")

_BY_STATE = {
    TargetState.PUBLISHED: "post.published",
    TargetState.FAILED: "post.failed",
    TargetState.HELD: "post.held",
}


def event_type_for(event: PostEvent) -> str | None:
    # The person-facing "unconfirmed": reconciliation gave up and someone must check.
    if event.kind == "target.needs_check":
        return "post.unconfirmed"
    if event.target_id is None or event.from_state == event.to_state:
        return None
    return _BY_STATE.get(event.to_state)  # type: ignore[call-overload]


# Most installations have no webhook at all: then a target's outcome costs no query
# here. A worker learns of a first endpoint added in another process within this time.
ANY_ENDPOINT_SECONDS = 5.0
_any_endpoint: tuple[float, bool] | None = None


def any_active_endpoint() -> bool:
    global _any_endpoint
    moment = time.monotonic()
    if _any_endpoint is None or moment - _any_endpoint[0] > ANY_ENDPOINT_SECONDS:
        _any_endpoint = (moment, WebhookEndpoint.objects.filter(active=True).exists())
    return _any_endpoint[1]


def endpoints_changed() -> None:
    """An endpoint was added or turned on in this process: look again at the next event."""
    global _any_endpoint
    _any_endpoint = None


@receiver(post_save, sender=PostEvent, dispatch_uid="minbar.webhooks.post_event")
def _post_event_saved(sender: Any, instance: PostEvent, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    event_type = event_type_for(instance)
    if event_type is None or not any_active_endpoint():
        return
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(
            workspace__posts=instance.post_id, active=True
        ).only("pk", "events")
        if e.wants(event_type)
    ]
    if not endpoints or instance.target_id is None:
        return
    try:
        # A savepoint: a webhook that cannot be stored must never undo a publishing record.
        with transaction.atomic():
            target = (
                Target.objects.select_related("post__workspace", "channel")
                .defer("channel__credentials_blob")
                .get(pk=instance.target_id)
            )
            emit(target.post.workspace, event_type, target_data(target), endpoints=endpoints)
    except Exception:
        logger.exception("could not store webhook %s for target %s", event_type, instance.target_id)
