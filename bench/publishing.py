"""Publishing dispatcher: burst drain time, steady-rate lateness, duplicates and losses.

Minbar publishing to the sandbox network, which runs as a separate process
(``minbar sandbox serve``) with 50 ms of latency on every call, in two layouts:

* **embedded** — one Minbar process serving the web with the embedded queue
  workers and scheduler (``minbar.core.server.serve``) on SQLite and the SQLite
  queue, as ``minbar serve`` runs;
* **distributed** (``--backend postgres`` or ``both``) — two ``minbar worker``
  processes on PostgreSQL and Redis (a fresh database and queue name per run).

Measured in each layout:

* **Baseline** — the same Minbar with one queue worker and one publishing thread
  (one post at a time), on a smaller burst; every other burst's posts/s is given
  as a ratio to it.
* **Burst** — N posts due at the same instant across M sandbox channels. Drain
  time = the last post on the network minus the due time; posts/s = N ÷ drain.
* **Steady** — posts due at a fixed rate (R per second for D seconds): lateness
  of each post = when it appeared on the network minus its due time; p50, p99, max.
* **Kill** — a burst during which one worker process is SIGKILLed once about a
  third of it is out (embedded: the only process, started again at once, as a
  service manager would; distributed: one of the two, the other carries on).
* **Duplicates and losses** — every account's posts are listed from the network
  and matched with the targets' idempotency keys; both must be 0.

Sandbox accounts are made fresh for every burst directly in the sandbox's own
database (the API allows 300 new accounts an hour), so the networks' posting
limits (X-like: 50 per 15 minutes per account) never interfere: keep N ÷ M ≤ 50.

    .venv/bin/python bench/publishing.py                      # a few minutes, embedded
    .venv/bin/python bench/publishing.py --backend both       # + PostgreSQL and Redis
    .venv/bin/python bench/publishing.py --full               # the issue's sizes, both
"""

from __future__ import annotations

import argparse
import json
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
from collections.abc import Callable
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
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

import minbar.publishing.tasks  # noqa: E402,F401  (registers the tasks kick() enqueues)
from minbar.channels.models import Channel  # noqa: E402
from minbar.connectors.types import Credentials  # noqa: E402
from minbar.publishing import dispatcher  # noqa: E402
from minbar.publishing.models import Post, PostState, Target, TargetState  # noqa: E402
from minbar.workspaces.models import Organization, Workspace  # noqa: E402

# The embedded server, started the way ``minbar serve`` starts it, with the number
# of queue workers set for the run (MINBAR_PUBLISH_THREADS comes from the environment).
SERVER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
import minbar.publishing.tasks  # noqa: F401 (until core/apps.py imports it)
from minbar.core.server import serve
serve("127.0.0.1", int(sys.argv[1]), workers=int(sys.argv[2]))
"""

# Run with the sandbox server's environment: accounts made the way the network's
# own operator would, already running (their first simulated day scheduled).
ACCOUNTS = """
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
django.setup()
from minbar.sandbox import actions
made = []
for n in range(int(sys.argv[1])):
    new = actions.create_account(
        flavour="x", name=f"Bench {n}", audience_size=30, speed=0
    )
    actions.set_faults(new.account, {"latency_ms": int(sys.argv[2])})
    actions.release(new.account)
    made.append([new.account.pk, new.account.handle, new.token])
print(json.dumps(made))
"""


SANDBOX_ARGS = ("--threads", "32")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVERS = ("postgres", "redis-server")


def servers_cpu_seconds() -> float:
    """CPU time PostgreSQL and Redis have used so far, every process of theirs on the machine.

    A PostgreSQL backend that has exited is counted in its parent's children time
    (cutime, cstime), so the sum does not drop when connections close.
    """
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.partition("(")[2] in SERVERS:
            fields = tail.split()
            total += sum(int(fields[n]) for n in (11, 12, 13, 14))
    return total / os.sysconf("SC_CLK_TCK")


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINBAR_")}
    env.pop("DATABASE_URL", None)
    env.update(MINBAR_DATA_DIR=str(data_dir), MINBAR_ALLOW_PRIVATE_URLS="true", **extra)
    return env


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, *, every: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


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
        self.env = child_env(DATA / "sandbox")
        subprocess.run(
            [sys.executable, "-m", "minbar", "migrate", "-v0"], env=self.env, cwd=ROOT, check=True
        )
        log = (DATA / "sandbox.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "minbar",
                "sandbox",
                "serve",
                "--port",
                str(self.port),
                "--threads",
                "32",
            ],
            env=self.env,
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
            timeout=60,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def channels(self, workspace: Workspace, count: int) -> list[Channel]:
        out = subprocess.run(
            [sys.executable, "-c", ACCOUNTS, str(count), str(self.latency_ms)],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        made = []
        for pk, handle, token in json.loads(out.strip().splitlines()[-1]):
            channel = Channel(
                workspace=workspace, network="sandbox", remote_id=f"a{pk}", handle=f"@{handle}"
            )
            channel.set_credentials(
                Credentials(
                    secrets={"access_token": token},
                    data={
                        "account_id": f"a{pk}",
                        "handle": handle,
                        "flavour": "x",
                        "server_url": self.url,
                    },
                )
            )
            made.append(channel)
        return Channel.objects.bulk_create(made)

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


class Minbar:
    """The Minbar processes under test: embedded ``serve``, or ``minbar worker``s."""

    def __init__(self, backend: str, processes: int, workers: int, threads: int) -> None:
        self.backend, self.workers, self.threads = backend, workers, threads
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = child_env(DATA / "minbar", MINBAR_PUBLISH_THREADS=str(threads))
        for name in ("DATABASE_URL", "MINBAR_QUEUE_URL", "MINBAR_QUEUE_NAME"):
            if os.environ.get(name):
                self.env[name] = os.environ[name]
        for _ in range(processes):
            self.start()

    def start(self) -> None:
        n = len(self.procs)
        log = DATA / f"{self.backend}-{n}-{self.workers}x{self.threads}-{uuid.uuid4().hex[:4]}.log"
        if self.backend == "sqlite":
            args = ["-c", SERVER, str(free_port()), str(self.workers)]
            ready = "Minbar is serving"
        else:
            args = ["-m", "minbar", "worker", "--workers", str(self.workers)]
            ready = "Minbar worker on queue"
        proc = subprocess.Popen(
            [sys.executable, *args],
            env=self.env,
            cwd=ROOT,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        wait_until(lambda: ready in log.read_text(), 90, "Minbar to start")

    def kill_one(self) -> None:
        """SIGKILL the first live process; the only one (embedded Minbar, or a single
        worker) is started again at once, as a service manager would."""
        victim = next(p for p in self.procs if p.poll() is None)
        victim.kill()
        victim.wait()
        if self.backend == "sqlite" or all(p.poll() is not None for p in self.procs):
            self.start()

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)


@dataclass
class Outcome:
    posts: int
    channels: int
    seconds: float  # drain time (burst) or the phase's length (steady)
    lateness: list[float]
    duplicates: int
    lost: int
    # CPU milliseconds per post, from scheduling to the last post out (bursts only):
    # the sandbox server, Minbar's processes, this benchmark.
    cpu: tuple[float, float, float, float] | None = None
    load: float = 0.0  # the 1-minute load average when the burst had drained

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds > 0 else 0.0


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
        ],
        batch_size=500,
    )
    targets = Target.objects.bulk_create(
        [
            Target(
                post=post,
                channel=channels[n % len(channels)],
                state=TargetState.SCHEDULED,
                due_at=dues[n],
            )
            for n, post in enumerate(posts)
        ],
        batch_size=500,
    )
    # What the composer's "schedule" action does: tell the dispatcher to plan.
    dispatcher.kick()
    return [t.pk for t in targets]


def collect(
    network: Network,
    ids: list[int],
    channels: list[Channel],
    timeout: float,
    *,
    drained: Callable[[], None] | None = None,
) -> Outcome:
    settled = (TargetState.PUBLISHED, TargetState.FAILED, TargetState.HELD)

    # The targets were made in one bulk insert: their ids form one range, counted in
    # one query (a list of ten thousand ids would cost the machine more than it measures).
    lo, hi = min(ids), max(ids)

    def done_count() -> int:
        return Target.objects.filter(pk__gte=lo, pk__lte=hi, state__in=settled).count()

    # Counting thousands of targets costs CPU the processes under test need: rarely.
    wait_until(lambda: done_count() == len(ids), timeout, "the posts to go out", every=1.0)
    if drained is not None:
        drained()
    done: list[tuple[str, datetime | None, datetime | None, str]] = []
    for n in range(0, len(ids), 900):
        done += Target.objects.filter(pk__in=ids[n : n + 900]).values_list(
            "idempotency_key", "due_at", "published_at", "state"
        )
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
    return Outcome(len(ids), len(channels), drain.total_seconds(), lateness, duplicates, lost)


def burst(
    network: Network,
    workspace: Workspace,
    posts: int,
    channels: int,
    *,
    minbar: Minbar | None = None,
    during: Callable[[list[int]], None] | None = None,
) -> Outcome:
    targets = network.channels(workspace, channels)

    def used() -> tuple[float, float, float, float]:
        mine = sum(cpu_seconds(p.pid) for p in minbar.procs) if minbar is not None else 0.0
        return cpu_seconds(network.proc.pid), mine, time.process_time(), servers_cpu_seconds()

    start = used()
    end = start

    load = 0.0

    def drained() -> None:
        nonlocal end, load
        end, load = used(), os.getloadavg()[0]

    due = timezone.now() + timedelta(seconds=3)
    ids = schedule(workspace, targets, [due] * posts)
    if during is not None:
        during(ids)
    outcome = collect(network, ids, targets, timeout=1800, drained=drained)
    if minbar is not None and during is None:
        a, b, c, d = (1000 * (e - s) / posts for s, e in zip(start, end, strict=True))
        outcome.cpu, outcome.load = (a, b, c, d), load
    return outcome


def steady(
    network: Network, workspace: Workspace, rate: float, seconds: float, channels: int
) -> Outcome:
    targets = network.channels(workspace, channels)
    start = timezone.now() + timedelta(seconds=20)
    dues = [start + timedelta(seconds=n / rate) for n in range(int(rate * seconds))]
    ids = schedule(workspace, targets, dues)
    return collect(network, ids, targets, timeout=seconds + 1200)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def published_count(ids: list[int]) -> int:
    return Target.objects.filter(
        pk__gte=min(ids), pk__lte=max(ids), state=TargetState.PUBLISHED
    ).count()


def run_backend(args: argparse.Namespace, backend: str) -> None:
    """Every measurement for one layout, in this process's database."""
    distributed = backend == "postgres"
    name = (
        f"{args.processes} minbar worker process(es), PostgreSQL + Redis"
        if distributed
        else "embedded (minbar serve), SQLite + SQLite queue"
    )
    print(f"\n== {name}", flush=True)
    (DATA / "minbar").mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    org = Organization.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:6]}")
    workspace = Workspace.objects.create(organization=org, name="Bench", slug=org.slug)
    network = Network(args.latency_ms)
    bursts: list[tuple[str, Outcome]] = []
    checks: list[Outcome] = []
    kills: list[Outcome] = []
    steady_out: Outcome | None = None
    processes = args.processes if distributed else 1
    try:
        minbar = Minbar(backend, 1, 1, 1)
        try:
            burst(network, workspace, 20, 10)  # warm-up
            label = "baseline: 1 worker x 1 thread"
            for n in range(args.runs):
                outcome = burst(
                    network, workspace, args.base_posts, args.base_channels, minbar=minbar
                )
                bursts.append((label, outcome))
                print(f"  {label}: run {n + 1}: {outcome.seconds:.2f} s", flush=True)
        finally:
            minbar.close()
        minbar = Minbar(backend, processes, args.queue_workers, args.threads)
        label = f"{processes} x {args.queue_workers} workers x {args.threads} threads"
        try:
            burst(network, workspace, 100, 50)  # warm-up
            for n in range(args.runs):
                outcome = burst(network, workspace, args.posts, args.channels, minbar=minbar)
                bursts.append((label, outcome))
                print(f"  {label}: run {n + 1}: {outcome.seconds:.2f} s", flush=True)
            print(f"  steady: {args.rate:g} posts/s for {args.seconds:g} s …", flush=True)
            steady_out = steady(network, workspace, args.rate, args.seconds, args.steady_channels)
            checks.append(steady_out)

            def kill_midway(ids: list[int]) -> None:
                wait_until(
                    lambda: published_count(ids) >= len(ids) // 3, 1800, "a third out", every=0.2
                )
                minbar.kill_one()

            print(f"  kill: {args.kill_posts} posts, SIGKILL a worker a third in …", flush=True)
            kills.append(
                burst(network, workspace, args.kill_posts, args.kill_channels, during=kill_midway)
            )
        finally:
            minbar.close()
    finally:
        network.close()

    print()
    print(
        f"{'burst layout':<36} {'posts':>6} {'chans':>6} {'drain p50':>10} {'drain max':>10} "
        f"{'posts/s':>8} {'x base':>7}"
    )
    base: float | None = None
    for label in dict.fromkeys(label for label, _ in bursts):
        outcomes = [o for lab, o in bursts if lab == label]
        drains = [o.seconds for o in outcomes]
        rate = outcomes[0].posts / statistics.median(drains)
        base = base or rate
        print(
            f"{label:<36} {outcomes[0].posts:>6} {outcomes[0].channels:>6} "
            f"{statistics.median(drains):>9.2f}s {max(drains):>9.2f}s {rate:>8.1f} "
            f"{rate / base:>6.2f}x"
        )
        used = [o.cpu for o in outcomes if o.cpu is not None]
        if used:
            sandbox, mine, bench, servers = (
                statistics.median(u[n] for u in used) for n in range(4)
            )
            # PostgreSQL and Redis: machine-wide, so only meaningful in the distributed
            # layout (the embedded one uses neither).
            shared = f", PostgreSQL + Redis {servers:.2f} ms" if backend != "sqlite" else ""
            print(
                f"{'':<4}CPU per post: sandbox server {sandbox:.2f} ms, Minbar {mine:.2f} ms"
                f"{shared}, this benchmark {bench:.2f} ms; load average "
                f"{', '.join(f'{o.load:.1f}' for o in outcomes)}"
            )
    if steady_out is not None:
        late = steady_out.lateness
        print()
        print(f"{'steady rate':<36} {'posts':>6} {'p50 late':>9} {'p99 late':>9} {'max':>7}")
        print(
            f"{f'{args.rate:g}/s for {args.seconds:g} s':<36} {len(late):>6} "
            f"{pct(late, 0.5):>8.2f}s {pct(late, 0.99):>8.2f}s {max(late):>6.2f}s"
        )
    for kill in kills:
        print()
        print(
            f"kill: {kill.posts} posts over {args.kill_channels} channels, a worker SIGKILLed a "
            f"third in: drained in {kill.seconds:.2f} s; duplicates {kill.duplicates}, "
            f"losses {kill.lost}"
        )
    everything = [o for _, o in bursts] + checks + kills
    duplicates = sum(o.duplicates for o in everything)
    lost = sum(o.lost for o in everything)
    total = sum(len(o.lateness) for o in everything)
    print()
    print(f"posts checked on the network: {total}; duplicates: {duplicates}; losses: {lost}")


def run_postgres_child(args: argparse.Namespace) -> None:
    """The distributed layout in a child process: a fresh database and queue of its own."""
    import psycopg

    db = f"minbar_bench_{uuid.uuid4().hex[:8]}"
    admin = f"{args.postgres.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    try:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"{args.postgres.rstrip('/')}/{db}",
            MINBAR_QUEUE_URL=args.redis,
            MINBAR_QUEUE_NAME=f"bench-{uuid.uuid4().hex[:8]}",
            MINBAR_BENCH_DATA_DIR=str(DATA / "postgres"),
        )
        argv, skip = [], False
        for arg in sys.argv[1:]:
            if skip or arg.startswith("--backend") or arg == "--full":
                skip = arg == "--backend"  # its value follows
                continue
            argv.append(arg)
        if args.full:
            argv.append("--full")
        subprocess.run(
            [sys.executable, __file__, *argv, "--backend", "postgres-only"],
            env=env,
            cwd=ROOT,
            check=True,
        )
    finally:
        connection.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts in a burst (1000)")
    parser.add_argument("--channels", type=int, default=50, help="sandbox channels (50)")
    parser.add_argument("--base-posts", type=int, default=100, help="baseline burst (100)")
    parser.add_argument("--base-channels", type=int, default=10, help="baseline channels (10)")
    parser.add_argument("--runs", type=int, default=3, help="bursts per layout, after a warm-up")
    parser.add_argument("--threads", type=int, default=16, help="MINBAR_PUBLISH_THREADS (16)")
    parser.add_argument(
        "--processes", type=int, default=2, help="`minbar worker` processes, distributed (2)"
    )
    parser.add_argument(
        "--queue-workers",
        type=int,
        default=2,
        help="queue worker threads per Minbar process in the bursts (2; `minbar worker --workers`)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="steady posts per second (20)")
    parser.add_argument("--seconds", type=float, default=30, help="steady phase length (30)")
    parser.add_argument("--steady-channels", type=int, default=100, help="steady channels (100)")
    parser.add_argument("--kill-posts", type=int, default=400, help="kill-test burst (400)")
    parser.add_argument("--kill-channels", type=int, default=40, help="kill-test channels (40)")
    parser.add_argument("--latency-ms", type=int, default=50, help="sandbox latency per call")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both", "postgres-only"),
        default=None,
        help="embedded SQLite (default; both with --full), distributed PostgreSQL + Redis",
    )
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server (trust auth)"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4", help="queue (db 4)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="the issue's sizes: 10,000 posts over 500 channels, 100/s for 2 minutes, both",
    )
    args = parser.parse_args()
    if args.full:
        args.posts, args.channels, args.runs = 10_000, 500, 1
        args.base_posts, args.base_channels = 200, 20
        args.rate, args.seconds, args.steady_channels = 100.0, 120.0, 500
        args.kill_posts, args.kill_channels = 2000, 100
    if args.backend is None:
        args.backend = "both" if args.full else "sqlite"
    for posts, channels in (
        (args.posts, args.channels),
        (args.base_posts, args.base_channels),
        (args.kill_posts, args.kill_channels),
        (args.rate * args.seconds, args.steady_channels),
    ):
        if posts / channels > 50:
            parser.error("keep posts / channels at 50 or less (the X-like posting limit)")

    if args.backend != "postgres-only":
        print("Publishing dispatcher benchmark")
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
        print(
            f"burst: {args.posts} posts due at one instant over {args.channels} sandbox channels "
            f"(baseline {args.base_posts} over {args.base_channels}), {args.runs} run(s) after a "
            f"warm-up; sandbox latency {args.latency_ms} ms per call; steady {args.rate:g}/s "
            f"for {args.seconds:g} s over {args.steady_channels} channels; kill test "
            f"{args.kill_posts} posts over {args.kill_channels} channels",
            flush=True,
        )
    if args.backend in ("sqlite", "both"):
        run_backend(args, "sqlite")
    if args.backend == "postgres-only":
        run_backend(args, "postgres")
    elif args.backend in ("postgres", "both"):
        run_postgres_child(args)


if __name__ == "__main__":
    main()
