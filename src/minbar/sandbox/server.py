"""``minbar sandbox serve``: the sandbox network alone, on its own port."""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

from minbar.core.server import run_wsgi

SANDBOX_URLCONF = "minbar.sandbox.server_urls"


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler answering only the sandbox URLs."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


def serve(host: str, port: int, *, threads: int = 4) -> None:
    from django.db import connections

    # Keep each request thread's database connection between requests: opening
    # one (and its PRAGMAs) per API call is a noticeable share of a publish.
    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 300
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
