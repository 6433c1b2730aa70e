from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation

from minbar.core.modules import MODULES
from minbar.notifications.models import Notification
from minbar.workspaces.access import memberships_of
from minbar.workspaces.roles import Perm, Role, has_perm


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page frame needs: direction, the workspace switcher and the navigation."""
    context: dict[str, Any] = {"is_rtl": translation.get_language_bidi()}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    access = getattr(request, "workspace_access", None)
    # HTMX fragments (live counters, health, rows) have no top bar: skip its queries.
    if not getattr(request, "htmx", False):
        memberships = memberships_of(user)
        context["my_memberships"] = memberships
        context["can_create_workspace"] = any(m.role == Role.OWNER for m in memberships)
        context["unread_notifications"] = Notification.objects.filter(
            user=user, read_at__isnull=True
        ).count()
    if access is not None:
        context["current_workspace"] = access.workspace
        context["current_role"] = access.role
        context["nav_modules"] = [m for m in MODULES if has_perm(access.role, m.perm)]
        context["can_manage_members"] = has_perm(access.role, Perm.MANAGE_MEMBERS)
        context["can_view_members"] = has_perm(access.role, Perm.VIEW_MEMBERS)
        context["can_view_audit"] = has_perm(access.role, Perm.VIEW_AUDIT)
        context["can_manage_workspace"] = has_perm(access.role, Perm.MANAGE_WORKSPACE)
    return context
