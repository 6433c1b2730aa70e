"""Reads of the sandbox network: metrics, notifications, search and their JSON shapes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum

from minbar.core.errors import InvalidInput
from minbar.sandbox.actions import audience_for, faults_of, sim_now_ms, spec_of
from minbar.sandbox.audience import Audience, summary
from minbar.sandbox.models import (
    INTERACTION_KINDS,
    EventKind,
    SandboxAccount,
    SandboxEvent,
    SandboxPost,
    from_ms,
)

PostURL = Callable[[SandboxPost], str]

POST_METRICS = ("likes", "comments", "shares", "clicks", "impressions", "reach", "follows")
SEARCH_KINDS = (
    EventKind.COMMENT,
    EventKind.REPLY,
    EventKind.MENTION,
    EventKind.REVIEW,
    EventKind.CHATTER,
)


def iso(ms: int | None) -> str | None:
    return from_ms(ms).isoformat().replace("+00:00", "Z") if ms is not None else None


def account_json(account: SandboxAccount, *, profile_url: str = "") -> dict[str, Any]:
    spec = spec_of(account)
    return {
        "id": f"a{account.pk}",
        "handle": account.handle,
        "name": account.name,
        "flavour": account.flavour,
        "behaves_like": spec.title,
        "url": profile_url,
        **account_metrics(account),
        "created_at": account.created_at.isoformat().replace("+00:00", "Z"),
        "audience": {
            "seed": account.seed,
            "size": account.audience_size,
            "arabic_share": account.arabic_share,
            "follower_share": account.follower_share,
            "topics": list(account.topics),
        },
        "clock": clock_json(account),
    }


def clock_json(account: SandboxAccount) -> dict[str, Any]:
    return {
        "speed": account.speed,
        "sim_now": iso(sim_now_ms(account)),
        "released_until": iso(account.released_until_ms),
    }


def post_json(post: SandboxPost, url: PostURL) -> dict[str, Any]:
    reply_to = ""
    if post.reply_to_post_id:
        reply_to = f"p{post.reply_to_post_id}"
    elif post.reply_to_event_id:
        reply_to = f"e{post.reply_to_event_id}"
    return {
        "id": post.remote_id,
        "text": post.text,
        "media": post.media,
        "link": post.link,
        "urls": post.urls,
        "language": post.language,
        "topics": post.topics,
        "visibility": post.visibility,
        "reply_to": reply_to,
        "idempotency_key": post.idempotency_key,
        "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
        "sim_published_at": iso(post.published_sim_ms),
        "url": url(post),
        "deleted": post.deleted_at is not None,
    }


# -- metrics ---------------------------------------------------------------------------


def post_metrics(
    account: SandboxAccount, posts: Iterable[SandboxPost]
) -> dict[int, dict[str, int]]:
    """Released events counted, per post id."""
    ids = [p.pk for p in posts]
    result = {pk: dict.fromkeys(POST_METRICS, 0) for pk in ids}
    rows = (
        SandboxEvent.objects.filter(
            post_id__in=ids, due_ms__lte=account.released_until_ms, deleted_at__isnull=True
        )
        .values("post_id", "kind")
        .annotate(n=Count("id"), total=Sum("count"), reach=Sum("reach"))
    )
    names: dict[str, str] = {
        EventKind.LIKE: "likes",
        EventKind.COMMENT: "comments",
        EventKind.REPLY: "comments",
        EventKind.SHARE: "shares",
        EventKind.CLICK: "clicks",
        EventKind.FOLLOW: "follows",
    }
    for row in rows:
        values = result[row["post_id"]]
        if row["kind"] == EventKind.IMPRESSIONS:
            values["impressions"] += row["total"] or 0
            values["reach"] += row["reach"] or 0
        elif row["kind"] in names:
            values[names[row["kind"]]] += row["n"]
    return result


def follower_count(account: SandboxAccount, audience: Audience | None = None) -> int:
    audience = audience or audience_for(account)
    followed = set(
        SandboxEvent.objects.filter(
            account=account, kind=EventKind.FOLLOW, due_ms__lte=account.released_until_ms
        ).values_list("person", flat=True)
    )
    return len(audience.account_followers | followed)


def account_metrics(account: SandboxAccount) -> dict[str, int]:
    return {
        "followers": follower_count(account),
        "following": 40 + account.seed % 160,
        "posts": SandboxPost.objects.filter(
            account=account,
            deleted_at__isnull=True,
            reply_to_post__isnull=True,
            reply_to_event__isnull=True,
        ).count(),
    }


# -- interactions ------------------------------------------------------------------------


def author_json(audience: Audience, index: int | None) -> dict[str, Any] | None:
    if index is None or not 0 <= index < len(audience):
        return None
    person = audience.people[index]
    return {
        "id": f"u{index}",
        "handle": person.handle,
        "name": person.name,
        "followers": audience.follower_count(index),
        "language": person.language,
        "city": person.city,
        "country": person.country,
    }


def event_json(event: SandboxEvent, audience: Audience, url: PostURL) -> dict[str, Any]:
    post = event.post
    post_ref = {"id": post.remote_id, "url": url(post)} if post is not None else None
    return {
        "id": event.remote_id,
        "kind": event.kind,
        "author": author_json(audience, event.person),
        "text": event.text,
        "language": event.language,
        "sentiment": event.sentiment,
        "rating": event.rating,
        "url": event.url if event.kind == EventKind.CLICK else (post_ref or {}).get("url", ""),
        "post": post_ref,
        "parent": post_ref,
        "conversation_id": f"dm-u{event.person}" if event.kind == EventKind.MESSAGE else "",
        "hidden": event.hidden,
        "created_at": iso(event.occurred_ms if event.occurred_ms is not None else event.due_ms),
        "sim_time": iso(event.due_ms),
    }


@dataclass(frozen=True)
class EventPage:
    items: list[SandboxEvent]
    cursor: str
    has_more: bool


_CURSOR = re.compile(r"^(\d{1,16})\.(\d{1,18})$")


def _parse_cursor(cursor: str) -> tuple[int, int] | None:
    if not cursor:
        return None
    match = _CURSOR.match(cursor)
    if match is None:
        raise InvalidInput(
            "That cursor is not one this server gave.", fields={"cursor": "Invalid."}
        )
    return int(match.group(1)), int(match.group(2))


def _limit(value: str | int | None, default: int = 50, high: int = 200) -> int:
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise InvalidInput("limit must be a whole number.", fields={"limit": "A number."}) from None
    return max(1, min(high, number))


def _kinds(raw: str, allowed: Iterable[str]) -> list[str]:
    allowed = list(allowed)
    if not raw:
        return allowed
    wanted = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in allowed]
    if unknown:
        raise InvalidInput(f"Unknown kinds: {', '.join(unknown)}.", fields={"kinds": "Unknown."})
    return wanted


def notifications(
    account: SandboxAccount, *, cursor: str = "", limit: str | int | None = None, kinds: str = ""
) -> EventPage:
    """Released interactions in the order they happened, after ``cursor``.

    The cursor names the last item returned; when nothing new has happened the
    page is empty and its cursor is "" (keep the one you have).
    """
    size = _limit(limit)
    events = SandboxEvent.objects.filter(
        account=account,
        due_ms__lte=account.released_until_ms,
        kind__in=_kinds(kinds, INTERACTION_KINDS),
        deleted_at__isnull=True,
    ).select_related("post")
    after = _parse_cursor(cursor)
    if after is not None:
        due, pk = after
        events = events.filter(Q(due_ms__gt=due) | Q(due_ms=due, pk__gt=pk))
    items = list(events.order_by("due_ms", "id")[: size + 1])
    has_more = len(items) > size
    items = items[:size]
    next_cursor = f"{items[-1].due_ms}.{items[-1].pk}" if items else ""
    return EventPage(items=items, cursor=next_cursor, has_more=has_more)


def search(
    account: SandboxAccount, query: str, *, cursor: str = "", limit: str | int | None = None
) -> EventPage:
    """Public posts and comments that contain ``query``, newest first."""
    text = " ".join((query or "").split())
    if len(text) < 2:
        raise InvalidInput("Search needs at least 2 characters.", fields={"q": "Too short."})
    size = _limit(limit, default=25, high=100)
    events = SandboxEvent.objects.filter(
        account=account,
        due_ms__lte=account.released_until_ms,
        kind__in=SEARCH_KINDS,
        deleted_at__isnull=True,
        hidden=False,
        text__icontains=text,
    ).select_related("post")
    before = _parse_cursor(cursor)
    if before is not None:
        due, pk = before
        events = events.filter(Q(due_ms__lt=due) | Q(due_ms=due, pk__lt=pk))
    items = list(events.order_by("-due_ms", "-id")[: size + 1])
    has_more = len(items) > size
    items = items[:size]
    next_cursor = f"{items[-1].due_ms}.{items[-1].pk}" if items and has_more else ""
    return EventPage(items=items, cursor=next_cursor, has_more=has_more)


def audience_page(
    account: SandboxAccount, *, cursor: str = "", limit: str | int | None = None
) -> dict[str, Any]:
    audience = audience_for(account)
    try:
        start = int(cursor or 0)
    except ValueError:
        raise InvalidInput(
            "That cursor is not one this server gave.", fields={"cursor": "Invalid."}
        ) from None
    start = max(0, start)
    size = _limit(limit, default=100, high=500)
    people = audience.people[start : start + size]
    end = start + len(people)
    return {
        "items": [
            {
                **person.as_dict(),
                "follows_account": person.index in audience.account_followers,
                "followers": audience.follower_count(person.index),
            }
            for person in people
        ],
        "cursor": str(end) if end < len(audience) else "",
    }


def audience_summary(account: SandboxAccount) -> dict[str, Any]:
    return summary(audience_for(account))


def faults_json(account: SandboxAccount) -> dict[str, Any]:
    return faults_of(account)
