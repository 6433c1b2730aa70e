"""Plumbing shared by Meta's networks (Facebook Pages, Instagram): not a network itself.

The package exposes no ``CONNECTOR``, so :mod:`minbar.connectors.registry` skips it.

* :mod:`.version` — the one pinned Graph API version and Meta's hosts;
* :mod:`.client` — a Graph API client (access token, ``appsecret_proof``, usage headers);
* :mod:`.failures` — Graph error codes mapped onto Minbar's error taxonomy;
* :mod:`.usage` — ``X-App-Usage`` / ``X-Page-Usage`` / ``X-Business-Use-Case-Usage``;
* :mod:`.pushes` — parsing and checking Meta webhook deliveries;
* :mod:`.oauth` — Facebook Login (dialog, code exchange, long-lived tokens);
* :mod:`.journal` and :mod:`.cursor` — reconciling unknown outcomes, paging interactions.
"""

from __future__ import annotations

from minbar.connectors.meta_graph.client import GraphClient
from minbar.connectors.meta_graph.version import GRAPH_VERSION

__all__ = ["GRAPH_VERSION", "GraphClient"]
