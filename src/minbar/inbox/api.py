from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor
from minbar.core.errors import InvalidInput
from minbar.inbox import actions
from minbar.inbox.models import Item, Reply, valid_rating

router = Router(tags=["inbox"])


class ContactOut(Schema):
    id: int
    network: str
    handle: str
    display_name: str
    followers: int | None
    vip: bool


class ItemOut(Schema):
    id: int
    channel_id: int
    kind: str
    status: str
    text: str
    url: str
    language: str
    rating: int | None  # a review's stars out of five; null for everything else
    remote_created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    contact: ContactOut
    assignee_id: int | None
    tags: list[str]
    sentiment: str
    parent_id: int | None
    conversation_id: int | None
    first_response_at: datetime | None
    answerable: bool


class ReplyOut(Schema):
    id: int
    state: str
    text: str
    remote_id: str
    url: str
    error_message: str
    created_at: datetime
    sent_at: datetime | None


class ReplyIn(Schema):
    text: str = ""
    media: list[int] = []  # files of the workspace's media library


class ChangeIn(Schema):
    """What to change on the items; fields left out are left alone."""

    items: list[int] = []
    status: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    add_tags: list[str] = []
    remove_tags: list[str] = []


@router.get("/{slug}/inbox", response={200: list[ItemOut], 422: ErrorOut})
@paginate(Page)
def list_items(
    request: HttpRequest,
    slug: str,
    status: str = "open",
    channel_id: int | None = None,
    kind: str = "",
    rating: int | None = None,
    max_rating: int | None = None,
) -> QuerySet[Item]:
    """Items, newest first; ``rating`` keeps reviews with exactly those stars, ``max_rating``
    those with at most that many."""
    access = api_access(request, slug)
    for name, value in (("rating", rating), ("max_rating", max_rating)):
        if value is not None and valid_rating(value) is None:
            raise InvalidInput(
                _("A rating is a number of stars from 1 to 5."),
                fields={name: _("Use a whole number from 1 to 5.")},
            )
    items = actions.items_for(access).select_related("contact")
    if rating is not None:
        items = items.filter(rating=rating)
    if max_rating is not None:
        items = items.filter(rating__lte=max_rating)
    if status != "all":
        items = items.filter(status=status)
    if channel_id is not None:
        items = items.filter(channel_id=channel_id)
    if kind:
        items = items.filter(kind=kind)
    return items


@router.get("/{slug}/inbox/{item_id}", response={200: ItemOut, 404: ErrorOut})
def get_item(request: HttpRequest, slug: str, item_id: int) -> Item:
    return actions.get_item(api_access(request, slug), item_id)


@router.post(
    "/{slug}/inbox/{item_id}/replies",
    response={201: ReplyOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Answer in the thread; the reply is kept with the network's reason if it fails",
)
def reply(request: HttpRequest, slug: str, item_id: int, payload: ReplyIn) -> Status:
    access = api_access(request, slug)
    answer: Reply = actions.reply(api_actor(request), access, item_id, payload.text, payload.media)
    return Status(201, answer)


@router.post(
    "/{slug}/inbox-changes",
    response={200: list[ItemOut], 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Assign, close/reopen/mark spam, and tag several items at once",
)
def change(request: HttpRequest, slug: str, payload: ChangeIn) -> list[Item]:
    access = api_access(request, slug)
    actor = api_actor(request)
    for item_id in payload.items:
        actions.get_item(access, item_id)  # 404 before any change
    if payload.assignee_id is not None or payload.unassign:
        actions.assign(actor, access, payload.items, payload.assignee_id)
    if payload.status is not None:
        actions.set_status(actor, access, payload.items, payload.status)
    if payload.add_tags or payload.remove_tags:
        actions.tag(actor, access, payload.items, payload.add_tags, payload.remove_tags)
    return list(actions.items_for(access).filter(pk__in=payload.items).select_related("contact"))


class StatsOut(Schema):
    received: int
    answerable: int
    answered: int
    response_rate: float | None
    first_response_average_seconds: float | None
    first_response_median_seconds: float | None
    answered_by_rules: int
    over_target: int


class MetricsOut(Schema):
    start: datetime
    end: datetime
    time_zone: str
    total: StatsOut
    by_channel: dict[int, StatsOut]
    by_member: dict[int, StatsOut]
    by_day: dict[str, StatsOut]


@router.get(
    "/{slug}/inbox-metrics",
    response={200: MetricsOut, 404: ErrorOut},
    summary="Response rate and first-response time (business hours) over the last N days",
)
def inbox_metrics(request: HttpRequest, slug: str, days: int = 30) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from minbar.inbox import metrics
    from minbar.inbox.hours import BusinessHours

    access = api_access(request, slug)
    days = min(max(days, 1), 366)
    end = timezone.now()
    start = end - timedelta(days=days)
    hours = BusinessHours.of(access.workspace)
    result = metrics.report(actions.items_for(access), hours, start, end)
    return {
        "start": start,
        "end": end,
        "time_zone": str(hours.zone),
        "total": result.total.as_dict(),
        "by_channel": {pk: s.as_dict() for pk, s in result.by_channel.items()},
        "by_member": {pk: s.as_dict() for pk, s in result.by_member.items()},
        "by_day": {day.isoformat(): s.as_dict() for day, s in result.by_day.items()},
    }
