"""``minbar sandbox serve``: the sandbox network alone, on its own port."""

from __future__ import annotations

import logging

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase
from django.test.utils import override_settings

from minbar.core.server import run_wsgi

SANDBOX_URLCONF = "minbar.sandbox.server_urls"

# The network's API and public pages use no session, user, language, message,
# CSRF token or static file: Minbar's other middleware only cost time on every call.
SANDBOX_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler answering only the sandbox URLs, with the middleware they need."""

    def load_middleware(self, is_async: bool = False) -> None:
        with override_settings(MIDDLEWARE=SANDBOX_MIDDLEWARE):
            super().load_middleware(is_async)

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


def serve(host: str, port: int, *, threads: int = 4) -> None:
    from django.db import connections

    # Keep each request thread's database connection between requests: opening
    # one (and its PRAGMAs) per API call is a noticeable share of a publish.
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 300
    # A queue in front of the request threads is what a load test of a network
    # looks like; one warning per queued request would be most of the log.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    run_wsgi(
        SandboxWSGIHandler(),
        host,
        port,
        threads=threads,
        ident="minbar-sandbox",
        banner=f"Minbar sandbox network on http://{host}:{port}/sandbox/api/v1/ . "
        "Press Ctrl-C to stop.",
        stopped="Minbar sandbox stopped.",
    )
