from __future__ import annotations

from django.urls import path

from minbar.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("w/<slug:slug>/members/", views.members, name="members"),
    path("w/<slug:slug>/members/invite/", views.invite, name="invite"),
    path("w/<slug:slug>/members/<int:member_id>/role/", views.change_role, name="change_role"),
    path(
        "w/<slug:slug>/members/<int:member_id>/remove/", views.remove_member, name="remove_member"
    ),
    path(
        "w/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("w/<slug:slug>/settings/", views.workspace_settings, name="settings"),
    path("setup/", views.setup, name="setup"),
    path("workspaces/new/", views.new_workspace, name="new"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
