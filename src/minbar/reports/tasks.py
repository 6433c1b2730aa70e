"""The queue's side of reports: send the scheduled ones when due, and "send now"."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

logger = logging.getLogger("minbar.reports")


@db_periodic_task(crontab(minute="*"))
def send_due_reports() -> None:
    """Every minute: claim the schedules that are due (one worker each) and send them."""
    from minbar.reports import actions

    sent = actions.send_due()
    if sent:
        logger.info("reports: %s scheduled report(s) sent", sent)


@db_task()
def send_report_now(schedule_id: int) -> None:
    """Send one schedule's report at once, for the period it would cover if due today."""
    from django.utils import timezone

    from minbar.reports import actions
    from minbar.reports.models import ReportSchedule

    schedule = ReportSchedule.objects.select_related("workspace").filter(pk=schedule_id).first()
    if schedule is None:
        return  # deleted since the button was pressed
    today = timezone.now().astimezone(actions.schedule_zone(schedule)).date()
    actions.deliver(schedule, today)
