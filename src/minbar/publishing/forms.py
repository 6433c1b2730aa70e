"""Reading the composer's and the approval settings' forms into action inputs."""

from __future__ import annotations

from datetime import date, datetime

from django.http import QueryDict
from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput
from minbar.publishing.actions import (
    PolicyInput,
    PostInput,
    Repeat,
    StepInput,
    Variant,
    variants_from,
)
from minbar.publishing.target_media import MAX_ITEMS, MediaChoice
from minbar.publishing.timing import local_to_utc

THREAD_SEPARATOR = "---"


def split_thread(raw: str) -> list[str]:
    parts = [p.strip() for p in raw.replace("\r\n", "\n").split(f"\n{THREAD_SEPARATOR}\n")]
    return [p for p in parts if p]


def media_from(data: QueryDict, list_name: str, alt_prefix: str) -> list[MediaChoice]:
    """The composer's media list: ``<list_name>`` asset ids in order, ``<alt_prefix><id>`` alt."""
    choices: list[MediaChoice] = []
    for raw in data.getlist(list_name)[: MAX_ITEMS + 1]:
        try:
            asset_id = int(raw)
        except ValueError:
            raise InvalidInput(
                _("Choose media from the library."), fields={"media": _("Unknown media file.")}
            ) from None
        alt = data.get(f"{alt_prefix}{asset_id}")
        choices.append(MediaChoice(asset_id, None if alt is None else alt.strip()))
    return choices


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
    variants = variants_from(data, channel_ids)
    for cid in channel_ids:
        if data.get(f"override_media_{cid}"):
            variant = variants.setdefault(cid, Variant())
            variant.media = media_from(data, f"media_{cid}", f"alt_{cid}_")
        if data.get(f"override_more_{cid}"):
            variant = variants.setdefault(cid, Variant())
            variant.link = data.get(f"link_{cid}", "").strip()
            variant.thread = split_thread(data.get(f"thread_{cid}", "")) or None
            variant.first_comment = data.get(f"first_comment_{cid}", "").strip()
        options = options_from(data, cid)
        if options:
            variants.setdefault(cid, Variant()).options = options
    return PostInput(
        text=data.get("text", "").strip(),
        link=data.get("link", "").strip(),
        first_comment=data.get("first_comment", "").strip(),
        thread=split_thread(data.get("thread", "")),
        media=media_from(data, "media", "alt_"),
        channel_ids=channel_ids,
        variants=variants,
        tags=[t.strip() for t in data.get("tags", "").split(",") if t.strip()],
        notes=data.get("notes", "").strip(),
        when=when,
        scheduled_at=scheduled_at,
        scheduled_time_zone=time_zone if raw_time else "",
        repeat=repeat_from(data) if when != "draft" else None,
        time_zone=time_zone,
    )


def option_prefix(channel_id: int) -> str:
    return f"opt_{channel_id}_"


def options_from(data: QueryDict, channel_id: int) -> dict[str, str]:
    """A channel's network settings: fields named ``opt_<channel id>_<option key>``."""
    prefix = option_prefix(channel_id)
    found: dict[str, str] = {}
    for name in data:
        value = str(data.get(name, "")).strip()
        if name.startswith(prefix) and value:
            found[name.removeprefix(prefix)] = value
    return found


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


MAX_STEPS = 5


def policy_input_from(data: QueryDict) -> PolicyInput:
    """The approval settings form: up to five rows; a row with no name and no one is unused."""
    steps = []
    for index in range(MAX_STEPS):
        name = data.get(f"step_name_{index}", "").strip()
        approver_ids = [int(v) for v in data.getlist(f"approvers_{index}") if v.isdigit()]
        if name or approver_ids:
            steps.append(StepInput(name=name, approver_ids=approver_ids))
    raw_hours = data.get("reminder_after_hours", "24").strip() or "0"
    if not raw_hours.isdigit():
        raise InvalidInput(
            _("“%(value)s” is not a number of hours.") % {"value": raw_hours},
            fields={"reminder_after_hours": _("Use a whole number; 0 turns reminders off.")},
        )
    return PolicyInput(
        applies_to=data.get("applies_to", ""),
        reapprove_on_edit=bool(data.get("reapprove_on_edit")),
        reminder_after_hours=int(raw_hours),
        steps=steps,
    )
