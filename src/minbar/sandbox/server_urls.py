"""The URLconf of ``minbar sandbox serve``: the sandbox network and nothing else."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sandbox/", include("minbar.sandbox.urls"))]

# Minbar's own error pages link to its other URLs, which this server does not have.
handler404 = "minbar.sandbox.views.not_found"
handler500 = "minbar.sandbox.views.server_error"
