from __future__ import annotations

from django.urls import path

from minbar.links import views

app_name = "links"

_LINK = "w/<slug:slug>/links/<int:link_id>/"

urlpatterns = [
    path("w/<slug:slug>/links/", views.link_list, name="list"),
    path("w/<slug:slug>/links/new/", views.link_create, name="create"),
    path("w/<slug:slug>/links/settings/", views.link_settings, name="settings"),
    path("w/<slug:slug>/links/settings/secret/", views.reveal_secret, name="secret"),
    path("w/<slug:slug>/links/settings/rotate-secret/", views.rotate_secret, name="rotate_secret"),
    path("w/<slug:slug>/links/settings/rotate-key/", views.rotate_key, name="rotate_key"),
    path("w/<slug:slug>/conversions/", views.conversion_list, name="conversions"),
    path(_LINK, views.link_detail, name="detail"),
    path(_LINK + "edit/", views.link_edit, name="edit"),
    path(_LINK + "delete/", views.link_delete, name="delete"),
    path(_LINK + "qr.<str:fmt>", views.link_qr, name="qr"),
]
