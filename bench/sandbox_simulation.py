"""Sandbox simulation throughput: scheduled events per second for N posts over M people.

Baseline (same run): the naive exposure loop — for every follower, walk every
hour of the post's window, convert it to the follower's local time with
zoneinfo and draw a random number — against the implementation's precomputed
per-(time zone, active hours, start) cumulative tables with one draw and a
bisect per person. Both produce schedules from the same model; only the
exposure step differs, so the ratio is the optimisation's.

    .venv/bin/python bench/sandbox_simulation.py [--posts 10] [--sizes 1000,3000,10000]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

os.environ.setdefault("MINBAR_DATA_DIR", tempfile.mkdtemp(prefix="minbar-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")

import django

django.setup()

from minbar.sandbox import simulation  # noqa: E402
from minbar.sandbox.audience import (  # noqa: E402
    TIME_ZONES,
    Audience,
    AudienceParams,
    generate_audience,
)
from minbar.sandbox.flavours import spec_for  # noqa: E402

PUBLISHED = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
TEXTS = (
    "Our new espresso blend is here #coffee https://oasis.example/blend",
    "قهوة جديدة من محمصتنا، تعالوا جربوها #قهوة",
    "What's your go-to order on a Monday morning?",
)


class NaiveSimulator(simulation._Simulator):
    """The straightforward exposure loop: every follower, every hour, a zoneinfo conversion."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.published_at = PUBLISHED
        self.zones = [ZoneInfo(tz) for tz in TIME_ZONES]

    def _exposure(self, person: int, after: int, *, shared: bool = False) -> int:
        feed = self.feed * (simulation.SHARED_FEED_BOOST if shared else 1.0)
        feed = min(0.95, feed)
        zone = self.zones[self.a.tz_index[person]]
        active = self.a.active_mask[person]
        start = after // 3600
        for slot in range(start, self.hours):
            moment = self.published_at + timedelta(seconds=slot * 3600 + 1800)
            hour = moment.astimezone(zone).hour
            if not active >> hour & 1:
                continue
            if self.rng.random() < feed * math.exp(-(slot - start) / self.tau):
                low = max(slot * 3600, after + 1)
                high = slot * 3600 + 3599
                return self.rng.randint(low, high) if high > low else low
        return -1


def simulate(cls: type[simulation._Simulator], audience: Audience, posts: int) -> int:
    import random

    events = 0
    for n in range(posts):
        features = simulation.PostFeatures.of(TEXTS[n % len(TEXTS)])
        sim = cls(
            audience,
            features,
            spec_for("facebook"),
            PUBLISHED,
            random.Random(f"bench:{n}"),
            handle="bench",
            followers=audience.account_followers,
            no_follow=frozenset(),
        )
        events += len(sim.run().events)
    return events


def measure(
    cls: type[simulation._Simulator], audience: Audience, posts: int, repeats: int
) -> tuple[list[float], int]:
    simulate(cls, audience, 1)  # warm-up (caches, imports)
    times, events = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        events = simulate(cls, audience, posts)
        times.append(time.perf_counter() - started)
    return times, events


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"# {args.posts} posts per run, {args.repeats} runs after a warm-up, facebook-like\n")
    header = (
        f"{'people':>7} {'followers':>9} {'implementation':<15} {'events':>7} "
        f"{'median s':>9} {'p95 s':>8} {'events/s':>10} {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        audience = generate_audience(AudienceParams(seed=1, size=size))
        built = time.perf_counter() - started
        naive_times, naive_events = measure(NaiveSimulator, audience, args.posts, args.repeats)
        fast_times, fast_events = measure(simulation._Simulator, audience, args.posts, args.repeats)
        naive, fast = statistics.median(naive_times), statistics.median(fast_times)
        for name, times, events, ratio in (
            ("naive loop", naive_times, naive_events, 1.0),
            ("tables+bisect", fast_times, fast_events, naive / fast),
        ):
            print(
                f"{size:>7} {len(audience.account_followers):>9} {name:<15} {events:>7} "
                f"{statistics.median(times):>9.3f} {p95(times):>8.3f} "
                f"{events / statistics.median(times):>10.0f} {ratio:>7.1f}x"
            )
        print(f"{'':>7} (audience generated in {built:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
