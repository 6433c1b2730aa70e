from __future__ import annotations

from django.urls import path

from minbar.publishing import views

app_name = "publishing"

urlpatterns = [
    path("w/<slug:slug>/publishing/", views.post_list, name="list"),
    path("w/<slug:slug>/publishing/new/", views.compose, name="new"),
    path("w/<slug:slug>/publishing/check/", views.check, name="check"),
    path("w/<slug:slug>/publishing/import/", views.import_posts, name="import"),
    path("w/<slug:slug>/publishing/calendar/", views.calendar_month, name="calendar"),
    path("w/<slug:slug>/publishing/calendar/renew/", views.renew_feed, name="renew_feed"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/move/", views.move, name="move"),
    path("calendar/<str:token>.ics", views.ics_feed, name="ics"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/", views.detail, name="detail"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/edit/", views.compose, name="edit"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/approve/", views.approve, name="approve"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/reject/", views.reject, name="reject"),
    path("w/<slug:slug>/publishing/posts/<int:post_id>/cancel/", views.cancel, name="cancel"),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/targets/<int:target_id>/retry/",
        views.retry,
        name="retry",
    ),
    path(
        "w/<slug:slug>/publishing/posts/<int:post_id>/targets/<int:target_id>/reschedule/",
        views.reschedule,
        name="reschedule",
    ),
]
