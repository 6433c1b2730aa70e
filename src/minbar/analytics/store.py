"""Where metric events and their rollups live, behind one interface.

Dashboards, the API and reports only call :class:`MetricStore`; the Django ORM
implementation below works on SQLite and PostgreSQL. Another one (ClickHouse,
say) implements the same few methods and is chosen with
``MINBAR_ANALYTICS_STORE``, without touching any dashboard.

Rollups are sums of events per hour and per UTC day. They follow the events
through a watermark on ``recorded_at``: every pass re-sums, from the events,
each hour touched by events written since the last pass (so a pass is
idempotent and a repeat harmless), then the days holding those hours. Events
written less than ``LAG`` ago wait for the next pass: a transaction still open
on another worker may commit rows older than its commit time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from minbar.analytics.models import Grain, MetricEvent, PostTag, Rollup, Watermark

HOUR = 3600
DAY_HOURS = 24
LAG = timedelta(seconds=30)
LEASE = timedelta(minutes=10)
WATERMARK = "rollups"


def hour_of(moment: datetime) -> int:
    """Whole hours since 1970-01-01 00:00 UTC."""
    return int(moment.timestamp() // HOUR)


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR, tz=UTC)


@dataclass(frozen=True)
class Event:
    """One counter's change to store (see models.MetricEvent)."""

    workspace_id: int
    channel_id: int
    post_id: int
    target_id: int
    metric: str
    occurred_at: datetime
    value: int


@dataclass(frozen=True)
class Scope:
    """Which events a question is about: a workspace, narrowed to channels, a post or a tag."""

    workspace_id: int
    channel_ids: tuple[int, ...] | None = None
    post_id: int | None = None
    tag: str = ""


# metric -> sum
Totals = dict[str, int]


class MetricStore(Protocol):
    def record(self, events: Sequence[Event]) -> None:
        """Store events (the caller's transaction also holds the snapshot they come from)."""

    def totals_by_channel(self, scope: Scope, start: datetime, end: datetime) -> dict[int, Totals]:
        """Sums in [start, end) per channel and metric."""

    def hourly(self, scope: Scope, start: datetime, end: datetime) -> dict[int, Totals]:
        """Sums per hour (hours since 1970, UTC) in [start, end), hours rounded outwards."""

    def hourly_sums(
        self,
        scope: Scope,
        start: datetime,
        end: datetime,
        groups: Mapping[str, Sequence[str]],
    ) -> dict[int, dict[str, int]]:
        """Per hour, the sum of each group of metrics (e.g. every engagement counter)."""

    def roll_up(self, now: datetime | None = None) -> int:
        """Bring rollups up to the events written until ``now - LAG``; returns hours re-summed."""

    def rebuild(self, workspace_id: int | None = None) -> int:
        """Recompute every rollup (of one workspace) from events; returns rollup rows written."""


class OrmMetricStore:
    """Events and rollups in the project's database (SQLite or PostgreSQL)."""

    # -- writing -----------------------------------------------------------------

    def record(self, events: Sequence[Event]) -> None:
        if not events:
            return
        table = connection.ops.quote_name(MetricEvent._meta.db_table)
        columns = (
            "workspace_id, channel_id, post_id, target_id, metric, occurred_at, hour, value, "
            "recorded_at"
        )
        field = MetricEvent._meta.get_field("occurred_at")
        now = field.get_db_prep_save(timezone.now(), connection)
        # One prepared INSERT run: the ORM's bulk_create compiles every value of every row.
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
        rows = [
            (
                e.workspace_id,
                e.channel_id,
                e.post_id,
                e.target_id,
                e.metric,
                field.get_db_prep_save(e.occurred_at, connection),
                hour_of(e.occurred_at),
                e.value,
                now,
            )
            for e in events
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    # -- reading -----------------------------------------------------------------

    @staticmethod
    def _rollups(scope: Scope, grain: str, *, per_channel: bool = True) -> Iterable[Q]:
        yield Q(workspace_id=scope.workspace_id, grain=grain, tag=scope.tag)
        if scope.channel_ids is not None:
            yield Q(channel_id__in=scope.channel_ids)
        elif per_channel:
            yield Q(channel__isnull=False)
        else:
            yield Q(channel__isnull=True)  # the rows summing every channel

    @staticmethod
    def _events(scope: Scope) -> Q:
        q = Q(workspace_id=scope.workspace_id)
        if scope.post_id is not None:
            q &= Q(post_id=scope.post_id)
        if scope.channel_ids is not None:
            q &= Q(channel_id__in=scope.channel_ids)
        if scope.tag:
            q &= Q(
                post_id__in=PostTag.objects.filter(
                    workspace_id=scope.workspace_id, tag=scope.tag
                ).values("post_id")
            )
        return q

    def totals_by_channel(self, scope: Scope, start: datetime, end: datetime) -> dict[int, Totals]:
        result: dict[int, Totals] = defaultdict(lambda: defaultdict(int))

        def add(rows: Iterable[Mapping[str, Any]]) -> None:
            for channel_id, metric, total in _plain(rows):
                result[int(channel_id)][str(metric)] += int(total or 0)

        if scope.post_id is not None:
            # One post: few events, read them directly.
            add(
                MetricEvent.objects.filter(
                    self._events(scope), occurred_at__gte=start, occurred_at__lt=end
                )
                .values("channel_id", "metric")
                .annotate(n=Sum("value"))
            )
            return {k: dict(v) for k, v in result.items()}
        # Whole UTC days from the day rollups, whole hours at the edges from the hour
        # rollups, and the minutes left over (zones such as +05:30) from the events.
        first_hour = -(-int(start.timestamp()) // HOUR)
        last_hour = int(end.timestamp()) // HOUR
        if first_hour >= last_hour:
            add(self._raw_by_channel(scope, start, end))
            return {k: dict(v) for k, v in result.items()}
        first_day = -(-first_hour // DAY_HOURS)
        last_day = last_hour // DAY_HOURS
        hour_ranges = [(first_hour, last_hour)]
        if first_day < last_day:
            add(self._rollup_by_channel(scope, Grain.DAY, first_day, last_day))
            hour_ranges = [(first_hour, first_day * DAY_HOURS), (last_day * DAY_HOURS, last_hour)]
        for low, high in hour_ranges:
            if low < high:
                add(self._rollup_by_channel(scope, Grain.HOUR, low, high))
        add(self._raw_by_channel(scope, start, hour_start(first_hour)))
        add(self._raw_by_channel(scope, hour_start(last_hour), end))
        return {k: dict(v) for k, v in result.items()}

    def _rollup_by_channel(
        self, scope: Scope, grain: str, low: int, high: int
    ) -> Iterable[Mapping[str, Any]]:
        return (
            Rollup.objects.filter(*self._rollups(scope, grain), bucket__gte=low, bucket__lt=high)
            .values("channel_id", "metric")
            .annotate(n=Sum("value"))
        )

    def _raw_by_channel(
        self, scope: Scope, start: datetime, end: datetime
    ) -> Iterable[Mapping[str, Any]]:
        if start >= end:
            return []
        return (
            MetricEvent.objects.filter(
                self._events(scope),
                # the hour bounds let the (workspace, hour) index narrow the scan
                hour__gte=hour_of(start),
                hour__lte=hour_of(end),
                occurred_at__gte=start,
                occurred_at__lt=end,
            )
            .values("channel_id", "metric")
            .annotate(n=Sum("value"))
        )

    def hourly(self, scope: Scope, start: datetime, end: datetime) -> dict[int, Totals]:
        low = int(start.timestamp()) // HOUR
        high = -(-int(end.timestamp()) // HOUR)
        rows: Iterable[tuple[int, str, int | None]]
        if scope.post_id is not None:
            rows = (
                MetricEvent.objects.filter(self._events(scope), hour__gte=low, hour__lt=high)
                .values("hour", "metric")
                .annotate(n=Sum("value"))
                .values_list("hour", "metric", "n")
            )
        else:
            rows = (
                Rollup.objects.filter(
                    *self._rollups(scope, Grain.HOUR, per_channel=False),
                    bucket__gte=low,
                    bucket__lt=high,
                )
                .values("bucket", "metric")
                .annotate(n=Sum("value"))
                .values_list("bucket", "metric", "n")
            )
        result: dict[int, Totals] = defaultdict(dict)
        for hour, metric, total in _plain(rows):
            result[int(hour)][str(metric)] = int(total or 0)
        return dict(result)

    def hourly_sums(
        self,
        scope: Scope,
        start: datetime,
        end: datetime,
        groups: Mapping[str, Sequence[str]],
    ) -> dict[int, dict[str, int]]:
        low = int(start.timestamp()) // HOUR
        high = -(-int(end.timestamp()) // HOUR)
        sums = {
            name: Sum("value", filter=Q(metric__in=list(keys))) for name, keys in groups.items()
        }
        query: QuerySet[Any, Any]
        if scope.post_id is not None:
            query = (
                MetricEvent.objects.filter(self._events(scope), hour__gte=low, hour__lt=high)
                .values("hour")
                .annotate(**sums)
            )
        else:
            query = (
                Rollup.objects.filter(
                    *self._rollups(scope, Grain.HOUR, per_channel=False),
                    bucket__gte=low,
                    bucket__lt=high,
                )
                .values("bucket")
                .annotate(**sums)
            )
        names = list(groups)
        return {
            int(row[0]): {name: int(value or 0) for name, value in zip(names, row[1:], strict=True)}
            for row in _plain(query)
        }

    # -- rollups -----------------------------------------------------------------

    def _claim(self, now: datetime) -> Watermark | None:
        Watermark.objects.get_or_create(name=WATERMARK)
        claimed = (
            Watermark.objects.filter(name=WATERMARK)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + LEASE)
        )
        return Watermark.objects.get(name=WATERMARK) if claimed else None

    def roll_up(self, now: datetime | None = None) -> int:
        now = now or timezone.now()
        mark = self._claim(now)
        if mark is None:
            return 0  # another worker is rolling up
        cutoff = now - LAG
        try:
            fresh = MetricEvent.objects.filter(recorded_at__lte=cutoff)
            if mark.position is not None:
                fresh = fresh.filter(recorded_at__gt=mark.position)
            touched: dict[int, set[int]] = defaultdict(set)
            for workspace_id, hour in fresh.values_list("workspace_id", "hour").distinct():
                touched[workspace_id].add(hour)
            done = 0
            for workspace_id, hours in touched.items():
                with transaction.atomic():
                    for low, high in _runs(sorted(hours)):
                        self._resum(workspace_id, low, high)
                        done += high - low
            Watermark.objects.filter(pk=mark.pk).update(position=cutoff, lease_until=None)
        except BaseException:
            Watermark.objects.filter(pk=mark.pk).update(lease_until=None)
            raise
        return done

    def rebuild(self, workspace_id: int | None = None) -> int:
        events = MetricEvent.objects.all()
        rollups = Rollup.objects.all()
        if workspace_id is not None:
            events = events.filter(workspace_id=workspace_id)
            rollups = rollups.filter(workspace_id=workspace_id)
        cutoff = timezone.now()
        written = 0
        with transaction.atomic():
            rollups.delete()
            spans = events.values("workspace_id").annotate(low=Min("hour"), high=Max("hour"))
            for span in spans:
                written += self._resum(int(span["workspace_id"]), span["low"], span["high"] + 1)
        if workspace_id is None:
            Watermark.objects.update_or_create(name=WATERMARK, defaults={"position": cutoff})
        # The table was rewritten: fresh statistics, or PostgreSQL plans the dashboards'
        # queries for an empty table (seconds instead of milliseconds).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Rollup._meta.db_table)}")
        return written

    def _resum(self, workspace_id: int, low: int, high: int) -> int:
        """Re-sum the hour rollups of hours [low, high) and the day rollups holding them."""
        rollup = connection.ops.quote_name(Rollup._meta.db_table)
        event = connection.ops.quote_name(MetricEvent._meta.db_table)
        tags = connection.ops.quote_name(PostTag._meta.db_table)
        first_day, last_day = low // DAY_HOURS, (high - 1) // DAY_HOURS + 1
        Rollup.objects.filter(
            workspace_id=workspace_id, grain=Grain.HOUR, bucket__gte=low, bucket__lt=high
        ).delete()
        Rollup.objects.filter(
            workspace_id=workspace_id, grain=Grain.DAY, bucket__gte=first_day, bucket__lt=last_day
        ).delete()
        insert = (
            f"INSERT INTO {rollup} (workspace_id, grain, bucket, channel_id, tag, metric, value)"
        )
        # Table names come from the models' metadata, quoted; every value is a parameter.
        statements = [
            (
                f"{insert} SELECT e.workspace_id, 'h', e.hour, e.channel_id, '', e.metric, "  # noqa: S608
                f"SUM(e.value) FROM {event} e WHERE e.workspace_id = %s AND e.hour >= %s "
                "AND e.hour < %s GROUP BY e.workspace_id, e.hour, e.channel_id, e.metric",
                [workspace_id, low, high],
            ),
            (
                f"{insert} SELECT e.workspace_id, 'h', e.hour, e.channel_id, t.tag, e.metric, "  # noqa: S608
                f"SUM(e.value) FROM {event} e JOIN {tags} t ON t.post_id = e.post_id "
                "WHERE e.workspace_id = %s AND e.hour >= %s AND e.hour < %s "
                "GROUP BY e.workspace_id, e.hour, e.channel_id, t.tag, e.metric",
                [workspace_id, low, high],
            ),
            (
                f"{insert} SELECT workspace_id, 'h', bucket, NULL, tag, metric, "  # noqa: S608
                f"SUM(value) FROM {rollup} WHERE workspace_id = %s AND grain = 'h' "
                "AND channel_id IS NOT NULL AND bucket >= %s AND bucket < %s "
                "GROUP BY workspace_id, bucket, tag, metric",
                [workspace_id, low, high],
            ),
            (
                f"{insert} SELECT workspace_id, 'd', bucket / 24, channel_id, tag, metric, "  # noqa: S608
                f"SUM(value) FROM {rollup} WHERE workspace_id = %s AND grain = 'h' "
                "AND channel_id IS NOT NULL AND bucket >= %s AND bucket < %s "
                "GROUP BY workspace_id, bucket / 24, channel_id, tag, metric",
                [workspace_id, first_day * DAY_HOURS, last_day * DAY_HOURS],
            ),
        ]
        written = 0
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                written += max(cursor.rowcount, 0)
        return written


def _plain(rows: Iterable[Any]) -> list[tuple[Any, ...]]:
    """A values() query's rows as plain tuples, straight from the driver.

    Aggregates of integers need none of the ORM's per-value converters, which
    cost more than the query itself for the ten thousand rows of a 90-day series.
    """
    query = getattr(rows, "query", None)
    if query is None:
        return [tuple(r.values()) if isinstance(r, Mapping) else tuple(r) for r in rows]
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _runs(hours: list[int]) -> Iterable[tuple[int, int]]:
    """Consecutive hours as [low, high) ranges: [3, 4, 5, 9] -> (3, 6), (9, 10)."""
    start = previous = hours[0]
    for hour in hours[1:]:
        if hour != previous + 1:
            yield start, previous + 1
            start = hour
        previous = hour
    yield start, previous + 1


@lru_cache(maxsize=1)
def _store_class(path: str) -> type[MetricStore]:
    return import_string(path)


def get_store() -> MetricStore:
    """The configured store (``MINBAR_ANALYTICS_STORE``, a dotted path; the ORM one by default)."""
    path = getattr(settings, "MINBAR_ANALYTICS_STORE", "minbar.analytics.store.OrmMetricStore")
    return _store_class(path)()
