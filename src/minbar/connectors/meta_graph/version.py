"""The Graph API version Minbar speaks, pinned in one place, and Meta's hosts.

Graph API versions live about two years
(https://developers.facebook.com/docs/graph-api/changelog lists v26.0 as the newest,
introduced July 29, 2026). Moving to a newer one means changing ``GRAPH_VERSION``
and re-reading the changelog for the endpoints this package uses.
"""

from __future__ import annotations

GRAPH_VERSION = "v26.0"

# Graph API for Facebook Pages and for Instagram through Facebook Login.
FACEBOOK_GRAPH = "https://graph.facebook.com"
# Video uploads go to their own host (Pages API, "Publish a video").
FACEBOOK_VIDEO_GRAPH = "https://graph-video.facebook.com"
# The Facebook Login dialog.
FACEBOOK_WWW = "https://www.facebook.com"
# Instagram API with Instagram Login: the API, the sign-in page and the code exchange.
INSTAGRAM_GRAPH = "https://graph.instagram.com"
INSTAGRAM_WWW = "https://www.instagram.com"
INSTAGRAM_API = "https://api.instagram.com"

META_HOSTS = frozenset(
    {
        FACEBOOK_GRAPH,
        FACEBOOK_VIDEO_GRAPH,
        FACEBOOK_WWW,
        INSTAGRAM_GRAPH,
        INSTAGRAM_WWW,
        INSTAGRAM_API,
    }
)


def is_meta_host(base_url: str) -> bool:
    """False for a fake or proxy set with ``MINBAR_<NETWORK>_API_URL``."""
    return base_url.rstrip("/") in META_HOSTS


def host_for(base_url: str, meta_host: str) -> str:
    """``meta_host`` on the real network; the fake's (or proxy's) single base URL otherwise."""
    return meta_host if is_meta_host(base_url) else base_url.rstrip("/")
