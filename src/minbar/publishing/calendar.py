"""The content calendar: month, week and list views in the viewer's time zone, their filters,
and the iCalendar feed."""

from __future__ import annotations

import calendar as pycalendar
import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.publishing.models import CalendarFeed, Post, PostState, Target, TargetState
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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


# --- Filters shared by the month, week and list views and the iCalendar feed ---------------

# What people filter by; several post and target states read as one status to a planner.
PROBLEM_TARGET_STATES = (TargetState.FAILED, TargetState.HELD, TargetState.UNCONFIRMED)
STATUS_CHOICES: list[tuple[str, StrOrPromise]] = [
    ("draft", gettext_lazy("Draft")),
    ("awaiting_approval", gettext_lazy("Awaiting approval")),
    ("approved", gettext_lazy("Approved")),
    ("scheduled", gettext_lazy("Scheduled")),
    ("publishing", gettext_lazy("Publishing")),
    ("published", gettext_lazy("Published")),
    ("problem", gettext_lazy("Failed, held or unconfirmed")),
    ("cancelled", gettext_lazy("Cancelled")),
]
_STATUS_ALIASES = {"partly_published": "published", "failed": "problem"}


def _status_q(status: str) -> Q:
    if status == "published":
        return Q(state__in=(PostState.PUBLISHED, PostState.PARTLY_PUBLISHED))
    if status == "problem":
        return Q(state=PostState.FAILED) | Q(
            Exists(Target.objects.filter(post=OuterRef("pk"), state__in=PROBLEM_TARGET_STATES))
        )
    return Q(state=status)


def _any_tag(tags: tuple[str, ...]) -> Q:
    """Posts carrying at least one of ``tags`` (exact match in the JSON list)."""
    if connection.vendor == "postgresql":
        query = Q()
        for tag in tags:
            query |= Q(tags__contains=[tag])
        return query
    # SQLite has no JSON containment lookup; json_each reads the list in SQL instead.
    marks = ", ".join(["%s"] * len(tags))
    # Only placeholders are interpolated; the tags travel as parameters.
    return Q(
        RawSQL(  # noqa: S611
            f'EXISTS (SELECT 1 FROM json_each("{Post._meta.db_table}"."tags") '  # noqa: S608
            f"WHERE json_each.value IN ({marks}))",
            tags,
            output_field=BooleanField(),
        )
    )


def _ints(values: list[str]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(v) for v in values if v.strip().isdigit()))


@dataclass(frozen=True)
class CalendarFilters:
    """Channels (any of), tags (any of), statuses (any of) and author, from a query string.

    Unknown values are dropped rather than refused: a bookmarked view whose channel
    was removed should still open.
    """

    channels: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    author: int | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> CalendarFilters:
        known = {value for value, _label in STATUS_CHOICES}
        raw = [*query.getlist("status"), *query.getlist("state")]  # "state": older bookmarks
        statuses = [_STATUS_ALIASES.get(s, s) for s in raw]
        author = query.get("author", "")
        return cls(
            channels=_ints(query.getlist("channel")),
            tags=tuple(dict.fromkeys(t.strip() for t in query.getlist("tag") if t.strip())),
            statuses=tuple(dict.fromkeys(s for s in statuses if s in known)),
            author=int(author) if author.isdigit() else None,
        )

    @property
    def active(self) -> bool:
        return bool(self.channels or self.tags or self.statuses or self.author)

    def params(self) -> list[tuple[str, str]]:
        return [
            *(("channel", str(c)) for c in self.channels),
            *(("tag", t) for t in self.tags),
            *(("status", s) for s in self.statuses),
            *([("author", str(self.author))] if self.author else []),
        ]

    def query(self) -> str:
        """The filters as a query string (no leading "?"), to carry between views and pages."""
        return urlencode(self.params())

    def apply(self, posts: QuerySet[Post]) -> QuerySet[Post]:
        if self.statuses:
            wanted = Q()
            for status in self.statuses:
                wanted |= _status_q(status)
            posts = posts.filter(wanted)
        else:
            posts = posts.filter(state__in=SHOWN_STATES)
        if self.channels:
            posts = posts.filter(
                Exists(Target.objects.filter(post=OuterRef("pk"), channel_id__in=self.channels))
            )
        if self.tags:
            posts = posts.filter(_any_tag(self.tags))
        if self.author:
            posts = posts.filter(author_id=self.author)
        return posts


def known_tags(posts: QuerySet[Post], recent: int = 1000) -> list[str]:
    """Tags used on the workspace's recent posts, for the tag filter's choices."""
    seen: set[str] = set()
    for tags in posts.order_by("-created_at").values_list("tags", flat=True)[:recent]:
        seen.update(t for t in tags or [] if isinstance(t, str))
    return sorted(seen, key=str.casefold)


# --- Week view -----------------------------------------------------------------------------

# Hours shown by default; posts outside them are gathered in an "earlier" and a "later" row.
WORKDAY_START = 6
WORKDAY_END = 23


def first_weekday() -> int:
    """The active language's first day of the week, as Python counts (Monday = 0)."""
    return (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7


def start_of_week(day: date, first: int) -> date:
    return day - timedelta(days=(day.weekday() - first) % 7)


def parse_day(raw: str, today: date, field_name: str = "week") -> date:
    if not raw:
        return today
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            _("“%(value)s” is not a date like 2026-03-09.") % {"value": raw},
            fields={field_name: _("Use YYYY-MM-DD.")},
        ) from None


def _local_midnight_utc(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _hour_exists(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> bool:
    wall = datetime.combine(day, time(hour), zone)
    back = wall.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def _hour_repeats(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> bool:
    wall = datetime.combine(day, time(hour, 30), zone)
    return wall.utcoffset() != wall.replace(fold=1).utcoffset()


@dataclass
class Slot:
    """One day and hour of the week grid (or a day's early/late bucket when ``hour`` is None)."""

    day: date
    hour: int | None
    # The clocks jump over this hour that day: nothing can be scheduled in it.
    skipped: bool = False
    # The clocks go back: this hour happens twice that day.
    repeated: bool = False
    posts: list[Post] = field(default_factory=list)


@dataclass
class WeekDay:
    date: date
    is_today: bool
    name: str
    # 23 or 25 on the days the clocks change.
    hours: int


@dataclass
class HourRow:
    hour: int | None
    label: str
    slots: list[Slot]
    bucket: str = ""  # "early" or "late" for the rows outside the working hours


@dataclass
class Week:
    start: date
    end: date
    days: list[WeekDay]
    rows: list[HourRow]
    previous: str
    next: str
    all_hours: bool
    post_count: int


def _hour_label(hour: int) -> str:
    return formats.time_format(time(hour), "TIME_FORMAT")


def week_grid(posts: QuerySet[Post], start: date, time_zone: str, all_hours: bool = False) -> Week:
    """Seven local days from ``start`` with one row per local hour, posts in their cells.

    Posts are read with one query for the whole week. A post goes in the row of its
    local wall-clock hour; on the day the clocks go back that hour holds both of its
    occurrences (each card shows its own time), on the day they go forward the
    skipped hour is marked and cannot take a post.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    dates = [start + timedelta(days=i) for i in range(7)]
    bounds = [_local_midnight_utc(d, zone) for d in [*dates, dates[-1] + timedelta(days=1)]]
    today = timezone.now().astimezone(zone).date()
    days = [
        WeekDay(
            date=d,
            is_today=d == today,
            name=formats.date_format(d, "l"),
            hours=round((bounds[i + 1] - bounds[i]).total_seconds() / 3600),
        )
        for i, d in enumerate(dates)
    ]
    first_hour, last_hour = (0, 24) if all_hours else (WORKDAY_START, WORKDAY_END)
    slots: dict[tuple[date, int], Slot] = {
        (d, h): Slot(d, h, not _hour_exists(d, h, zone), _hour_repeats(d, h, zone))
        for d in dates
        for h in range(first_hour, last_hour)
    }
    early = {d: Slot(d, None) for d in dates}
    late = {d: Slot(d, None) for d in dates}
    count = 0
    window = posts.filter(scheduled_at__gte=bounds[0], scheduled_at__lt=bounds[-1])
    for post in window.order_by("scheduled_at", "pk"):
        assert post.scheduled_at is not None
        local = post.scheduled_at.astimezone(zone)
        count += 1
        # Shown on the card where a wall-clock hour happens twice ("01:30 EDT", "01:30 EST").
        post.zone_abbreviation = local.tzname() or ""  # type: ignore[attr-defined]
        slot = slots.get((local.date(), local.hour))
        if slot is None:
            slot = (early if local.hour < first_hour else late)[local.date()]
        slot.posts.append(post)
    rows = [
        HourRow(h, _hour_label(h), [slots[(d, h)] for d in dates])
        for h in range(first_hour, last_hour)
    ]
    if any(s.posts for s in early.values()):
        label = _("Before %(time)s") % {"time": _hour_label(first_hour)}
        rows.insert(0, HourRow(None, label, [early[d] for d in dates], "early"))
    if any(s.posts for s in late.values()):
        label = _("From %(time)s") % {"time": _hour_label(last_hour)}
        rows.append(HourRow(None, label, [late[d] for d in dates], "late"))
    return Week(
        start=start,
        end=dates[-1],
        days=days,
        rows=rows,
        previous=(start - timedelta(days=7)).isoformat(),
        next=(start + timedelta(days=7)).isoformat(),
        all_hours=all_hours,
        post_count=count,
    )


# --- List view (agenda) ----------------------------------------------------------------------


@dataclass
class AgendaDay:
    date: date
    is_today: bool
    posts: list[Post]


def agenda_days(posts: list[Post], time_zone: str) -> list[AgendaDay]:
    """Posts (already in time order) grouped by their local day."""
    zone = zoneinfo.ZoneInfo(time_zone)
    today = timezone.now().astimezone(zone).date()
    days: list[AgendaDay] = []
    for post in posts:
        assert post.scheduled_at is not None
        day = post.scheduled_at.astimezone(zone).date()
        if not days or days[-1].date != day:
            days.append(AgendaDay(day, day == today, []))
        days[-1].posts.append(post)
    return days


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


def ics(feed: CalendarFeed, base_url: str, filters: CalendarFilters | None = None) -> str:
    workspace = feed.workspace
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Minbar//Content calendar//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(workspace.name)}",
    ]
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    posts = (
        (filters or CalendarFilters())
        .apply(Post.objects.filter(workspace=workspace, scheduled_at__isnull=False))
        .prefetch_related("targets__channel")
    )
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
