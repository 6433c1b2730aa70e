"""Channel tests that connect a real Mastodon account share the connector tests' server."""

from __future__ import annotations

from minbar.connectors.mastodon.tests.conftest import mastodon_server, mock  # noqa: F401
