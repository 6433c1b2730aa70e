"""Bringing interactions in: store each once, match its author to a contact, link its thread.

Polling (:func:`poll_channel`) reads a channel's interactions from its stored
cursor; pushes from networks (webhooks) call :func:`ingest` with what they were
given. The page of items and the new cursor are saved in one transaction, so a
worker dying mid-page re-reads that page and the (channel, remote id) uniqueness
makes the repeat harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from minbar.channels.models import Channel, Health
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    RateLimited,
)
from minbar.connectors.types import Interaction, InteractionKind
from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import (
    Activity,
    Contact,
    Conversation,
    Cursor,
    InboxSettings,
    Item,
    Kind,
    Rule,
)
from minbar.inbox.rules import Context
from minbar.inbox.rules import apply as apply_rules
from minbar.sentiment import analyze

logger = logging.getLogger("minbar.inbox")

ACTIVITY_KINDS = {InteractionKind.LIKE, InteractionKind.REPOST, InteractionKind.FOLLOW}
# How long one worker holds a channel's polling lease.
LEASE = timedelta(minutes=2)
# Pages read per poll, so one busy channel cannot hold a worker forever.
MAX_PAGES = 10


@dataclass
class Ingested:
    created: int = 0
    updated: int = 0
    activities: int = 0
    skipped: int = 0


def _contacts(channel: Channel, interactions: list[Interaction]) -> dict[str, Contact]:
    """Each author's contact, created or refreshed; keyed by the author's remote id."""
    authors = {i.author.remote_id: i for i in interactions if i.author.remote_id}
    found = {
        c.remote_id: c
        for c in Contact.objects.filter(
            workspace_id=channel.workspace_id, network=channel.network, remote_id__in=authors
        )
    }
    for remote_id, interaction in authors.items():
        author = interaction.author
        contact = found.get(remote_id)
        if contact is None:
            try:
                with transaction.atomic():
                    contact = Contact.objects.create(
                        workspace_id=channel.workspace_id,
                        network=channel.network,
                        remote_id=remote_id,
                        handle=author.handle,
                        display_name=author.display_name,
                        avatar_url=author.avatar_url,
                        profile_url=author.url,
                        followers=author.followers,
                        first_seen_at=interaction.created_at,
                        last_seen_at=interaction.created_at,
                    )
            except IntegrityError:  # another worker created it a moment ago
                contact = Contact.objects.get(
                    workspace_id=channel.workspace_id, network=channel.network, remote_id=remote_id
                )
            found[remote_id] = contact
        else:
            changed = False
            for field, value in (
                ("handle", author.handle),
                ("display_name", author.display_name),
                ("avatar_url", author.avatar_url),
                ("profile_url", author.url),
                ("followers", author.followers),
            ):
                if value not in ("", None) and getattr(contact, field) != value:
                    setattr(contact, field, value)
                    changed = True
            if interaction.created_at > contact.last_seen_at:
                contact.last_seen_at = interaction.created_at
                changed = True
            if changed:
                contact.save()
    return found


def ingest(channel: Channel, interactions: Iterable[Interaction]) -> Ingested:
    """Store what is new, reflect edits, and never store anything twice."""
    from minbar.publishing.models import Target

    batch = [i for i in interactions if i.author.remote_id != channel.remote_id]
    result = Ingested(skipped=0)
    if not batch:
        return result
    contacts = _contacts(channel, batch)
    existing = {
        item.remote_id: item
        for item in Item.objects.filter(channel=channel, remote_id__in=[i.remote_id for i in batch])
    }
    post_ids = {i.post.remote_id for i in batch if i.post}
    targets = {
        t.remote_id: t.pk
        for t in Target.objects.filter(channel=channel, remote_id__in=post_ids).only("remote_id")
    }
    created: list[Item] = []
    for interaction in batch:
        contact = contacts.get(interaction.author.remote_id)
        if contact is None:
            result.skipped += 1
            continue
        if interaction.kind in ACTIVITY_KINDS:
            _, made = Activity.objects.get_or_create(
                channel=channel,
                remote_id=interaction.remote_id,
                defaults={
                    "kind": interaction.kind,
                    "contact": contact,
                    "post_remote_id": interaction.post.remote_id if interaction.post else "",
                    "occurred_at": interaction.created_at,
                },
            )
            result.activities += int(made)
            continue
        item = existing.get(interaction.remote_id)
        if item is not None:
            if interaction.text and interaction.text != item.text:
                item.text = interaction.text
                item.edited_at = timezone.now()
                fields = ["text", "edited_at"]
                if not item.sentiment_corrections.exists():  # a person's label stays
                    judged = analyze(item.text, item.language[:2])
                    item.sentiment = item.sentiment_predicted = judged.label
                    item.sentiment_score = judged.score
                    fields += ["sentiment", "sentiment_predicted", "sentiment_score"]
                item.save(update_fields=fields)
                result.updated += 1
            continue
        item = _create_item(channel, interaction, contact, targets)
        if item is not None:
            existing[item.remote_id] = item
            created.append(item)
            result.created += 1
            Contact.objects.filter(pk=contact.pk).update(
                interactions_count=F("interactions_count") + 1
            )
    if created:
        _set_response_targets(channel, created)
        _run_rules(channel, created)
    return result


def _set_response_targets(channel: Channel, items: list[Item]) -> None:
    """When each answerable item should have a person's reply, in business time."""
    settings_row = InboxSettings.objects.filter(workspace_id=channel.workspace_id).first()
    target = settings_row.first_response_target_minutes if settings_row else 60
    if not target:
        return
    hours = BusinessHours.of(channel.workspace)
    for item in items:
        if not item.reply_remote_id:
            continue
        item.response_due_at = hours.add(item.remote_created_at, target * 60)
        # Already late when it reached Minbar (a backfill, an outage): counted, not alerted.
        if item.response_due_at <= item.received_at:
            item.response_breached_at = item.received_at
        Item.objects.filter(pk=item.pk).update(
            response_due_at=item.response_due_at, response_breached_at=item.response_breached_at
        )


def _run_rules(channel: Channel, items: list[Item]) -> None:
    rules = list(Rule.objects.filter(workspace_id=channel.workspace_id, enabled=True))
    if not rules:
        return
    context = Context(hours=BusinessHours.of(channel.workspace), now=timezone.now())
    for item in items:
        apply_rules(rules, item, context)


def _create_item(
    channel: Channel, interaction: Interaction, contact: Contact, targets: dict[str, int]
) -> Item | None:
    conversation = None
    if interaction.kind == InteractionKind.DIRECT_MESSAGE and interaction.conversation_id:
        conversation, _ = Conversation.objects.get_or_create(
            channel=channel,
            remote_id=interaction.conversation_id,
            defaults={"workspace_id": channel.workspace_id, "contact": contact},
        )
        if interaction.created_at > conversation.last_message_at:
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=interaction.created_at
            )
    post_remote_id = interaction.post.remote_id if interaction.post else ""
    parent_remote_id = interaction.parent.remote_id if interaction.parent else ""
    parent = (
        Item.objects.filter(channel=channel, remote_id=parent_remote_id).first()
        if parent_remote_id and parent_remote_id != post_remote_id
        else None
    )
    judged = analyze(interaction.text, interaction.language[:2])
    try:
        with transaction.atomic():
            item = Item.objects.create(
                workspace_id=channel.workspace_id,
                channel=channel,
                remote_id=interaction.remote_id,
                kind=Kind(interaction.kind),
                contact=contact,
                text=interaction.text,
                url=interaction.url[:1000],
                language=(interaction.language or judged.language)[:16],
                sentiment=judged.label,
                sentiment_predicted=judged.label,
                sentiment_score=judged.score,
                remote_created_at=interaction.created_at,
                post_remote_id=post_remote_id,
                parent_remote_id=parent_remote_id,
                target_id=targets.get(post_remote_id),
                parent=parent,
                conversation=conversation,
                reply_remote_id=interaction.ref.remote_id if interaction.ref else "",
                reply_url=(interaction.ref.url if interaction.ref else "")[:1000],
            )
    except IntegrityError:  # delivered twice at the same moment (poll and push)
        return None
    # Replies that arrived before what they answer find their parent now.
    Item.objects.filter(
        channel=channel, parent_remote_id=item.remote_id, parent__isnull=True
    ).update(parent=item)
    return item


def _backfill_since() -> datetime:
    days = int(getattr(settings, "MINBAR_INBOX_BACKFILL_DAYS", 7))
    return timezone.now() - timedelta(days=days)


def due_channels(moment: datetime, limit: int = 50) -> list[int]:
    """Channels whose interactions should be read now (new channels included)."""
    Cursor.objects.bulk_create(
        [
            Cursor(channel_id=pk, next_poll_at=moment)
            for pk in Channel.objects.filter(inbox_cursor__isnull=True).values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return list(
        Cursor.objects.filter(next_poll_at__lte=moment, unsupported=False)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=moment))
        .exclude(channel__health=Health.NEEDS_RECONNECT)
        .order_by("next_poll_at")
        .values_list("channel_id", flat=True)[:limit]
    )


def poll_channel(channel_id: int, moment: datetime | None = None) -> Ingested:
    """Read what is new on one channel, page by page, if no other worker is doing it."""
    from minbar.channels.actions import connector_for, note_failure

    moment = moment or timezone.now()
    claimed = (
        Cursor.objects.filter(channel_id=channel_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=moment))
        .update(lease_until=moment + LEASE)
    )
    total = Ingested()
    if not claimed:
        return total
    cursor = Cursor.objects.select_related("channel").get(channel_id=channel_id)
    channel = cursor.channel
    interval = timedelta(seconds=int(getattr(settings, "MINBAR_INBOX_POLL_SECONDS", 60)))
    next_poll = moment + interval
    error = ""
    try:
        connector = connector_for(channel)
        first = not cursor.cursor and cursor.last_polled_at is None
        for _page in range(MAX_PAGES):
            page = connector.interactions(cursor.cursor)
            items = page.items
            if first:
                since = _backfill_since()
                items = [i for i in items if i.created_at >= since]
            with transaction.atomic():
                got = ingest(channel, items)
                if page.cursor:
                    cursor.cursor = page.cursor
                    Cursor.objects.filter(pk=cursor.pk).update(cursor=page.cursor)
            total.created += got.created
            total.updated += got.updated
            total.activities += got.activities
            if not page.cursor or not page.items:
                break
    except NotSupported:
        Cursor.objects.filter(pk=cursor.pk).update(unsupported=True, lease_until=None)
        return total
    except RateLimited as exc:
        error = exc.message
        next_poll = max(next_poll, exc.until)
    except AuthExpired as exc:
        error = exc.message
        note_failure(channel, exc)
    except ConnectorError as exc:
        error = exc.message
        logger.warning("inbox poll of channel %s failed: %s", channel_id, exc.message)
    Cursor.objects.filter(pk=cursor.pk).update(
        lease_until=None,
        last_polled_at=moment,
        next_poll_at=next_poll,
        last_error=error[:500],
    )
    return total
