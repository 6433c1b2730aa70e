from __future__ import annotations

from django.urls import path

from minbar.webhooks import views

app_name = "webhooks"

_ENDPOINT = "w/<slug:slug>/settings/webhooks/<int:endpoint_id>/"

urlpatterns = [
    path("w/<slug:slug>/settings/webhooks/", views.endpoint_list, name="list"),
    path(_ENDPOINT, views.detail, name="detail"),
    path(_ENDPOINT + "secret/", views.reveal_secret, name="secret"),
    path(_ENDPOINT + "rotate/", views.rotate, name="rotate"),
    path(_ENDPOINT + "test/", views.send_test, name="test"),
    path(_ENDPOINT + "active/", views.set_active, name="active"),
    path(_ENDPOINT + "delete/", views.delete, name="delete"),
    path(
        _ENDPOINT + "deliveries/<int:delivery_id>/redeliver/",
        views.redeliver,
        name="redeliver",
    ),
]
