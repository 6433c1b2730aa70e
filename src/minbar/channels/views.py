from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from minbar.channels import actions, choices
from minbar.channels.forms import connect_form_for
from minbar.channels.labels import (
    COUNTING_LABELS,
    interaction_label,
    join_words,
    metric_label,
)
from minbar.channels.models import Channel
from minbar.connectors.types import AuthKind
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.publishing.views import queue_context
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm


@workspace_view(Perm.VIEW_CONTENT)
def channel_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    channels = Channel.objects.filter(workspace=access.workspace)
    networks = actions.available_networks()
    labels = {n.network: n.capabilities.label for n in networks}
    return render(
        request,
        "channels/list.html",
        {
            "channels": [(c, labels.get(c.network, c.network)) for c in channels],
            "networks": networks,
            "can_manage": access.can(Perm.MANAGE_CHANNELS),
        },
    )


@workspace_view(Perm.MANAGE_CHANNELS)
def connect(request: HttpRequest, access: WorkspaceAccess, network: str) -> HttpResponse:
    try:
        cls = actions.connector_class(network)
    except ActionError:
        raise Http404 from None
    form = connect_form_for(cls, request.POST or None)
    actor = Actor.from_request(request)
    if request.method == "POST" and form.is_valid():
        values = {k: str(v) for k, v in form.cleaned_data.items() if v is not None}
        try:
            if cls.capabilities.auth == AuthKind.OAUTH2:
                return redirect(
                    actions.start_oauth(actor, access, network, values.get("server_url", ""))
                )
            channel = actions.connect_with_fields(actor, access, network, values)
        except ActionError as exc:
            for field, text in exc.fields.items():
                form.add_error(field if field in form.fields else None, text)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(handle)s is connected.") % {"handle": channel.handle})
            return redirect("channels:detail", slug=access.workspace.slug, channel_id=channel.pk)
    return render(
        request, "channels/connect.html", {"connector": cls, "form": form, "caps": cls.capabilities}
    )


@login_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Where networks send people back after they approve Minbar."""
    try:
        channel = actions.finish_oauth(
            Actor.from_request(request),
            request.user,  # type: ignore[arg-type]
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error_description") or request.GET.get("error", ""),
        )
    except Http404:
        raise
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("core:home")
    messages.success(request, _("%(handle)s is connected.") % {"handle": channel.handle})
    if choices.choices_of(channel):
        # The sign-in can act for other accounts too: offer them at once.
        return redirect("channels:choose", slug=channel.workspace.slug, channel_id=channel.pk)
    return redirect("channels:detail", slug=channel.workspace.slug, channel_id=channel.pk)


@workspace_view(Perm.MANAGE_CHANNELS)
def choose(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    """Connect more accounts from the sign-in this channel holds (Pages, organizations…)."""
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            made = choices.connect_choices(
                Actor.from_request(request), access, channel_id, request.POST.getlist("accounts")
            )
        except ActionError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s more account is connected.",
                    "%(count)s more accounts are connected.",
                    len(made),
                )
                % {"count": len(made)},
            )
            return redirect("channels:list", slug=access.workspace.slug)
    label = actions.connector_class(channel.network).capabilities.label
    return render(
        request,
        "channels/choose.html",
        {
            "channel": channel,
            "label": label,
            "offered": choices.offered(channel),
            "error": error,
        },
    )


@workspace_view(Perm.VIEW_CONTENT)
def detail(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise Http404
    connector = actions.connector_for(channel)
    caps = connector.account_capabilities()
    # Networks with a daily API quota (YouTube) report what is left; read from the
    # stored credentials, never from the network.
    quota_status = getattr(connector, "quota_status", None)
    # YouTube keeps uploads private while the Google Cloud project is unaudited.
    locked = getattr(connector, "uploads_locked_private", None)
    return render(
        request,
        "channels/detail.html",
        {
            "channel": channel,
            "caps": caps,
            "quota": quota_status() if callable(quota_status) else None,
            "uploads_locked_private": bool(locked()) if callable(locked) else False,
            "counting": COUNTING_LABELS.get(caps.text.counting, caps.text.counting),
            "post_metrics": join_words(metric_label(m) for m in caps.post_metrics),
            "interaction_kinds": join_words(interaction_label(k) for k in caps.interactions),
            "can_manage": access.can(Perm.MANAGE_CHANNELS),
            "queue": queue_context(access, channel),
            "more_accounts": len(choices.choices_of(channel)),
        },
    )


@workspace_view(Perm.VIEW_CONTENT)
def activity(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise Http404
    found = actions.recent_activity(channel)
    return render(
        request,
        "channels/_activity.html",
        {
            "channel": channel,
            "error": found.error,
            "from_inbox": found.from_inbox,
            "metrics": [
                (metric_label(name), value) for name, value in sorted(found.metrics.items())
            ],
            "interactions": [(interaction_label(i.kind), i) for i in found.interactions],
        },
    )


@workspace_view(Perm.VIEW_CONTENT)
@require_POST
def test(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    try:
        channel = actions.test_channel(Actor.from_request(request), access, channel_id)
    except ActionError:
        raise Http404 from None
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "channels/_health.html", {"channel": channel, "tested": True})
    if channel.health == "connected":
        messages.success(request, _("The connection works."))
    else:
        messages.error(request, channel.health_message)
    return redirect("channels:detail", slug=access.workspace.slug, channel_id=channel_id)


@workspace_view(Perm.MANAGE_CHANNELS)
def remove(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise Http404
    if request.method == "POST":
        removed = actions.disconnect(Actor.from_request(request), access, channel_id)
        messages.success(request, _("The channel was removed from Minbar."))
        if removed.revoked:
            messages.info(request, _("The network confirmed that Minbar's access has ended."))
        if removed.problem:
            messages.warning(request, removed.problem)
        return redirect("channels:list", slug=access.workspace.slug)
    cls = actions.connector_class(channel.network)
    return render(
        request,
        "channels/remove.html",
        {"channel": channel, "label": cls.capabilities.label, "revokes": actions.revokes(cls)},
    )
