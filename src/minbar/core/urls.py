from __future__ import annotations

from django.urls import path

from minbar.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.set_language, name="set_language"),
    path("w/<slug:slug>/", views.dashboard, name="dashboard"),
    path("w/<slug:slug>/m/<slug:module>/", views.module_page, name="module"),
]
