"""Response metrics: how often and how fast the team answers (docs/metrics.md, docs/inbox.md).

- answerable = items that can be answered on their network (not spam, not deleted there),
  received in the period;
- response rate = answerable items with a person's reply ÷ answerable items (automatic
  replies by rules are counted apart, never as the team's response);
- first response time = the first person's reply minus the item's arrival, counted in
  the workspace's business hours; average and median.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import Item, Reply, Status


@dataclass
class ResponseStats:
    received: int = 0
    answerable: int = 0
    answered: int = 0
    # business seconds, one per answered item
    times: list[float] = field(default_factory=list)
    answered_by_rules: int = 0
    breached: int = 0

    @property
    def rate(self) -> float | None:
        return self.answered / self.answerable if self.answerable else None

    @property
    def average_seconds(self) -> float | None:
        return statistics.fmean(self.times) if self.times else None

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "received": self.received,
            "answerable": self.answerable,
            "answered": self.answered,
            "response_rate": self.rate,
            "first_response_average_seconds": self.average_seconds,
            "first_response_median_seconds": self.median_seconds,
            "answered_by_rules": self.answered_by_rules,
            "over_target": self.breached,
        }


@dataclass
class Report:
    total: ResponseStats
    by_channel: dict[int, ResponseStats]
    by_member: dict[int, ResponseStats]
    by_day: dict[date, ResponseStats]


def _answerable(item: Item) -> bool:
    return bool(item.reply_remote_id) and item.status != Status.SPAM and item.deleted_at is None


def report(items: QuerySet[Item], hours: BusinessHours, start: datetime, end: datetime) -> Report:
    """Response metrics of the items that arrived in [start, end)."""
    chosen = list(
        items.filter(remote_created_at__gte=start, remote_created_at__lt=end).only(
            "pk",
            "channel_id",
            "status",
            "deleted_at",
            "reply_remote_id",
            "remote_created_at",
            "first_response_at",
            "first_responder_id",
            "response_breached_at",
        )
    )
    by_rules = set(
        Reply.objects.filter(item__in=[i.pk for i in chosen], by_rule=True, state="sent")
        .values_list("item_id", flat=True)
        .distinct()
    )
    total = ResponseStats()
    by_channel: dict[int, ResponseStats] = defaultdict(ResponseStats)
    by_member: dict[int, ResponseStats] = defaultdict(ResponseStats)
    by_day: dict[date, ResponseStats] = defaultdict(ResponseStats)
    for item in chosen:
        day = item.remote_created_at.astimezone(hours.zone).date()
        buckets: list[ResponseStats] = [total, by_channel[item.channel_id], by_day[day]]
        for bucket in buckets:
            bucket.received += 1
        if not _answerable(item):
            continue
        if item.pk in by_rules:
            for bucket in buckets:
                bucket.answered_by_rules += 1
        if item.response_breached_at is not None:
            for bucket in buckets:
                bucket.breached += 1
        for bucket in buckets:
            bucket.answerable += 1
        if item.first_response_at is None:
            continue
        took = hours.seconds_between(item.remote_created_at, item.first_response_at)
        if item.first_responder_id is not None:
            buckets.append(by_member[item.first_responder_id])
            by_member[item.first_responder_id].answerable += 1
        for bucket in buckets:
            bucket.answered += 1
            bucket.times.append(took)
    return Report(total, dict(by_channel), dict(by_member), dict(sorted(by_day.items())))


def humanize_seconds(seconds: float | None) -> str:
    """ "1 h 05 min", "12 min", "40 s", in the reader's language."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return _("%(s)d s") % {"s": whole}
    minutes = whole // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    return _("%(h)d h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}


def days_between(start: date, end: date) -> Iterable[date]:
    from datetime import timedelta

    day = start
    while day < end:
        yield day
        day += timedelta(days=1)
