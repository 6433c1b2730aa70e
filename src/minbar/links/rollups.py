"""Writing clicks: raw rows and the hourly and daily rollups, in one transaction.

The rollups are maintained by the batch writer in the same transaction as the
raw rows it adds, so they never disagree with them; a lock row (``RollupLock``)
makes batch writes of several processes and :func:`recompute` take turns.
:func:`recompute` rebuilds whole UTC days from the raw rows (``minbar
links_rollup``), for instance after restoring raw clicks from a backup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from minbar.core.writes import write_transaction
from minbar.links.models import Click, ClickDay, ClickHour, Link, RollupLock, VisitorSalt
from minbar.links.recorder import PendingClick
from minbar.links.useragents import BOT

LOCK_NAME = "clicks"
_salts: dict[date, str] = {}


def _take_lock() -> None:
    # A write first: on SQLite it takes the write lock before anything is read, on
    # PostgreSQL it locks the row until commit.
    if not RollupLock.objects.filter(name=LOCK_NAME).update(updated_at=timezone.now()):
        RollupLock.objects.get_or_create(name=LOCK_NAME)
        RollupLock.objects.filter(name=LOCK_NAME).update(updated_at=timezone.now())


def _salt(day: date) -> str:
    salt = _salts.get(day)
    if salt is None:
        row, _created = VisitorSalt.objects.get_or_create(
            day=day, defaults={"salt": secrets.token_hex(32)}
        )
        salt = _salts[day] = row.salt
        for old in [d for d in _salts if d < day - timedelta(days=1)]:
            del _salts[old]
    return salt


def visitor_hash(ip: str, user_agent: str, day: date) -> str:
    """Equal for one address and browser within a UTC day; unlinkable once the salt is gone."""
    message = f"{ip}\n{user_agent}".encode()
    return hmac.new(_salt(day).encode(), message, hashlib.sha256).hexdigest()[:32]


def forget_old_salts(today: date | None = None) -> int:
    """Delete salts of days before yesterday: their hashes can no longer be matched."""
    today = today or timezone.now().astimezone(UTC).date()
    deleted, _rows = VisitorSalt.objects.filter(day__lt=today - timedelta(days=1)).delete()
    for old in [d for d in _salts if d < today - timedelta(days=1)]:
        del _salts[old]
    return deleted


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def write_clicks(batch: list[PendingClick]) -> None:
    """Add a batch of clicks (raw, hourly and daily) in one transaction."""
    if not batch:
        return
    with write_transaction():
        _take_lock()
        alive = set(
            Link.objects.filter(pk__in={c.link_id for c in batch}).values_list("pk", flat=True)
        )
        batch = sorted((c for c in batch if c.link_id in alive), key=lambda c: c.at)
        humans = [c for c in batch if c.ua_class != BOT and c.click_id]
        rows = [_Row(c, visitor_hash(c.ip, c.user_agent, _day(c.at))) for c in humans]
        _mark_first_of_day(rows)
        _insert_clicks(rows)
        hours: dict[tuple[int, datetime, str, str], list[int]] = defaultdict(lambda: [0, 0])
        days: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
        dims: dict[int, PendingClick] = {}
        for row in rows:
            c = row.click
            referrer = c.referrer_host[:200]
            key = (c.link_id, _hour(c.at), c.ua_class, referrer)
            hours[key][0] += 1
            hours[key][1] += int(row.first_of_day)
            days[(c.link_id, _day(c.at))][0] += 1
            days[(c.link_id, _day(c.at))][1] += int(row.first_of_day)
        for c in batch:
            dims[c.link_id] = c
            if c.ua_class == BOT or not c.click_id:
                days[(c.link_id, _day(c.at))][2] += 1
        _upsert_hours(hours, dims)
        _upsert_days(days, dims)


class _Row:
    """A human click on its way to the database, with its visitor hash."""

    __slots__ = ("click", "first_of_day", "visitor")

    def __init__(self, click: PendingClick, visitor: str) -> None:
        self.click = click
        self.visitor = visitor
        self.first_of_day = False


def _mark_first_of_day(rows: list[_Row]) -> None:
    if not rows:
        return
    first_day = min(_day(r.click.at) for r in rows)
    last_day = max(_day(r.click.at) for r in rows)
    seen: set[tuple[int, str, date]] = {
        (link_id, visitor, _day(at))
        for link_id, visitor, at in Click.objects.filter(
            link_id__in={r.click.link_id for r in rows},
            visitor__in={r.visitor for r in rows},
            clicked_at__gte=_day_start(first_day),
            clicked_at__lt=_day_start(last_day + timedelta(days=1)),
        ).values_list("link_id", "visitor", "clicked_at")
    }
    for row in rows:
        key = (row.click.link_id, row.visitor, _day(row.click.at))
        row.first_of_day = key not in seen
        seen.add(key)


def _insert_clicks(rows: list[_Row]) -> None:
    """One prepared INSERT run for the batch (no model instances: the redirect's
    process does this once a second, next to its request threads)."""
    if not rows:
        return
    ops = connection.ops
    sql = (
        "INSERT INTO TABLE (workspace_id, link_id, channel_id, post_id, contact_id, click_id, "
        "clicked_at, referrer_host, ua_class, visitor, first_of_day) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).replace("TABLE", Click._meta.db_table)
    params = [
        (
            r.click.workspace_id,
            r.click.link_id,
            r.click.channel_id,
            r.click.post_id,
            r.click.contact_id,
            r.click.click_id,
            ops.adapt_datetimefield_value(r.click.at),
            r.click.referrer_host[:200],
            r.click.ua_class,
            r.visitor,
            r.first_of_day,
        )
        for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _upsert_hours(
    hours: dict[tuple[int, datetime, str, str], list[int]], dims: dict[int, PendingClick]
) -> None:
    if not hours:
        return
    table = ClickHour._meta.db_table
    ops = connection.ops
    # The table name comes from the model; every value is a parameter.
    sql = (
        "INSERT INTO TABLE (workspace_id, link_id, hour, ua_class, referrer_host, "
        "channel_id, post_id, contact_id, clicks, visitors) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (link_id, hour, ua_class, referrer_host) DO UPDATE SET "
        "clicks = TABLE.clicks + excluded.clicks, "
        "visitors = TABLE.visitors + excluded.visitors"
    ).replace("TABLE", table)
    params = [
        (
            dims[link_id].workspace_id,
            link_id,
            ops.adapt_datetimefield_value(hour),
            ua_class,
            referrer,
            dims[link_id].channel_id,
            dims[link_id].post_id,
            dims[link_id].contact_id,
            clicks,
            visitors,
        )
        for (link_id, hour, ua_class, referrer), (clicks, visitors) in hours.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _upsert_days(days: dict[tuple[int, date], list[int]], dims: dict[int, PendingClick]) -> None:
    if not days:
        return
    table = ClickDay._meta.db_table
    ops = connection.ops
    sql = (
        "INSERT INTO TABLE (workspace_id, link_id, day, clicks, visitors, bots) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (link_id, day) DO UPDATE SET "
        "clicks = TABLE.clicks + excluded.clicks, "
        "visitors = TABLE.visitors + excluded.visitors, "
        "bots = TABLE.bots + excluded.bots"
    ).replace("TABLE", table)
    params = [
        (
            dims[link_id].workspace_id,
            link_id,
            ops.adapt_datefield_value(day),
            clicks,
            visitors,
            bots,
        )
        for (link_id, day), (clicks, visitors, bots) in days.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def recompute(first: date, last: date, workspace_ids: Iterable[int] | None = None) -> int:
    """Rebuild the rollups of UTC days ``first``..``last`` from the raw clicks.

    The unique-visitor marks are recomputed too (first click per link, visitor and
    day). Filtered bot hits are not stored raw, so each day keeps its bot count.
    Returns the number of raw clicks read.
    """
    start, end = _day_start(first), _day_start(last + timedelta(days=1))
    scope = Q() if workspace_ids is None else Q(workspace_id__in=list(workspace_ids))
    with write_transaction():
        _take_lock()
        clicks = Click.objects.filter(scope, clicked_at__gte=start, clicked_at__lt=end)
        seen: set[tuple[int, str, date]] = set()
        firsts: list[int] = []
        for pk, link_id, visitor, at in (
            clicks.order_by("clicked_at", "id")
            .values_list("pk", "link_id", "visitor", "clicked_at")
            .iterator(chunk_size=5000)
        ):
            key = (link_id, visitor, _day(at))
            if key not in seen:
                seen.add(key)
                firsts.append(pk)
        clicks.update(first_of_day=False)
        for i in range(0, len(firsts), 900):
            Click.objects.filter(pk__in=firsts[i : i + 900]).update(first_of_day=True)
        read = clicks.count()
        ClickHour.objects.filter(scope, hour__gte=start, hour__lt=end).delete()
        bots = {
            (link_id, day): n
            for link_id, day, n in ClickDay.objects.filter(
                scope, day__gte=first, day__lte=last
            ).values_list("link_id", "day", "bots")
        }
        ClickDay.objects.filter(scope, day__gte=first, day__lte=last).delete()
        hourly = list(
            clicks.annotate(h=TruncHour("clicked_at", tzinfo=UTC))
            .values("workspace_id", "link_id", "h", "ua_class", "referrer_host")
            .annotate(n=Count("id"), v=Count("id", filter=Q(first_of_day=True)))
            .order_by()
        )
        links = {
            link.pk: link
            for link in Link.objects.filter(
                pk__in=clicks.values_list("link_id", flat=True).distinct()
            )
        }
        ClickHour.objects.bulk_create(
            [
                ClickHour(
                    workspace_id=row["workspace_id"],
                    link_id=row["link_id"],
                    hour=row["h"],
                    ua_class=row["ua_class"],
                    referrer_host=row["referrer_host"],
                    channel_id=links[row["link_id"]].channel_id,
                    post_id=links[row["link_id"]].post_id,
                    contact_id=links[row["link_id"]].contact_id,
                    clicks=row["n"],
                    visitors=row["v"],
                )
                for row in hourly
            ],
            batch_size=500,
        )
        daily: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
        workspace_of: dict[int, int] = {}
        for row in hourly:
            day_key = (row["link_id"], _day(row["h"]))
            daily[day_key][0] += row["n"]
            daily[day_key][1] += row["v"]
            workspace_of[row["link_id"]] = row["workspace_id"]
        for (link_id, day), n in bots.items():
            daily[(link_id, day)][2] = n
        if bots:
            workspace_of.update(
                Link.objects.filter(pk__in={k[0] for k in bots}).values_list("pk", "workspace_id")
            )
        ClickDay.objects.bulk_create(
            [
                ClickDay(
                    workspace_id=workspace_of[link_id],
                    link_id=link_id,
                    day=day,
                    clicks=c,
                    visitors=v,
                    bots=b,
                )
                for (link_id, day), (c, v, b) in daily.items()
                if link_id in workspace_of
            ],
            batch_size=500,
        )
        RollupLock.objects.filter(name=LOCK_NAME).update(recomputed_from=first, recomputed_to=last)
    return read
