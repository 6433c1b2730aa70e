from __future__ import annotations

from django.urls import path

from minbar.publishing import views

app_name = "publishing"

urlpatterns = [
    path("w/<slug:slug>/publishing/", views.post_list, name="list"),
    path("w/<slug:slug>/publishing/new/", views.compose, name="new"),
    path("w/<slug:slug>/publishing/check/", views.check, name="check"),
    path("w/<slug:slug>/publishing/media/", views.media_picker, name="media_picker"),
    path("w/<slug:slug>/publishing/media/upload/", views.media_upload, name="media_upload"),
    path("w/<slug:slug>/publishing/import/", views.import_posts, name="import"),
    path("w/<slug:slug>/publishing/calendar/", views.calendar_month, name="calendar"),
    path("w/<slug:slug>/publishing/calendar/week/", views.calendar_week, name="calendar_week"),
    path("w/<slug:slug>/publishing/calendar/list/", views.calendar_list, name="calendar_list"),
    path("w/<slug:slug>/publishing/planner/", views.planner, name="planner"),
    path("w/<slug:slug>/publishing/calendar/renew/", views.renew_feed, name="renew_feed"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/move/", views.move, name="move"),
    path("w/<slug:slug>/channels/<int:channel_id>/queue/", views.edit_queue, name="queue"),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/reschedule/",
        views.reschedule,
        name="reschedule",
    ),
    path("calendar/<str:token>.ics", views.ics_feed, name="ics"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/", views.detail, name="detail"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/edit/", views.compose, name="edit"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/approve/", views.approve, name="approve"),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/request-changes/",
        views.request_changes,
        name="request_changes",
    ),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/reject/", views.reject, name="reject"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/comments/", views.comment, name="comment"),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/versions/",
        views.versions,
        name="versions",
    ),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/versions/<int:number>/restore/",
        views.restore,
        name="restore",
    ),
    path("w/<slug:slug>/publishing/approvals/", views.approvals_queue, name="approvals"),
    path(
        "w/<slug:slug>/publishing/approvals/settings/",
        views.approval_settings,
        name="approval_settings",
    ),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/cancel/", views.cancel, name="cancel"),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/stop-series/",
        views.stop_series,
        name="stop_series",
    ),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/targets/<int:target_id>/retry/",
        views.retry,
        name="retry",
    ),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/targets/<int:target_id>/reschedule/",
        views.reschedule_target,
        name="reschedule_target",
    ),
]
