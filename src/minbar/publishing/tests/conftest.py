"""The dispatcher's Mastodon fault tests share the connector tests' mastodon-mock process."""

from __future__ import annotations

from minbar.connectors.mastodon.tests.conftest import mastodon_server, mock  # noqa: F401
