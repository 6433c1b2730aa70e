"""The real processes: ``minbar serve`` with its embedded worker, and the scale-out
layout of web and workers sharing PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey

from minbar.core.tasks import purge_security_rows

ROOT = Path(__file__).resolve().parents[4]


def _producer(queue: Huey) -> Huey:
    """A queue handle in this process that may enqueue Minbar's task by name."""
    queue._registry.register(purge_security_rows.task_class)
    return queue


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MINBAR_", "DATABASE_URL", "PYTEST"))
    }
    env.update(extra)
    return env


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "minbar", *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()}")
        try:
            if _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"server did not become healthy:\n{log.read_text()}")


def _wait_for_line(text: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited early:\n{log.read_text()}")
        if text in log.read_text():
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} never appeared:\n{log.read_text()}")


def test_serve_runs_web_and_embedded_worker_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = _env(MINBAR_DATA_DIR=str(tmp_path), MINBAR_PORT=str(port))
    log = tmp_path / "serve.log"
    with running(["serve"], env, log) as proc:
        _wait_healthy(port, proc, log)
        status, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
        status, body = _get(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200 and 'name="username"' in body
        # Another process enqueues into the embedded SQLite queue; the server runs it.
        queue = _producer(SqliteHuey("minbar", filename=str(tmp_path / "queue.sqlite3")))
        task = purge_security_rows.s()
        queue.enqueue(task)
        result = queue.result(task.id, blocking=True, timeout=30)
        assert result == {"login_attempts": 0, "invitations": 0}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    output = log.read_text()
    assert "Minbar is serving on" in output and "Minbar stopped." in output
    assert (tmp_path / "minbar.sqlite3").exists()


def test_serve_refuses_a_port_in_use_with_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "minbar", "serve", "--port", str(port)],
            env=_env(MINBAR_DATA_DIR=str(tmp_path)),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"minbar: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_scale_out_web_and_two_workers_share_postgres_and_redis(
    tmp_path, postgres_admin_url, redis_url
):
    import psycopg

    name = f"minbar_scaleout_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    port = _free_port()
    env = _env(
        MINBAR_DATA_DIR=str(tmp_path),
        MINBAR_PORT=str(port),
        DATABASE_URL=f"{base}/{name}",
        MINBAR_QUEUE_URL=redis_url,
        # Its own queue name, so other runs sharing this Redis cannot take its tasks.
        MINBAR_QUEUE_NAME=name,
    )
    try:
        with running(["serve", "--no-worker"], env, tmp_path / "web.log") as web:
            _wait_healthy(port, web, tmp_path / "web.log")
            status, body = _get(f"http://127.0.0.1:{port}/readyz")
            assert status == 200, body
            with (
                running(["worker"], env, tmp_path / "w1.log") as w1,
                running(["worker", "--no-periodic"], env, tmp_path / "w2.log") as w2,
            ):
                # Both workers up before any task is queued, so a slow start cannot leave
                # one of them untested.
                _wait_for_line("Minbar worker on queue redis://", w1, tmp_path / "w1.log")
                _wait_for_line("Minbar worker on queue redis://", w2, tmp_path / "w2.log")
                queue = _producer(PriorityRedisHuey(name, url=redis_url))
                tasks = [purge_security_rows.s() for _ in range(8)]
                for task in tasks:
                    queue.enqueue(task)
                results = [queue.result(t.id, blocking=True, timeout=60) for t in tasks]
                assert results == [{"login_attempts": 0, "invitations": 0}] * 8
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
