"""YouTube resources as Minbar's plain data: accounts, posts, comments, metrics.

Resources: channels (https://developers.google.com/youtube/v3/docs/channels),
videos (https://developers.google.com/youtube/v3/docs/videos), commentThreads
(https://developers.google.com/youtube/v3/docs/commentThreads) and comments
(https://developers.google.com/youtube/v3/docs/comments).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.types import (
    AccountInfo,
    Author,
    Interaction,
    InteractionKind,
    RemotePost,
    RemoteRef,
)

WATCH_URL = "https://www.youtube.com/watch?v={id}"
CHANNEL_URL = "https://www.youtube.com/channel/{id}"


def when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def video_url(video_id: str) -> str:
    return WATCH_URL.format(id=video_id)


def comment_url(video_id: str, comment_id: str) -> str:
    return f"{video_url(video_id)}&lc={comment_id}"


def _count(value: Any) -> int | None:
    """A statistics count (YouTube sends them as strings); None when absent."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def account_info(channel: Mapping[str, Any]) -> AccountInfo:
    snippet = channel.get("snippet") or {}
    statistics = channel.get("statistics") or {}
    channel_id = str(channel["id"])
    handle = str(snippet.get("customUrl") or "")
    if handle and not handle.startswith("@"):
        handle = "@" + handle
    thumbs = snippet.get("thumbnails") or {}
    avatar = (thumbs.get("default") or thumbs.get("medium") or {}).get("url", "")
    followers = None
    if not statistics.get("hiddenSubscriberCount"):
        followers = _count(statistics.get("subscriberCount"))
    return AccountInfo(
        remote_id=channel_id,
        handle=handle or str(snippet.get("title") or channel_id),
        display_name=str(snippet.get("title") or ""),
        avatar_url=str(avatar or ""),
        url=CHANNEL_URL.format(id=channel_id),
        followers=followers,
    )


def account_metric_values(channel: Mapping[str, Any]) -> dict[str, int]:
    """followers (unless the channel hides its subscriber count) and posts (videos)."""
    statistics = channel.get("statistics") or {}
    values: dict[str, int] = {}
    if not statistics.get("hiddenSubscriberCount"):
        followers = _count(statistics.get("subscriberCount"))
        if followers is not None:
            values["followers"] = followers
    videos = _count(statistics.get("videoCount"))
    if videos is not None:
        values["posts"] = videos
    return values


def post_metric_values(video: Mapping[str, Any]) -> dict[str, int]:
    """viewCount → video_views, likeCount → likes, commentCount → comments.

    A count YouTube leaves out (likes hidden by the owner, comments turned off)
    stays absent. Dislikes are private since December 2021 and are not a Minbar
    metric; ``favoriteCount`` is always 0 (deprecated) and is ignored.
    """
    statistics = video.get("statistics") or {}
    values: dict[str, int] = {}
    for theirs, ours in (
        ("viewCount", "video_views"),
        ("likeCount", "likes"),
        ("commentCount", "comments"),
    ):
        number = _count(statistics.get(theirs))
        if number is not None:
            values[ours] = number
    return values


def remote_post(video: Mapping[str, Any]) -> RemotePost:
    snippet = video.get("snippet") or {}
    title = str(snippet.get("title") or "")
    description = str(snippet.get("description") or "")
    return RemotePost(
        remote_id=str(video["id"]),
        url=video_url(str(video["id"])),
        text=f"{title}\n{description}".strip(),
        created_at=when(snippet.get("publishedAt")),
    )


def _author(snippet: Mapping[str, Any]) -> Author:
    channel_id = str((snippet.get("authorChannelId") or {}).get("value") or "")
    name = str(snippet.get("authorDisplayName") or "")
    return Author(
        remote_id=channel_id or name,
        handle=name,
        display_name=name.lstrip("@"),
        avatar_url=str(snippet.get("authorProfileImageUrl") or ""),
        url=str(snippet.get("authorChannelUrl") or ""),
    )


def comment_author_id(comment: Mapping[str, Any]) -> str:
    snippet = comment.get("snippet") or {}
    return str((snippet.get("authorChannelId") or {}).get("value") or "")


def interaction_from_comment(
    comment: Mapping[str, Any], *, video_id: str, top_level_id: str = ""
) -> Interaction | None:
    """A top-level comment (``top_level_id`` empty) or a reply, as an inbox item."""
    snippet = comment.get("snippet") or {}
    created = when(snippet.get("publishedAt"))
    if created is None or not comment.get("id"):
        return None
    comment_id = str(comment["id"])
    video_id = str(snippet.get("videoId") or video_id)
    post = RemoteRef(video_id, url=video_url(video_id)) if video_id else None
    parent_id = top_level_id or comment_id
    extra = {
        "video_id": video_id,
        "parent_id": parent_id,  # YouTube replies always go under the top-level comment
        "author_channel_id": comment_author_id(comment),
    }
    return Interaction(
        remote_id=comment_id,
        kind=InteractionKind.REPLY if top_level_id else InteractionKind.COMMENT,
        author=_author(snippet),
        created_at=created,
        text=str(snippet.get("textDisplay") or snippet.get("textOriginal") or ""),
        url=comment_url(video_id, comment_id) if video_id else "",
        post=post,
        parent=RemoteRef(top_level_id, url=comment_url(video_id, top_level_id))
        if top_level_id
        else post,
        ref=RemoteRef(comment_id, url=comment_url(video_id, comment_id), extra=extra),
    )
