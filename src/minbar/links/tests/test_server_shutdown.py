"""The real server: every click sent to `minbar serve` is written when SIGTERM stops it."""

from __future__ import annotations

import http.client
import signal
import sqlite3
import subprocess
import sys

from minbar.core.tests.test_processes import ROOT, _env, _free_port, _wait_healthy, running

from .helpers import BROWSER_UA

MAKE_LINK = """
from minbar.accounts.models import User
from minbar.core.actor import Actor
from minbar.links import actions
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership, Organization, Workspace
user = User.objects.create_user(username="owner", password="x" * 16)
org = Organization.objects.create(name="Org", slug="org")
ws = Workspace.objects.create(organization=org, name="Shop", slug="shop")
Membership.objects.create(user=user, workspace=ws, role="owner")
link = actions.create_link(Actor(user=user), access_for(user, "shop"),
                           actions.LinkInput(destination="https://shop.example.com/"))
print("CODE=" + link.code)
"""

CLICKS = 150


def test_every_click_is_written_when_the_server_stops_cleanly(tmp_path):
    port = _free_port()
    # A flusher that would not run for a minute: what reaches the database is the shutdown's doing.
    env = _env(
        MINBAR_DATA_DIR=str(tmp_path),
        MINBAR_PORT=str(port),
        MINBAR_LINKS_FLUSH_MS="60000",
        MINBAR_LINKS_FLUSH_CLICKS="100000",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "minbar", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )

    migrated = run("migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    made = run("shell", "-c", MAKE_LINK)
    code = made.stdout.strip().rsplit("CODE=", 1)[-1]
    assert made.returncode == 0 and code, made.stderr
    log = tmp_path / "serve.log"
    with running(["serve", "--no-migrate", "--no-worker"], env, log) as proc:
        _wait_healthy(port, proc, log)
        for n in range(CLICKS):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", f"/l/{code}", headers={"User-Agent": BROWSER_UA, "X-Test": str(n)})
            response = conn.getresponse()
            assert response.status == 302
            assert "mb_click=" in (response.getheader("Location") or "")
            conn.close()
        database = sqlite3.connect(tmp_path / "minbar.sqlite3")
        try:
            assert database.execute("SELECT count(*) FROM links_click").fetchone()[0] == 0
        finally:
            database.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    database = sqlite3.connect(tmp_path / "minbar.sqlite3")
    try:
        written = database.execute("SELECT count(*) FROM links_click").fetchone()[0]
        rolled = database.execute("SELECT sum(clicks) FROM links_clickday").fetchone()[0]
        hourly = database.execute("SELECT sum(clicks) FROM links_clickhour").fetchone()[0]
    finally:
        database.close()
    assert written == rolled == hourly == CLICKS, log.read_text()
    assert "Minbar stopped." in log.read_text()
