from __future__ import annotations

from django.urls import path

from minbar.reports import views

app_name = "reports"

urlpatterns = [
    path("w/<slug:slug>/reports/pdf/", views.report_pdf, name="pdf"),
    path("w/<slug:slug>/reports/pdf/prepare/", views.prepare_pdf, name="prepare"),
    path("w/<slug:slug>/reports/pdf/<str:token>/", views.prepared_pdf, name="prepared"),
    path("w/<slug:slug>/reports/schedules/", views.schedule_list, name="schedules"),
    path("w/<slug:slug>/reports/schedules/new/", views.schedule_create, name="create"),
    path("w/<slug:slug>/reports/schedules/<int:schedule_id>/", views.schedule_edit, name="edit"),
    path(
        "w/<slug:slug>/reports/schedules/<int:schedule_id>/delete/",
        views.schedule_delete,
        name="delete",
    ),
    path(
        "w/<slug:slug>/reports/schedules/<int:schedule_id>/send/",
        views.schedule_send,
        name="send",
    ),
]
