"""TikTok's objects in Minbar's words: the account, videos, and their counts.

* ``GET /v2/user/info/?fields=…`` returns ``{"data": {"user": {...}}}``; each field
  needs its scope: ``open_id``, ``union_id``, ``avatar_url``, ``display_name``
  (user.info.basic), ``username``, ``profile_deep_link``, ``is_verified``,
  ``bio_description`` (user.info.profile), ``follower_count``, ``following_count``,
  ``likes_count``, ``video_count`` (user.info.stats)
  (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info).
* ``POST /v2/video/query/`` and ``/v2/video/list/`` return video objects with
  ``id``, ``create_time`` (Unix seconds), ``title``, ``video_description``,
  ``share_url`` and the counts ``like_count``, ``comment_count``, ``share_count``
  and ``view_count`` (scope video.list; https://developers.tiktok.com/doc/tiktok-api-v2-video-query,
  https://developers.tiktok.com/doc/tiktok-api-v2-video-list).

Counts map onto Minbar's metric keys: like → likes, comment → comments, share →
shares, view → video_views. TikTok's API gives no impressions, reach, saves or
clicks for a creator's posts, so those are absent (not 0). Of the account:
followers, following and posts (``video_count``); the total of likes an account
received (``likes_count``) has no place among Minbar's account keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.tiktok import oauth
from minbar.connectors.types import AccountInfo, RemotePost

PROFILE_BASE = "https://www.tiktok.com"

USER_FIELDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    oauth.SCOPE_BASIC: ("open_id", "union_id", "avatar_url", "display_name"),
    oauth.SCOPE_PROFILE: ("username", "profile_deep_link", "is_verified"),
    oauth.SCOPE_STATS: ("follower_count", "following_count", "likes_count", "video_count"),
}
VIDEO_FIELDS = (
    "id",
    "create_time",
    "title",
    "video_description",
    "share_url",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
)
POST_METRICS = {
    "like_count": "likes",
    "comment_count": "comments",
    "share_count": "shares",
    "view_count": "video_views",
}
ACCOUNT_METRICS = {
    "follower_count": "followers",
    "following_count": "following",
    "video_count": "posts",
}


def user_fields(scopes: set[str]) -> str:
    fields: list[str] = []
    for scope, names in USER_FIELDS_BY_SCOPE.items():
        if scope in scopes:
            fields.extend(names)
    return ",".join(fields or USER_FIELDS_BY_SCOPE[oauth.SCOPE_BASIC])


def profile_url(username: str) -> str:
    return f"{PROFILE_BASE}/@{username}" if username else ""


def video_url(username: str, video_id: str) -> str:
    if not username:
        return ""
    return f"{PROFILE_BASE}/@{username}/video/{video_id}"


def account_info(user: Mapping[str, Any]) -> AccountInfo:
    username = str(user.get("username") or "")
    display = str(user.get("display_name") or "")
    followers = user.get("follower_count")
    return AccountInfo(
        remote_id=str(user.get("open_id") or ""),
        handle=username or display,
        display_name=display,
        avatar_url=str(user.get("avatar_url") or ""),
        url=str(user.get("profile_deep_link") or "") or profile_url(username),
        followers=int(followers) if isinstance(followers, int) else None,
    )


def _counts(source: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, int]:
    values: dict[str, int] = {}
    for field, key in names.items():
        value = source.get(field)
        if isinstance(value, bool) or value is None:
            continue  # not given (a field the scope does not cover): absent, not 0
        try:
            values[key] = int(value)
        except (TypeError, ValueError):
            continue
    return values


def post_metric_values(video: Mapping[str, Any]) -> dict[str, int]:
    return _counts(video, POST_METRICS)


def account_metric_values(user: Mapping[str, Any]) -> dict[str, int]:
    return _counts(user, ACCOUNT_METRICS)


def when(value: Any) -> datetime | None:
    """A TikTok ``create_time`` (Unix seconds) as an aware datetime."""
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def remote_post(video: Mapping[str, Any], username: str = "") -> RemotePost:
    video_id = str(video.get("id") or "")
    return RemotePost(
        remote_id=video_id,
        url=str(video.get("share_url") or "") or video_url(username, video_id),
        text=str(video.get("title") or video.get("video_description") or ""),
        created_at=when(video.get("create_time")),
    )
