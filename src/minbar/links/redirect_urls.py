"""The public short-link address (``/l/<code>``; MINBAR_LINKS_PATH changes ``l``)."""

from __future__ import annotations

from django.conf import settings
from django.urls import path

from minbar.links import redirects

urlpatterns = [
    path(f"{settings.MINBAR_LINKS_PATH}/<str:code>", redirects.follow, name="follow"),
]
if settings.MINBAR_LINKS_BENCH_URL:
    # bench/links.py's baseline: a bare redirect through the same server and middleware.
    urlpatterns.append(path("_bench/bare-redirect", redirects.bare_redirect, name="bench_bare"))
