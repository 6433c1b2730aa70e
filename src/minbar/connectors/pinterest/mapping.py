"""Pinterest's resources in Minbar's words: accounts, Pins, metrics.

Metrics (https://developers.pinterest.com/docs/analytics-and-reports/organic-reporting/
and the ``pins/analytics``, ``user_account/analytics`` operations of
https://developers.pinterest.com/docs/api/v5/):

* ``IMPRESSION`` → ``impressions`` (times the Pin was on screen);
* ``SAVE`` → ``saves`` (people saving the Pin to a board);
* ``OUTBOUND_CLICK`` → ``clicks``: clicks to the Pin's destination link, the
  traffic a marketer's site gets. ``PIN_CLICK`` (opening the Pin's close-up on
  Pinterest) is not a click on the link and is not reported;
* ``VIDEO_MRC_VIEW`` → ``video_views`` ("VIDEO_MRC_VIEW are Video views").

Pinterest exposes no likes, comments, shares or reach for organic Pins in these
endpoints, so those keys stay absent (never 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.types import AccountInfo, RemotePost

PIN_METRICS: dict[str, str] = {
    "IMPRESSION": "impressions",
    "SAVE": "saves",
    "OUTBOUND_CLICK": "clicks",
    "VIDEO_MRC_VIEW": "video_views",
}
ACCOUNT_ANALYTICS: dict[str, str] = {"IMPRESSION": "impressions"}
ACCOUNT_COUNTS: dict[str, str] = {
    "follower_count": "followers",
    "following_count": "following",
    # Pinterest's own "Pins" count: Pins the account created and Pins it saved.
    "pin_count": "posts",
}
WEB = "https://www.pinterest.com"


def when(value: Any) -> datetime | None:
    """Pinterest's times ("2022-10-13T01:40:29", UTC without an offset) as aware datetimes."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pin_url(pin_id: str) -> str:
    return f"{WEB}/pin/{pin_id}/"


def account_info(account: Mapping[str, Any]) -> AccountInfo:
    """``GET /v5/user_account`` (the ``Account`` schema) as Minbar's account."""
    username = str(account.get("username") or "")
    followers = account.get("follower_count")
    return AccountInfo(
        # Older answers have no ``id``; the username is unique too.
        remote_id=str(account.get("id") or username),
        handle=username,
        display_name=str(account.get("business_name") or username),
        avatar_url=str(account.get("profile_image") or ""),
        url=f"{WEB}/{username}/" if username else "",
        followers=followers if isinstance(followers, int) else None,
    )


def pin_text(pin: Mapping[str, Any]) -> str:
    """A Pin's title and description joined back the way Minbar split them."""
    title = str(pin.get("title") or "").strip()
    description = str(pin.get("description") or "").strip()
    return f"{title}\n{description}" if title and description else title or description


def remote_post(pin: Mapping[str, Any]) -> RemotePost:
    pin_id = str(pin.get("id") or "")
    return RemotePost(
        remote_id=pin_id,
        url=pin_url(pin_id),
        text=pin_text(pin),
        created_at=when(pin.get("created_at")),
    )


def _numbers(values: Any) -> dict[str, int]:
    if not isinstance(values, Mapping):
        return {}
    found: dict[str, int] = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        found[str(name)] = int(value)
    return found


def analytics_values(body: Any, names: Mapping[str, str]) -> dict[str, int]:
    """Minbar's metrics from an analytics answer: ``{"all": {...}}``.

    A Pin's ``lifetime_metrics`` (all time, for Pins made since 2023-03-20) win over
    ``summary_metrics`` (the requested days only, at most 90 back).
    """
    group = body.get("all") if isinstance(body, Mapping) else None
    if not isinstance(group, Mapping):
        return {}
    raw = _numbers(group.get("summary_metrics"))
    raw.update(_numbers(group.get("lifetime_metrics")))
    return {names[name]: value for name, value in raw.items() if name in names}


def account_count_values(account: Mapping[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for field, key in ACCOUNT_COUNTS.items():
        value = account.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            found[key] = value
    return found
