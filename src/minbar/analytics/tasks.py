"""The queue's side of analytics: fetch counters when due, keep rollups up to date.

Every minute: newly published targets start being tracked, each channel with
work due is handed to one worker (its collector row is the lease), and rollups
catch up with new events (the watermark row is their lease). All of it is
idempotent, so several workers running these at once only share the work.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

logger = logging.getLogger("minbar.analytics")


@db_task()
def collect_channel(channel_id: int) -> None:
    from minbar.analytics import collection

    got = collection.collect_channel(channel_id)
    if got.posts or got.accounts:
        logger.info(
            "analytics: channel %s: %s post snapshot(s), %s event(s), %s account snapshot(s)",
            channel_id,
            got.posts,
            got.events,
            got.accounts,
        )


@db_periodic_task(crontab(minute="*"))
def collect_due_metrics() -> None:
    """Track new published posts, then collect each channel whose turn has come."""
    from django.utils import timezone

    from minbar.analytics import collection

    collection.track_published()
    for channel_id in collection.due_channels(timezone.now()):
        collect_channel(channel_id)


@db_periodic_task(crontab(minute="*"))
def roll_up_metrics() -> None:
    from minbar.analytics.store import get_store

    hours = get_store().roll_up()
    if hours:
        logger.debug("analytics: %s hour(s) of rollups re-summed", hours)


@db_task()
def demo_warm_up(round_number: int = 0) -> None:
    """The demo's posts measured now, and again every few minutes for the first half hour."""
    from minbar.analytics import demo
    from minbar.core.demo import ARABIC_SLUG, ENGLISH_SLUG

    measured = demo.warm_up([ENGLISH_SLUG, ARABIC_SLUG])
    logger.info("analytics demo warm-up %s: %s post(s) measured", round_number + 1, measured)
    if round_number + 1 < demo.WARM_UP_ROUNDS:
        demo_warm_up.schedule(args=(round_number + 1,), delay=demo.WARM_UP_EVERY_SECONDS)


@db_periodic_task(crontab(minute="20", hour="*"))
def check_goals() -> None:
    """Once a day per goal, measure it and alert if it fell behind (once per fall).

    Runs hourly so that each goal is checked soon after midnight in its own time
    zone; a goal already checked on its current local day is skipped.
    """
    from minbar.analytics import actions

    checked = actions.check_goals()
    if checked:
        logger.info("analytics: %s goal(s) checked", checked)
