"""Reading the composer's form into a :class:`PostInput`."""

from __future__ import annotations

from datetime import date, datetime

from django.http import QueryDict
from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput
from minbar.publishing.actions import PostInput, Repeat, variants_from
from minbar.publishing.timing import local_to_utc

THREAD_SEPARATOR = "---"


def split_thread(raw: str) -> list[str]:
    parts = [p.strip() for p in raw.replace("\r\n", "\n").split(f"\n{THREAD_SEPARATOR}\n")]
    return [p for p in parts if p]


def post_input_from(data: QueryDict, time_zone: str) -> PostInput:
    channel_ids: list[int] = []
    for raw in data.getlist("channels"):
        try:
            channel_ids.append(int(raw))
        except ValueError:
            raise InvalidInput(
                _("Choose channels from the list."), fields={"channels": _("Unknown channel.")}
            ) from None
    when = data.get("when", "draft")
    scheduled_at = None
    # The queue picks the time; a leftover value in the picker is not a time.
    raw_time = "" if when == "queue" else data.get("scheduled_at", "").strip()
    if raw_time:
        try:
            local = datetime.fromisoformat(raw_time)
        except ValueError:
            raise InvalidInput(
                _("“%(value)s” is not a date and time.") % {"value": raw_time},
                fields={"scheduled_at": _("Use the date and time picker.")},
            ) from None
        scheduled_at = local_to_utc(local.replace(tzinfo=None), time_zone)
    return PostInput(
        text=data.get("text", "").strip(),
        link=data.get("link", "").strip(),
        first_comment=data.get("first_comment", "").strip(),
        thread=split_thread(data.get("thread", "")),
        channel_ids=channel_ids,
        variants=variants_from(data, channel_ids),
        tags=[t.strip() for t in data.get("tags", "").split(",") if t.strip()],
        notes=data.get("notes", "").strip(),
        when=when,
        scheduled_at=scheduled_at,
        scheduled_time_zone=time_zone if raw_time else "",
        repeat=repeat_from(data) if when != "draft" else None,
    )


def _number(data: QueryDict, name: str) -> int | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            _("“%(value)s” is not a number.") % {"value": raw}, fields={name: _("A number.")}
        ) from None


def repeat_from(data: QueryDict) -> Repeat | None:
    kind = data.get("repeat", "").strip()
    if not kind:
        return None
    until = None
    raw_until = data.get("repeat_until", "").strip() if data.get("repeat_end") == "until" else ""
    if raw_until:
        try:
            until = date.fromisoformat(raw_until)
        except ValueError:
            raise InvalidInput(
                _("“%(value)s” is not a date.") % {"value": raw_until},
                fields={"repeat_until": _("Use the date picker.")},
            ) from None
    weekdays = []
    for raw in data.getlist("repeat_weekdays"):
        if raw.isdigit():
            weekdays.append(int(raw))
    return Repeat(
        kind=kind,
        every_days=_number(data, "repeat_every") or 1,
        weekdays=weekdays,
        count=_number(data, "repeat_count") if data.get("repeat_end") == "count" else None,
        until=until,
        variations=split_thread(data.get("variations", "")),
    )
