from __future__ import annotations

from django.urls import path

from minbar.audit import views

app_name = "audit"

urlpatterns = [
    path("w/<slug:slug>/audit/", views.audit_log, name="log"),
    path("w/<slug:slug>/audit.csv", views.audit_csv, name="csv"),
]
