"""Developer apps registered once per Minbar install (X, Meta, LinkedIn, Google…).

Networks such as Mastodon register an app per server on the fly (stored as
``channels.ServerApp``); the big networks instead need the operator to create one
developer app and give Minbar its keys in the environment:

- ``MINBAR_<NETWORK>_CLIENT_ID`` and ``MINBAR_<NETWORK>_CLIENT_SECRET``;
- ``MINBAR_<NETWORK>_API_URL`` (optional) points the connector at another base URL,
  for a local fake or a proxy.

``<NETWORK>`` is the connector's ``network`` in capitals (``MINBAR_X_CLIENT_ID``,
``MINBAR_FACEBOOK_CLIENT_ID``). Connectors read these here rather than from the
channel's stored credentials so a rotated app secret applies to every channel.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from minbar.connectors.errors import NotSupported


def network_app(network: str) -> dict[str, str] | None:
    """The configured app of ``network`` (client_id, client_secret, api_url), or None."""
    apps: dict[str, dict[str, str]] = getattr(settings, "MINBAR_NETWORK_APPS", {})
    app = apps.get(network.lower())
    if not app or not app.get("client_id"):
        return None
    return dict(app)


def require_app(network: str, label: str) -> dict[str, str]:
    """The configured app, or a clear error naming the variables to set."""
    app = network_app(network)
    if app is None:
        prefix = f"MINBAR_{network.upper()}"
        raise NotSupported(
            _(
                "%(network)s is not set up on this Minbar: the administrator must create "
                "a %(network)s developer app and set %(prefix)s_CLIENT_ID and "
                "%(prefix)s_CLIENT_SECRET (see docs/networks)."
            )
            % {"network": label, "prefix": prefix}
        )
    return app


def api_url(network: str, default: str) -> str:
    """The API base URL: ``MINBAR_<NETWORK>_API_URL`` when set, else ``default``."""
    app = (getattr(settings, "MINBAR_NETWORK_APPS", {}) or {}).get(network.lower()) or {}
    return str(app.get("api_url") or default).rstrip("/")
