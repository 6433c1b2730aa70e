"""A target's network settings (minbar.connectors.options) for the composer, checks, pages.

Values are stored on the target as strings by option key. A date and time is
entered in the person's time zone and stored in UTC (ISO 8601); a value given
with its own offset (the API) keeps its instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from minbar.connectors import options as network_options
from minbar.connectors.types import Capabilities, OptionKind
from minbar.publishing.timing import local_to_utc


def _to_utc(value: str, time_zone: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # left for the check to name
    if moment.tzinfo is None:
        moment = local_to_utc(moment, time_zone or "UTC")
    return moment.astimezone(UTC).isoformat()


def _local(value: str, time_zone: str) -> str:
    """A stored UTC time as the ``datetime-local`` input shows it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(ZoneInfo(time_zone or "UTC")).strftime("%Y-%m-%dT%H:%M")


def values_for(caps: Capabilities, raw: Mapping[str, str], time_zone: str) -> dict[str, str]:
    """What is stored for this channel: the settings that apply, times in UTC."""
    offered = network_options.options_for(caps)
    kinds = {o.key: o.kind for o in offered}
    converted = {
        key: _to_utc(str(value), time_zone)
        if kinds.get(key) == OptionKind.DATE_TIME and str(value).strip()
        else str(value)
        for key, value in raw.items()
    }
    return network_options.clean(offered, converted)


def checked(
    caps: Capabilities, raw: Mapping[str, str], time_zone: str
) -> tuple[dict[str, str], list[str]]:
    """What is stored for this channel (``values_for``) and what is wrong with the settings
    (unknown ones included), in words; no problems when they are fine."""
    offered = {o.key for o in network_options.options_for(caps)}
    values = values_for(caps, raw, time_zone)
    unknown = {key: str(value) for key, value in raw.items() if key not in offered}
    return values, network_options.problems(caps, {**values, **unknown})


def form_rows(
    caps: Capabilities,
    values: Mapping[str, str],
    time_zone: str,
    field_prefix: str,
    *,
    fresh: bool = False,
) -> list[dict[str, Any]]:
    """One row per setting for the composer: the option, its field name and current value.

    ``fresh``: nothing was chosen yet (a new post), so every setting shows its default;
    otherwise an absent flag is off.
    """
    offered = network_options.options_for(caps)
    rows = []
    for option in offered:
        value = values.get(option.key, "")
        if option.kind == OptionKind.DATE_TIME and value:
            value = _local(value, time_zone)
        if fresh or (not value and option.kind != OptionKind.FLAG):
            value = value or option.default
        rows.append(
            {
                "option": option,
                "kind": str(option.kind),
                "name": f"{field_prefix}{option.key}",
                "value": value,
                "shown_when_key": f"{field_prefix}{option.shown_when[0]}"
                if option.shown_when
                else "",
                "shown_when_values": " ".join(option.shown_when[1]) if option.shown_when else "",
            }
        )
    return rows


def described(
    caps: Capabilities, values: Mapping[str, str], time_zone: str
) -> list[tuple[str, str]]:
    """The chosen settings as (name, value) for people, in the options' order."""
    found = []
    for option in network_options.options_for(caps):
        value = values.get(option.key, "")
        if not value:
            continue
        if option.kind == OptionKind.DATE_TIME:
            shown = _local(value, time_zone).replace("T", " ")
        else:
            shown = network_options.choice_label(option, value)
        found.append((str(option.label), shown))
    return found
