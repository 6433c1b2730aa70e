"""X API v2 objects (posts, users) turned into Minbar's plain data.

Post fields: https://docs.x.com/x-api/fundamentals/data-dictionary (``id``,
``text``, ``author_id``, ``created_at``, ``conversation_id``,
``in_reply_to_user_id``, ``referenced_tweets``, ``entities``, ``lang``,
``public_metrics``, ``non_public_metrics``, ``organic_metrics``). Metrics:
https://docs.x.com/x-api/fundamentals/metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from minbar.connectors.types import Author, Interaction, InteractionKind, RemotePost, RemoteRef

POST_FIELDS = (
    "id,text,author_id,created_at,conversation_id,in_reply_to_user_id,"
    "referenced_tweets,entities,lang,public_metrics"
)
USER_FIELDS = "id,name,username,profile_image_url,public_metrics"
EXPANSIONS = "author_id,referenced_tweets.id"

# X's metric names -> Minbar's canonical keys (types.POST_METRIC_KEYS).
PUBLIC_METRICS = {
    "like_count": "likes",
    "reply_count": "comments",
    "retweet_count": "shares",
    "quote_count": "quotes",
    "bookmark_count": "saves",
    "impression_count": "impressions",
}
PRIVATE_METRICS = {
    "impression_count": "impressions",
    "url_link_clicks": "clicks",
}


def post_url(post_id: str, username: str = "") -> str:
    """The post's address; ``/i/web/status/`` works without knowing the author's name."""
    if username:
        return f"https://x.com/{username}/status/{post_id}"
    return f"https://x.com/i/web/status/{post_id}"


def when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def expanded_text(post: Mapping[str, Any]) -> str:
    """The text with X's t.co links put back to the addresses that were written."""
    text = str(post.get("text") or "")
    urls = (post.get("entities") or {}).get("urls") or []
    for url in urls:
        short, long = url.get("url"), url.get("expanded_url")
        if isinstance(short, str) and isinstance(long, str) and short:
            text = text.replace(short, long)
    return text


def users_by_id(includes: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    return {str(u.get("id")): u for u in (includes or {}).get("users") or []}


def author(user: Mapping[str, Any] | None, fallback_id: str = "") -> Author:
    user = user or {}
    username = str(user.get("username") or "")
    followers = (user.get("public_metrics") or {}).get("followers_count")
    return Author(
        remote_id=str(user.get("id") or fallback_id),
        handle=username or str(user.get("id") or fallback_id),
        display_name=str(user.get("name") or ""),
        avatar_url=str(user.get("profile_image_url") or ""),
        url=f"https://x.com/{username}" if username else "",
        followers=int(followers) if isinstance(followers, int) else None,
    )


def _referenced(post: Mapping[str, Any], kind: str) -> str:
    for reference in post.get("referenced_tweets") or []:
        if reference.get("type") == kind:
            return str(reference.get("id") or "")
    return ""


def post_ref(post: Mapping[str, Any], username: str = "") -> RemoteRef:
    post_id = str(post.get("id") or "")
    return RemoteRef(
        remote_id=post_id,
        url=post_url(post_id, username),
        extra={"conversation_id": str(post.get("conversation_id") or post_id)},
    )


def interaction_from_post(
    post: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    *,
    own_user_id: str,
) -> Interaction | None:
    """A reply to the account (``in_reply_to_user_id``) or a mention; None for its own posts."""
    author_id = str(post.get("author_id") or "")
    if author_id == own_user_id:
        return None
    created = when(post.get("created_at"))
    if created is None:
        return None
    who = author(users.get(author_id), author_id)
    replied_to = _referenced(post, "replied_to")
    parent = RemoteRef(remote_id=replied_to, url=post_url(replied_to)) if replied_to else None
    is_reply = bool(replied_to) and str(post.get("in_reply_to_user_id") or "") == own_user_id
    conversation = str(post.get("conversation_id") or "")
    ref = post_ref(post, who.handle if who.handle != who.remote_id else "")
    return Interaction(
        remote_id=ref.remote_id,
        kind=InteractionKind.REPLY if is_reply else InteractionKind.MENTION,
        author=who,
        created_at=created,
        text=expanded_text(post),
        url=ref.url,
        # A reply belongs to the conversation the account's post started.
        post=RemoteRef(remote_id=conversation, url=post_url(conversation))
        if is_reply and conversation
        else None,
        parent=parent,
        ref=ref,
        language=str(post.get("lang") or ""),
    )


def remote_post(post: Mapping[str, Any], username: str = "") -> RemotePost:
    ref = post_ref(post, username)
    return RemotePost(
        remote_id=ref.remote_id,
        url=ref.url,
        text=expanded_text(post),
        created_at=when(post.get("created_at")),
    )


def post_metric_values(post: Mapping[str, Any]) -> dict[str, int]:
    """Canonical metric values; a count X did not send stays absent (never 0).

    ``public_metrics`` come for any post; ``non_public_metrics`` and
    ``organic_metrics`` only for the account's own posts of the last 30 days and
    only where the app's access allows — there ``impressions`` (organic) and
    ``clicks`` (``url_link_clicks``) are added.
    """
    values: dict[str, int] = {}
    public = post.get("public_metrics") or {}
    for name, key in PUBLIC_METRICS.items():
        if isinstance(public.get(name), int):
            values[key] = int(public[name])
    for group in ("organic_metrics", "non_public_metrics"):
        private = post.get(group) or {}
        for name, key in PRIVATE_METRICS.items():
            if isinstance(private.get(name), int) and key not in values:
                values[key] = int(private[name])
    return values
