"""Every state change of links, link settings, post tracking and conversions."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.core.writes import write_transaction
from minbar.links import urls_util
from minbar.links.models import (
    Click,
    Conversion,
    ConversionSource,
    Link,
    LinkSettings,
    PostTracking,
)
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Workspace
from minbar.workspaces.roles import Perm

PUBLIC_KEY_PREFIX = "mbpk_"
SECRET_PREFIX = "mbcs_"
MAX_ORIGINS = 20
MAX_ATTRIBUTION_DAYS = 90


# -- permissions ----------------------------------------------------------------------------


def _require(access: WorkspaceAccess, perm: Perm, message: str) -> None:
    if not access.can(perm):
        raise NotAllowed(message)


def _require_view(access: WorkspaceAccess) -> None:
    _require(access, Perm.VIEW_ANALYTICS, _("Your role cannot see links and their clicks."))


def _require_edit(access: WorkspaceAccess) -> None:
    _require(access, Perm.CREATE_CONTENT, _("Your role cannot create or change links."))


def _require_manage(access: WorkspaceAccess) -> None:
    _require(access, Perm.MANAGE_WORKSPACE, _("Only owners and admins can change link settings."))


# -- settings -------------------------------------------------------------------------------


def settings_for(workspace: Workspace) -> LinkSettings:
    """The workspace's link settings, made with fresh keys the first time they are needed."""
    found = LinkSettings.objects.filter(workspace=workspace).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LinkSettings.objects.create(
                workspace=workspace,
                public_key=PUBLIC_KEY_PREFIX + secrets.token_urlsafe(18),
                conversion_secret=SECRET_PREFIX + secrets.token_urlsafe(32),
            )
    except IntegrityError:
        # Another request made them at the same moment.
        return LinkSettings.objects.get(workspace=workspace)


def link_settings(access: WorkspaceAccess) -> LinkSettings:
    _require_view(access)
    return settings_for(access.workspace)


_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
_EVENT = re.compile(r"^[A-Za-z0-9_.:-]{1,60}$")


def clean_origins(raw: list[str]) -> list[str]:
    origins: list[str] = []
    for value in raw:
        origin = value.strip().lower().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.match(origin):
            message = _("“%(origin)s” is not an origin such as https://shop.example.com.") % {
                "origin": value.strip()
            }
            raise InvalidInput(message, fields={"allowed_origins": message})
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        message = _("At most %(n)s origins.") % {"n": MAX_ORIGINS}
        raise InvalidInput(message, fields={"allowed_origins": message})
    return origins


def clean_events(raw: list[str]) -> list[str]:
    events: list[str] = []
    for value in raw:
        event = value.strip()
        if not event:
            continue
        if not _EVENT.match(event):
            message = _("“%(event)s” is not an event name (letters, digits, _ . : -).") % {
                "event": event
            }
            raise InvalidInput(message, fields={"browser_events": message})
        if event not in events:
            events.append(event)
    return events[:20]


@dataclass
class SettingsInput:
    auto_apply: bool | None = None
    short_domain: str | None = None
    attribution_days: int | None = None
    browser_events: list[str] | None = None
    allowed_origins: list[str] | None = None


def update_settings(actor: Actor, access: WorkspaceAccess, data: SettingsInput) -> LinkSettings:
    _require_manage(access)
    cfg = settings_for(access.workspace)
    changed: dict[str, Any] = {}
    if data.auto_apply is not None:
        changed["auto_apply"] = bool(data.auto_apply)
    if data.short_domain is not None:
        changed["short_domain"] = urls_util.clean_domain(data.short_domain)
    if data.attribution_days is not None:
        if not 1 <= int(data.attribution_days) <= MAX_ATTRIBUTION_DAYS:
            message = _("Between 1 and %(n)s days.") % {"n": MAX_ATTRIBUTION_DAYS}
            raise InvalidInput(message, fields={"attribution_days": message})
        changed["attribution_days"] = int(data.attribution_days)
    if data.browser_events is not None:
        changed["browser_events"] = clean_events(data.browser_events)
    if data.allowed_origins is not None:
        changed["allowed_origins"] = clean_origins(data.allowed_origins)
    for name, value in changed.items():
        setattr(cfg, name, value)
    cfg.updated_at = timezone.now()
    cfg.save()
    record(actor, "links.settings_updated", workspace=access.workspace, data=changed)
    return cfg


def rotate_conversion_secret(actor: Actor, access: WorkspaceAccess) -> LinkSettings:
    """A new signing secret; requests signed with the old one are refused from now on."""
    _require_manage(access)
    cfg = settings_for(access.workspace)
    cfg.conversion_secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    cfg.secret_rotated_at = timezone.now()
    cfg.save(update_fields=["conversion_secret", "secret_rotated_at"])
    record(actor, "links.conversion_secret_rotated", workspace=access.workspace)
    return cfg


def rotate_public_key(actor: Actor, access: WorkspaceAccess) -> LinkSettings:
    """A new public key; pages with the old snippet stop sending conversions."""
    _require_manage(access)
    cfg = settings_for(access.workspace)
    cfg.public_key = PUBLIC_KEY_PREFIX + secrets.token_urlsafe(18)
    cfg.save(update_fields=["public_key"])
    record(actor, "links.public_key_rotated", workspace=access.workspace)
    return cfg


# -- links ------------------------------------------------------------------------------


def links_for(access: WorkspaceAccess) -> QuerySet[Link]:
    _require_view(access)
    return Link.objects.filter(workspace=access.workspace).select_related(
        "channel", "post", "contact"
    )


def get_link(access: WorkspaceAccess, link_id: int) -> Link:
    link = links_for(access).filter(pk=link_id).first()
    if link is None:
        raise NotFound(_("No such link."))
    return link


@dataclass
class LinkInput:
    destination: str = ""
    title: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    channel_id: int | None = None
    contact_id: int | None = None
    active: bool = True


def _clean_utm(utm: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name in urls_util.UTM_FIELDS:
        value = str(utm.get(name) or "").strip()
        limit = 100 if name in ("utm_source", "utm_medium") else 200
        if len(value) > limit:
            message = _("At most %(n)s characters.") % {"n": limit}
            raise InvalidInput(message, fields={name: message})
        cleaned[name] = value
    return cleaned


def _check_refs(access: WorkspaceAccess, channel_id: int | None, contact_id: int | None) -> None:
    from minbar.channels.models import Channel
    from minbar.inbox.models import Contact

    if (
        channel_id
        and not Channel.objects.filter(pk=channel_id, workspace=access.workspace).exists()
    ):
        message = _("Choose one of this workspace's channels.")
        raise InvalidInput(message, fields={"channel": message})
    if (
        contact_id
        and not Contact.objects.filter(pk=contact_id, workspace=access.workspace).exists()
    ):
        message = _("Choose one of this workspace's contacts.")
        raise InvalidInput(message, fields={"contact": message})


def _create(workspace: Workspace, **fields: Any) -> Link:
    for _attempt in range(8):
        try:
            with transaction.atomic():
                return Link.objects.create(workspace=workspace, code=urls_util.new_code(), **fields)
        except IntegrityError:
            if (
                fields.get("dedupe_key")
                and Link.objects.filter(dedupe_key=fields["dedupe_key"]).exists()
            ):
                return Link.objects.get(dedupe_key=fields["dedupe_key"])
    raise Conflict(_("Could not find a free short code; try again."))


def create_link(actor: Actor, access: WorkspaceAccess, data: LinkInput) -> Link:
    _require_edit(access)
    destination = urls_util.clean_destination(data.destination)
    utm = _clean_utm(data.utm)
    _check_refs(access, data.channel_id, data.contact_id)
    link = _create(
        access.workspace,
        destination=destination,
        title=data.title.strip()[:200],
        channel_id=data.channel_id or None,
        contact_id=data.contact_id or None,
        created_by=actor.user,
        active=data.active,
        **utm,
    )
    record(
        actor,
        "link.created",
        workspace=access.workspace,
        target=link,
        data={"code": link.code, "destination": destination},
    )
    return link


def update_link(actor: Actor, access: WorkspaceAccess, link_id: int, data: LinkInput) -> Link:
    _require_edit(access)
    link = get_link(access, link_id)
    link.destination = urls_util.clean_destination(data.destination)
    for name, value in _clean_utm(data.utm).items():
        setattr(link, name, value)
    _check_refs(access, data.channel_id, data.contact_id)
    link.title = data.title.strip()[:200]
    link.channel_id = data.channel_id or None
    link.contact_id = data.contact_id or None
    link.active = data.active
    link.updated_at = timezone.now()
    link.save()
    from minbar.links.redirects import forget

    forget(link.code)
    record(
        actor,
        "link.updated",
        workspace=access.workspace,
        target=link,
        data={"destination": link.destination, "active": link.active},
    )
    return link


def delete_link(actor: Actor, access: WorkspaceAccess, link_id: int) -> None:
    """Deletes the link with its clicks; conversions stay, unattributed to it."""
    _require_edit(access)
    link = get_link(access, link_id)
    code = link.code
    link.delete()
    from minbar.links.redirects import forget

    forget(code)
    record(actor, "link.deleted", workspace=access.workspace, data={"code": code})


def referral_link(actor: Actor, access: WorkspaceAccess, contact_id: int, destination: str) -> Link:
    """A contact's personal link (eWOM): their clicks and conversions are credited to them."""
    _require_edit(access)
    _check_refs(access, None, contact_id)
    clean = urls_util.clean_destination(destination)
    existing = Link.objects.filter(
        workspace=access.workspace, contact_id=contact_id, destination=clean, post__isnull=True
    ).first()
    if existing is not None:
        return existing
    return create_link(
        actor,
        access,
        LinkInput(
            destination=clean,
            contact_id=contact_id,
            utm={"utm_source": "referral", "utm_medium": "referral"},
        ),
    )


# -- post tracking (the composer's toggle) ---------------------------------------------------


def post_tracked(post_id: int) -> bool:
    return not PostTracking.objects.filter(post_id=post_id, enabled=False).exists()


def set_post_tracking(actor: Actor, access: WorkspaceAccess, post_id: int, enabled: bool) -> bool:
    from minbar.publishing.models import Post

    _require_edit(access)
    if not Post.objects.filter(pk=post_id, workspace=access.workspace).exists():
        raise NotFound(_("No such post."))
    if enabled:
        PostTracking.objects.filter(post_id=post_id).delete()
    else:
        PostTracking.objects.update_or_create(
            post_id=post_id, defaults={"enabled": False, "updated_at": timezone.now()}
        )
    return enabled


# -- conversions --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversionInput:
    event: str
    value: Decimal | None = None
    currency: str = ""
    order_id: str = ""
    click_ids: tuple[str, ...] = ()
    occurred_at: datetime | None = None


def _field_error(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={name: message})


def parse_conversion(data: Any) -> ConversionInput:
    """Read a conversion body (a JSON object); specific errors for every field."""
    if not isinstance(data, dict):
        raise InvalidInput(_("Send a JSON object."))
    event = str(data.get("event") or "").strip()
    if not _EVENT.match(event):
        raise _field_error("event", _("An event name: letters, digits, _ . : - (at most 60)."))
    value: Decimal | None = None
    raw_value = data.get("value")
    if raw_value not in (None, ""):
        try:
            value = Decimal(str(raw_value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise _field_error("value", _("A number, such as 49.90.")) from None
        if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
            raise _field_error("value", _("A number from 0 to 999,999,999,999.99."))
    currency = str(data.get("currency") or "").strip().upper()
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        raise _field_error("currency", _("A three-letter currency code, such as USD or SAR."))
    if value is not None and not currency:
        raise _field_error("currency", _("Give the currency of the value (USD, SAR, …)."))
    order_id = str(data.get("order_id") or "").strip()
    if len(order_id) > 200:
        raise _field_error("order_id", _("At most 200 characters."))
    raw_clicks = data.get("click_ids")
    if raw_clicks is None:
        raw_clicks = [data["click_id"]] if data.get("click_id") else []
    if not isinstance(raw_clicks, list) or len(raw_clicks) > 10:
        raise _field_error("click_ids", _("A list of at most 10 click ids."))
    click_ids = tuple(str(c).strip()[:24] for c in raw_clicks if str(c).strip())
    occurred_at = None
    if data.get("occurred_at"):
        try:
            occurred_at = datetime.fromisoformat(str(data["occurred_at"]))
        except ValueError:
            raise _field_error("occurred_at", _("An ISO 8601 time with its offset.")) from None
        if occurred_at.tzinfo is None:
            raise _field_error("occurred_at", _("An ISO 8601 time with its offset."))
        occurred_at = occurred_at.astimezone(UTC)
        moment = timezone.now()
        if occurred_at > moment + timedelta(minutes=5) or occurred_at < moment - timedelta(
            days=MAX_ATTRIBUTION_DAYS
        ):
            raise _field_error("occurred_at", _("Within the last 90 days, and not in the future."))
    return ConversionInput(event, value, currency, order_id, click_ids, occurred_at)


@dataclass(frozen=True)
class Attribution:
    click: Click | None
    reason: str  # "" when attributed


def attribute(workspace: Workspace, click_ids: tuple[str, ...], at: datetime) -> Attribution:
    """The last of the given clicks within the window before ``at`` (last click wins)."""
    if not click_ids:
        return Attribution(None, "no_click")
    clicks = list(
        Click.objects.filter(workspace=workspace, click_id__in=click_ids).select_related(
            "link", "post"
        )
    )
    if len(clicks) < len(set(click_ids)):
        # A click this process still holds in memory (the landing page converts fast).
        from minbar.links.recorder import flush

        if flush():
            clicks = list(
                Click.objects.filter(workspace=workspace, click_id__in=click_ids).select_related(
                    "link", "post"
                )
            )
    if not clicks:
        return Attribution(None, "unknown_click")
    window = timedelta(days=settings_for(workspace).attribution_days)
    inside = [c for c in clicks if at - window <= c.clicked_at <= at]
    if not inside:
        return Attribution(None, "outside_window")
    return Attribution(max(inside, key=lambda c: (c.clicked_at, c.pk)), "")


def _campaign(click: Click) -> str:
    post = click.post
    if post is not None and post.tags:
        return str(post.tags[0])[:200]
    return click.link.utm_campaign


@dataclass(frozen=True)
class ConversionResult:
    conversion: Conversion
    created: bool


def record_conversion(
    workspace: Workspace,
    data: ConversionInput,
    *,
    source: str,
    signature_digest: str | None = None,
) -> ConversionResult:
    """Store a conversion once per order id, attributed to its last click in the window."""
    if data.order_id:
        existing = Conversion.objects.filter(workspace=workspace, order_id=data.order_id).first()
        if existing is not None:
            return ConversionResult(existing, created=False)
    occurred_at = data.occurred_at or timezone.now()
    found = attribute(workspace, data.click_ids, occurred_at)
    click = found.click
    if source == ConversionSource.BROWSER:
        if click is None:
            raise InvalidInput(
                _(
                    "Browser conversions need a click on one of this workspace's links "
                    "within the attribution window."
                )
            )
        if Conversion.objects.filter(click=click, event=data.event, source=source).exists():
            raise Conflict(_("This click already converted for this event."))
    conversion = Conversion(
        workspace=workspace,
        event=data.event,
        value=data.value,
        currency=data.currency,
        order_id=data.order_id,
        source=source,
        occurred_at=occurred_at,
        click_refs=list(data.click_ids),
        click=click,
        link=click.link if click else None,
        channel_id=click.channel_id if click else None,
        post_id=click.post_id if click else None,
        contact_id=click.contact_id if click else None,
        campaign=_campaign(click) if click else "",
        unattributed_reason=found.reason,
        signature_digest=signature_digest,
    )
    try:
        with write_transaction():
            conversion.save()
    except IntegrityError:
        if data.order_id:
            again = Conversion.objects.filter(workspace=workspace, order_id=data.order_id).first()
            if again is not None:
                return ConversionResult(again, created=False)
        raise Conflict(_("This signed request was already received.")) from None
    return ConversionResult(conversion, created=True)


def signature_digest(header: str) -> str:
    return hashlib.sha256(header.encode()).hexdigest()


def conversions_for(access: WorkspaceAccess) -> QuerySet[Conversion]:
    _require_view(access)
    return Conversion.objects.filter(workspace=access.workspace).select_related(
        "link", "channel", "post", "contact"
    )


def delete_conversion(actor: Actor, access: WorkspaceAccess, conversion_id: int) -> None:
    _require_manage(access)
    conversion = conversions_for(access).filter(pk=conversion_id).first()
    if conversion is None:
        raise NotFound(_("No such conversion."))
    conversion.delete()
    record(
        actor,
        "conversion.deleted",
        workspace=access.workspace,
        data={"event": conversion.event, "order_id": conversion.order_id},
    )
