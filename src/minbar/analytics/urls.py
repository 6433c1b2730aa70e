from __future__ import annotations

from django.urls import path

from minbar.analytics import views

app_name = "analytics"

urlpatterns = [
    path("w/<slug:slug>/analytics/", views.overview, name="workspace"),
    path(
        "w/<slug:slug>/analytics/channels/<int:channel_id>/",
        views.channel_overview,
        name="channel",
    ),
    path("w/<slug:slug>/analytics/posts/<int:post_id>/", views.post_overview, name="post"),
    path("w/<slug:slug>/analytics/tags/<str:tag>/", views.tag_overview, name="tag"),
]
