from __future__ import annotations

from django.urls import include, path

from minbar.api import api
from minbar.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("accounts/", include("minbar.accounts.urls")),
    path("sandbox/", include("minbar.sandbox.urls")),
    path("", include("minbar.workspaces.urls")),
    path("", include("minbar.audit.urls")),
    path("", include("minbar.channels.urls")),
    path("", include("minbar.publishing.urls")),
    path("", include("minbar.media.urls")),
    path("", include("minbar.inbox.urls")),
    path("", include("minbar.notifications.urls")),
    path("", include("minbar.webhooks.urls")),
    path("", include("minbar.links.urls")),
    path("", include(("minbar.links.redirect_urls", "short"))),
    path("", include("minbar.analytics.urls")),
    path("", include("minbar.reports.urls")),
    path("", include("minbar.core.urls")),
]
