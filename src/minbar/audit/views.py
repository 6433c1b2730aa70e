from __future__ import annotations

import csv
from datetime import UTC, datetime

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from minbar.audit.actions import ACTION_LABELS, label_for, record
from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm


def filtered_events(access: WorkspaceAccess, params: dict[str, str]) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(workspace=access.workspace)
    if params.get("action"):
        events = events.filter(action=params["action"])
    if params.get("actor"):
        events = events.filter(actor_name__iexact=params["actor"])
    if params.get("since"):
        try:
            since = datetime.fromisoformat(params["since"])
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
            events = events.filter(created_at__gte=since)
        except ValueError:
            pass
    return events


@workspace_view(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("action", "actor", "since")}
    page = Paginator(filtered_events(access, params), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "params": params,
            "actions": sorted((k, str(v)) for k, v in ACTION_LABELS.items()),
            "label_for": label_for,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@workspace_view(Perm.VIEW_AUDIT)
def audit_csv(request: HttpRequest, access: WorkspaceAccess) -> StreamingHttpResponse:
    params = {k: request.GET.get(k, "") for k in ("action", "actor", "since")}
    events = filtered_events(access, params)
    record(
        Actor.from_request(request),
        "audit.exported",
        workspace=access.workspace,
        data={"filters": {k: v for k, v in params.items() if v}},
    )
    writer = csv.writer(_Echo())

    def rows():  # type: ignore[no-untyped-def]
        yield writer.writerow(
            [
                "time_utc",
                "actor",
                "action",
                "description",
                "target_type",
                "target_id",
                "target",
                "ip_address",
                "user_agent",
                "via",
                "data",
            ]
        )
        for e in events.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    e.created_at.astimezone(UTC).isoformat(),
                    e.actor_name,
                    e.action,
                    label_for(e.action),
                    e.target_type,
                    e.target_id,
                    e.target_label,
                    e.ip_address or "",
                    e.user_agent,
                    e.via,
                    e.data,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{access.workspace.slug}-{stamp}.csv"'
    )
    return response
