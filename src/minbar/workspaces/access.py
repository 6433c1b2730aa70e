"""Workspace lookups that always go through the caller's membership.

An object of another workspace is reported as missing (404), never as
forbidden, so that its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from minbar.accounts.models import User
from minbar.workspaces.models import Membership, Workspace
from minbar.workspaces.roles import Perm, has_perm, lower_role


@dataclass(frozen=True)
class WorkspaceAccess:
    workspace: Workspace
    membership: Membership
    role: str

    def can(self, perm: Perm) -> bool:
        return has_perm(self.role, perm)


def memberships_of(user: User) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("workspace", "workspace__organization")
        .order_by("workspace__name")
    )


def access_for(user: User, slug: str, role_cap: str | None = None) -> WorkspaceAccess:
    """The caller's access to workspace ``slug``, or 404 when they are not a member."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.filter(user=user, workspace__slug=slug)
        .select_related("workspace", "workspace__organization")
        .first()
    )
    if membership is None:
        raise Http404
    role = membership.role if role_cap is None else lower_role(membership.role, role_cap)
    return WorkspaceAccess(workspace=membership.workspace, membership=membership, role=role)
