from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS as DJANGO_WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from minbar.accounts.models import User
from minbar.channels.actions import connector_for
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput
from minbar.inbox import actions
from minbar.inbox import metrics as inbox_metrics
from minbar.inbox.forms import rule_from
from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import (
    MAX_RATING,
    InboxSettings,
    Item,
    Kind,
    Priority,
    Reply,
    Rule,
    SavedReply,
    SentimentCorrection,
    Status,
)
from minbar.inbox.rules import normalize
from minbar.media.models import MediaAsset
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm

PER_PAGE = 50
# A view of open items someone has taken (the status list's fourth entry).
ASSIGNED = "assigned"
# Monday = 0, named in the reader's language.
WEEKDAY_NAMES = sorted(DJANGO_WEEKDAYS.items())
# The review-stars filter: one to five stars exactly, or the unhappy ones (one or two).
RATINGS = tuple(str(n) for n in range(MAX_RATING, 0, -1))
LOW_RATING = "low"


def rating_choices() -> list[tuple[str, str]]:
    choices = [
        (value, ngettext("%(n)d star", "%(n)d stars", int(value)) % {"n": int(value)})
        for value in RATINGS
    ]
    return [*choices, (LOW_RATING, _("1 or 2 stars"))]


def filtered(
    request: HttpRequest, access: WorkspaceAccess
) -> tuple[QuerySet[Item], dict[str, str]]:
    """The inbox as the query string narrows it; also returns the filters for the form."""
    query = {
        key: request.GET.get(key, "").strip()
        for key in (
            "status",
            "channel",
            "network",
            "kind",
            "assignee",
            "sentiment",
            "rating",
            "language",
            "q",
            "tag",
            "link",
            "vip",
            "since",
            "until",
        )
    }
    query["status"] = query["status"] or Status.OPEN
    items = actions.items_for(access).select_related("channel", "contact", "assignee")
    if query["status"] == ASSIGNED:
        items = items.filter(status=Status.OPEN, assignee__isnull=False)
    elif query["status"] != "all":
        items = items.filter(status=query["status"])
    if query["channel"].isdigit():
        items = items.filter(channel_id=int(query["channel"]))
    if query["kind"] in Kind.values:
        items = items.filter(kind=query["kind"])
    if query["assignee"] == "me":
        items = items.filter(assignee=request.user)  # type: ignore[misc]
    elif query["assignee"] == "none":
        items = items.filter(assignee__isnull=True)
    elif query["assignee"].isdigit():
        items = items.filter(assignee_id=int(query["assignee"]))
    if query["sentiment"] in ("positive", "neutral", "negative"):
        items = items.filter(sentiment=query["sentiment"])
    if query["rating"] == LOW_RATING:
        items = items.filter(rating__lte=2)
    elif query["rating"] in RATINGS:
        items = items.filter(rating=int(query["rating"]))
    if query["network"]:
        items = items.filter(channel__network=query["network"])
    if query["language"] in ("en", "ar"):
        items = items.filter(language__startswith=query["language"])
    if query["link"] == "yes":
        items = items.filter(Q(text__icontains="http://") | Q(text__icontains="https://"))
    if query["vip"] == "yes":
        items = items.filter(contact__vip=True)
    zone = zoneinfo.ZoneInfo(
        getattr(request.user, "time_zone", "") or access.workspace.time_zone or "UTC"
    )
    for key, lookup, extra in (("since", "gte", 0), ("until", "lt", 1)):
        try:
            day = date.fromisoformat(query[key]) if query[key] else None
        except ValueError:
            query[key] = ""
            continue
        if day is not None:
            moment = datetime.combine(day + timedelta(days=extra), time.min, zone)
            items = items.filter(**{f"remote_created_at__{lookup}": moment})
    if query["q"]:
        for word in normalize(query["q"]).split():
            items = items.filter(search_text__contains=word)
    return items, query


@workspace_view(Perm.VIEW_INBOX)
def inbox(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    items, query = filtered(request, access)
    if query["tag"]:
        # SQLite's JSON fields cannot answer "contains", so tags are matched here.
        wanted = query["tag"]
        ids = [pk for pk, tags in items.values_list("pk", "tags") if wanted in (tags or [])]
        items = items.filter(pk__in=ids)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    counts = {row["status"]: row["n"] for row in _status_counts(actions.items_for(access))}
    assigned = actions.items_for(access).filter(status=Status.OPEN, assignee__isnull=False).count()
    user: User = request.user  # type: ignore[assignment]
    saved_views = []
    for view in actions.views_for(access, user):
        narrowed, _query = filtered(_as_get(request, view.query), access)
        saved_views.append({"view": view, "count": narrowed.count()})
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "inbox/list.html",
        {
            "page": page,
            "query": query,
            "tabs": [
                (Status.OPEN, Status.OPEN.label, counts.get(Status.OPEN, 0)),
                (ASSIGNED, _("Assigned"), assigned),
                (Status.CLOSED, Status.CLOSED.label, counts.get(Status.CLOSED, 0)),
                (Status.SPAM, Status.SPAM.label, counts.get(Status.SPAM, 0)),
            ],
            "statuses": [*Status.choices, (ASSIGNED, _("Assigned"))],
            "kinds": Kind.choices,
            "ratings": rating_choices(),
            "channels": Channel.objects.filter(workspace=access.workspace),
            "networks": sorted(
                set(
                    Channel.objects.filter(workspace=access.workspace).values_list(
                        "network", flat=True
                    )
                )
            ),
            "members": actions.members_who_engage(access),
            "can_engage": access.can(Perm.ENGAGE),
            "querystring": keep.urlencode(),
            "now": timezone.now(),
            "saved_views": saved_views,
        },
    )


def _status_counts(items: QuerySet[Item]) -> list[dict[str, Any]]:
    from django.db.models import Count

    return [dict(row) for row in items.values("status").annotate(n=Count("id")).order_by()]


@workspace_view(Perm.VIEW_INBOX)
def detail(request: HttpRequest, access: WorkspaceAccess, item_id: int) -> HttpResponse:
    try:
        item = actions.get_item(access, item_id)
    except ActionError:
        raise Http404 from None
    return render(request, "inbox/detail.html", _detail_context(request, access, item))


def _detail_context(
    request: HttpRequest, access: WorkspaceAccess, item: Item, draft: str = ""
) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    can_engage = access.can(Perm.ENGAGE)
    others = actions.note_viewing(item, user) if can_engage else []
    saved = [
        {"title": s.title, "text": actions.fill(s, item, user), "language": s.language}
        for s in SavedReply.objects.filter(workspace=access.workspace)
        if not s.language or not item.language or s.language == item.language[:2]
    ]
    caps = connector_for(item.channel).account_capabilities()
    chain: list[Item] = []
    parent = item.parent
    while parent is not None and len(chain) < 20:
        chain.append(parent)
        parent = parent.parent
    chain.reverse()
    thread = (
        list(item.conversation.items.select_related("contact").order_by("remote_created_at"))
        if item.conversation
        else [*chain, item, *item.children.select_related("contact")]
    )
    return {
        "item": item,
        "thread": thread,
        "replies": item.replies.select_related("author"),
        "notes": item.notes.select_related("author"),
        "members": actions.members_who_engage(access),
        "can_engage": can_engage,
        "statuses": Status.choices,
        "others_viewing": others,
        "saved_replies": saved,
        "can_hide": caps.can_hide and item.deleted_at is None,
        "can_delete": caps.can_delete_interactions and item.deleted_at is None,
        "loaded_at": timezone.now().isoformat(),
        "library": MediaAsset.objects.filter(workspace=access.workspace).order_by("-created_at")[
            :30
        ],
        "draft": draft,
    }


def _ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("items") if v.isdigit()]


@workspace_view(Perm.ENGAGE)
@require_POST
def bulk(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """One action on the ticked items: assign, close, reopen, mark spam, tag."""
    actor = Actor.from_request(request)
    ids = _ids(request)
    action = request.POST.get("action", "")
    back = request.POST.get("next", "") or ""
    try:
        if not ids:
            raise ActionError(_("Tick the items first."))
        if action == "assign":
            raw = request.POST.get("assignee", "")
            n = actions.assign(actor, access, ids, int(raw) if raw.isdigit() else None)
        elif action in Status.values:
            n = actions.set_status(actor, access, ids, action)
        elif action == "tag":
            n = actions.tag(actor, access, ids, request.POST.get("tag", "").split(","), [])
        else:
            raise ActionError(_("Choose what to do with the ticked items."))
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d item(s) updated.") % {"n": n})
    url = f"/w/{access.workspace.slug}/inbox/"
    return redirect(f"{url}?{back}" if back else url)


def _on_item(
    request: HttpRequest, access: WorkspaceAccess, item_id: int, call: Any, done: str
) -> HttpResponse:
    try:
        call()
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("inbox:detail", slug=access.workspace.slug, item_id=item_id)


@workspace_view(Perm.ENGAGE)
@require_POST
def act(request: HttpRequest, access: WorkspaceAccess, item_id: int) -> HttpResponse:
    """The item page's buttons: status, assignee, tags."""
    actor = Actor.from_request(request)
    action = request.POST.get("action", "")
    if action == "assign":
        raw = request.POST.get("assignee", "")
        return _on_item(
            request,
            access,
            item_id,
            lambda: actions.assign(actor, access, [item_id], int(raw) if raw.isdigit() else None),
            _("Assignment saved."),
        )
    if action in ("vip", "not_vip"):
        return _on_item(
            request,
            access,
            item_id,
            lambda: actions.set_vip(actor, access, item_id, action == "vip"),
            _("Saved."),
        )
    if action == "sentiment":
        return _on_item(
            request,
            access,
            item_id,
            lambda: actions.correct_sentiment(
                actor, access, item_id, request.POST.get("sentiment", "")
            ),
            _("Sentiment corrected. Thank you: corrections are counted to improve it."),
        )
    if action == "tag":
        return _on_item(
            request,
            access,
            item_id,
            lambda: actions.tag(
                actor,
                access,
                [item_id],
                request.POST.get("add", "").split(","),
                request.POST.getlist("remove"),
            ),
            _("Tags saved."),
        )
    return _on_item(
        request,
        access,
        item_id,
        lambda: actions.set_status(actor, access, [item_id], action),
        _("Saved."),
    )


@workspace_view(Perm.ENGAGE)
@require_POST
def reply(request: HttpRequest, access: WorkspaceAccess, item_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    text = request.POST.get("text", "")
    try:
        item = actions.get_item(access, item_id)
    except ActionError:
        raise Http404 from None
    answered = _answered_since(item, request.POST.get("loaded_at", ""), request.user.pk)
    if answered and not request.POST.get("send_anyway"):
        context = _detail_context(request, access, item, draft=text) | {"answered_since": answered}
        return render(request, "inbox/detail.html", context, status=409)
    try:
        answer = actions.reply(
            actor,
            access,
            item_id,
            text,
            [int(v) for v in request.POST.getlist("media") if v.isdigit()],
        )
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        if answer.state == "sent":
            messages.success(request, _("Reply sent."))
        else:
            messages.error(
                request,
                _("The reply was kept but not sent: %(reason)s") % {"reason": answer.error_message},
            )
    return redirect("inbox:detail", slug=access.workspace.slug, item_id=item_id)


def _answered_since(item: Item, loaded_at: str, user_id: Any) -> list[Reply]:
    """Replies someone else sent after this person opened the item."""
    try:
        since = datetime.fromisoformat(loaded_at)
    except ValueError:
        return []
    return list(
        item.replies.filter(created_at__gt=since)
        .exclude(author_id=user_id)
        .select_related("author")
    )


@workspace_view(Perm.ENGAGE)
@require_POST
def moderate(request: HttpRequest, access: WorkspaceAccess, item_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    what = request.POST.get("action", "")
    done = {
        "hide": _("Hidden on the network."),
        "unhide": _("Shown again on the network."),
        "delete": _("Deleted on the network."),
    }.get(what, _("Saved."))
    return _on_item(
        request, access, item_id, lambda: actions.moderate(actor, access, item_id, what), done
    )


@workspace_view(Perm.VIEW_INBOX)
def saved_replies(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    context: dict[str, Any] = {
        "saved": SavedReply.objects.filter(workspace=access.workspace),
        "variables": actions.VARIABLES,
        "can_engage": access.can(Perm.ENGAGE),
    }
    if request.method == "POST":
        actor = Actor.from_request(request)
        try:
            if request.POST.get("delete", "").isdigit():
                actions.delete_reply_template(actor, access, int(request.POST["delete"]))
                messages.success(request, _("Saved reply deleted."))
            else:
                actions.save_reply_template(
                    actor,
                    access,
                    request.POST.get("title", ""),
                    request.POST.get("body", ""),
                    request.POST.get("language", ""),
                )
                messages.success(request, _("Saved reply added."))
        except ActionError as exc:
            context |= {"error": exc.message, "field_errors": exc.fields, "posted": request.POST}
            return render(request, "inbox/saved_replies.html", context, status=422)
        return redirect("inbox:saved_replies", slug=access.workspace.slug)
    return render(request, "inbox/saved_replies.html", context)


@workspace_view(Perm.ENGAGE)
@require_POST
def retry_reply(
    request: HttpRequest, access: WorkspaceAccess, item_id: int, reply_id: int
) -> HttpResponse:
    actor = Actor.from_request(request)
    return _on_item(
        request,
        access,
        item_id,
        lambda: actions.retry_reply(actor, access, reply_id),
        _("Trying again."),
    )


@workspace_view(Perm.ENGAGE)
@require_POST
def note(request: HttpRequest, access: WorkspaceAccess, item_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _on_item(
        request,
        access,
        item_id,
        lambda: actions.add_note(actor, access, item_id, request.POST.get("body", "")),
        _("Note added."),
    )


@workspace_view(Perm.VIEW_INBOX)
def rules_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The workspace's rules in the order they run, and the form to add or change one."""
    can_manage = access.can(Perm.MANAGE_WORKSPACE)
    editing = None
    if request.GET.get("edit", "").isdigit():
        editing = Rule.objects.filter(workspace=access.workspace, pk=request.GET["edit"]).first()
    context: dict[str, Any] = {
        "rules": Rule.objects.filter(workspace=access.workspace),
        "editing": editing,
        "form": _rule_form_values(editing),
        "can_manage": can_manage,
        "members": actions.members_who_engage(access),
        "channels": Channel.objects.filter(workspace=access.workspace),
        "kinds": Kind.choices,
        "priorities": Priority.choices,
        "saved_replies": SavedReply.objects.filter(workspace=access.workspace),
    }
    if request.method == "POST":
        actor = Actor.from_request(request)
        op = request.POST.get("op", "save")
        raw_id = request.POST.get("rule", "")
        rule_id = int(raw_id) if raw_id.isdigit() else None
        try:
            if op == "delete" and rule_id:
                actions.delete_rule(actor, access, rule_id)
                messages.success(request, _("Rule deleted."))
            elif op in ("up", "down") and rule_id:
                actions.move_rule(actor, access, rule_id, up=op == "up")
            else:
                conditions, actions_ = rule_from(request.POST)
                actions.save_rule(
                    actor,
                    access,
                    name=request.POST.get("name", ""),
                    conditions=conditions,
                    actions_=actions_,
                    stop=bool(request.POST.get("stop")),
                    enabled=bool(request.POST.get("enabled")),
                    rule_id=rule_id,
                )
                messages.success(
                    request, _("Rule saved. It runs on items that arrive from now on.")
                )
        except ActionError as exc:
            context |= {
                "error": exc.message,
                "field_errors": exc.fields,
                "form": _posted_rule_values(request.POST),
            }
            return render(request, "inbox/rules.html", context, status=422)
        return redirect("inbox:rules", slug=access.workspace.slug)
    return render(request, "inbox/rules.html", context)


def _rule_form_values(rule: Rule | None) -> dict[str, Any]:
    c = rule.conditions if rule else {}
    a = rule.actions if rule else {}
    yes_no = {True: "yes", False: "no", None: ""}
    return {
        "id": rule.pk if rule else "",
        "name": rule.name if rule else "",
        "enabled": rule.enabled if rule else True,
        "stop": rule.stop if rule else False,
        "keywords": ", ".join(c.get("keywords", [])),
        "exclude_keywords": ", ".join(c.get("exclude_keywords", [])),
        "languages": c.get("languages", []),
        "sentiments": c.get("sentiments", []),
        "kinds": c.get("kinds", []),
        "channels": c.get("channels", []),
        "has_link": yes_no[c.get("has_link")],
        "has_email": yes_no[c.get("has_email")],
        "min_followers": c.get("min_followers") or "",
        "vip": yes_no[c.get("vip")],
        "hours": c.get("hours", ""),
        "add_tags": ", ".join(a.get("add_tags", [])),
        "assign_to": a.get("assign_to") or "",
        "round_robin": a.get("round_robin", []),
        "priority": "" if a.get("priority") is None else a["priority"],
        "hide": a.get("hide", False),
        "close": a.get("close", False),
        "spam": a.get("spam", False),
        "alert": a.get("alert", []),
        "auto_reply": a.get("auto_reply") or "",
    }


def _posted_rule_values(data: Any) -> dict[str, Any]:
    ints = lambda key: [int(v) for v in data.getlist(key) if v.isdigit()]  # noqa: E731
    single = lambda key: int(data[key]) if data.get(key, "").isdigit() else ""  # noqa: E731
    return {
        "id": data.get("rule", ""),
        "name": data.get("name", ""),
        "enabled": bool(data.get("enabled")),
        "stop": bool(data.get("stop")),
        "keywords": data.get("keywords", ""),
        "exclude_keywords": data.get("exclude_keywords", ""),
        "languages": data.getlist("languages"),
        "sentiments": data.getlist("sentiments"),
        "kinds": data.getlist("kinds"),
        "channels": ints("channels"),
        "has_link": data.get("has_link", ""),
        "has_email": data.get("has_email", ""),
        "min_followers": data.get("min_followers", ""),
        "vip": data.get("vip", ""),
        "hours": data.get("hours", ""),
        "add_tags": data.get("add_tags", ""),
        "assign_to": single("assign_to"),
        "round_robin": ints("round_robin"),
        "priority": single("priority"),
        "hide": bool(data.get("hide")),
        "close": bool(data.get("close")),
        "spam": bool(data.get("spam")),
        "alert": ints("alert"),
        "auto_reply": single("auto_reply"),
    }


PERIODS = (7, 30, 90)
SENTIMENT_LABELS = {
    "positive": _lazy("Positive"),
    "neutral": _lazy("Neutral"),
    "negative": _lazy("Negative"),
}


@workspace_view(Perm.VIEW_INBOX)
def metrics_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Response rate and first-response time, overall, per channel, per member, per day."""
    raw = request.GET.get("days", "30")
    days = int(raw) if raw.isdigit() and int(raw) in PERIODS else 30
    hours = BusinessHours.of(access.workspace)
    end = timezone.now()
    start = end - timedelta(days=days)
    result = inbox_metrics.report(actions.items_for(access), hours, start, end)
    channels = {c.pk: c for c in Channel.objects.filter(workspace=access.workspace)}
    people = {u.pk: u for u in actions.members_who_engage(access)}
    daily = [
        (day, result.by_day.get(day, inbox_metrics.ResponseStats()))
        for day in inbox_metrics.days_between(
            start.astimezone(hours.zone).date(), end.astimezone(hours.zone).date() + timedelta(1)
        )
    ]
    peak = max([1, *(stats.received for _day, stats in daily)])
    bar_width = 600 / max(1, len(daily))
    bars = [
        {
            "day": day,
            "x": round(i * bar_width, 1),
            "width": round(max(1.0, bar_width - 2), 1),
            "received": stats.received,
            "answered": stats.answered,
            "received_h": round(120 * stats.received / peak, 1),
            "answered_h": round(120 * stats.answered / peak, 1),
            "received_y": round(130 - 120 * stats.received / peak, 1),
            "answered_y": round(130 - 120 * stats.answered / peak, 1),
        }
        for i, (day, stats) in enumerate(daily)
    ]
    from minbar.sentiment.corrections import Correction, summarize

    corrections = summarize(
        Correction(language=c.language, predicted=c.predicted, corrected=c.corrected)  # type: ignore[arg-type]
        for c in SentimentCorrection.objects.filter(
            item__workspace=access.workspace, created_at__gte=start
        )
    )
    return render(
        request,
        "inbox/metrics.html",
        {
            "days": days,
            "corrections": [
                {
                    "language": summary.language,
                    "total": summary.total,
                    "changes": [
                        {"from": SENTIMENT_LABELS[before], "to": SENTIMENT_LABELS[after], "n": n}
                        for (before, after), n in sorted(summary.by_change.items())
                    ],
                }
                for summary in corrections.values()
            ],
            "periods": PERIODS,
            "total": result.total,
            "total_view": _shown(result.total),
            "channel_rows": [
                (channels.get(pk), _shown(stats)) for pk, stats in result.by_channel.items()
            ],
            "member_rows": [
                (people.get(pk), _shown(stats)) for pk, stats in result.by_member.items()
            ],
            "bars": bars,
            "chart_width": 600,
            "zone": str(hours.zone),
            "can_manage": access.can(Perm.MANAGE_WORKSPACE),
        },
    )


def _shown(stats: inbox_metrics.ResponseStats) -> dict[str, Any]:
    rate = stats.rate
    return {
        "received": stats.received,
        "answered": stats.answered,
        "rate_text": "—" if rate is None else f"{rate:.0%}",
        "median_text": inbox_metrics.humanize_seconds(stats.median_seconds),
        "average_text": inbox_metrics.humanize_seconds(stats.average_seconds),
    }


@workspace_view(Perm.MANAGE_WORKSPACE)
def hours_page(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Business hours per weekday, holidays, and the first-response target."""
    found = InboxSettings.objects.filter(workspace=access.workspace).first()
    current = found or InboxSettings(workspace=access.workspace)
    context: dict[str, Any] = {
        "row": current,
        "weekdays": [
            {
                "n": n,
                "name": name,
                "spans": current.hours.get(str(n), []),
            }
            for n, name in WEEKDAY_NAMES
        ],
        "workspace_zone": access.workspace.time_zone,
    }
    if request.method == "POST":
        week: dict[int, list[tuple[str, str]]] = {}
        for n, _name in WEEKDAY_NAMES:
            if request.POST.get(f"open_{n}"):
                week[n] = [(request.POST.get(f"start_{n}", ""), request.POST.get(f"end_{n}", ""))]
        target = request.POST.get("first_response_target_minutes", "60").strip()
        warn = request.POST.get("warn_before_minutes", "15").strip()
        try:
            if not target.isdigit() or not warn.isdigit():
                raise InvalidInput(
                    _("Use whole numbers of minutes."),
                    fields={"first_response_target_minutes": _("A whole number.")},
                )
            actions.update_inbox_settings(
                Actor.from_request(request),
                access,
                actions.HoursInput(
                    time_zone=request.POST.get("time_zone", "").strip(),
                    week=week,
                    holidays=[
                        line for line in request.POST.get("holidays", "").split() if line.strip()
                    ],
                    first_response_target_minutes=int(target),
                    warn_before_minutes=int(warn),
                ),
            )
        except ActionError as exc:
            context |= {"error": exc.message, "field_errors": exc.fields}
            return render(request, "inbox/hours.html", context, status=422)
        messages.success(request, _("Business hours saved."))
        return redirect("inbox:hours", slug=access.workspace.slug)
    return render(request, "inbox/hours.html", context)


def _as_get(request: HttpRequest, query: str) -> HttpRequest:
    """A copy of the request whose GET is a saved view's query (to count its items)."""
    from copy import copy

    from django.http import QueryDict

    clone = copy(request)
    clone.GET = QueryDict(query)
    return clone


@workspace_view(Perm.VIEW_INBOX)
@require_POST
def views_edit(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Save the current filters as a view, or delete one."""
    from urllib.parse import parse_qsl

    actor = Actor.from_request(request)
    try:
        if request.POST.get("delete", "").isdigit():
            actions.delete_view(actor, access, int(request.POST["delete"]))
            messages.success(request, _("View deleted."))
        else:
            query = dict(parse_qsl(request.POST.get("query", "")))
            actions.save_view(
                actor,
                access,
                request.POST.get("name", ""),
                query,
                shared=bool(request.POST.get("shared")),
            )
            messages.success(request, _("View saved."))
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect("inbox:list", slug=access.workspace.slug)


@csrf_exempt
def push(request: HttpRequest, token: str) -> HttpResponse:
    """Where networks push new interactions (and verify the address first)."""
    from minbar.inbox import push as pushes

    if request.method == "GET":
        answer = pushes.answer_verification(token, request.GET.dict())
        if answer is None:
            return HttpResponse(status=403)
        return HttpResponse(answer, content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405)
    headers = {key: value for key, value in request.headers.items()}
    with transaction.atomic():
        got = pushes.receive(token, headers, request.body)
    if got is None:
        return HttpResponse(status=403)
    return JsonResponse({"created": got.created, "updated": got.updated})
