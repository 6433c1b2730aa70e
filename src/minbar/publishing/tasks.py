"""The queue's side of publishing: when dispatcher passes run.

Huey's periodic tasks run at most once a minute, but a post due at 14:00:00
should be out by about 14:00:02. So a pass, when it ends, plans the next one:

* ``dispatch_every_minute`` — a periodic task, the safety net: whatever else is
  lost (a queue flushed, a worker killed), every minute a pass runs on every
  worker that runs periodic tasks (several at once are fine: claims are exclusive).
  Huey also runs it when a consumer starts, so a restarted worker picks up at once.
* ``dispatch_soon`` — the same pass on demand: :func:`dispatcher.kick` enqueues it
  ("publish now", a retry), and every pass schedules it (``.schedule(eta=…)``)
  for the next moment something falls due within the next minute and a bit.

Waking exactly at the due time is not enough with a polling queue: an idle Huey
worker polls the embedded (SQLite) queue less and less often, up to every 10 s.
So with a queue that does not block (SqliteHuey) the pass before a due time is
planned 15 s early and then steps towards it one second at a time — each run
resets the workers' polling to 0.1 s, and the due post is picked up within a
second or two. Redis blocks on the queue (a task is taken the moment it is
enqueued), so there the wake-up is planned for the due time itself.

A key in the queue's own storage remembers the wake-up already planned, so a
burst of passes does not plan a burst of wake-ups.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from minbar.publishing import dispatcher

logger = logging.getLogger("minbar.publishing")

WAKE_KEY = "minbar.publishing.next-wake"
# Further away than this, the per-minute pass will plan the wake-up when it comes.
HORIZON = timedelta(seconds=75)
# Polling queues: how early to start stepping towards a due time, and the step.
WARM_UP = timedelta(seconds=15)
STEP = timedelta(seconds=1)


def run_pass() -> int:
    handled = dispatcher.dispatch_due()
    if handled:
        logger.info("dispatcher pass: %s target(s)", handled)
    try:
        plan_next_wake()
    except Exception:
        # The per-minute pass still runs; a planning failure must not fail the pass.
        logger.warning("could not plan the next dispatcher pass", exc_info=True)
    return handled


# The tasks return nothing on purpose: Huey keeps every non-None result of a
# task until it is read, and these run every second while a due time approaches.


@db_task()
def dispatch_soon() -> None:
    """A dispatcher pass now (``kick``) or at a planned time."""
    run_pass()


@db_periodic_task(crontab(minute="*"))
def dispatch_every_minute() -> None:
    """Every minute, and when a worker starts: the pass that never depends on a plan."""
    run_pass()


def wake_eta(due: datetime, moment: datetime, *, blocking: bool) -> datetime:
    """When to run the pass for something due at ``due`` (see the module's docstring)."""
    if blocking:
        return max(due, moment)
    if due - moment > WARM_UP:
        return due - WARM_UP
    return max(moment, min(due, moment + STEP))


def plan_next_wake(moment: datetime | None = None) -> datetime | None:
    """Schedule ``dispatch_soon`` for the next moment a pass has work; returns its eta."""
    if HUEY.immediate:
        return None  # tests and debugging: nothing would ever run the schedule
    moment = moment or dispatcher.now()
    due = dispatcher.next_wake_at(moment)
    if due is None or due - moment > HORIZON:
        return None
    eta = wake_eta(due, moment, blocking=bool(getattr(HUEY.storage, "blocking", False)))
    planned = HUEY.get(WAKE_KEY, peek=True)
    # A wake-up already planned in the future and no later than this one covers it
    # (it plans again when it runs).
    if planned is not None and moment.timestamp() < planned <= eta.timestamp() + 0.05:
        return None
    HUEY.put(WAKE_KEY, eta.timestamp())
    dispatch_soon.schedule(eta=eta)
    return eta


@db_periodic_task(crontab(minute="*/10"))
def remind_approvers() -> None:
    """Nudge the approvers of posts left waiting (claims make several workers safe)."""
    from minbar.publishing.actions import send_approval_reminders

    sent = send_approval_reminders()
    if sent:
        logger.info("approval reminders sent for %s post(s)", sent)


@db_periodic_task(crontab(minute="*/10"))
def fill_recurring_series() -> None:
    """Create recurring posts' occurrences due within the next days (idempotent; see series)."""
    from minbar.publishing import series

    made = series.fill_due_series()
    if made:
        logger.info("recurring posts: %s occurrence(s) created", made)
