"""Business Profile resources as Minbar's plain data: locations, local posts, reviews, metrics.

Resources: Location (https://developers.google.com/my-business/reference/businessinformation/rest/v1/accounts.locations),
LocalPost (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts),
Review (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews)
and the Performance API's time series
(https://developers.google.com/my-business/reference/performance/rest/v1/locations/fetchMultiDailyMetricsTimeSeries).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.types import (
    AccountChoice,
    AccountInfo,
    Author,
    Interaction,
    InteractionKind,
    RemotePost,
    RemoteRef,
)

# StarRating: "The star rating out of five, where five is the highest rated."
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
# The four impression series add up to the profile's impressions; each is counted
# once per unique user and day ("Multiple impressions by a unique user within a
# single day are counted as a single impression",
# https://developers.google.com/my-business/reference/performance/rest/v1/DailyMetric).
IMPRESSION_METRICS = (
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
)
# Actions on the profile with no canonical account metric: read them with
# ``GoogleBusinessConnector.performance_totals``.
ACTION_METRICS = ("WEBSITE_CLICKS", "CALL_CLICKS", "BUSINESS_DIRECTION_REQUESTS")
READ_MASK = "name,title,storefrontAddress,metadata,websiteUri"


def when(value: Any) -> datetime | None:
    """An RFC 3339 time ("2014-10-02T15:01:23.045123456Z"), nanoseconds cut to microseconds."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def location_id(name: str) -> str:
    """``locations/123`` from ``locations/123`` or ``accounts/9/locations/123``."""
    _, _, tail = name.rpartition("locations/")
    return f"locations/{tail}" if tail else name


def v4_location(account: str, location: str) -> str:
    """The v4 name ``accounts/{a}/locations/{l}`` that local posts and reviews hang from."""
    return f"{account}/{location_id(location)}"


def address(location: Mapping[str, Any]) -> str:
    postal = location.get("storefrontAddress") or {}
    parts = [*(postal.get("addressLines") or []), postal.get("locality"), postal.get("regionCode")]
    return ", ".join(str(p) for p in parts if p)


def account_info(location: Mapping[str, Any]) -> AccountInfo:
    metadata = location.get("metadata") or {}
    title = str(location.get("title") or location_id(str(location.get("name") or "")))
    return AccountInfo(
        remote_id=location_id(str(location["name"])),
        handle=title,
        display_name=title,
        url=str(metadata.get("mapsUri") or ""),
    )


def account_choice(location: Mapping[str, Any]) -> AccountChoice:
    return AccountChoice(
        remote_id=location_id(str(location["name"])),
        name=str(location.get("title") or location.get("name")),
        kind="location",
        detail=address(location),
    )


def remote_post(post: Mapping[str, Any]) -> RemotePost:
    return RemotePost(
        remote_id=str(post["name"]),
        url=str(post.get("searchUrl") or ""),
        text=str(post.get("summary") or ""),
        created_at=when(post.get("createTime")),
    )


def summary_digest(text: str) -> str:
    """What Minbar remembers of a post it sends, to recognise it in a lookup (not the text)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:32]


def _reviewer(review: Mapping[str, Any]) -> Author:
    """Google gives reviewers no id: a named reviewer is known by name, an anonymous one by
    the review (so two anonymous reviews never merge into one contact)."""
    reviewer = review.get("reviewer") or {}
    name = str(reviewer.get("displayName") or "")
    anonymous = bool(reviewer.get("isAnonymous")) or not name
    review_id = str(review.get("reviewId") or review.get("name") or "")
    return Author(
        remote_id=f"anonymous:{review_id}" if anonymous else f"reviewer:{name}",
        handle=name or "A Google user",
        display_name=name or "A Google user",
        avatar_url="" if anonymous else str(reviewer.get("profilePhotoUrl") or ""),
    )


def interaction_from_review(review: Mapping[str, Any], *, maps_url: str = "") -> Interaction | None:
    """A review as an inbox item: its text, its stars in ``rating`` (None when unspecified)."""
    created = when(review.get("createTime"))
    name = str(review.get("name") or "")
    if created is None or not name:
        return None
    rating = STARS.get(str(review.get("starRating") or ""))
    extra = {"star_rating": str(review.get("starRating") or "")}
    reply = review.get("reviewReply") or {}
    if reply.get("comment"):
        extra["replied"] = "1"
    return Interaction(
        remote_id=name,
        kind=InteractionKind.REVIEW,
        author=_reviewer(review),
        created_at=created,
        text=str(review.get("comment") or ""),
        url=maps_url,
        ref=RemoteRef(name, url=maps_url, extra=extra),
        rating=rating,
    )


def daily_sums(response: Mapping[str, Any]) -> dict[str, int]:
    """Each metric's total over the range; a series present with no values sums to 0.

    A ``DatedValue`` "will not be present when the value is zero", so a series that
    came back counts its missing days as 0; a metric with no series at all is absent.
    """
    sums: dict[str, int] = {}
    for group in response.get("multiDailyMetricTimeSeries") or []:
        for series in group.get("dailyMetricTimeSeries") or []:
            metric = str(series.get("dailyMetric") or "")
            if not metric:
                continue
            total = sums.get(metric, 0)
            for point in (series.get("timeSeries") or {}).get("datedValues") or []:
                try:
                    total += int(point.get("value") or 0)
                except (TypeError, ValueError):
                    continue
            sums[metric] = total
    return sums


def account_metric_values(sums: Mapping[str, int]) -> dict[str, int]:
    """impressions = the four BUSINESS_IMPRESSIONS_* series, when Google sent any of them."""
    present = [sums[m] for m in IMPRESSION_METRICS if m in sums]
    return {"impressions": sum(present)} if present else {}
