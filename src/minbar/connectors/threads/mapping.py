"""Threads media objects and insights as Minbar's plain data.

Media fields: https://developers.facebook.com/docs/threads/reference/media-retrieval
(``id``, ``text``, ``username``, ``permalink``, ``timestamp`` as
``2023-10-17T05:42:03+0000``, ``replied_to``, ``root_post``, ``is_reply_owned_by_me``,
``hide_status``…). Insights: https://developers.facebook.com/docs/threads/insights.

Metric mapping (Threads' word → Minbar's canonical key):

=============  ===============  =====================================================
Threads        Minbar           Why
=============  ===============  =====================================================
views          impressions      "times your post was played or displayed" — not unique
likes          likes
replies        comments         replies to the post (all depths for a root post)
reposts        shares           a repost is Threads' share
quotes         quotes
shares         (not read)       Threads' own "shares" (sending a post) is "in development"
                                and would collide with reposts in ``shares``
followers_count  followers      account, total value
views (user)   profile_views    "times your profile was viewed", summed over the window
=============  ===============  =====================================================

A metric Threads leaves out of its answer stays out of ``Metrics.values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.types import Author, Interaction, InteractionKind, RemotePost, RemoteRef

# Fields Minbar asks for on posts and replies (all documented media fields).
MEDIA_FIELDS = (
    "id,media_type,permalink,username,text,timestamp,is_reply,"
    "is_reply_owned_by_me,replied_to,root_post,hide_status,has_replies"
)
POST_METRICS = {
    "views": "impressions",
    "likes": "likes",
    "replies": "comments",
    "reposts": "shares",
    "quotes": "quotes",
}
PROFILE_URL = "https://www.threads.com/@{username}"


def when(value: Any) -> datetime | None:
    """Threads' ``2023-10-17T05:42:03+0000`` (or ISO 8601 with a colon) as aware UTC."""
    if not value:
        return None
    text = str(value)
    for parse in (
        lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S%z"),
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
    ):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def ref(media: Mapping[str, Any]) -> RemoteRef:
    return RemoteRef(remote_id=str(media.get("id") or ""), url=str(media.get("permalink") or ""))


def remote_post(media: Mapping[str, Any]) -> RemotePost:
    return RemotePost(
        remote_id=str(media.get("id") or ""),
        url=str(media.get("permalink") or ""),
        text=str(media.get("text") or ""),
        created_at=when(media.get("timestamp")),
    )


def author(media: Mapping[str, Any]) -> Author:
    """The author as far as Threads tells: replies carry the username, not a user id."""
    username = str(media.get("username") or "")
    return Author(
        remote_id=username or "unknown",
        handle=username or "unknown",
        url=PROFILE_URL.format(username=username) if username else "",
    )


def _id_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def interaction(
    media: Mapping[str, Any],
    *,
    kind: InteractionKind | None = None,
    post: RemoteRef | None = None,
) -> Interaction | None:
    """A reply in a conversation or a mention; None without an id or a time."""
    created = when(media.get("timestamp"))
    remote_id = str(media.get("id") or "")
    if not remote_id or created is None:
        return None
    parent_id = _id_of(media.get("replied_to"))
    root_id = _id_of(media.get("root_post")) or (post.remote_id if post else "")
    if kind is None:
        # A reply straight to the channel's post is a comment on it; deeper, a reply.
        kind = (
            InteractionKind.COMMENT if parent_id and parent_id == root_id else InteractionKind.REPLY
        )
    own = ref(media)
    return Interaction(
        remote_id=remote_id,
        kind=kind,
        author=author(media),
        created_at=created,
        text=str(media.get("text") or ""),
        url=own.url,
        post=post or (RemoteRef(remote_id=root_id) if root_id else None),
        parent=RemoteRef(remote_id=parent_id) if parent_id else None,
        ref=own,
    )


def _value(entry: Mapping[str, Any]) -> int | None:
    """A metric's number: ``total_value.value``, else the sum of its ``values``."""
    total = entry.get("total_value")
    if isinstance(total, Mapping) and total.get("value") is not None:
        return int(total["value"])
    values = entry.get("values")
    if isinstance(values, list) and values:
        numbers = [
            int(v["value"]) for v in values if isinstance(v, Mapping) and v.get("value") is not None
        ]
        return sum(numbers) if numbers else None
    return None


def insight_values(body: Mapping[str, Any]) -> dict[str, int]:
    """``{"likes": 100, …}`` from an insights answer, by Threads' names."""
    found: dict[str, int] = {}
    for entry in body.get("data") or []:
        if not isinstance(entry, Mapping) or not entry.get("name"):
            continue
        value = _value(entry)
        if value is not None:
            found[str(entry["name"])] = value
    return found


def post_metric_values(body: Mapping[str, Any]) -> dict[str, int]:
    raw = insight_values(body)
    return {POST_METRICS[name]: value for name, value in raw.items() if name in POST_METRICS}
