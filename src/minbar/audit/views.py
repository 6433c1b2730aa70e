from __future__ import annotations

import csv
from datetime import UTC

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from minbar.audit.actions import ACTION_LABELS, label_for, record
from minbar.audit.queries import filtered_events
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm


@workspace_view(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("action", "actor", "since")}
    error = ""
    try:
        events = filtered_events(access, params)
    except ActionError as exc:
        error = exc.fields.get("since", exc.message)
        events = filtered_events(access, {**params, "since": ""})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "params": params,
            "actions": sorted((k, str(v)) for k, v in ACTION_LABELS.items()),
            "label_for": label_for,
            "error": error,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@workspace_view(Perm.VIEW_AUDIT)
def audit_csv(request: HttpRequest, access: WorkspaceAccess) -> HttpResponseBase:
    params = {k: request.GET.get(k, "") for k in ("action", "actor", "since")}
    try:
        events = filtered_events(access, params)
    except ActionError as exc:
        return HttpResponseBadRequest(exc.message)
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
