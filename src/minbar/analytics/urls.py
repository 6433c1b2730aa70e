from __future__ import annotations

from django.urls import path

from minbar.analytics import goal_views, views

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
    path("w/<slug:slug>/analytics/goals/", goal_views.goal_list, name="goals"),
    path("w/<slug:slug>/analytics/goals/new/", goal_views.goal_create, name="goal_create"),
    path(
        "w/<slug:slug>/analytics/goals/<int:goal_id>/edit/",
        goal_views.goal_edit,
        name="goal_edit",
    ),
    path(
        "w/<slug:slug>/analytics/goals/<int:goal_id>/delete/",
        goal_views.goal_delete,
        name="goal_delete",
    ),
    path(
        "w/<slug:slug>/analytics/goals/<int:goal_id>/baseline/",
        goal_views.goal_baseline,
        name="goal_baseline",
    ),
]
