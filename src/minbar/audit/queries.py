"""The one filter behind the audit log page, its CSV export and its API."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.models import AuditEvent
from minbar.core.errors import InvalidInput
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership


def workspace_events(access: WorkspaceAccess) -> QuerySet[AuditEvent]:
    """The workspace's events, plus account events (sign-ins, 2FA) of its current members.

    Account events belong to no workspace; owners and admins still need to see
    who signed in to their team's accounts and from where.
    """
    member_ids = Membership.objects.filter(workspace=access.workspace).values("user_id")
    member_names = Membership.objects.filter(workspace=access.workspace).values("user__username")
    return AuditEvent.objects.filter(
        Q(workspace=access.workspace)
        | Q(workspace__isnull=True, actor_id__in=member_ids)
        | Q(workspace__isnull=True, actor__isnull=True, actor_name__in=member_names)
    )


def filtered_events(access: WorkspaceAccess, params: dict[str, str]) -> QuerySet[AuditEvent]:
    events = workspace_events(access)
    if params.get("action"):
        events = events.filter(action=params["action"])
    if params.get("actor"):
        events = events.filter(actor_name__iexact=params["actor"].strip())
    if params.get("since"):
        try:
            since = datetime.fromisoformat(params["since"].strip())
        except ValueError:
            raise InvalidInput(
                _("“%(value)s” is not a date.") % {"value": params["since"]},
                fields={"since": _("Use a date like 2026-01-31.")},
            ) from None
        if timezone.is_naive(since):
            since = timezone.make_aware(since)
        events = events.filter(created_at__gte=since)
    return events
