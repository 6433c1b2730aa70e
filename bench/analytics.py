"""Analytics at scale: 10 million engagement events, 90-day dashboards under 150 ms (p95).

Loads events straight into the table (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) for one busy workspace and a second one sharing the table, builds the
hourly and daily rollups (``minbar analytics rebuild``), then times what a
dashboard asks for a 90-day range: the KPI totals against the previous period,
the hourly series behind the daily chart and the heatmap, a tag's totals, and
the whole overview (posts ranking, reach, followers included).

Baseline (same run): the same totals and series summed from the raw events, as
a store without rollups would.

    .venv/bin/python bench/analytics.py                      # 10,000,000 events (minutes)
    .venv/bin/python bench/analytics.py --events 1000000     # quicker
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mb_bench .venv/bin/python bench/analytics.py
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

os.environ.setdefault("MINBAR_DATA_DIR", tempfile.mkdtemp(prefix="minbar-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402

from minbar.accounts.models import User  # noqa: E402
from minbar.analytics import reports  # noqa: E402
from minbar.analytics.definitions import engagements  # noqa: E402
from minbar.analytics.models import MetricEvent, PostTag, Tracker  # noqa: E402
from minbar.analytics.store import HOUR, OrmMetricStore, Scope  # noqa: E402
from minbar.channels.models import Channel  # noqa: E402
from minbar.connectors.types import Credentials  # noqa: E402
from minbar.publishing.models import Post, PostState, Target, TargetState  # noqa: E402
from minbar.workspaces.access import access_for  # noqa: E402
from minbar.workspaces.models import Membership, Organization, Workspace  # noqa: E402

END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 365
METRICS = ("likes", "comments", "shares", "clicks", "impressions")
WEIGHTS = (30, 6, 4, 8, 52)  # impressions change most often
CHANNELS = 12
ZONE = ZoneInfo("Asia/Riyadh")


def post_values(rng: random.Random) -> dict[str, int]:
    return {
        "likes": rng.randrange(200),
        "comments": rng.randrange(30),
        "shares": rng.randrange(20),
        "clicks": rng.randrange(40),
        "impressions": 1000 + rng.randrange(20000),
        "reach": 800 + rng.randrange(15000),
    }


def setup(posts: int) -> tuple[Workspace, Workspace, User, list[Channel], list[int]]:
    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench", password="x")
    org = Organization.objects.create(name="Bench", slug="bench")
    main = Workspace.objects.create(organization=org, name="Main", slug="main", time_zone="UTC")
    other = Workspace.objects.create(organization=org, name="Other", slug="other", time_zone="UTC")
    Membership.objects.create(user=owner, workspace=main, role="owner")
    channels = []
    for workspace, count in ((main, CHANNELS), (other, 3)):
        for i in range(count):
            channel = Channel(
                workspace=workspace,
                network="sandbox",
                remote_id=f"{workspace.slug}-{i}",
                handle=f"@{workspace.slug}{i}",
            )
            channel.set_credentials(
                Credentials(secrets={"access_token": "x"}, data={"flavour": "x"})
            )
            channel.save()
            channels.append(channel)
    rng = random.Random(3)
    made_posts, targets = [], []
    for n in range(posts):
        channel = channels[n % len(channels)]
        published = END - timedelta(days=DAYS) + timedelta(seconds=rng.randrange(DAYS * 86400))
        made_posts.append(
            Post(
                workspace_id=channel.workspace_id,
                text=f"post {n}",
                state=PostState.PUBLISHED,
                tags=["launch"] if n % 5 == 0 else [],
            )
        )
        targets.append((channel, published))
    with transaction.atomic():
        Post.objects.bulk_create(made_posts, batch_size=2000)
        target_rows = [
            Target(
                post=post,
                channel=channel,
                state=TargetState.PUBLISHED,
                remote_id=f"r{post.pk}",
                published_at=published,
            )
            for post, (channel, published) in zip(made_posts, targets, strict=True)
        ]
        Target.objects.bulk_create(target_rows, batch_size=2000)
        Tracker.objects.bulk_create(
            [
                Tracker(
                    target=t,
                    workspace_id=t.channel.workspace_id,
                    channel_id=t.channel_id,
                    post_id=t.post_id,
                    remote_id=t.remote_id,
                    published_at=t.published_at,
                    values=(values := post_values(rng)),
                    engagements=engagements(values),
                    impressions=values["impressions"],
                    reach=values["reach"],
                )
                for t in target_rows
            ],
            batch_size=2000,
        )
        PostTag.objects.bulk_create(
            [
                PostTag(workspace_id=p.workspace_id, post_id=p.pk, tag="launch")
                for p in made_posts
                if p.tags
            ],
            batch_size=2000,
        )
    post_ids = [p.pk for p in made_posts]
    return main, other, owner, channels, post_ids


def event_rows(
    count: int, channels: list[Channel], post_ids: list[int], zone_suffix: str, seed: int = 5
) -> Iterator[tuple[object, ...]]:
    """(workspace, channel, post, target, metric, occurred_at, hour, value, recorded_at) rows.

    Times are UTC text as each database stores them (SQLite: naive UTC; PostgreSQL: "+00").
    """
    rng = random.Random(seed)
    start = int((END - timedelta(days=DAYS)).timestamp())
    span = DAYS * 86400
    recorded = END.strftime("%Y-%m-%d %H:%M:%S") + zone_suffix
    # Most events in the main workspace, as a busy brand next to a small one.
    by_post = [(channels[i % len(channels)], pid) for i, pid in enumerate(post_ids)]
    metrics = rng.choices(METRICS, WEIGHTS, k=1000)
    for n in range(count):
        channel, post_id = by_post[rng.randrange(len(by_post))]
        moment = start + rng.randrange(span)
        metric = metrics[n % 1000]
        value = rng.randrange(1, 400) if metric == "impressions" else rng.randrange(1, 6)
        yield (
            channel.workspace_id,
            channel.pk,
            post_id,
            post_id,
            metric,
            datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d %H:%M:%S") + zone_suffix,
            moment // HOUR,
            value,
            recorded,
        )


COLUMNS = (
    "workspace_id, channel_id, post_id, target_id, metric, occurred_at, hour, value, recorded_at"
)


def load_events(count: int, channels: list[Channel], post_ids: list[int]) -> tuple[float, float]:
    table = connection.ops.quote_name(MetricEvent._meta.db_table)
    postgres = connection.vendor == "postgresql"
    rows = event_rows(count, channels, post_ids, "+00" if postgres else "")
    began = time.perf_counter()
    chunk = 200_000
    # A bulk load drops the table's indexes and builds them once at the end.
    indexes = list(MetricEvent._meta.indexes)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(MetricEvent, index)
    connection.ensure_connection()
    raw = connection.connection
    done = 0
    if postgres:
        with raw.cursor() as cursor:
            while done < count:
                buffer = io.StringIO()
                for row in itertools.islice(rows, chunk):
                    buffer.write("\t".join(str(v) for v in row) + "\n")
                    done += 1
                with cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
        raw.commit()
    else:
        sql = f"INSERT INTO {table} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
        raw.execute("PRAGMA synchronous=OFF")  # a benchmark's throwaway database
        while done < count:
            batch = list(itertools.islice(rows, chunk))
            raw.execute("BEGIN")  # Django's connection autocommits: one transaction per chunk
            raw.executemany(sql, batch)
            raw.execute("COMMIT")
            done += len(batch)
        raw.execute("PRAGMA synchronous=NORMAL")
    loaded = time.perf_counter() - began
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(MetricEvent, index)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}" if postgres else "ANALYZE")
    return loaded, time.perf_counter() - began - loaded


def timed(label: str, call: Callable[[], object], runs: int) -> tuple[str, float, float]:
    call()  # warm-up
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return label, statistics.median(samples), p95


def raw_totals(scope: Scope, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
    q = MetricEvent.objects.filter(
        workspace_id=scope.workspace_id, occurred_at__gte=start, occurred_at__lt=end
    )
    if scope.tag:
        q = q.filter(
            post_id__in=PostTag.objects.filter(
                workspace_id=scope.workspace_id, tag=scope.tag
            ).values("post_id")
        )
    return {
        (r["channel_id"], r["metric"]): r["n"]
        for r in q.values("channel_id", "metric").annotate(n=Sum("value"))
    }


def raw_hourly(scope: Scope, start: datetime, end: datetime) -> int:
    low, high = int(start.timestamp()) // HOUR, -(-int(end.timestamp()) // HOUR)
    return len(
        list(
            MetricEvent.objects.filter(
                workspace_id=scope.workspace_id, hour__gte=low, hour__lt=high
            )
            .values("hour", "metric")
            .annotate(n=Sum("value"))
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--posts", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the queries on the data a previous run left in DATABASE_URL",
    )
    args = parser.parse_args()

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"database: {connection.vendor}")
    store = OrmMetricStore()
    if args.reuse and MetricEvent.objects.exists():
        # Time the queries again on the data a previous run left in DATABASE_URL.
        main_ws = Workspace.objects.get(slug="main")
        owner = User.objects.get(username="bench")
        print(f"reusing {MetricEvent.objects.count():,} events and their rollups")
    else:
        began = time.perf_counter()
        main_ws, _other, owner, channels, post_ids = setup(args.posts)
        print(
            f"setup: {args.posts:,} posts on {len(channels)} channels "
            f"in {time.perf_counter() - began:.1f} s"
        )
        seconds, indexing = load_events(args.events, channels, post_ids)
        print(
            f"event load: {args.events:,} events in {seconds:.1f} s "
            f"({args.events / seconds:,.0f}/s), then the table's 3 indexes in {indexing:.1f} s"
        )
        began = time.perf_counter()
        rows = store.rebuild()
        print(f"rollup build: {rows:,} rollup rows in {time.perf_counter() - began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a bulk load

    access = access_for(owner, main_ws.slug)
    last_day = (END - timedelta(seconds=1)).astimezone(ZONE).date()
    period = reports.Period(last_day - timedelta(days=89), last_day, ZONE)
    scope = Scope(main_ws.pk)
    tag_scope = Scope(main_ws.pk, tag="launch")
    start, end = period.start, period.end
    prev_start, prev_end = period.previous.start, period.previous.end
    in_range = MetricEvent.objects.filter(
        workspace_id=main_ws.pk, occurred_at__gte=start, occurred_at__lt=end
    ).count()
    print(
        f"90-day range ({period.first_day} to {period.last_day}, {ZONE}): "
        f"{in_range:,} events of the main workspace"
    )
    # The rollups answer exactly what the raw events answer.
    assert {
        (c, m): v
        for c, values in store.totals_by_channel(scope, start, end).items()
        for m, v in values.items()
    } == raw_totals(scope, start, end)

    results = [
        timed(
            "KPI totals, this and previous 90 days (rollups)",
            lambda: (
                store.totals_by_channel(scope, start, end),
                store.totals_by_channel(scope, prev_start, prev_end),
            ),
            args.runs,
        ),
        timed(
            "hourly series for the daily chart and heatmap (rollups)",
            lambda: store.hourly(scope, start, end),
            args.runs,
        ),
        timed(
            "tag totals, 90 days (rollups)",
            lambda: store.totals_by_channel(tag_scope, start, end),
            args.runs,
        ),
        timed(
            "whole overview: KPIs, series, networks, posts, heatmap",
            lambda: reports.overview(access, reports.resolve_scope(access), period),
            args.runs,
        ),
        timed(
            "whole overview of a tag",
            lambda: reports.overview(access, reports.resolve_scope(access, tag="launch"), period),
            args.runs,
        ),
    ]
    baseline_runs = max(3, args.runs // 4)
    baseline = [
        timed(
            "baseline: KPI totals from raw events, both periods",
            lambda: (raw_totals(scope, start, end), raw_totals(scope, prev_start, prev_end)),
            baseline_runs,
        ),
        timed(
            "baseline: hourly series from raw events",
            lambda: raw_hourly(scope, start, end),
            baseline_runs,
        ),
        timed(
            "baseline: tag totals from raw events",
            lambda: raw_totals(tag_scope, start, end),
            baseline_runs,
        ),
    ]
    print()
    print(f"{'query (90 days)':58} {'median ms':>10} {'p95 ms':>9}")
    for label, median, p95 in results + baseline:
        print(f"{label:58} {median:10.1f} {p95:9.1f}")
    print()
    for (label, _m, p95), (_bl, _bm, base95) in zip(results[:3], baseline, strict=True):
        print(f"{label}: {base95 / p95:,.0f}x faster than raw events (p95)")
    worst = max(p95 for _l, _m, p95 in results)
    print(f"slowest dashboard query p95: {worst:.1f} ms (target 150 ms)")
    print(f"run on {date.today()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
