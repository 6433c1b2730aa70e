"""A real local AT Protocol network for the end-to-end tests, one per test session.

The first run installs Node 22 and ``@atproto/dev-env`` into
``${MINBAR_CACHE_DIR:-$HOME/.cache/minbar}/atproto-dev-env`` (about 3 minutes, progress
printed); later runs reuse it and only start the network (about 10 seconds). A missing
Node.js/npm, a failed install or a network that does not start fails the tests with the
reason: they are never skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from minbar.connectors.bluesky.tests.devnet import (
    DevNetError,
    Network,
    ensure_dev_env,
    start_network,
)


@pytest.fixture(scope="session")
def atproto_network(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Network]:
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:
        # Progress goes to the terminal even while pytest captures output: a cold install
        # takes minutes and should not look like a hang.
        if capture is not None:
            with capture.global_and_fixture_disabled():
                print(f"\n[bluesky e2e] {message}", flush=True)
        else:
            print(f"[bluesky e2e] {message}", flush=True)

    started = time.monotonic()
    try:
        dev_env = ensure_dev_env(say)
        network = start_network(dev_env, tmp_path_factory.mktemp("atproto-network"), say)
    except DevNetError as exc:
        pytest.fail(f"The local AT Protocol network is unavailable: {exc}", pytrace=False)
    say(f"network up {time.monotonic() - started:.1f} s after the session asked for it")
    try:
        yield network
    finally:
        network.stop()
