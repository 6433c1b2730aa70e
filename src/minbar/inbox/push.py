"""Pushes: networks that can, send new interactions to Minbar as they happen.

Polling goes on beside them (less often once pushes work): a push lost on the way
is read on the next poll, and the (channel, remote id) uniqueness makes the overlap
harmless.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from minbar.channels.models import Channel
from minbar.connectors.errors import BadSignature, ConnectorError, NotSupported
from minbar.inbox.ingestion import Ingested, ingest
from minbar.inbox.models import Cursor, PushHook

logger = logging.getLogger("minbar.inbox")

RETRY_FAILED_AFTER = timedelta(hours=1)


def hook_url(hook: PushHook) -> str:
    return settings.MINBAR_BASE_URL.rstrip("/") + reverse("inbox:push", args=[hook.token])


def ensure_subscribed(channel: Channel, cursor: Cursor, moment: datetime) -> None:
    """Subscribe the channel to its network's pushes once; remember if it cannot."""
    from minbar.channels.actions import connector_for

    if cursor.push_state in ("active", "unsupported"):
        return
    if cursor.push_state == "failed" and cursor.push_retry_at and cursor.push_retry_at > moment:
        return
    PushHook.objects.filter(channel=channel).delete()
    # Saved first: the network checks the address (a GET) before it answers.
    hook = PushHook.objects.create(channel=channel, secret=secrets.token_urlsafe(32))
    try:
        connector_for(channel).subscribe_push(hook_url(hook), hook.secret, hook.verify_token)
    except NotSupported:
        hook.delete()
        Cursor.objects.filter(pk=cursor.pk).update(push_state="unsupported")
        return
    except ConnectorError as exc:
        hook.delete()
        logger.info("channel %s could not subscribe to pushes: %s", channel.pk, exc.message)
        Cursor.objects.filter(pk=cursor.pk).update(
            push_state="failed", push_retry_at=moment + RETRY_FAILED_AFTER
        )
        return
    PushHook.objects.filter(pk=hook.pk).update(active=True)
    Cursor.objects.filter(pk=cursor.pk).update(push_state="active", push_retry_at=None)


def answer_verification(token: str, params: Mapping[str, str]) -> str | None:
    """The body for a network's verification GET (Meta's challenge), or None to refuse."""
    from minbar.connectors.webhooks import hub_challenge

    hook = PushHook.objects.filter(token=token).first()
    if hook is None:
        return None
    return hub_challenge(params, hook.verify_token)


def receive(token: str, headers: Mapping[str, str], body: bytes) -> Ingested | None:
    """Store what a push brought; None when the address or the signature is wrong."""
    from minbar.channels.actions import connector_for

    hook = PushHook.objects.select_related("channel__workspace").filter(token=token).first()
    if hook is None:
        return None
    try:
        interactions = connector_for(hook.channel).parse_push(headers, body, hook.secret)
    except (BadSignature, NotSupported):
        PushHook.objects.filter(pk=hook.pk).update(rejected=F("rejected") + 1)
        return None
    got = ingest(hook.channel, interactions)
    PushHook.objects.filter(pk=hook.pk).update(pushes=F("pushes") + 1, last_push_at=timezone.now())
    return got
