"""The queue's side of webhooks: a pass on demand and one every minute (the safety net)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from minbar.webhooks import delivery

logger = logging.getLogger("minbar.webhooks")


def run_pass() -> int:
    handled = delivery.deliver_due()
    if handled:
        logger.info("webhook pass: %s delivery attempt(s)", handled)
    return handled


# No return values: Huey would keep them until read.


@db_task()
def deliver_soon() -> None:
    """A pass right after an event is committed."""
    delivery.kick_started()
    run_pass()


@db_periodic_task(crontab(minute="*"))
def deliver_every_minute() -> None:
    """Retries that fell due, deliveries a lost kick left behind, stuck ones reaped."""
    run_pass()


@db_periodic_task(crontab(minute="23", hour="3"))
def purge_deliveries_daily() -> None:
    """The delivery log keeps MINBAR_WEBHOOK_KEEP_DAYS days (30) of finished deliveries."""
    removed = delivery.purge_old()
    if removed:
        logger.info("forgot %s old webhook deliveries", removed)
