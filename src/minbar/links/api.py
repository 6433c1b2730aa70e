"""Links, their stats and conversions under /api/v1/workspaces/{slug}/…, and the two
conversion collectors under /api/v1/conversions (signed server calls, the browser snippet)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor, error_response
from minbar.core.errors import ActionError, InvalidInput, NotAllowed
from minbar.links import actions, stats, urls_util
from minbar.links.models import Conversion, ConversionSource, Link, LinkSettings
from minbar.webhooks.signing import SignatureError, verify

router = Router(tags=["links"])
collect_router = Router(tags=["conversions"])

_ERRORS: dict[int, type[Schema]] = {403: ErrorOut, 404: ErrorOut}
SIGNATURE_HEADER = "Minbar-Signature"
KEY_HEADER = "Minbar-Key"
TOLERANCE_SECONDS = 300


class UtmOut(Schema):
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str


class LinkOut(Schema):
    id: int
    code: str
    short_url: str
    destination: str
    target_url: str
    title: str
    utm: UtmOut
    channel_id: int | None
    post_id: int | None
    contact_id: int | None
    auto: bool
    active: bool
    created_at: datetime

    @staticmethod
    def resolve_short_url(obj: Link) -> str:
        cfg = LinkSettings.objects.filter(workspace_id=obj.workspace_id).first()
        return urls_util.short_url(obj.code, cfg.short_domain if cfg else "")

    @staticmethod
    def resolve_target_url(obj: Link) -> str:
        return urls_util.tagged_url(
            obj.destination, {f: getattr(obj, f) for f in urls_util.UTM_FIELDS}
        )

    @staticmethod
    def resolve_utm(obj: Link) -> dict[str, str]:
        return {f: getattr(obj, f) for f in urls_util.UTM_FIELDS}


class LinkIn(Schema):
    destination: str = ""
    title: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    utm_term: str = ""
    channel_id: int | None = None
    contact_id: int | None = None
    active: bool = True


class LinkPatch(Schema):
    destination: str | None = None
    title: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    channel_id: int | None = None
    contact_id: int | None = None
    active: bool | None = None


class TotalsOut(Schema):
    clicks: int
    visitors: int
    conversions: int
    revenue: dict[str, Decimal]


class BucketOut(Schema):
    start: datetime
    clicks: int
    visitors: int
    conversions: int
    revenue: dict[str, Decimal]


class RowOut(Schema):
    key: str | int | None
    clicks: int
    visitors: int
    conversions: int
    revenue: dict[str, Decimal]


class StatsOut(Schema):
    start: datetime
    end: datetime
    tz: str
    totals: TotalsOut
    series: list[BucketOut]
    groups: list[RowOut]


class ConversionOut(Schema):
    id: int
    event: str
    value: Decimal | None
    currency: str
    order_id: str
    source: str
    occurred_at: datetime
    received_at: datetime
    click_refs: list[str]
    link_id: int | None
    channel_id: int | None
    post_id: int | None
    contact_id: int | None
    campaign: str
    attributed: bool
    unattributed_reason: str

    @staticmethod
    def resolve_attributed(obj: Conversion) -> bool:
        return obj.click_id is not None


class CollectedOut(Schema):
    id: int
    duplicate: bool
    attributed: bool
    unattributed_reason: str


class TrackingIn(Schema):
    # A default, so outsiders get 404 (not 422) whatever they send.
    enabled: bool = True


class TrackingOut(Schema):
    post_id: int
    enabled: bool


class ReferralIn(Schema):
    destination: str = ""


# -- links -----------------------------------------------------------------------------------


@router.get("/{slug}/links", response={200: list[LinkOut], **_ERRORS})
@paginate(Page)
def list_links(request: HttpRequest, slug: str, q: str = "", kind: str = "") -> QuerySet[Link]:
    rows = actions.links_for(api_access(request, slug))
    if q:
        rows = rows.filter(destination__icontains=q) | rows.filter(code=q)
    if kind == "auto":
        rows = rows.filter(auto=True)
    elif kind == "referral":
        rows = rows.filter(contact__isnull=False)
    elif kind == "manual":
        rows = rows.filter(auto=False, contact__isnull=True)
    return rows


def _link_input(payload: LinkIn | LinkPatch, base: Link | None = None) -> actions.LinkInput:
    def pick(name: str) -> Any:
        value = getattr(payload, name)
        return getattr(base, name) if value is None and base is not None else value

    return actions.LinkInput(
        destination=pick("destination") or "",
        title=pick("title") or "",
        utm={f: pick(f) or "" for f in urls_util.UTM_FIELDS},
        channel_id=pick("channel_id"),
        contact_id=pick("contact_id"),
        active=bool(pick("active")) if pick("active") is not None else True,
    )


@router.post(
    "/{slug}/links",
    response={201: LinkOut, 409: ErrorOut, 422: ErrorOut, **_ERRORS},
    summary="Create a short link (destination must be http or https)",
)
def create_link(request: HttpRequest, slug: str, payload: LinkIn) -> Status:
    access = api_access(request, slug)
    return Status(201, actions.create_link(api_actor(request), access, _link_input(payload)))


@router.get("/{slug}/links/{link_id}", response={200: LinkOut, **_ERRORS})
def get_link(request: HttpRequest, slug: str, link_id: int) -> Link:
    return actions.get_link(api_access(request, slug), link_id)


@router.patch("/{slug}/links/{link_id}", response={200: LinkOut, 422: ErrorOut, **_ERRORS})
def update_link(request: HttpRequest, slug: str, link_id: int, payload: LinkPatch) -> Link:
    access = api_access(request, slug)
    base = actions.get_link(access, link_id)
    return actions.update_link(api_actor(request), access, link_id, _link_input(payload, base))


@router.delete("/{slug}/links/{link_id}", response={204: None, **_ERRORS})
def delete_link(request: HttpRequest, slug: str, link_id: int) -> Status:
    actions.delete_link(api_actor(request), api_access(request, slug), link_id)
    return Status(204, None)


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or timezone.now()
    start = start or end - timedelta(days=30)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(
            _("Give start and end with their time zone offset."),
            fields={"start": _("With an offset, such as +03:00 or Z.")},
        )
    if start >= end or end - start > timedelta(days=400):
        raise InvalidInput(
            _("start must be before end, at most 400 days apart."),
            fields={"start": _("Before end, at most 400 days apart.")},
        )
    return start, end


def _totals(t: stats.Totals) -> dict[str, Any]:
    return {
        "clicks": t.clicks,
        "visitors": t.visitors,
        "conversions": t.conversions,
        "revenue": t.revenue,
    }


def _stats(
    workspace_id: int,
    start: datetime | None,
    end: datetime | None,
    bucket: str,
    tz: str,
    by: str,
    link_id: int | None = None,
) -> dict[str, Any]:
    import zoneinfo

    begin, finish = _range(start, end)
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("Unknown time zone."), fields={"tz": _("A zone such as Asia/Riyadh.")}
        ) from None
    if by and by not in stats.GROUPS:
        raise InvalidInput(_("Unknown group."), fields={"by": ", ".join(stats.GROUPS)})
    kind: Literal["day", "hour"] = "hour" if bucket == "hour" else "day"
    if kind == "hour" and finish - begin > timedelta(days=31):
        raise InvalidInput(
            _("Hourly buckets cover at most 31 days."), fields={"bucket": _("Use day.")}
        )
    series = stats.series(workspace_id, begin, finish, bucket=kind, tz=zone, link_id=link_id)
    groups = stats.breakdown(workspace_id, begin, finish, by=by, link_id=link_id) if by else []
    return {
        "start": begin,
        "end": finish,
        "tz": tz,
        "totals": _totals(stats.totals(workspace_id, begin, finish, link_id=link_id)),
        "series": [{"start": b.start, **_totals(b.totals)} for b in series],
        "groups": [{"key": r.key, **_totals(r.totals)} for r in groups],
    }


@router.get(
    "/{slug}/link-stats",
    response={200: StatsOut, 422: ErrorOut, **_ERRORS},
    summary="Clicks, unique visitors, conversions and revenue over [start, end)",
    description=(
        "Buckets of `bucket` (day or hour) in time zone `tz`; `by` groups the range by "
        "channel, post, link, campaign, tag, referrer, ua_class or contact."
    ),
)
def workspace_stats(
    request: HttpRequest,
    slug: str,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: str = "day",
    tz: str = "UTC",
    by: str = "",
) -> dict[str, Any]:
    access = api_access(request, slug)
    actions.link_settings(access)  # the permission check
    return _stats(access.workspace.pk, start, end, bucket, tz, by)


@router.get("/{slug}/links/{link_id}/stats", response={200: StatsOut, 422: ErrorOut, **_ERRORS})
def link_stats(
    request: HttpRequest,
    slug: str,
    link_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: str = "day",
    tz: str = "UTC",
    by: str = "",
) -> dict[str, Any]:
    access = api_access(request, slug)
    link = actions.get_link(access, link_id)
    return _stats(access.workspace.pk, start, end, bucket, tz, by, link_id=link.pk)


@router.put(
    "/{slug}/posts/{post_id}/link-tracking",
    response={200: TrackingOut, **_ERRORS},
    summary="Turn link tracking on or off for one post",
)
def set_tracking(
    request: HttpRequest, slug: str, post_id: int, payload: TrackingIn
) -> dict[str, Any]:
    access = api_access(request, slug)
    enabled = actions.set_post_tracking(api_actor(request), access, post_id, payload.enabled)
    return {"post_id": post_id, "enabled": enabled}


@router.post(
    "/{slug}/contacts/{contact_id}/referral-link",
    response={200: LinkOut, 422: ErrorOut, **_ERRORS},
    summary="The contact's personal referral link to a destination (made once)",
)
def referral_link(request: HttpRequest, slug: str, contact_id: int, payload: ReferralIn) -> Link:
    access = api_access(request, slug)
    return actions.referral_link(api_actor(request), access, contact_id, payload.destination)


@router.get("/{slug}/conversions", response={200: list[ConversionOut], **_ERRORS})
@paginate(Page)
def list_conversions(
    request: HttpRequest, slug: str, event: str = "", attributed: str = ""
) -> QuerySet[Conversion]:
    rows = actions.conversions_for(api_access(request, slug))
    if event:
        rows = rows.filter(event=event)
    if attributed in ("true", "yes", "1"):
        rows = rows.filter(click__isnull=False)
    elif attributed in ("false", "no", "0"):
        rows = rows.filter(click__isnull=True)
    return rows


# -- collectors ------------------------------------------------------------------------------


def _collected(result: actions.ConversionResult) -> dict[str, Any]:
    c = result.conversion
    return {
        "id": c.pk,
        "duplicate": not result.created,
        "attributed": c.click_id is not None,
        "unattributed_reason": c.unattributed_reason,
    }


def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    return error_response(request, status, code, message)


_SIGNED_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["event"],
                    "properties": {
                        "event": {"type": "string", "example": "purchase"},
                        "value": {"type": "string", "example": "49.90"},
                        "currency": {"type": "string", "example": "SAR"},
                        "order_id": {"type": "string", "example": "A-1001"},
                        "click_ids": {"type": "array", "items": {"type": "string"}},
                        "occurred_at": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    },
    "parameters": [
        {"in": "header", "name": KEY_HEADER, "required": True, "schema": {"type": "string"}},
        {
            "in": "header",
            "name": SIGNATURE_HEADER,
            "required": True,
            "schema": {"type": "string", "example": "t=1767225600,v1=<hex>"},
        },
    ],
}


@collect_router.post(
    "",
    auth=None,
    response={200: CollectedOut, 201: CollectedOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Record a conversion from your server (HMAC-SHA256 signed)",
    description=(
        "`Minbar-Key: <public key>` names the workspace; `Minbar-Signature: t=<unix "
        'seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` signs the raw body '
        "with the workspace's conversion secret. Requests older than 5 minutes and "
        "repeated signatures are refused; a repeated `order_id` answers 200 with "
        "`duplicate: true`. See docs/links.md."
    ),
    openapi_extra=_SIGNED_BODY,
)
def collect_signed(request: HttpRequest) -> Any:
    key = request.headers.get(KEY_HEADER, "").strip()
    header = request.headers.get(SIGNATURE_HEADER, "").strip()
    cfg = (
        LinkSettings.objects.select_related("workspace").filter(public_key=key).first()
        if key
        else None
    )
    if cfg is None or not header:
        return _refuse(
            request,
            401,
            "unauthorized",
            _("Send the workspace's public key in Minbar-Key and a Minbar-Signature header."),
        )
    try:
        verify(cfg.conversion_secret, header, request.body, tolerance=TOLERANCE_SECONDS)
    except SignatureError as exc:
        return _refuse(
            request, 401, "bad_signature", _("The signature is not valid: %(why)s.") % {"why": exc}
        )
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise InvalidInput(_("The body is not JSON.")) from None
    data = actions.parse_conversion(body)
    result = actions.record_conversion(
        cfg.workspace,
        data,
        source=ConversionSource.SERVER,
        signature_digest=actions.signature_digest(header),
    )
    return Status(201 if result.created else 200, _collected(result))


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


@collect_router.api_operation(
    ["POST", "OPTIONS"],
    "/browser",
    auth=None,
    response={
        200: CollectedOut,
        201: CollectedOut,
        204: None,
        403: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Record a conversion from the browser snippet (public key, allowed origins only)",
    description=(
        "Body: `{key, event, value, currency, order_id, click_ids}`. Only the events the "
        "workspace allows for the browser, only from its allowed origins, and only with a "
        "click of its links inside the attribution window; one per click and event."
    ),
)
def collect_browser(request: HttpRequest) -> Any:
    origin = request.headers.get("Origin", "").strip().lower()
    if request.method == "OPTIONS":
        # Preflight: answered for any origin; the POST itself checks the workspace's list.
        return _cors(HttpResponse(status=204), origin or "*")
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _cors(_refuse(request, 422, "invalid", _("The body is not JSON.")), origin)
    key = str(body.get("key") or "") if isinstance(body, dict) else ""
    cfg = (
        LinkSettings.objects.select_related("workspace").filter(public_key=key).first()
        if key
        else None
    )
    if cfg is None or not origin or origin not in cfg.allowed_origins:
        # No CORS headers: a page on another origin learns nothing, not even this message.
        return _refuse(
            request, 403, "forbidden", _("This origin may not send conversions with this key.")
        )
    try:
        data = actions.parse_conversion(body)
        if data.event not in cfg.browser_events:
            raise NotAllowed(
                _("The browser may not send “%(event)s”; send it from your server.")
                % {"event": data.event}
            )
        result = actions.record_conversion(cfg.workspace, data, source=ConversionSource.BROWSER)
    except ActionError as exc:
        return _cors(error_response(request, exc.status, exc.code, exc.message, exc.fields), origin)
    return _cors(
        HttpResponse(
            json.dumps(_collected(result)),
            content_type="application/json",
            status=201 if result.created else 200,
        ),
        origin,
    )
