"""The queue's side of the inbox: read every channel's new interactions about once a minute."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from minbar.inbox import ingestion

logger = logging.getLogger("minbar.inbox")


@db_task()
def poll_channel(channel_id: int) -> None:
    got = ingestion.poll_channel(channel_id)
    if got.created or got.updated:
        logger.info(
            "inbox: channel %s brought %s new and %s edited item(s)",
            channel_id,
            got.created,
            got.updated,
        )


@db_periodic_task(crontab(minute="*"))
def poll_due_channels() -> None:
    """Each channel whose turn has come is read by one worker (leases make it exclusive)."""
    from django.utils import timezone

    for channel_id in ingestion.due_channels(timezone.now()):
        poll_channel(channel_id)
