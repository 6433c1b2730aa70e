"""The content calendar: a month grid in the viewer's time zone, and the iCalendar feed."""

from __future__ import annotations

import calendar as pycalendar
import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.publishing.models import CalendarFeed, Post, PostState
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

SHOWN_STATES = [s for s in PostState.values if s != PostState.CANCELLED]


@dataclass
class Day:
    date: date
    in_month: bool
    is_today: bool
    posts: list[Post] = field(default_factory=list)
    # Recurring posts' occurrences not created yet (series.planned_by_day).
    planned: list[Any] = field(default_factory=list)


@dataclass
class Month:
    first: date
    weeks: list[list[Day]]
    weekday_names: list[str]
    previous: str
    next: str


def parse_month(raw: str, today: date) -> date:
    if not raw:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in raw.split("-", 1))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(
            _("“%(value)s” is not a month like 2026-03.") % {"value": raw},
            fields={"month": _("Use YYYY-MM.")},
        ) from None


def month_grid(posts: QuerySet[Post], first: date, time_zone: str) -> Month:
    zone = zoneinfo.ZoneInfo(time_zone)
    first_weekday = (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7  # Monday = 0
    cal = pycalendar.Calendar(firstweekday=first_weekday)
    dates = [d for week in cal.monthdatescalendar(first.year, first.month) for d in week]
    start = datetime.combine(dates[0], datetime.min.time(), zone).astimezone(UTC)
    end = datetime.combine(dates[-1] + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    by_day: dict[date, list[Post]] = {}
    for post in posts.filter(scheduled_at__gte=start, scheduled_at__lt=end).order_by(
        "scheduled_at"
    ):
        assert post.scheduled_at is not None
        by_day.setdefault(post.scheduled_at.astimezone(zone).date(), []).append(post)
    today = timezone.now().astimezone(zone).date()
    days = [Day(d, d.month == first.month, d == today, by_day.get(d, [])) for d in dates]
    names = [formats.date_format(dates[i], "D") for i in range(7)]
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return Month(
        first=first,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        weekday_names=names,
        previous=prev_month.strftime("%Y-%m"),
        next=next_month.strftime("%Y-%m"),
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token(actor: Actor, access: WorkspaceAccess, *, renew: bool = False) -> str:
    """The workspace's feed secret, created on first use; ``renew`` invalidates the old one."""
    if not access.can(Perm.MANAGE_WORKSPACE if renew else Perm.VIEW_CONTENT):
        raise NotAllowed(_("Only owners and admins can change the calendar address."))
    feed = CalendarFeed.objects.filter(workspace=access.workspace).first()
    if feed is not None and not renew:
        return feed.token
    token = secrets.token_urlsafe(24)
    CalendarFeed.objects.update_or_create(
        workspace=access.workspace,
        defaults={
            "token": token,
            "token_hash": _hash(token),
            "created_by": actor.user,
            "created_at": timezone.now(),
        },
    )
    return token


def feed_for(token: str) -> CalendarFeed | None:
    return CalendarFeed.objects.select_related("workspace").filter(token_hash=_hash(token)).first()


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with a leading space."""
    out: list[str] = []
    current = ""
    for char in line:
        if len((current + char).encode()) > (75 if not out else 74):
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def ics(feed: CalendarFeed, base_url: str) -> str:
    workspace = feed.workspace
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Minbar//Content calendar//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(workspace.name)}",
    ]
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    posts = Post.objects.filter(
        workspace=workspace, scheduled_at__isnull=False, state__in=SHOWN_STATES
    ).prefetch_related("targets__channel")
    for post in posts.order_by("scheduled_at")[:2000]:
        assert post.scheduled_at is not None
        start = post.scheduled_at.astimezone(UTC)
        channels = ", ".join(t.channel.handle for t in post.targets.all())
        summary = (post.text.splitlines()[0] if post.text else _("(no text)"))[:120]
        url = f"{base_url}/w/{workspace.slug}/publishing/posts/{post.pk}/"
        for raw in [
            "BEGIN:VEVENT",
            f"UID:post-{post.pk}@{workspace.slug}.minbar",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{(start + timedelta(minutes=15)).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(post.get_state_display() + ' · ' + channels)}",
            f"URL:{url}",
            "END:VEVENT",
        ]:
            lines.extend(_fold(raw))
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
