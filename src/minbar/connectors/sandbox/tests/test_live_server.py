"""The connector against a real ``minbar sandbox serve`` process on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from minbar.connectors.errors import OutcomeUnknown, RateLimited, TemporaryError
from minbar.connectors.sandbox import SandboxConnector
from minbar.connectors.types import PostRequest

ROOT = Path(__file__).resolve().parents[5]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MINBAR_", "DATABASE_URL", "PYTEST"))
    }
    env["MINBAR_DATA_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "minbar.settings")
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "minbar", "sandbox", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"the sandbox server exited early:\n{log.read_text()}")
                try:
                    if httpx.get(f"{url}/sandbox/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the sandbox server did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield url
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
            assert "Minbar sandbox stopped." in log.read_text()
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)


def _control(url: str, token: str, method: str, path: str, body: dict) -> httpx.Response:
    response = httpx.request(
        method,
        f"{url}/sandbox/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def test_the_connector_works_against_a_real_sandbox_server(server):
    assert httpx.get(f"{server}/healthz", timeout=5).status_code == 404  # only sandbox URLs
    result = SandboxConnector(server, timeout=5).connect_with_fields(
        {"flavour": "x", "name": "Live Coffee", "speed": "0"}
    )
    assert result.credentials.data["server_url"] == server
    token = result.credentials.secrets["access_token"]
    connector = SandboxConnector("", result.credentials, timeout=5)
    assert connector.verify().handle == "@live_coffee"

    post = connector.publish(
        PostRequest(text="Live espresso #coffee", thread=("more",), idempotency_key="live-1")
    )
    assert post.url.startswith(f"{server}/sandbox/@live_coffee/")
    _control(server, token, "POST", "/clock/advance", {"seconds": 86400})
    values = connector.post_metrics([post.remote_id])[post.remote_id].values
    assert values["impressions"] > 0
    assert connector.interactions().items

    # A timeout after the post was made: unknown outcome, and lookup finds it.
    _control(
        server, token, "PUT", "/faults", {"fail_next": ["ambiguous_timeout"], "stall_seconds": 3}
    )
    impatient = SandboxConnector("", result.credentials, timeout=1)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):
        impatient.publish(PostRequest(text="Slow one", idempotency_key="live-2"))
    assert time.monotonic() - started < 3
    found = connector.lookup(idempotency_key="live-2")
    assert found is not None and found.text == "Slow one"

    # A timeout before anything happened, on a read: temporary.
    _control(server, token, "PUT", "/faults", {"fail_next": ["timeout"], "stall_seconds": 3})
    with pytest.raises(TemporaryError):
        impatient.verify()

    _control(server, token, "PUT", "/faults", {"fail_next": ["rate_limited"], "retry_after": 12})
    with pytest.raises(RateLimited) as caught:
        connector.account_metrics()
    assert caught.value.retry_after == 12.0
    _control(server, token, "PUT", "/faults", {})
    assert connector.account_metrics().values["posts"] == 2
