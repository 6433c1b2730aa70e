from __future__ import annotations

from django.urls import path

from minbar.media import public, views

app_name = "media"

urlpatterns = [
    path("w/<slug:slug>/media/", views.library, name="library"),
    path("w/<slug:slug>/media/upload/", views.upload, name="upload"),
    path("w/<slug:slug>/media/<int:asset_id>/", views.detail, name="detail"),
    path("w/<slug:slug>/media/<int:asset_id>/edit/", views.edit, name="edit"),
    path("w/<slug:slug>/media/<int:asset_id>/delete/", views.delete, name="delete"),
    path("w/<slug:slug>/media/<int:asset_id>/file/", views.serve_file, name="file"),
    path("w/<slug:slug>/media/<int:asset_id>/thumbnail/", views.serve_thumbnail, name="thumbnail"),
    # Signed, expiring links for networks that download media (Instagram, Threads).
    path("media/public/<str:token>/<str:filename>", public.serve_public, name="public"),
]
