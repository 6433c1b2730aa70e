"""Every state change of webhook endpoints and deliveries."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.actions import record
from minbar.connectors.errors import ConnectorError
from minbar.connectors.http import UnsafeURL, check_outbound_url
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.notifications.actions import notify, workspace_admins
from minbar.webhooks.delivery import kick
from minbar.webhooks.events import EVENT_TYPES, TEST_EVENT, emit
from minbar.webhooks.models import ALL_EVENTS, DeliveryState, WebhookDelivery, WebhookEndpoint
from minbar.webhooks.receivers import endpoints_changed
from minbar.webhooks.signing import new_secret
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

MAX_ENDPOINTS = 20


def _require_manage(access: WorkspaceAccess) -> None:
    if not access.can(Perm.MANAGE_WORKSPACE):
        raise NotAllowed(_("Only owners and admins can manage webhooks."))


def endpoints(access: WorkspaceAccess) -> QuerySet[WebhookEndpoint]:
    _require_manage(access)
    return WebhookEndpoint.objects.filter(workspace=access.workspace)


def get_endpoint(access: WorkspaceAccess, endpoint_id: int) -> WebhookEndpoint:
    endpoint = endpoints(access).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("No such webhook endpoint."))
    return endpoint


def deliveries(access: WorkspaceAccess, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    return get_endpoint(access, endpoint_id).deliveries.all()


def get_delivery(access: WorkspaceAccess, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = deliveries(access, endpoint_id).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(_("No such delivery."))
    return delivery


def _look_again() -> None:
    # Now for this connection's own transaction, and after the commit for the others.
    endpoints_changed()
    transaction.on_commit(endpoints_changed)


# -- validation -------------------------------------------------------------------------


def _is_private_host(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    return bool(infos) and all(not ipaddress.ip_address(i[4][0]).is_global for i in infos)


def clean_url(url: str) -> str:
    """https to the internet; http only to a private host, and only where those are allowed."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 1000:
        raise InvalidInput(
            _("Enter a full https:// address."), fields={"url": _("Enter a full https:// address.")}
        )
    if parts.username or parts.password:
        message = _("Put no user name or password in the address; Minbar signs every request.")
        raise InvalidInput(message, fields={"url": message})
    allow_private = getattr(settings, "MINBAR_ALLOW_PRIVATE_URLS", False)
    if parts.scheme == "http" and not (allow_private and _is_private_host(parts.hostname)):
        message = _("Use https://. Plain http:// is allowed only for private addresses.")
        raise InvalidInput(message, fields={"url": message})
    try:
        check_outbound_url(url)
    except UnsafeURL:
        message = _("This address points inside Minbar's own network; Minbar will not call it.")
        raise InvalidInput(message, fields={"url": message}) from None
    except ConnectorError:
        message = _("The server name in this address cannot be found.")
        raise InvalidInput(message, fields={"url": message}) from None
    return url


def clean_events(events: Iterable[str]) -> list[str]:
    chosen = sorted({str(e).strip() for e in events if str(e).strip()})
    unknown = [e for e in chosen if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        message = _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}
        raise InvalidInput(message, fields={"events": message})
    if not chosen:
        message = _("Choose at least one event.")
        raise InvalidInput(message, fields={"events": message})
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


# -- endpoints --------------------------------------------------------------------------


@transaction.atomic
def create_endpoint(
    actor: Actor,
    access: WorkspaceAccess,
    *,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    _require_manage(access)
    if WebhookEndpoint.objects.filter(workspace=access.workspace).count() >= MAX_ENDPOINTS:
        raise Conflict(
            _("A workspace can have at most %(count)s webhook endpoints.")
            % {"count": MAX_ENDPOINTS}
        )
    endpoint = WebhookEndpoint.objects.create(
        workspace=access.workspace,
        url=clean_url(url),
        events=clean_events(events),
        description=description.strip()[:200],
        secret=new_secret(),
        created_by=actor.user,
    )
    _look_again()
    record(
        actor,
        "webhook.created",
        workspace=access.workspace,
        target=endpoint,
        data={"events": endpoint.events},
    )
    return endpoint


@transaction.atomic
def update_endpoint(
    actor: Actor,
    access: WorkspaceAccess,
    endpoint_id: int,
    *,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    endpoint = get_endpoint(access, endpoint_id)
    changed: list[str] = []
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = clean_url(url)
        changed.append("url")
    if events is not None:
        cleaned = clean_events(events)
        if cleaned != endpoint.events:
            endpoint.events = cleaned
            changed.append("events")
    if description is not None and description.strip()[:200] != endpoint.description:
        endpoint.description = description.strip()[:200]
        changed.append("description")
    if changed:
        endpoint.updated_at = timezone.now()
        endpoint.save(update_fields=[*changed, "updated_at"])
        record(
            actor,
            "webhook.updated",
            workspace=access.workspace,
            target=endpoint,
            data={"changed": changed, "events": endpoint.events},
        )
    return endpoint


@transaction.atomic
def delete_endpoint(actor: Actor, access: WorkspaceAccess, endpoint_id: int) -> None:
    endpoint = get_endpoint(access, endpoint_id)
    record(actor, "webhook.deleted", workspace=access.workspace, target=endpoint)
    endpoint.delete()


@transaction.atomic
def rotate_secret(actor: Actor, access: WorkspaceAccess, endpoint_id: int) -> WebhookEndpoint:
    """A new secret at once; the old one stops working with the next request."""
    endpoint = get_endpoint(access, endpoint_id)
    endpoint.secret = new_secret()
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    record(actor, "webhook.secret_rotated", workspace=access.workspace, target=endpoint)
    return endpoint


@transaction.atomic
def set_active(
    actor: Actor, access: WorkspaceAccess, endpoint_id: int, active: bool
) -> WebhookEndpoint:
    endpoint = get_endpoint(access, endpoint_id)
    if endpoint.active == active:
        return endpoint
    endpoint.active = active
    endpoint.updated_at = timezone.now()
    if active:
        # A fresh start: the failures that turned it off are history.
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
    else:
        endpoint.disabled_reason = _("Turned off by %(name)s.") % {
            "name": actor.user.username if actor.user else _("Minbar")
        }
        endpoint.disabled_at = timezone.now()
    endpoint.save()
    record(
        actor,
        "webhook.enabled" if active else "webhook.disabled",
        workspace=access.workspace,
        target=endpoint,
    )
    if active:
        _look_again()
        kick()
    return endpoint


def disable_failing(endpoint: WebhookEndpoint, reason: str) -> bool:
    """Turn off an endpoint that keeps failing and tell the workspace's admins."""
    moment = timezone.now()
    with transaction.atomic():
        if not WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_reason=reason[:300], disabled_at=moment, updated_at=moment
        ):
            return False
        workspace = endpoint.workspace
        record(
            Actor.system(),
            "webhook.disabled",
            workspace=workspace,
            target=endpoint,
            data={"reason": reason},
        )
        host = urlsplit(endpoint.url).hostname or endpoint.url
        notify(
            workspace_admins(workspace),
            kind="webhook.disabled",
            workspace=workspace,
            title=lambda: _("Minbar turned off the webhook to %(host)s") % {"host": host},
            body=lambda: " ".join(
                (
                    reason,
                    _(
                        "Fix the receiver, then turn the webhook on again: the deliveries "
                        "still waiting are sent then. New events are not recorded while it is off."
                    ),
                )
            ),
            url=reverse("webhooks:detail", args=[workspace.slug, endpoint.pk]),
        )
    return True


# -- deliveries -------------------------------------------------------------------------


def send_test(actor: Actor, access: WorkspaceAccess, endpoint_id: int) -> WebhookDelivery:
    endpoint = get_endpoint(access, endpoint_id)
    if not endpoint.active:
        raise Conflict(_("Turn the webhook on before sending a test event."))
    with transaction.atomic():
        (delivery,) = emit(
            access.workspace,
            TEST_EVENT,
            {
                "message": "This is a test event from Minbar.",
                "endpoint": {"id": endpoint.pk, "description": endpoint.description},
                "requested_by": actor.user.username if actor.user else "",
            },
            endpoints=[endpoint],
        )
    return delivery


@transaction.atomic
def redeliver(
    actor: Actor, access: WorkspaceAccess, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    """Send a failed delivery again, with the same ``Minbar-Delivery`` id and a fresh schedule."""
    delivery = get_delivery(access, endpoint_id, delivery_id)
    if delivery.state != DeliveryState.FAILED:
        raise Conflict(_("Only a failed delivery can be sent again."))
    if not delivery.endpoint.active:
        raise Conflict(_("Turn the webhook on before sending a delivery again."))
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    record(
        actor,
        "webhook.redelivered",
        workspace=access.workspace,
        target=delivery.endpoint,
        data={"delivery": str(delivery.uid), "event": delivery.event_type},
    )
    kick()
    delivery.refresh_from_db()
    return delivery
