"""Pages: links (list, detail, create/edit with the UTM builder, QR), settings, conversions."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.core.actor import Actor
from minbar.core.errors import ActionError, NotFound
from minbar.links import actions, charts, stats, urls_util
from minbar.links.forms import LinkForm, SettingsForm
from minbar.links.models import Conversion, Link, UaClass
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm

PERIODS = (7, 30, 90)
UA_LABELS = dict(UaClass.choices)


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return response


def _days(request: HttpRequest) -> int:
    raw = request.GET.get("days", "30")
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else 30


def _range(days: int) -> tuple[datetime, datetime, Any]:
    """The last ``days`` local days, today included, in the viewer's time zone."""
    zone = timezone.get_current_timezone()
    today = timezone.now().astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), zone)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return start, end, zone


def _revenue_text(revenue: dict[str, Any]) -> str:
    return " · ".join(f"{value:,.2f} {currency}" for currency, value in sorted(revenue.items()))


def _short(link: Link, cfg_domain: str) -> str:
    return urls_util.short_url(link.code, cfg_domain)


def _utm(link: Link) -> dict[str, str]:
    return {name: getattr(link, name) for name in urls_util.UTM_FIELDS}


# -- list -----------------------------------------------------------------------------------


def _filtered(request: HttpRequest, access: WorkspaceAccess) -> QuerySet[Link]:
    rows = actions.links_for(access)
    q = request.GET.get("q", "").strip()
    if q:
        rows = rows.filter(
            Q(code__icontains=q) | Q(title__icontains=q) | Q(destination__icontains=q)
        )
    kind = request.GET.get("kind", "")
    if kind == "auto":
        rows = rows.filter(auto=True)
    elif kind == "manual":
        rows = rows.filter(auto=False, contact__isnull=True)
    elif kind == "referral":
        rows = rows.filter(contact__isnull=False)
    channel = request.GET.get("channel", "")
    if channel.isdigit():
        rows = rows.filter(channel_id=int(channel))
    return rows


@workspace_view(Perm.VIEW_ANALYTICS)
def link_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    from minbar.channels.models import Channel

    cfg = actions.settings_for(access.workspace)
    rows = _filtered(request, access)
    if request.GET.get("format") == "csv":
        links = list(rows)
        totals = stats.link_totals(access.workspace.pk, [link.pk for link in links])
        return _csv(
            f"links-{access.workspace.slug}.csv",
            [
                "code",
                "short_url",
                "destination",
                "title",
                "channel",
                "post_id",
                "contact",
                "clicks",
                "unique_visitors",
                "bot_hits",
                "active",
                "created_at_utc",
            ],
            (
                [
                    link.code,
                    _short(link, cfg.short_domain),
                    link.destination,
                    link.title,
                    link.channel.handle if link.channel else "",
                    link.post_id or "",
                    str(link.contact) if link.contact else "",
                    *totals[link.pk],
                    int(link.active),
                    link.created_at.astimezone(UTC).isoformat(),
                ]
                for link in links
            ),
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    ids = [link.pk for link in page]
    today = timezone.now().astimezone(UTC).date()
    daily = stats.daily_clicks(access.workspace.pk, ids, today - timedelta(days=13), today)
    totals = stats.link_totals(access.workspace.pk, ids)
    start, end, zone = _range(30)
    series = stats.series(access.workspace.pk, start, end, bucket="day", tz=zone)
    chart = charts.bars(
        [b.totals.clicks for b in series],
        [b.start for b in series],
        second=[b.totals.visitors for b in series],
    )
    overall = stats.totals(access.workspace.pk, start, end)
    by_channel = stats.breakdown(access.workspace.pk, start, end, by="channel")
    channels = {c.pk: c for c in Channel.objects.filter(workspace=access.workspace)}
    return render(
        request,
        "links/list.html",
        {
            "page": page,
            "rows": [
                {
                    "link": link,
                    "short": _short(link, cfg.short_domain),
                    "clicks": totals[link.pk][0],
                    "visitors": totals[link.pk][1],
                    "spark": charts.sparkline(daily[link.pk]),
                }
                for link in page
            ],
            "chart": chart,
            "overall": overall,
            "revenue": _revenue_text(overall.revenue),
            "by_channel": [(channels.get(r.key), r.totals) for r in by_channel],
            "channels": list(channels.values()),
            "filters": {k: request.GET.get(k, "") for k in ("q", "kind", "channel")},
            "can_edit": access.can(Perm.CREATE_CONTENT),
            "can_manage": access.can(Perm.MANAGE_WORKSPACE),
        },
    )


# -- detail ---------------------------------------------------------------------------------


def _get(access: WorkspaceAccess, link_id: int) -> Link:
    try:
        return actions.get_link(access, link_id)
    except NotFound:
        raise Http404 from None


@workspace_view(Perm.VIEW_ANALYTICS)
def link_detail(request: HttpRequest, access: WorkspaceAccess, link_id: int) -> HttpResponse:
    link = _get(access, link_id)
    cfg = actions.settings_for(access.workspace)
    days = _days(request)
    start, end, zone = _range(days)
    ws = access.workspace.pk
    series = stats.series(ws, start, end, bucket="day", tz=zone, link_id=link.pk)
    referrers = stats.breakdown(ws, start, end, by="referrer", link_id=link.pk)
    devices = stats.breakdown(ws, start, end, by="ua_class", link_id=link.pk)
    table = request.GET.get("table", "")
    if request.GET.get("format") == "csv":
        if table == "referrers":
            return _csv(
                f"link-{link.code}-referrers.csv",
                ["referrer", "clicks", "unique_visitors", "conversions"],
                (
                    [r.key or "", r.totals.clicks, r.totals.visitors, r.totals.conversions]
                    for r in referrers
                ),
            )
        if table == "devices":
            return _csv(
                f"link-{link.code}-devices.csv",
                ["device", "clicks", "unique_visitors", "conversions"],
                (
                    [r.key, r.totals.clicks, r.totals.visitors, r.totals.conversions]
                    for r in devices
                ),
            )
        return _csv(
            f"link-{link.code}-days.csv",
            ["day", "clicks", "unique_visitors", "conversions", "revenue"],
            (
                [
                    b.start.date().isoformat(),
                    b.totals.clicks,
                    b.totals.visitors,
                    b.totals.conversions,
                    _revenue_text(b.totals.revenue),
                ]
                for b in series
            ),
        )
    overall = stats.totals(ws, start, end, link_id=link.pk)
    all_time = stats.link_totals(ws, [link.pk])[link.pk]
    short = _short(link, cfg.short_domain)
    return render(
        request,
        "links/detail.html",
        {
            "link": link,
            "short": short,
            "target": urls_util.tagged_url(link.destination, _utm(link)),
            "utm": [(name, value) for name, value in _utm(link).items() if value],
            "days": days,
            "periods": PERIODS,
            "chart": charts.bars(
                [b.totals.clicks for b in series],
                [b.start for b in series],
                second=[b.totals.visitors for b in series],
            ),
            "overall": overall,
            "revenue": _revenue_text(overall.revenue),
            "all_time": all_time,
            "referrers": referrers,
            "devices": [(UA_LABELS.get(r.key, r.key), r.totals) for r in devices],
            "conversions": actions.conversions_for(access).filter(link=link)[:20],
            "can_edit": access.can(Perm.CREATE_CONTENT),
        },
    )


def _choices(access: WorkspaceAccess) -> dict[str, list[tuple[int, str]]]:
    from minbar.channels.models import Channel
    from minbar.inbox.models import Contact

    return {
        "channels": [
            (c.pk, f"{c.handle} ({c.network})")
            for c in Channel.objects.filter(workspace=access.workspace)
        ],
        "contacts": [
            (c.pk, str(c))
            for c in Contact.objects.filter(workspace=access.workspace).order_by("-last_seen_at")[
                :300
            ]
        ],
    }


def _input(form: LinkForm) -> actions.LinkInput:
    data = form.cleaned_data
    return actions.LinkInput(
        destination=data["destination"],
        title=data["title"],
        utm={name: data[name] for name in urls_util.UTM_FIELDS},
        channel_id=data["channel"],
        contact_id=data["contact"],
        active=data["active"],
    )


def _apply_errors(form: LinkForm | SettingsForm, exc: ActionError) -> None:
    for name, text in exc.fields.items():
        form.add_error(name if name in form.fields else None, text)
    if not exc.fields:
        form.add_error(None, exc.message)


def _form_page(
    request: HttpRequest, access: WorkspaceAccess, form: LinkForm, link: Link | None
) -> HttpResponse:
    cfg = actions.settings_for(access.workspace)
    return render(
        request,
        "links/form.html",
        {
            "form": form,
            "link": link,
            "short_base": urls_util.short_base(cfg.short_domain),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@workspace_view(Perm.CREATE_CONTENT)
def link_create(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    initial: dict[str, Any] = {"active": True, "utm_medium": "social"}
    contact = request.GET.get("contact", "")
    if contact.isdigit():
        initial |= {"contact": int(contact), "utm_source": "referral", "utm_medium": "referral"}
    form = LinkForm(request.POST or None, initial=initial, **_choices(access))
    if request.method == "POST" and form.is_valid():
        try:
            link = actions.create_link(Actor.from_request(request), access, _input(form))
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The short link is ready."))
            return redirect("links:detail", slug=access.workspace.slug, link_id=link.pk)
    return _form_page(request, access, form, None)


@workspace_view(Perm.CREATE_CONTENT)
def link_edit(request: HttpRequest, access: WorkspaceAccess, link_id: int) -> HttpResponse:
    link = _get(access, link_id)
    initial = {
        "destination": link.destination,
        "title": link.title,
        "channel": link.channel_id,
        "contact": link.contact_id,
        "active": link.active,
        **_utm(link),
    }
    form = LinkForm(request.POST or None, initial=initial, **_choices(access))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_link(Actor.from_request(request), access, link.pk, _input(form))
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The link was saved."))
            return redirect("links:detail", slug=access.workspace.slug, link_id=link.pk)
    return _form_page(request, access, form, link)


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def link_delete(request: HttpRequest, access: WorkspaceAccess, link_id: int) -> HttpResponse:
    try:
        actions.delete_link(Actor.from_request(request), access, link_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The link was deleted."))
    return redirect("links:list", slug=access.workspace.slug)


@workspace_view(Perm.VIEW_ANALYTICS)
def link_qr(request: HttpRequest, access: WorkspaceAccess, link_id: int, fmt: str) -> HttpResponse:
    import io

    import segno

    link = _get(access, link_id)
    cfg = actions.settings_for(access.workspace)
    code = segno.make(_short(link, cfg.short_domain), error="m")
    out = io.BytesIO()
    if fmt == "svg":
        code.save(out, kind="svg", scale=8, border=2, xmldecl=False, title=link.code)
        content_type = "image/svg+xml"
    elif fmt == "png":
        code.save(out, kind="png", scale=10, border=2)
        content_type = "image/png"
    else:
        raise Http404
    response = HttpResponse(out.getvalue(), content_type=content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="link-{link.code}.{fmt}"'
    return response


# -- settings -------------------------------------------------------------------------------


def _snippet(request: HttpRequest, public_key: str) -> str:
    base = str(settings.MINBAR_BASE_URL).rstrip("/")
    script = base + static("minbar/js/minbar-conversions.js")
    return (
        f'<script src="{script}" data-minbar-key="{public_key}" '
        f'data-minbar-endpoint="{base}/api/v1/conversions/browser" defer></script>'
    )


def _settings_page(
    request: HttpRequest,
    access: WorkspaceAccess,
    form: SettingsForm | None = None,
    secret: str = "",
) -> HttpResponse:
    cfg = actions.settings_for(access.workspace)
    form = form or SettingsForm(
        initial={
            "auto_apply": cfg.auto_apply,
            "short_domain": cfg.short_domain,
            "attribution_days": cfg.attribution_days,
            "browser_events": ", ".join(cfg.browser_events),
            "allowed_origins": "\n".join(cfg.allowed_origins),
        }
    )
    base = str(settings.MINBAR_BASE_URL).rstrip("/")
    response = render(
        request,
        "links/settings.html",
        {
            "form": form,
            "cfg": cfg,
            "secret": secret,
            "snippet": _snippet(request, cfg.public_key),
            "server_endpoint": f"{base}/api/v1/conversions",
            "short_base": urls_util.short_base(cfg.short_domain),
        },
        status=422 if form.is_bound and form.errors else 200,
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@workspace_view(Perm.MANAGE_WORKSPACE)
def link_settings(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    if request.method != "POST":
        return _settings_page(request, access)
    form = SettingsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_settings(
                Actor.from_request(request),
                access,
                actions.SettingsInput(
                    auto_apply=data["auto_apply"],
                    short_domain=data["short_domain"],
                    attribution_days=data["attribution_days"],
                    browser_events=data["browser_events"].split(","),
                    allowed_origins=data["allowed_origins"].split(),
                ),
            )
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Link settings saved."))
            return redirect("links:settings", slug=access.workspace.slug)
    return _settings_page(request, access, form=form)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def reveal_secret(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    cfg = actions.settings_for(access.workspace)
    return _settings_page(request, access, secret=cfg.conversion_secret)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def rotate_secret(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    cfg = actions.rotate_conversion_secret(Actor.from_request(request), access)
    messages.success(
        request,
        _("A new signing secret is in use. Update your server now; the old one no longer works."),
    )
    return _settings_page(request, access, secret=cfg.conversion_secret)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def rotate_key(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    actions.rotate_public_key(Actor.from_request(request), access)
    messages.success(
        request, _("A new public key is in use. Paste the new snippet into your site.")
    )
    return redirect("links:settings", slug=access.workspace.slug)


# -- conversions ----------------------------------------------------------------------------


@workspace_view(Perm.VIEW_ANALYTICS)
def conversion_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    rows = actions.conversions_for(access)
    event = request.GET.get("event", "").strip()
    if event:
        rows = rows.filter(event=event)
    attributed = request.GET.get("attributed", "")
    if attributed == "yes":
        rows = rows.filter(click__isnull=False)
    elif attributed == "no":
        rows = rows.filter(click__isnull=True)
    if request.GET.get("format") == "csv":
        return _csv(
            f"conversions-{access.workspace.slug}.csv",
            [
                "occurred_at_utc",
                "event",
                "value",
                "currency",
                "order_id",
                "source",
                "click_id",
                "link",
                "channel",
                "post_id",
                "campaign",
                "contact",
                "unattributed_reason",
            ],
            (
                [
                    c.occurred_at.astimezone(UTC).isoformat(),
                    c.event,
                    c.value if c.value is not None else "",
                    c.currency,
                    c.order_id,
                    c.source,
                    c.click.click_id if c.click else "",
                    c.link.code if c.link else "",
                    c.channel.handle if c.channel else "",
                    c.post_id or "",
                    c.campaign,
                    str(c.contact) if c.contact else "",
                    c.unattributed_reason,
                ]
                for c in rows.select_related("click").iterator(chunk_size=500)
            ),
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    start, end, _zone = _range(30)
    overall = stats.totals(access.workspace.pk, start, end)
    by_campaign = stats.breakdown(access.workspace.pk, start, end, by="campaign")
    return render(
        request,
        "links/conversions.html",
        {
            "page": page,
            "overall": overall,
            "revenue": _revenue_text(overall.revenue),
            "by_campaign": [r for r in by_campaign if r.totals.conversions],
            "filters": {"event": event, "attributed": attributed},
            "events": sorted(
                set(
                    Conversion.objects.filter(workspace=access.workspace).values_list(
                        "event", flat=True
                    )
                )
            ),
            "reasons": {
                "no_click": _("no click id"),
                "unknown_click": _("unknown click"),
                "outside_window": _("outside the window"),
            },
        },
    )
