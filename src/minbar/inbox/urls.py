from __future__ import annotations

from django.urls import path

from minbar.inbox import views

app_name = "inbox"

urlpatterns = [
    path("hooks/inbox/<str:token>/", views.push, name="push"),
    path("w/<slug:slug>/inbox/", views.inbox, name="list"),
    path("w/<slug:slug>/inbox/bulk/", views.bulk, name="bulk"),
    path("w/<slug:slug>/inbox/saved-replies/", views.saved_replies, name="saved_replies"),
    path("w/<slug:slug>/inbox/rules/", views.rules_page, name="rules"),
    path("w/<slug:slug>/inbox/views/", views.views_edit, name="views"),
    path("w/<slug:slug>/inbox/metrics/", views.metrics_page, name="metrics"),
    path("w/<slug:slug>/inbox/hours/", views.hours_page, name="hours"),
    path("w/<slug:slug>/inbox/<int:item_id>/moderate/", views.moderate, name="moderate"),
    path("w/<slug:slug>/inbox/<int:item_id>/", views.detail, name="detail"),
    path("w/<slug:slug>/inbox/<int:item_id>/act/", views.act, name="act"),
    path("w/<slug:slug>/inbox/<int:item_id>/reply/", views.reply, name="reply"),
    path("w/<slug:slug>/inbox/<int:item_id>/note/", views.note, name="note"),
    path(
        "w/<slug:slug>/inbox/<int:item_id>/replies/<int:reply_id>/retry/",
        views.retry_reply,
        name="retry_reply",
    ),
]
