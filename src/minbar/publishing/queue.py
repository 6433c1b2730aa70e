"""Posting queues: each channel's weekly time slots and "add to queue".

A slot is a weekday and a local wall-clock time in the schedule's zone. Turned
into instants week after week, it follows daylight saving: a slot inside a gap
(clocks go forward) moves to the first instant that exists, a slot inside a
repeated hour (clocks go back) uses its first occurrence. A slot is free when no
scheduled or awaiting-approval target of that channel is due at that instant.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minbar.audit.actions import record
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.publishing.models import QueueSchedule, QueueSlot, Target, TargetState
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.actions import validate_time_zone
from minbar.workspaces.roles import Perm

# States in which a target holds its slot.
HOLDING_STATES = (TargetState.SCHEDULED, TargetState.AWAITING_APPROVAL)
# How far ahead "add to queue" looks for a free slot.
SEARCH_WEEKS = 52
MAX_SLOTS = 7 * 24
PRESETS: dict[str, list[time]] = {
    "1-a-day": [time(9, 0)],
    "2-a-day": [time(9, 0), time(17, 0)],
    "3-a-day": [time(9, 0), time(13, 0), time(17, 0)],
}
PRESET_LABELS = [
    ("1-a-day", gettext_lazy("Once a day at 9:00")),
    ("2-a-day", gettext_lazy("2 a day at 9:00 and 17:00")),
    ("3-a-day", gettext_lazy("3 a day at 9:00, 13:00 and 17:00")),
]


def wall_to_utc(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The instant of a local wall-clock time, never refusing one (unlike ``local_to_utc``).

    A time skipped by daylight saving becomes the first minute that exists after it
    (01:30 on London's spring-forward night → 02:00 BST); a repeated time is its
    first occurrence (fold 0).
    """
    wall = datetime.combine(day, at)
    for minutes in range(0, 24 * 60):
        candidate = wall + timedelta(minutes=minutes)
        if minutes:
            candidate = candidate.replace(second=0, microsecond=0)
        aware = candidate.replace(tzinfo=zone, fold=0)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
    # No zone skips a whole day's worth of minutes.
    raise ValueError(f"no valid time after {wall} in {zone}")  # pragma: no cover


def zone_of(schedule: QueueSchedule) -> str:
    return schedule.time_zone or schedule.channel.workspace.time_zone or "UTC"


def slot_times(
    slots: Iterable[tuple[int, time]], time_zone: str, start: datetime, weeks: int
) -> Iterator[datetime]:
    """Every slot's instant (UTC, ascending) from ``start`` on, for ``weeks`` weeks."""
    zone = zoneinfo.ZoneInfo(time_zone)
    by_weekday: dict[int, list[time]] = {}
    for weekday, at in slots:
        by_weekday.setdefault(weekday, []).append(at)
    if not by_weekday:
        return
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(weeks * 7 + 2):
        day = first_day + timedelta(days=offset)
        for at in sorted(by_weekday.get(day.weekday(), [])):
            instant = wall_to_utc(day, at, zone)
            if instant >= start:
                yield instant


@dataclass(frozen=True)
class SlotPick:
    channel: Channel
    due_at: datetime
    time_zone: str


def no_slots_error(channel: Channel) -> InvalidInput:
    url = reverse("channels:detail", args=[channel.workspace.slug, channel.pk]) + "#queue"
    return InvalidInput(
        _("Set up posting times for %(channel)s first.") % {"channel": channel.handle},
        fields={
            f"channel_{channel.pk}": _("Set up posting times on the channel's page: %(url)s")
            % {"url": url}
        },
    )


def next_free_slots(
    channels: Iterable[Channel],
    *,
    exclude_post_id: int | None = None,
    after: datetime | None = None,
    lock: bool = False,
) -> list[SlotPick]:
    """Each channel's next free slot after ``after`` (default: now).

    ``lock`` serialises queue additions per channel (the schedule row is locked to
    the end of the transaction), so two people adding at once get different slots.
    """
    # Never now itself: a slot at this very second would be late by the time it is saved.
    soonest = timezone.now() + timedelta(seconds=1)
    start = max(after, soonest) if after is not None else soonest
    end = start + timedelta(weeks=SEARCH_WEEKS)
    picks: list[SlotPick] = []
    for channel in channels:
        schedules = QueueSchedule.objects.filter(channel=channel).select_related(
            "channel__workspace"
        )
        if lock:
            schedules = schedules.select_for_update()
        schedule = schedules.first()
        slots = list(schedule.slots.values_list("weekday", "time")) if schedule else []
        if schedule is None or not slots:
            raise no_slots_error(channel)
        taken_rows = Target.objects.filter(
            channel=channel, state__in=HOLDING_STATES, due_at__gte=start, due_at__lt=end
        )
        if exclude_post_id is not None:
            taken_rows = taken_rows.exclude(post_id=exclude_post_id)
        taken = set(taken_rows.values_list("due_at", flat=True))
        zone = zone_of(schedule)
        for instant in slot_times(slots, zone, start, SEARCH_WEEKS):
            if instant not in taken:
                picks.append(SlotPick(channel, instant, zone))
                break
        else:
            raise InvalidInput(
                _("Every posting time of %(channel)s is taken for the next year.")
                % {"channel": channel.handle}
            )
    return picks


# --- Editing a channel's schedule -------------------------------------------------


def _channel(access: WorkspaceAccess, channel_id: int) -> Channel:
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None or not access.can(Perm.VIEW_CONTENT):
        raise NotFound(_("No such channel."))
    return channel


def get_schedule(access: WorkspaceAccess, channel_id: int) -> QueueSchedule:
    channel = _channel(access, channel_id)
    schedule, _created = QueueSchedule.objects.get_or_create(channel=channel)
    return schedule


def parse_time(raw: str) -> time:
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            _("“%(value)s” is not a time like 09:30.") % {"value": raw},
            fields={"time": _("Use HH:MM.")},
        ) from None


@transaction.atomic
def set_slots(
    actor: Actor,
    access: WorkspaceAccess,
    channel_id: int,
    slots: Iterable[tuple[int, time]],
    time_zone: str | None = None,
) -> QueueSchedule:
    """Replace the channel's posting times (and optionally the schedule's zone)."""
    channel = _channel(access, channel_id)
    if not access.can(Perm.MANAGE_CHANNELS):
        raise NotAllowed(_("Your role does not allow changing posting times."))
    wanted = sorted({(int(d), t.replace(second=0, microsecond=0)) for d, t in slots})
    if any(not 0 <= d <= 6 for d, _t in wanted):
        raise InvalidInput(_("Choose a day of the week."), fields={"weekday": _("Unknown day.")})
    if len(wanted) > MAX_SLOTS:
        raise InvalidInput(_("At most %(n)d posting times a week.") % {"n": MAX_SLOTS})
    schedule, _created = QueueSchedule.objects.select_for_update().get_or_create(channel=channel)
    if time_zone is not None:
        schedule.time_zone = validate_time_zone(time_zone) if time_zone else ""
    schedule.updated_at = timezone.now()
    schedule.save()
    schedule.slots.all().delete()
    QueueSlot.objects.bulk_create(
        [QueueSlot(schedule=schedule, weekday=d, time=t) for d, t in wanted]
    )
    record(
        actor,
        "channel.queue_updated",
        workspace=access.workspace,
        target=channel,
        data={"slots": len(wanted), "time_zone": schedule.time_zone},
    )
    return schedule


def current_slots(schedule: QueueSchedule) -> list[tuple[int, time]]:
    return list(schedule.slots.values_list("weekday", "time"))


def add_slot(
    actor: Actor, access: WorkspaceAccess, channel_id: int, weekday: int, at: time
) -> QueueSchedule:
    schedule = get_schedule(access, channel_id)
    return set_slots(actor, access, channel_id, [*current_slots(schedule), (weekday, at)])


def remove_slot(
    actor: Actor, access: WorkspaceAccess, channel_id: int, weekday: int, at: time
) -> QueueSchedule:
    schedule = get_schedule(access, channel_id)
    kept = [(d, t) for d, t in current_slots(schedule) if (d, t) != (weekday, at)]
    return set_slots(actor, access, channel_id, kept)


def copy_to_all_days(
    actor: Actor, access: WorkspaceAccess, channel_id: int, weekday: int
) -> QueueSchedule:
    """Every day of the week gets the times ``weekday`` has."""
    schedule = get_schedule(access, channel_id)
    times = [t for d, t in current_slots(schedule) if d == weekday]
    if not times:
        raise InvalidInput(_("That day has no posting times to copy."))
    return set_slots(actor, access, channel_id, [(d, t) for d in range(7) for t in times])


def apply_preset(
    actor: Actor, access: WorkspaceAccess, channel_id: int, preset: str
) -> QueueSchedule:
    if preset not in PRESETS:
        raise InvalidInput(_("Choose a preset from the list."), fields={"preset": _("Unknown.")})
    return set_slots(actor, access, channel_id, [(d, t) for d in range(7) for t in PRESETS[preset]])
