"""Inbox ingestion throughput: interactions per second through the real path.

Each interaction goes through what a poll or a push does in production — dedupe
on (channel, remote id), contact matching (new and returning authors), sentiment
(English and Arabic), threading, response targets and three rules — on SQLite by
default (``DATABASE_URL`` for PostgreSQL). The workload mixes English and Arabic
comments, replies to earlier items, direct messages, likes and repeats (a tenth
of each page was seen before, as happens when polls and pushes overlap).

Baseline (same run): the same interactions ingested one per call, as a naive
webhook handler would, against pages of 100 as polling delivers them.

    .venv/bin/python bench/inbox.py                 # 100,000 interactions (about 2 minutes)
    .venv/bin/python bench/inbox.py --count 20000   # quicker
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("MINBAR_DATA_DIR", tempfile.mkdtemp(prefix="minbar-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from minbar.channels.models import Channel  # noqa: E402
from minbar.connectors.types import (  # noqa: E402
    Author,
    Interaction,
    InteractionKind,
    RemoteRef,
)
from minbar.core.actor import Actor  # noqa: E402
from minbar.inbox import actions, ingestion  # noqa: E402
from minbar.inbox.models import Item  # noqa: E402
from minbar.workspaces.access import access_for  # noqa: E402

TEXTS = (
    "Love the new blend, best coffee in town ☕😍",
    "My order arrived cold and late, not happy at all",
    "What time do you open on Fridays?",
    "القهوة اليوم رائعة جداً 👌",
    "الطلب وصل متأخر والخدمة سيئة للأسف",
    "هل عندكم فرع في جدة؟",
    "Refund please, the cup was broken https://pics.example/1",
    "مش حلو أبداً، ما عجبني الطعم",
)
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def workload(count: int, seed: int = 7) -> list[Interaction]:
    rng = random.Random(seed)
    out: list[Interaction] = []
    authors = max(50, count // 8)  # returning authors, as real audiences have
    for n in range(count):
        kind_roll = rng.random()
        author = rng.randrange(authors)
        created = START + timedelta(seconds=n * 3)
        text = TEXTS[rng.randrange(len(TEXTS))]
        if kind_roll < 0.1:
            kind, post, parent = InteractionKind.LIKE, RemoteRef("p1"), RemoteRef("p1")
            text = ""
        elif kind_roll < 0.2:
            kind, post, parent = InteractionKind.DIRECT_MESSAGE, None, None
        elif kind_roll < 0.35 and n > 10:
            answered = f"i{rng.randrange(n)}"
            kind, post, parent = InteractionKind.REPLY, RemoteRef("p1"), RemoteRef(answered)
        else:
            kind, post, parent = InteractionKind.COMMENT, RemoteRef("p1"), RemoteRef("p1")
        out.append(
            Interaction(
                remote_id=f"i{n}",
                kind=kind,
                author=Author(
                    remote_id=f"u{author}",
                    handle=f"@fan{author}",
                    display_name=f"Fan {author}",
                    followers=rng.choice([None, 10, 500, 20000]),
                ),
                created_at=created,
                text=text,
                post=post,
                parent=parent,
                ref=None if kind == InteractionKind.LIKE else RemoteRef(f"i{n}"),
                conversation_id=f"dm-{author}" if kind == InteractionKind.DIRECT_MESSAGE else "",
            )
        )
    return out


def pages(items: list[Interaction], size: int, seed: int = 11) -> list[list[Interaction]]:
    """Pages of ``size``, each repeating a tenth of what came before (overlapping delivery)."""
    rng = random.Random(seed)
    out = []
    for start in range(0, len(items), size):
        page = list(items[start : start + size])
        if start:
            page += rng.sample(items[:start], min(start, max(1, size // 10)))
        out.append(page)
    return out


def setup() -> Channel:
    from minbar.accounts.models import User
    from minbar.workspaces.models import Membership, Organization, Workspace

    call_command("migrate", verbosity=0)
    slug = f"bench{time.monotonic_ns()}"
    owner = User.objects.create_user(username=f"owner-{slug}", password=None)
    org = Organization.objects.create(name="Bench", slug=f"{slug}-org")
    workspace = Workspace.objects.create(organization=org, name="Bench", slug=slug)
    Membership.objects.create(user=owner, workspace=workspace, role="owner")
    channel = Channel.objects.create(
        workspace=workspace, network="sandbox", remote_id=f"me-{slug}", handle="@bench"
    )
    actor, access = Actor(user=owner), access_for(owner, slug)
    actions.save_rule(
        actor,
        access,
        name="Complaints",
        conditions={"sentiments": ["negative"]},
        actions_={"priority": 2, "add_tags": ["complaint"]},
    )
    actions.save_rule(
        actor,
        access,
        name="Refunds",
        conditions={"keywords": ["refund", "استرجاع"]},
        actions_={"add_tags": ["refund"]},
        stop=True,
    )
    actions.save_rule(
        actor,
        access,
        name="Big accounts",
        conditions={"min_followers": 10000},
        actions_={"priority": 3},
    )
    return channel


def run(items: list[Interaction], page_size: int) -> tuple[float, int]:
    channel = setup()
    begin = time.perf_counter()
    for page in pages(items, page_size):
        with transaction.atomic():
            ingestion.ingest(channel, page)
    elapsed = time.perf_counter() - begin
    stored = Item.objects.filter(channel=channel).count()
    return elapsed, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--baseline-count", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    from django.db import connection

    print(f"database: {connection.vendor}")
    small = workload(args.baseline_count)
    # Warm-up (imports, lexicons, caches).
    run(small[:500], 100)
    base_times = []
    for _ in range(args.runs):
        elapsed, _stored = run(small, 1)
        base_times.append(len(small) / elapsed)
    paged_small = []
    for _ in range(args.runs):
        elapsed, _stored = run(small, 100)
        paged_small.append(len(small) / elapsed)
    big = workload(args.count)
    elapsed, stored = run(big, 100)
    rate = args.count / elapsed
    print(f"{'what':<46} {'n':>8} {'interactions/s (median)':>24} {'p95':>8}")
    for label, values, n in (
        ("baseline: one interaction per call", base_times, len(small)),
        ("pages of 100 (polling), small", paged_small, len(small)),
    ):
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        print(f"{label:<46} {n:>8} {statistics.median(values):>24.0f} {p95:>8.0f}")
    print(f"{'pages of 100 (polling), full size, 1 run':<46} {args.count:>8} {rate:>24.0f} {'':>8}")
    print(f"items stored (likes are activity, repeats deduplicated): {stored}")
    ratio = statistics.median(paged_small) / statistics.median(base_times)
    print(f"ratio pages/baseline: {ratio:.2f}x")
    print("target: >= 2,000 interactions/s on SQLite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
