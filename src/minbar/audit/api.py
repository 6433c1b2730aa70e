from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from minbar.api import Page, api_access
from minbar.audit.actions import label_for
from minbar.audit.models import AuditEvent
from minbar.audit.queries import filtered_events
from minbar.core.errors import NotAllowed
from minbar.workspaces.roles import Perm

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str
    action: str
    description: str
    target_type: str
    target_id: str
    target: str
    ip_address: str | None
    via: str
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str:
        return obj.actor_name

    @staticmethod
    def resolve_description(obj: AuditEvent) -> str:
        return label_for(obj.action)

    @staticmethod
    def resolve_target(obj: AuditEvent) -> str:
        return obj.target_label


@router.get(
    "/{slug}/audit-events", response=list[AuditEventOut], summary="Audit log (owners and admins)"
)
@paginate(Page)
def list_audit_events(
    request: HttpRequest,
    slug: str,
    action: str = "",
    actor: str = "",
    since: str = "",
) -> QuerySet[AuditEvent]:
    access = api_access(request, slug)
    if not access.can(Perm.VIEW_AUDIT):
        raise NotAllowed(_("Only owners and admins can read the audit log."))
    return filtered_events(access, {"action": action, "actor": actor, "since": since})
