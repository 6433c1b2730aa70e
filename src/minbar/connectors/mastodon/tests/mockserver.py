"""A real HTTP Mastodon stand-in for the tests: ``mastodon-mock`` run as a process.

mastodon-mock (PyPI, dev dependency) is a FastAPI + SQLite imitation of
Mastodon's REST API reporting version 4.6.0. The tests start it on a free
loopback port, talk to it over HTTP like to any instance, and use its
mock-only endpoints for what a real instance does through a browser or time:

* ``POST /oauth/authorize`` with ``username`` → 302 to the redirect URI with a
  code (the approval a person would click);
* ``POST /api/v1/_mock/faults`` → the next matching request fails as told
  (a status, a 429 with ``X-RateLimit-*`` headers, latency, a malformed body);
  ``DELETE /api/v1/_mock/faults`` clears them.

What the mock does *not* check, so these tests cannot prove it either: the
PKCE verifier (it advertises S256 and ignores ``code_challenge``), scopes,
and the URL-as-23 rule (it counts raw ``len(text)``).
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

START_TIMEOUT = 60.0  # a cold start takes 2-4 s here; allow a slow CI machine
STOP_TIMEOUT = 10.0
PASSWORD = "Correct-horse-battery-9"


def mock_executable() -> Path:
    """The ``mastodon_mock`` console script of the running interpreter's environment."""
    return Path(sys.executable).parent / "mastodon_mock"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MockServerError(RuntimeError):
    pass


@dataclass
class MockServer:
    """One running mastodon-mock process."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    http: httpx.Client = field(init=False)
    _app_token: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=10.0, follow_redirects=False)

    # -- lifecycle ------------------------------------------------------------

    @classmethod
    def start(cls, log_path: Path) -> MockServer:
        executable = mock_executable()
        if not executable.exists():
            raise MockServerError(
                f"{executable} is missing: install the dev dependencies (mastodon-mock)."
            )
        port = free_port()
        log = log_path.open("wb")
        process = subprocess.Popen(
            [
                str(executable),
                "serve",
                "--in-memory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()  # the child keeps its own descriptor
        server = cls(process=process, url=f"http://127.0.0.1:{port}", log_path=log_path)
        try:
            server._wait_until_ready()
        except MockServerError:
            server.stop()
            raise
        return server

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last_error = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MockServerError(
                    f"mastodon-mock exited with code {self.process.returncode}:\n{self.log()}"
                )
            try:
                if self.http.get("/health", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise MockServerError(
            f"mastodon-mock did not answer within {START_TIMEOUT:.0f} s ({last_error}):\n"
            f"{self.log()}"
        )

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it has not gone within the bound."""
        self.http.close()
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError as exc:
            return f"(no log: {exc})"

    # -- the instance ---------------------------------------------------------

    def instance(self) -> dict[str, Any]:
        response = self.http.get("/api/v2/instance")
        response.raise_for_status()
        return dict(response.json())

    @property
    def domain(self) -> str:
        return str(self.instance()["domain"])

    def _registration_token(self) -> str:
        """An app token for sign-ups, the way a fresh instance takes them."""
        if not self._app_token:
            app = self.http.post(
                "/api/v1/apps",
                data={"client_name": "minbar-tests", "scopes": "read write follow"},
            ).json()
            token = self.http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                    "scope": "read write follow",
                },
            ).json()
            self._app_token = str(token["access_token"])
        return self._app_token

    def create_account(self, prefix: str) -> tuple[str, str]:
        """A new local account with a unique name; returns (username, its own token)."""
        username = f"{prefix}_{uuid.uuid4().hex[:8]}"
        response = self.http.post(
            "/api/v1/accounts",
            data={
                "username": username,
                "email": f"{username}@example.test",
                "password": PASSWORD,
                "agreement": "true",
                "locale": "en",
            },
            headers={"Authorization": f"Bearer {self._registration_token()}"},
        )
        response.raise_for_status()
        return username, str(response.json()["access_token"])

    def approve(self, authorize_url: str, username: str) -> dict[str, str]:
        """Be the person on the approval page: open it, pick ``username``, follow nothing.

        Returns the query of the redirect back to Minbar (``code``, ``state``).
        """
        parts = urlsplit(authorize_url)
        assert f"{parts.scheme}://{parts.netloc}" == self.url, authorize_url
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        page = self.http.get(parts.path, params=query)
        assert page.status_code == 200, page.text
        answer = self.http.post(
            "/oauth/authorize",
            data={
                "username": username,
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "scope": query["scope"],
                "state": query["state"],
            },
        )
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["location"])
        assert location.geturl().startswith(query["redirect_uri"])
        return {key: values[0] for key, values in parse_qs(location.query).items()}

    # -- fault injection ------------------------------------------------------

    def add_fault(
        self,
        *,
        method: str,
        path: str,
        effect: dict[str, Any],
        count: int = 1,
    ) -> dict[str, Any]:
        response = self.http.post(
            "/api/v1/_mock/faults",
            json={"match": {"methods": [method], "path": path}, "effect": effect, "count": count},
        )
        response.raise_for_status()
        return dict(response.json())

    def clear_faults(self) -> None:
        self.http.delete("/api/v1/_mock/faults").raise_for_status()


class Account:
    """Another person on the instance, acting through the API with their own token."""

    def __init__(self, server: MockServer, username: str, token: str) -> None:
        self.server = server
        self.username = username
        self.headers = {"Authorization": f"Bearer {token}"}
        self.id = str(self.get("/api/v1/accounts/verify_credentials")["id"])

    def get(self, path: str, **params: Any) -> Any:
        response = self.server.http.get(path, params=params, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, **data: Any) -> Any:
        response = self.server.http.post(path, data=data, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def status(self, text: str, **data: Any) -> dict[str, Any]:
        return dict(self.post("/api/v1/statuses", status=text, **data))


def tiny_png(path: Path) -> Path:
    """A valid PNG of one pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return path


def statuses_of(mock: MockServer, account_id: str) -> list[dict[str, Any]]:
    """An account's statuses, newest first, as anyone sees them."""
    return list(mock.http.get(f"/api/v1/accounts/{account_id}/statuses").json())
