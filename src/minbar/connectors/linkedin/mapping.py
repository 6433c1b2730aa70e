"""LinkedIn's payloads as Minbar's types: URNs, post URLs, comments, statistics."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.linkedin.text import from_commentary
from minbar.connectors.types import Author, Interaction, InteractionKind, RemotePost, RemoteRef

POST_URN_RE = re.compile(r"^urn:li:(share|ugcPost):\d+$")
# urn:li:comment:(urn:li:activity:123,456) — the object commented on, then the comment's id.
COMMENT_URN_RE = re.compile(r"^urn:li:comment:\((urn:li:[a-zA-Z]+:\d+),(\d+)\)$")

# organizationalEntityShareStatistics' totalShareStatistics → Minbar's metric keys
# (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics).
SHARE_STATISTICS = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "reach",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
}
# memberCreatorPostAnalytics queryType → Minbar's metric keys
# (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics).
MEMBER_POST_ANALYTICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "RESHARE": "shares",
    "REACTION": "likes",
    "COMMENT": "comments",
}


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def when(milliseconds: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def remote_post(post: dict[str, Any]) -> RemotePost:
    urn = str(post.get("id") or "")
    return RemotePost(
        remote_id=urn,
        url=post_url(urn),
        text=from_commentary(str(post.get("commentary") or "")),
        created_at=when(post.get("createdAt") or post.get("publishedAt")),
    )


def comment_urn(comment: dict[str, Any]) -> str:
    return str(comment.get("commentUrn") or comment.get("$URN") or "")


def statistics_values(totals: dict[str, Any]) -> dict[str, int]:
    """The counts LinkedIn reported; a count it left out stays absent (not 0)."""
    values: dict[str, int] = {}
    for name, key in SHARE_STATISTICS.items():
        if isinstance(totals.get(name), int | float):
            values[key] = int(totals[name])
    return values


def interaction_from_comment(
    comment: dict[str, Any], *, post_urn: str, top_comment: str = ""
) -> Interaction | None:
    """A comment on the channel's post (``top_comment`` set: a reply inside a comment's thread)."""
    urn = comment_urn(comment)
    created = when((comment.get("created") or {}).get("time"))
    actor = str(comment.get("actor") or (comment.get("created") or {}).get("actor") or "")
    if not urn or created is None or not actor:
        return None
    parent = str(comment.get("parentComment") or top_comment or "")
    kind = InteractionKind.REPLY if parent else InteractionKind.COMMENT
    is_page = actor.startswith("urn:li:organization:")
    actor_id = actor.rsplit(":", 1)[-1]
    author = Author(
        remote_id=actor,
        handle=actor_id,
        url=f"https://www.linkedin.com/company/{actor_id}/" if is_page else "",
    )
    post = RemoteRef(remote_id=post_urn, url=post_url(post_urn))
    thread = parent or urn  # LinkedIn nests one level: replies go under the top comment
    ref = RemoteRef(
        remote_id=urn,
        url=post_url(post_urn),
        extra={"post": post_urn, "thread": thread, "parent": parent or post_urn},
    )
    return Interaction(
        remote_id=urn,
        kind=kind,
        author=author,
        created_at=created,
        text=str((comment.get("message") or {}).get("text") or ""),
        url=post_url(post_urn),
        post=post,
        parent=RemoteRef(remote_id=parent) if parent else post,
        ref=ref,
    )
