from __future__ import annotations

from django.urls import path

from minbar.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.inbox, name="list"),
    path("notifications/read/", views.read_all, name="read_all"),
]
