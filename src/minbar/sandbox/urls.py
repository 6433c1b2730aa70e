"""The sandbox network's URLs, mounted under ``sandbox/`` (see server_urls.py and minbar.urls)."""

from __future__ import annotations

from django.urls import path

from minbar.sandbox import views

app_name = "sandbox"

api = "api/v1/"

urlpatterns = [
    path(f"{api}health", views.health, name="health"),
    path(f"{api}connect", views.connect, name="connect"),
    path(f"{api}me", views.me, name="me"),
    path(f"{api}accounts/<str:handle>", views.profile, name="profile"),
    path(f"{api}audience", views.audience, name="audience"),
    path(f"{api}audience/summary", views.audience_summary, name="audience_summary"),
    path(f"{api}posts", views.posts, name="posts"),
    path(f"{api}posts/<str:post_id>", views.post, name="post"),
    path(f"{api}posts/<str:post_id>/metrics", views.post_metrics, name="post_metrics"),
    path(f"{api}metrics/posts", views.many_post_metrics, name="many_post_metrics"),
    path(f"{api}metrics/account", views.account_metrics, name="account_metrics"),
    path(f"{api}notifications", views.notifications, name="notifications"),
    path(f"{api}search", views.search, name="search"),
    path(f"{api}interactions/<str:event_id>", views.interaction, name="interaction"),
    path(f"{api}interactions/<str:event_id>/reply", views.reply, name="reply"),
    path(f"{api}interactions/<str:event_id>/hide", views.hide, name="hide"),
    path(f"{api}faults", views.faults, name="faults"),
    path(f"{api}clock", views.clock, name="clock"),
    path(f"{api}clock/advance", views.advance, name="advance"),
    path(f"{api}webhook", views.webhook, name="webhook"),
    path("@<str:handle>", views.profile_page, name="profile_page"),
    path("@<str:handle>/<str:post_id>", views.post_page, name="post_page"),
]
