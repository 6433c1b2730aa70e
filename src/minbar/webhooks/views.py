from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.core.actor import Actor
from minbar.core.errors import ActionError, NotFound
from minbar.webhooks import actions
from minbar.webhooks.events import EVENT_TYPES
from minbar.webhooks.forms import EndpointForm
from minbar.webhooks.models import ALL_EVENTS, WebhookEndpoint
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm


def _apply_errors(form: EndpointForm, exc: ActionError) -> None:
    for field, text in exc.fields.items():
        form.add_error(field if field in form.fields else None, text)
    if not exc.fields:
        form.add_error(None, exc.message)


def _event_labels(endpoint: WebhookEndpoint) -> list[str]:
    if ALL_EVENTS in endpoint.events:
        return [_("All events")]
    return [str(EVENT_TYPES.get(e, e)) for e in endpoint.events]


@workspace_view(Perm.MANAGE_WORKSPACE)
def endpoint_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    form = EndpointForm(request.POST or None, initial={"events": [ALL_EVENTS]})
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = actions.create_endpoint(
                Actor.from_request(request),
                access,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The webhook was added. Reveal its signing secret to set up your receiver."),
            )
            return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint.pk)
    rows = [(e, _event_labels(e)) for e in actions.endpoints(access)]
    return render(request, "webhooks/list.html", {"rows": rows, "form": form})


def _detail(
    request: HttpRequest,
    access: WorkspaceAccess,
    endpoint: WebhookEndpoint,
    form: EndpointForm | None = None,
    secret: str = "",
) -> HttpResponse:
    form = form or EndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
        }
    )
    page = Paginator(endpoint.deliveries.all(), 25).get_page(request.GET.get("page"))
    deliveries: list[tuple[Any, str]] = [
        (d, json.dumps(d.payload, indent=2, ensure_ascii=False)) for d in page
    ]
    return render(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "events": _event_labels(endpoint),
            "form": form,
            "secret": secret,
            "page": page,
            "deliveries": deliveries,
        },
    )


def _get(access: WorkspaceAccess, endpoint_id: int) -> WebhookEndpoint:
    try:
        return actions.get_endpoint(access, endpoint_id)
    except NotFound:
        raise Http404 from None


@workspace_view(Perm.MANAGE_WORKSPACE)
def detail(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    endpoint = _get(access, endpoint_id)
    if request.method != "POST":
        return _detail(request, access, endpoint)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            actions.update_endpoint(
                Actor.from_request(request),
                access,
                endpoint.pk,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The webhook was saved."))
            return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint.pk)
    return _detail(request, access, endpoint, form=form)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def reveal_secret(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    endpoint = _get(access, endpoint_id)
    response = _detail(request, access, endpoint, secret=endpoint.secret)
    response["Cache-Control"] = "no-store"
    return response


def _post_action(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int, run: Any) -> Any:
    try:
        return run()
    except NotFound:
        raise Http404 from None
    except ActionError as exc:
        messages.error(request, exc.message)
    return None


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def rotate(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    endpoint = _post_action(
        request,
        access,
        endpoint_id,
        lambda: actions.rotate_secret(Actor.from_request(request), access, endpoint_id),
    )
    if endpoint is None:
        return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint_id)
    messages.success(
        request,
        _(
            "A new signing secret is in use. Give it to your receiver now; "
            "the old one no longer works."
        ),
    )
    response = _detail(request, access, endpoint, secret=endpoint.secret)
    response["Cache-Control"] = "no-store"
    return response


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def send_test(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    if _post_action(
        request,
        access,
        endpoint_id,
        lambda: actions.send_test(Actor.from_request(request), access, endpoint_id),
    ):
        messages.success(request, _("A test event is on its way; its delivery is listed below."))
    return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint_id)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def set_active(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    endpoint = _post_action(
        request,
        access,
        endpoint_id,
        lambda: actions.set_active(Actor.from_request(request), access, endpoint_id, active),
    )
    if endpoint is not None:
        messages.success(
            request, _("The webhook is on.") if endpoint.active else _("The webhook is off.")
        )
    return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint_id)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def delete(request: HttpRequest, access: WorkspaceAccess, endpoint_id: int) -> HttpResponse:
    try:
        actions.delete_endpoint(Actor.from_request(request), access, endpoint_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The webhook was deleted."))
    return redirect("webhooks:list", slug=access.workspace.slug)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def redeliver(
    request: HttpRequest, access: WorkspaceAccess, endpoint_id: int, delivery_id: int
) -> HttpResponse:
    if _post_action(
        request,
        access,
        endpoint_id,
        lambda: actions.redeliver(Actor.from_request(request), access, endpoint_id, delivery_id),
    ):
        messages.success(request, _("The delivery will be sent again in a moment."))
    return redirect("webhooks:detail", slug=access.workspace.slug, endpoint_id=endpoint_id)
