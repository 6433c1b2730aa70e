from __future__ import annotations

from django.urls import path

from minbar.channels import views

app_name = "channels"

urlpatterns = [
    path("w/<slug:slug>/channels/", views.channel_list, name="list"),
    path("w/<slug:slug>/channels/connect/<slug:network>/", views.connect, name="connect"),
    path("w/<slug:slug>/channels/<int:channel_id>/", views.detail, name="detail"),
    path("w/<slug:slug>/channels/<int:channel_id>/test/", views.test, name="test"),
    path("w/<slug:slug>/channels/<int:channel_id>/activity/", views.activity, name="activity"),
    path("w/<slug:slug>/channels/<int:channel_id>/remove/", views.remove, name="remove"),
    path("w/<slug:slug>/channels/<int:channel_id>/accounts/", views.choose, name="choose"),
    path("channels/oauth/callback/", views.oauth_callback, name="oauth_callback"),
]
