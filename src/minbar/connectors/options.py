"""The per-post settings a channel offers, and checking the values a person chose.

A connector declares :class:`~minbar.connectors.types.PostOption` s in its
capabilities; :func:`options_for` adds the two every network shares when it has
them (``visibility`` with more than one choice, a ``content_warning``) and narrows
a declared visibility to what this account may use (``account_capabilities``).
The composer shows them per channel, :func:`clean` keeps what applies, and
:func:`problems` says in words what is wrong before anything is scheduled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minbar.connectors.types import Capabilities, OptionKind, PostOption

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

VISIBILITY = "visibility"
CONTENT_WARNING = "content_warning"
FLAG_ON = "1"

# Names for the visibility values networks share, when a connector gives none.
VISIBILITY_LABELS = {
    "public": gettext_lazy("Public"),
    "unlisted": gettext_lazy("Unlisted"),
    "private": gettext_lazy("Private"),
    "direct": gettext_lazy("Mentioned people only"),
    "connections": gettext_lazy("Connections only"),
    "followers": gettext_lazy("Followers only"),
}


def options_for(caps: Capabilities) -> tuple[PostOption, ...]:
    """The settings the composer shows for a channel with these capabilities, in order."""
    declared = {option.key: option for option in caps.post_options}
    found: list[PostOption] = []
    visibility = _visibility_option(caps, declared.get(VISIBILITY))
    if visibility is not None:
        found.append(visibility)
    if caps.content_warning and CONTENT_WARNING not in declared:
        found.append(
            PostOption(
                CONTENT_WARNING,
                gettext_lazy("Content warning"),
                help=gettext_lazy("Shown instead of the text until a reader opens the post."),
                max_length=500,
            )
        )
    found.extend(o for o in caps.post_options if o.key != VISIBILITY)
    return tuple(found)


def _visibility_option(caps: Capabilities, declared: PostOption | None) -> PostOption | None:
    allowed = caps.visibility
    required = declared is not None and declared.required
    if not allowed or (len(allowed) < 2 and not required):
        return None  # nothing to choose
    names: dict[str, StrOrPromise] = {
        **VISIBILITY_LABELS,
        **dict(declared.choices if declared else ()),
    }
    choices = tuple((value, names.get(value, value)) for value in allowed)
    if declared is None:
        return PostOption(VISIBILITY, gettext_lazy("Visibility"), OptionKind.CHOICE, choices)
    default = declared.default if declared.default in allowed else ""
    return replace(declared, kind=OptionKind.CHOICE, choices=choices, default=default)


def applies(option: PostOption, values: Mapping[str, str], options: tuple[PostOption, ...]) -> bool:
    """Whether ``option`` is in force given the other values (``shown_when``)."""
    if option.shown_when is None:
        return True
    key, wanted = option.shown_when
    other = next((o for o in options if o.key == key), None)
    current = values.get(key, "") or (other.default if other else "")
    return current in wanted


def clean(options: tuple[PostOption, ...], raw: Mapping[str, str]) -> dict[str, str]:
    """The values that apply, trimmed; flags as "1"; empty and unknown keys dropped."""
    values: dict[str, str] = {}
    for option in options:
        value = str(raw.get(option.key, "") or "").strip()
        if option.kind == OptionKind.FLAG:
            value = FLAG_ON if value and value.lower() not in ("0", "false", "off", "no") else ""
        elif option.kind == OptionKind.TAGS:
            value = ", ".join(t.strip() for t in value.split(",") if t.strip())
        if value:
            values[option.key] = value
    return {
        key: value
        for key, value in values.items()
        if applies(next(o for o in options if o.key == key), values, options)
    }


def problems(caps: Capabilities, values: Mapping[str, str]) -> list[str]:
    """What is wrong with these values for this channel, one sentence each, empty when fine."""
    network = str(caps.label)
    offered = options_for(caps)
    known = {o.key for o in offered}
    found: list[str] = []
    for key in values:
        if key not in known:
            found.append(
                _("%(network)s has no setting “%(key)s”.") % {"network": network, "key": key}
            )
    for option in offered:
        if not applies(option, values, offered):
            continue
        value = values.get(option.key, "")
        label = str(option.label)
        if not value:
            if option.required and not option.default:
                found.append(
                    _("%(network)s: choose “%(setting)s”.") % {"network": network, "setting": label}
                )
            continue
        problem = _value_problem(option, value)
        if problem:
            found.append(
                _("%(network)s: %(setting)s — %(problem)s")
                % {"network": network, "setting": label, "problem": problem}
            )
    return found


def _value_problem(option: PostOption, value: str) -> str:
    if option.max_length is not None and len(value) > option.max_length:
        return _("%(used)s/%(limit)s characters.") % {
            "used": f"{len(value):,}",
            "limit": f"{option.max_length:,}",
        }
    if option.kind == OptionKind.CHOICE and value not in {v for v, _label in option.choices}:
        return _("“%(value)s” is not one of the choices.") % {"value": value}
    if option.kind == OptionKind.URL:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return _("use a web address starting with https://.")
    parsers = {
        OptionKind.DATE: (date.fromisoformat, _("use a date (YYYY-MM-DD).")),
        OptionKind.TIME: (time.fromisoformat, _("use a time of day (HH:MM).")),
        OptionKind.DATE_TIME: (datetime.fromisoformat, _("use a date and time.")),
    }
    if option.kind in parsers:
        parse, message = parsers[option.kind]
        try:
            parse(value)
        except ValueError:
            return str(message)
    return ""


def choice_label(option: PostOption, value: str) -> str:
    """How a chosen value reads to people (the choice's name, Yes for a flag)."""
    if option.kind == OptionKind.CHOICE:
        return str(dict(option.choices).get(value, value))
    if option.kind == OptionKind.FLAG:
        return _("Yes") if value else _("No")
    return value
