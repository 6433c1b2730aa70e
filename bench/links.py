"""Short-link redirects per second and p99 latency through the production server.

Starts ``minbar serve`` (the same waitress runner, 8 threads, no worker) as a
subprocess on 127.0.0.1 with a fresh SQLite database, and drives it with
keep-alive HTTP clients from this process:

- baseline (same run, same server, same middleware): ``/_bench/bare-redirect``, a
  view that only returns a redirect (enabled by ``MINBAR_LINKS_BENCH_URL=1``);
- measured: ``/l/<code>``, the real redirect — code lookup, bot check, click id,
  click buffered for the batch writer.

Rounds alternate bare and redirect after a warm-up. Then the server is stopped
with SIGTERM (its clean shutdown path) and the clicks in the database are counted:
they must equal the redirects sent. Target: redirect throughput >= 0.7 x bare.

    .venv/bin/python bench/links.py                    # 5 rounds x 4 clients x 1,000 requests
    .venv/bin/python bench/links.py --requests 300     # quicker
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
MAKE_LINK = """
from minbar.accounts.models import User
from minbar.core.actor import Actor
from minbar.links import actions
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership, Organization, Workspace
user = User.objects.create_user(username="bench", password="x" * 16)
org = Organization.objects.create(name="Bench", slug="bench")
ws = Workspace.objects.create(organization=org, name="Bench", slug="bench")
Membership.objects.create(user=user, workspace=ws, role="owner")
link = actions.create_link(Actor(user=user), access_for(user, "bench"), actions.LinkInput(
    destination="https://example.com/landing", utm={"utm_source": "bench", "utm_medium": "social"}))
print("CODE=" + link.code)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def minbar(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "minbar", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise SystemExit(f"minbar {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def drive(port: int, path: str, clients: int, requests: int) -> tuple[float, list[float]]:
    """``clients`` keep-alive connections each sending ``requests`` GETs; (req/s, latencies)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    start_gate = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_gate.wait()
        for _ in range(requests):
            began = time.perf_counter()
            conn.request("GET", path, headers={"User-Agent": UA})
            response = conn.getresponse()
            response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status != 302:
                errors.append(f"{path}: {response.status}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"unexpected answers: {errors[:3]}")
    flat = [x for per in latencies for x in per]
    return len(flat) / elapsed, flat


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=1000, help="per client and round")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="minbar-bench-links-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINBAR_")}
    env.update(
        MINBAR_DATA_DIR=str(data_dir),
        MINBAR_PORT=str(port),
        MINBAR_LINKS_BENCH_URL="1",
        MINBAR_LOG_LEVEL="WARNING",
    )
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"database: SQLite in {data_dir}; server: minbar serve (waitress, 8 threads), no worker")
    minbar(env, "migrate", "-v", "0")
    code = minbar(env, "shell", "-c", MAKE_LINK).strip().rsplit("CODE=", 1)[-1]
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "minbar", "serve"],
            "--no-migrate",
            "--no-worker",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sent = 0
    rows: dict[str, list[tuple[float, float]]] = {"bare": [], "redirect": []}
    try:
        wait_healthy(port, proc)
        paths = {"bare": "/_bench/bare-redirect", "redirect": f"/l/{code}"}
        # Warm-up: imports, caches, the flusher thread.
        drive(port, paths["bare"], args.clients, 100)
        drive(port, paths["redirect"], args.clients, 100)
        sent += args.clients * 100
        for _round in range(args.rounds):
            for name in ("bare", "redirect"):
                rate, latencies = drive(port, paths[name], args.clients, args.requests)
                rows[name].append((rate, p99(latencies) * 1000))
                if name == "redirect":
                    sent += args.clients * args.requests
    finally:
        proc.send_signal(signal.SIGTERM)
        code_at_exit = proc.wait(timeout=60)
        log.close()
    database = sqlite3.connect(data_dir / "minbar.sqlite3")
    counted = database.execute("SELECT count(*) FROM links_click").fetchone()[0]
    rolled = database.execute("SELECT coalesce(sum(clicks), 0) FROM links_clickday").fetchone()[0]
    database.close()

    print(
        f"\n{args.rounds} rounds x {args.clients} keep-alive clients x {args.requests} requests "
        "(after a warm-up of 100 each)"
    )
    print(f"{'':10} {'median req/s':>13} {'min req/s':>10} {'median p99 ms':>14}")
    medians = {}
    for name, values in rows.items():
        rates = [r for r, _ in values]
        tails = [t for _, t in values]
        medians[name] = statistics.median(rates)
        low = min(rates)
        print(f"{name:10} {medians[name]:13.0f} {low:10.0f} {statistics.median(tails):14.2f}")
    print(f"\nratio redirect / bare: {medians['redirect'] / medians['bare']:.2f} (target >= 0.70)")
    print(f"clicks sent: {sent}, clicks counted after SIGTERM: {counted} (daily rollup: {rolled})")
    print(f"server exit code: {code_at_exit}")


if __name__ == "__main__":
    main()
