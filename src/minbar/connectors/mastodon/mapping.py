"""Mastodon entities (as Mastodon.py returns them: dicts with attribute access) to Minbar's types.

Entities: https://docs.joinmastodon.org/entities/Status/,
https://docs.joinmastodon.org/entities/Account/,
https://docs.joinmastodon.org/entities/Notification/.
Everything is read with ``.get`` because servers that speak Mastodon's API
(GoToSocial, Pleroma, older Mastodon) leave fields out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from minbar.connectors.types import Author, Interaction, InteractionKind, RemoteRef

# Notification types Minbar reads (https://docs.joinmastodon.org/entities/Notification/#type).
# "status" (someone you follow with the bell posted) and "update" (a post you
# boosted was edited) say nothing about the channel's own posts, so they are
# neither requested nor shown; "quote" exists from Mastodon 4.5.
NOTIFICATION_TYPES: tuple[str, ...] = ("mention", "favourite", "reblog", "follow", "quote")

# Most open first; a reply is never more open than what it answers.
VISIBILITIES: tuple[str, ...] = ("public", "unlisted", "private", "direct")


class _TextExtractor(HTMLParser):
    """Plain text from a status's HTML ``content``.

    Mastodon shortens links for display with ``<span class="invisible">``
    pieces; keeping every piece of text gives back the full link.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    if not html:
        return ""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "".join(extractor.parts).strip()


def when(value: Any) -> datetime:
    """An aware datetime from what Mastodon.py gives (datetime) or raw ISO text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def full_handle(acct: str, domain: str) -> str:
    """``name@instance``: local accounts' ``acct`` has no domain, remote ones have theirs."""
    acct = acct.lstrip("@")
    if "@" in acct or not domain:
        return acct
    return f"{acct}@{domain}"


def author(account: Mapping[str, Any], domain: str) -> Author:
    followers = account.get("followers_count")
    return Author(
        remote_id=str(account.get("id", "")),
        handle=full_handle(str(account.get("acct") or account.get("username") or ""), domain),
        display_name=str(account.get("display_name") or account.get("username") or ""),
        avatar_url=str(account.get("avatar") or ""),
        url=str(account.get("url") or ""),
        followers=followers if isinstance(followers, int) else None,
    )


def status_ref(status: Mapping[str, Any]) -> RemoteRef:
    account = status.get("account") or {}
    return RemoteRef(
        remote_id=str(status.get("id", "")),
        url=str(status.get("url") or status.get("uri") or ""),
        extra={
            "account_id": str(account.get("id", "")),
            "acct": str(account.get("acct", "")),
            "visibility": str(status.get("visibility") or ""),
        },
    )


def status_text(status: Mapping[str, Any]) -> str:
    """The words of a status, with its content warning in front when it has one."""
    text = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "")
    return f"CW: {warning}\n\n{text}" if warning else text


def _id(value: Any) -> str:
    return "" if value is None else str(value)


def interaction_from_notification(
    notification: Mapping[str, Any],
    *,
    own_account_id: str,
    domain: str,
    conversation_id: str = "",
) -> Interaction | None:
    """One notification as an Interaction, or None for types Minbar does not show.

    A ``mention`` is sorted three ways: a direct-visibility status is a
    direct message, one answering the channel's own status
    (``in_reply_to_account_id``) is a reply, anything else a mention.
    """
    kind_name = str(notification.get("type") or "")
    account = notification.get("account") or {}
    status = notification.get("status") or None
    who = author(account, domain)
    created_at = when(notification.get("created_at"))

    if kind_name == "follow":
        return Interaction(
            remote_id=f"follow:{who.remote_id}",
            kind=InteractionKind.FOLLOW,
            author=who,
            created_at=created_at,
            url=who.url,
            ref=RemoteRef(remote_id=who.remote_id, url=who.url),
        )
    if status is None:
        return None
    own_post = RemoteRef(remote_id=_id(status.get("id")), url=str(status.get("url") or ""))
    if kind_name in ("favourite", "reblog"):
        # One per person and post: liking, un-liking and liking again is one event.
        return Interaction(
            remote_id=f"{kind_name}:{who.remote_id}:{own_post.remote_id}",
            kind=InteractionKind.LIKE if kind_name == "favourite" else InteractionKind.REPOST,
            author=who,
            created_at=created_at,
            url=own_post.url,
            post=own_post,
        )
    if kind_name not in ("mention", "quote"):
        return None

    in_reply_to = _id(status.get("in_reply_to_id"))
    parent = RemoteRef(remote_id=in_reply_to) if in_reply_to else None
    post: RemoteRef | None = None
    if kind_name == "quote":
        kind = InteractionKind.QUOTE
        quoted = (status.get("quote") or {}).get("quoted_status") or {}
        if quoted.get("id") is not None:
            post = RemoteRef(remote_id=_id(quoted.get("id")), url=str(quoted.get("url") or ""))
    elif status.get("visibility") == "direct":
        kind = InteractionKind.DIRECT_MESSAGE
    elif in_reply_to and _id(status.get("in_reply_to_account_id")) == own_account_id:
        kind = InteractionKind.REPLY
        post = parent
    else:
        kind = InteractionKind.MENTION
    return Interaction(
        remote_id=_id(status.get("id")),
        kind=kind,
        author=who,
        created_at=when(status.get("created_at") or notification.get("created_at")),
        text=status_text(status),
        url=str(status.get("url") or status.get("uri") or ""),
        post=post,
        parent=parent,
        ref=status_ref(status),
        language=str(status.get("language") or ""),
        conversation_id=conversation_id if kind == InteractionKind.DIRECT_MESSAGE else "",
    )


def interaction_from_status(status: Mapping[str, Any], *, domain: str) -> Interaction:
    """A search or hashtag result: someone's post that matches, reported as a mention."""
    in_reply_to = _id(status.get("in_reply_to_id"))
    return Interaction(
        remote_id=_id(status.get("id")),
        kind=InteractionKind.MENTION,
        author=author(status.get("account") or {}, domain),
        created_at=when(status.get("created_at")),
        text=status_text(status),
        url=str(status.get("url") or status.get("uri") or ""),
        parent=RemoteRef(remote_id=in_reply_to) if in_reply_to else None,
        ref=status_ref(status),
        language=str(status.get("language") or ""),
    )


def narrowest_visibility(*values: str) -> str:
    """The least open of the given visibilities ("" entries are ignored)."""
    known = [v for v in values if v in VISIBILITIES]
    if not known:
        return ""
    return max(known, key=VISIBILITIES.index)
