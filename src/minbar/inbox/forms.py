"""Reading the rule form into conditions and actions (the same shapes the API takes)."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.replace("،", ",").split(",") if w.strip()]


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _yes_no(raw: str) -> bool | None:
    return {"yes": True, "no": False}.get(raw)


def rule_from(data: QueryDict) -> tuple[dict[str, Any], dict[str, Any]]:
    followers = data.get("min_followers", "").strip()
    if followers and not followers.isdigit():
        raise InvalidInput(
            _("“%(value)s” is not a number of followers.") % {"value": followers},
            fields={"min_followers": _("A whole number.")},
        )
    priority = data.get("priority", "")
    assign_to = data.get("assign_to", "")
    auto_reply = data.get("auto_reply", "")
    conditions: dict[str, Any] = {
        "keywords": _words(data.get("keywords", "")),
        "exclude_keywords": _words(data.get("exclude_keywords", "")),
        "languages": data.getlist("languages"),
        "sentiments": data.getlist("sentiments"),
        "kinds": data.getlist("kinds"),
        "channels": _ints(data.getlist("channels")),
        "has_link": _yes_no(data.get("has_link", "")),
        "has_email": _yes_no(data.get("has_email", "")),
        "min_followers": int(followers) if followers else None,
        "vip": _yes_no(data.get("vip", "")),
        "hours": data.get("hours", ""),
    }
    actions: dict[str, Any] = {
        "add_tags": _words(data.get("add_tags", "")),
        "assign_to": int(assign_to) if assign_to.isdigit() else None,
        "round_robin": _ints(data.getlist("round_robin")),
        "priority": int(priority) if priority.isdigit() else None,
        "hide": bool(data.get("hide")),
        "close": bool(data.get("close")),
        "spam": bool(data.get("spam")),
        "alert": _ints(data.getlist("alert")),
        "auto_reply": int(auto_reply) if auto_reply.isdigit() else None,
    }
    return conditions, actions
