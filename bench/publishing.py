"""Publishing dispatcher: burst drain time, steady-rate lateness, duplicates and losses.

Embedded mode as a user runs it: one Minbar process serving the web with the
embedded worker and scheduler (``minbar.core.server.serve``) on SQLite and the
SQLite queue, publishing to the sandbox network running as a separate process
(``minbar sandbox serve``) with 50 ms of latency on every call.

* **Burst** — N posts due at the same instant across M sandbox channels. Drain
  time = the last post on the network minus the due time; posts/s = N ÷ drain.
  Measured for one publishing thread and one queue worker (the baseline: a
  dispatcher that sends one post at a time) and for the embedded layout (two
  queue workers, MINBAR_PUBLISH_THREADS threads each); the ratio is to the
  baseline.
* **Steady** — posts due at a fixed rate (R per second for D seconds): lateness
  of each post = when it appeared on the network minus its due time; p50, p99, max.
* **Duplicates and losses** — every account's posts are listed from the network
  and matched with the targets' idempotency keys; both must be 0.

Each burst run uses fresh sandbox accounts, so the networks' posting limits
(X-like: 50 per 15 minutes) never interfere; keep N ÷ M ≤ 50.

    .venv/bin/python bench/publishing.py                       # a few minutes
    .venv/bin/python bench/publishing.py --full                # the issue's sizes
    .venv/bin/python bench/publishing.py --posts 400 --channels 20 --runs 5 --threads 8
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Never a real installation: a fresh directory unless told otherwise.
DATA = Path(os.environ.get("MINBAR_BENCH_DATA_DIR") or tempfile.mkdtemp(prefix="minbar-bench-"))
os.environ["MINBAR_DATA_DIR"] = str(DATA / "minbar")
os.environ["MINBAR_ALLOW_PRIVATE_URLS"] = "true"  # the sandbox server listens on loopback
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

import minbar.publishing.tasks  # noqa: E402,F401  (registers the tasks kick() enqueues)
from minbar.channels.models import Channel  # noqa: E402
from minbar.connectors.sandbox import SandboxConnector  # noqa: E402
from minbar.publishing import dispatcher  # noqa: E402
from minbar.publishing.models import Post, PostState, Target, TargetState  # noqa: E402
from minbar.workspaces.models import Organization, Workspace  # noqa: E402

# The embedded server, started the way ``minbar serve`` starts it, with the
# publishing thread count and the number of queue workers set for the run.
SERVER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from django.conf import settings
settings.MINBAR_PUBLISH_THREADS = int(sys.argv[2])
if sys.argv[4] == "shared-tls":
    # What-if: the sandbox connector builds an httpx.Client per call, and each one
    # builds an SSL context (about 50 ms of CPU, under the GIL). One shared context
    # is what a fix in the connector would do.
    import functools, httpx._transports.default as transport
    transport.create_ssl_context = functools.lru_cache(maxsize=None)(
        transport.create_ssl_context
    )
import minbar.publishing.tasks  # noqa: F401 (until core/apps.py imports it)
from minbar.core.server import serve
serve("127.0.0.1", int(sys.argv[1]), workers=int(sys.argv[3]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINBAR_")}
    env.update(MINBAR_DATA_DIR=str(data_dir), MINBAR_ALLOW_PRIVATE_URLS="true")
    return env


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Network:
    """``minbar sandbox serve`` in its own process and database."""

    def __init__(self, latency_ms: int) -> None:
        self.latency_ms = latency_ms
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = (DATA / "sandbox.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "minbar", "sandbox", "serve"),
                "--port",
                str(self.port),
                "--threads",
                "32",
            ],
            env=child_env(DATA / "sandbox"),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            try:
                return httpx.get(f"{self.url}/sandbox/api/v1/health", timeout=1).is_success
            except httpx.TransportError:
                return False

        wait_until(up, 90, "the sandbox server")

    def api(self, token: str, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/sandbox/api/v1{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def channels(self, workspace: Workspace, count: int) -> list[Channel]:
        made = []
        for n in range(count):
            result = SandboxConnector(self.url).connect_with_fields(
                {
                    "name": f"Bench {uuid.uuid4().hex[:8]} {n}",
                    "flavour": "x",
                    "speed": "0",
                    "audience_size": "30",
                }
            )
            token = result.credentials.secrets["access_token"]
            self.api(token, "PUT", "/faults", json={"latency_ms": self.latency_ms})
            channel = Channel(
                workspace=workspace,
                network="sandbox",
                remote_id=result.account.remote_id,
                handle=result.account.handle,
            )
            channel.set_credentials(result.credentials)
            channel.save()
            made.append(channel)
        return made

    def keys(self, channel: Channel) -> list[str]:
        """The idempotency keys of every post the account has, from the network."""
        token = channel.get_credentials().secrets["access_token"]
        keys, cursor = [], ""
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = self.api(token, "GET", "/posts", params=params)
            keys += [item["idempotency_key"] for item in page["items"]]
            cursor = page["cursor"]
            if not cursor:
                return keys

    def close(self) -> None:
        stop(self.proc)


class Server:
    """The embedded Minbar process: web, scheduler and worker threads."""

    def __init__(self, threads: int, workers: int, tls: str) -> None:
        port = free_port()
        self.log = DATA / f"serve-{threads}x{workers}-{tls}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), str(threads), str(workers), tls],
            env=child_env(DATA / "minbar"),
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "Minbar is serving" in self.log.read_text(), 90, "minbar serve")

    def close(self) -> None:
        stop(self.proc)


@dataclass
class Outcome:
    seconds: float  # drain time (burst) or the phase's length (steady)
    lateness: list[float]
    duplicates: int
    lost: int


def schedule(workspace: Workspace, channels: list[Channel], dues: list[datetime]) -> list[int]:
    posts = Post.objects.bulk_create(
        [
            Post(
                workspace=workspace,
                text=f"Bench post {n} {uuid.uuid4().hex[:6]}",
                state=PostState.SCHEDULED,
                scheduled_at=due,
            )
            for n, due in enumerate(dues)
        ]
    )
    targets = Target.objects.bulk_create(
        [
            Target(post=post, channel=channels[n % len(channels)], state=TargetState.SCHEDULED)
            for n, post in enumerate(posts)
        ]
    )
    for target, due in zip(targets, dues, strict=True):
        target.due_at = due
    Target.objects.bulk_update(targets, ["due_at"])
    # What the composer's "schedule" action does: tell the dispatcher to plan.
    dispatcher.kick()
    return [t.pk for t in targets]


def collect(network: Network, ids: list[int], channels: list[Channel], timeout: float) -> Outcome:
    rows = Target.objects.filter(pk__in=ids)
    settled = (TargetState.PUBLISHED, TargetState.FAILED, TargetState.HELD)
    wait_until(
        lambda: rows.filter(state__in=settled).count() == len(ids), timeout, "the posts to go out"
    )
    done = list(rows.values_list("idempotency_key", "due_at", "published_at", "state"))
    published = [
        (key, due, at)
        for key, due, at, state in done
        if state == TargetState.PUBLISHED and due is not None and at is not None
    ]
    lateness = [(at - due).total_seconds() for _, due, at in published]
    on_network: list[str] = []
    for channel in channels:
        on_network += network.keys(channel)
    wanted = {key for key, _, _, _ in done}
    duplicates = len(on_network) - len(set(on_network))
    lost = len(wanted - set(on_network)) + (len(done) - len(published))
    first_due = min(due for _, due, _ in published)
    drain = max(at for _, _, at in published) - first_due
    return Outcome(drain.total_seconds(), lateness, duplicates, lost)


def burst(network: Network, workspace: Workspace, posts: int, channels: int) -> Outcome:
    targets = network.channels(workspace, channels)
    due = timezone.now() + timedelta(seconds=3)
    ids = schedule(workspace, targets, [due] * posts)
    return collect(network, ids, targets, timeout=600)


def steady(
    network: Network, workspace: Workspace, rate: float, seconds: float, channels: int
) -> Outcome:
    targets = network.channels(workspace, channels)
    start = timezone.now() + timedelta(seconds=20)
    dues = [start + timedelta(seconds=n / rate) for n in range(int(rate * seconds))]
    ids = schedule(workspace, targets, dues)
    return collect(network, ids, targets, timeout=seconds + 300)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100, help="posts in a burst (100)")
    parser.add_argument("--channels", type=int, default=10, help="sandbox channels (10)")
    parser.add_argument("--runs", type=int, default=5, help="bursts per layout, after a warm-up")
    parser.add_argument("--threads", type=int, default=4, help="MINBAR_PUBLISH_THREADS (4)")
    parser.add_argument("--rate", type=float, default=2.0, help="steady posts per second (2)")
    parser.add_argument("--seconds", type=float, default=45, help="steady phase length (45)")
    parser.add_argument("--latency-ms", type=int, default=50, help="sandbox latency per call")
    parser.add_argument(
        "--shared-tls-context",
        action="store_true",
        help="also measure with one SSL context shared by the connector's HTTP clients",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the issue's sizes: 1,000 posts over 25 channels, 8 threads, 5/s for 5 minutes",
    )
    args = parser.parse_args()
    if args.full:
        args.posts, args.channels, args.threads = 1000, 25, 8
        args.rate, args.seconds = 5.0, 300.0
    if args.posts / args.channels > 50:
        parser.error("keep --posts / --channels at 50 or less (the X-like posting limit)")

    print("Publishing dispatcher benchmark")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"burst: {args.posts} posts due at one instant over {args.channels} sandbox channels, "
        f"{args.runs} runs after a warm-up; sandbox latency {args.latency_ms} ms per call; "
        "SQLite + SQLite queue (embedded)"
    )
    (DATA / "minbar").mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    org = Organization.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:6]}")
    workspace = Workspace.objects.create(organization=org, name="Bench", slug=org.slug)
    network = Network(args.latency_ms)
    layouts = [
        ("1 worker x 1 thread (baseline)", 1, 1, "as-shipped"),
        (f"2 workers x {args.threads} threads", args.threads, 2, "as-shipped"),
    ]
    if args.shared_tls_context:
        layouts += [
            ("1 x 1, shared TLS context", 1, 1, "shared-tls"),
            (f"2 x {args.threads}, shared TLS context", args.threads, 2, "shared-tls"),
        ]
    results: dict[str, list[Outcome]] = {}
    checks: list[Outcome] = []
    try:
        for label, threads, workers, tls in layouts:
            server = Server(threads, workers, tls)
            try:
                burst(network, workspace, max(args.channels, args.posts // 10), args.channels)
                results[label] = []
                for n in range(args.runs):
                    outcome = burst(network, workspace, args.posts, args.channels)
                    results[label].append(outcome)
                    print(f"  {label}: run {n + 1}: {outcome.seconds:.2f} s", flush=True)
                if threads != 1 and not checks:
                    print(f"steady: {args.rate:g} posts/s for {args.seconds:g} s …", flush=True)
                    checks.append(
                        steady(network, workspace, args.rate, args.seconds, args.channels)
                    )
            finally:
                server.close()
    finally:
        network.close()

    print()
    print(f"{'burst layout':<34} {'drain p50':>10} {'drain p95':>10} {'posts/s':>8} {'x base':>7}")
    base = None
    for label, outcomes in results.items():
        drains = [o.seconds for o in outcomes]
        rate = args.posts / statistics.median(drains)
        base = base or rate
        print(
            f"{label:<34} {statistics.median(drains):>9.2f}s {pct(drains, 0.95):>9.2f}s "
            f"{rate:>8.1f} {rate / base:>6.2f}x"
        )
    if checks:
        late = checks[0].lateness
        print()
        print(f"{'steady rate':<34} {'posts':>6} {'p50 late':>9} {'p99 late':>9} {'max':>7}")
        print(
            f"{f'{args.rate:g}/s for {args.seconds:g} s':<34} {len(late):>6} "
            f"{pct(late, 0.5):>8.2f}s {pct(late, 0.99):>8.2f}s {max(late):>6.2f}s"
        )
    everything = [o for outcomes in results.values() for o in outcomes] + checks
    duplicates = sum(o.duplicates for o in everything)
    lost = sum(o.lost for o in everything)
    total = sum(len(o.lateness) for o in everything)
    print()
    print(f"posts checked on the network: {total}; duplicates: {duplicates}; losses: {lost}")


if __name__ == "__main__":
    main()
