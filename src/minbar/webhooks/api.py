"""Webhook endpoints and their deliveries under /api/v1/workspaces/{slug}/webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor
from minbar.webhooks import actions
from minbar.webhooks.models import WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

_ERRORS: dict[int, type[Schema]] = {403: ErrorOut, 404: ErrorOut}


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    disabled_reason: str
    disabled_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    created_at: datetime


class EndpointWithSecretOut(EndpointOut):
    secret: str


class EndpointIn(Schema):
    # Checked by the action, after the workspace: outsiders learn nothing from a 422.
    url: str = ""
    events: list[str] = ["all"]
    description: str = ""


class EndpointPatch(Schema):
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    active: bool | None = None


class SecretOut(Schema):
    secret: str


class DeliveryOut(Schema):
    id: int
    uid: UUID
    event_type: str
    event_id: UUID
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    last_response: str
    last_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


@router.get("/{slug}/webhooks", response={200: list[EndpointOut], **_ERRORS})
@paginate(Page)
def list_endpoints(request: HttpRequest, slug: str) -> QuerySet[WebhookEndpoint]:
    return actions.endpoints(api_access(request, slug))


@router.post(
    "/{slug}/webhooks",
    response={201: EndpointWithSecretOut, 409: ErrorOut, 422: ErrorOut, **_ERRORS},
    summary="Add a webhook endpoint; the answer holds its signing secret",
)
def create_endpoint(request: HttpRequest, slug: str, payload: EndpointIn) -> Status:
    access = api_access(request, slug)
    endpoint = actions.create_endpoint(
        api_actor(request),
        access,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    return Status(201, endpoint)


@router.get("/{slug}/webhooks/{endpoint_id}", response={200: EndpointOut, **_ERRORS})
def get_endpoint(request: HttpRequest, slug: str, endpoint_id: int) -> WebhookEndpoint:
    return actions.get_endpoint(api_access(request, slug), endpoint_id)


@router.patch(
    "/{slug}/webhooks/{endpoint_id}",
    response={200: EndpointOut, 422: ErrorOut, **_ERRORS},
    summary="Change the address, events or description, or turn it on or off",
)
def update_endpoint(
    request: HttpRequest, slug: str, endpoint_id: int, payload: EndpointPatch
) -> WebhookEndpoint:
    access = api_access(request, slug)
    actor = api_actor(request)
    endpoint = actions.update_endpoint(
        actor,
        access,
        endpoint_id,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    if payload.active is not None:
        endpoint = actions.set_active(actor, access, endpoint_id, payload.active)
    return endpoint


@router.delete("/{slug}/webhooks/{endpoint_id}", response={204: None, **_ERRORS})
def delete_endpoint(request: HttpRequest, slug: str, endpoint_id: int) -> Status:
    actions.delete_endpoint(api_actor(request), api_access(request, slug), endpoint_id)
    return Status(204, None)


@router.get("/{slug}/webhooks/{endpoint_id}/secret", response={200: SecretOut, **_ERRORS})
def reveal_secret(request: HttpRequest, slug: str, endpoint_id: int) -> dict[str, str]:
    return {"secret": actions.get_endpoint(api_access(request, slug), endpoint_id).secret}


@router.post(
    "/{slug}/webhooks/{endpoint_id}/rotate-secret",
    response={200: EndpointWithSecretOut, **_ERRORS},
    summary="Replace the signing secret; the old one stops working at once",
)
def rotate_secret(request: HttpRequest, slug: str, endpoint_id: int) -> WebhookEndpoint:
    return actions.rotate_secret(api_actor(request), api_access(request, slug), endpoint_id)


@router.post(
    "/{slug}/webhooks/{endpoint_id}/test",
    response={202: DeliveryOut, 409: ErrorOut, **_ERRORS},
    summary="Send a webhook.test event to this endpoint",
)
def send_test(request: HttpRequest, slug: str, endpoint_id: int) -> Status:
    delivery = actions.send_test(api_actor(request), api_access(request, slug), endpoint_id)
    return Status(202, delivery)


@router.get(
    "/{slug}/webhooks/{endpoint_id}/deliveries", response={200: list[DeliveryOut], **_ERRORS}
)
@paginate(Page)
def list_deliveries(
    request: HttpRequest, slug: str, endpoint_id: int, state: str = ""
) -> QuerySet[WebhookDelivery]:
    rows = actions.deliveries(api_access(request, slug), endpoint_id)
    return rows.filter(state=state) if state else rows


@router.post(
    "/{slug}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut, 409: ErrorOut, **_ERRORS},
    summary="Send a failed delivery again (same Minbar-Delivery id)",
)
def redeliver(request: HttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> Status:
    delivery = actions.redeliver(
        api_actor(request), api_access(request, slug), endpoint_id, delivery_id
    )
    return Status(202, delivery)
