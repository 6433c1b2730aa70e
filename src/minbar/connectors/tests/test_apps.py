"""Per-install developer apps come from the environment and say what is missing."""

from __future__ import annotations

import pytest

from minbar.connectors.apps import api_url, network_app, require_app
from minbar.connectors.errors import NotSupported


def test_configured_app_is_returned(settings):
    settings.MINBAR_NETWORK_APPS = {"x": {"client_id": "id", "client_secret": "sec"}}
    assert network_app("x") == {"client_id": "id", "client_secret": "sec"}
    assert require_app("x", "X")["client_id"] == "id"


def test_missing_app_names_the_variables(settings):
    settings.MINBAR_NETWORK_APPS = {}
    assert network_app("x") is None
    with pytest.raises(NotSupported, match="MINBAR_X_CLIENT_ID and MINBAR_X_CLIENT_SECRET"):
        require_app("x", "X")


def test_api_url_override_replaces_the_default(settings):
    settings.MINBAR_NETWORK_APPS = {"x": {"api_url": "http://127.0.0.1:9/"}}
    assert api_url("x", "https://api.x.com") == "http://127.0.0.1:9"
    assert api_url("threads", "https://graph.threads.net/") == "https://graph.threads.net"
