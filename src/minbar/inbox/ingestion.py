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
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
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
    valid_rating,
)
from minbar.inbox.rules import Context, normalize
from minbar.inbox.rules import Run as RuleRun
from minbar.sentiment import analyze

logger = logging.getLogger("minbar.inbox")

ACTIVITY_KINDS = {InteractionKind.LIKE, InteractionKind.REPOST, InteractionKind.FOLLOW}
# How long one worker holds a channel's polling lease.
LEASE = timedelta(minutes=2)
# Pages read per poll, so one busy channel cannot hold a worker forever.
MAX_PAGES = 10
# A channel whose network pushes is polled this many times less often.
PUSHED_POLL_FACTOR = 5


@dataclass
class Ingested:
    created: int = 0
    updated: int = 0
    activities: int = 0
    skipped: int = 0


def _contacts(channel: Channel, interactions: list[Interaction]) -> dict[str, Contact]:
    """Each author's contact, created or refreshed in a few statements; keyed by remote id."""
    latest: dict[str, Interaction] = {}
    for interaction in interactions:
        known = latest.get(interaction.author.remote_id)
        if known is None or interaction.created_at > known.created_at:
            latest[interaction.author.remote_id] = interaction
    scope = Contact.objects.filter(workspace_id=channel.workspace_id, network=channel.network)
    found = {c.remote_id: c for c in scope.filter(remote_id__in=latest)}
    missing = [rid for rid in latest if rid not in found]
    if missing:
        Contact.objects.bulk_create(
            [
                Contact(
                    workspace_id=channel.workspace_id,
                    network=channel.network,
                    remote_id=rid,
                    handle=latest[rid].author.handle,
                    display_name=latest[rid].author.display_name,
                    avatar_url=latest[rid].author.avatar_url,
                    profile_url=latest[rid].author.url,
                    followers=latest[rid].author.followers,
                    first_seen_at=latest[rid].created_at,
                    last_seen_at=latest[rid].created_at,
                )
                for rid in missing
            ],
            ignore_conflicts=True,  # another worker may create the same contact meanwhile
        )
        found |= {c.remote_id: c for c in scope.filter(remote_id__in=missing)}
    changed = []
    for rid, interaction in latest.items():
        contact, author = found[rid], interaction.author
        dirty = False
        for field, value in (
            ("handle", author.handle),
            ("display_name", author.display_name),
            ("avatar_url", author.avatar_url),
            ("profile_url", author.url),
            ("followers", author.followers),
        ):
            if value not in ("", None) and getattr(contact, field) != value:
                setattr(contact, field, value)
                dirty = True
        if interaction.created_at > contact.last_seen_at:
            contact.last_seen_at = interaction.created_at
            dirty = True
        if dirty:
            changed.append(contact)
    _update_rows(
        Contact,
        ["handle", "display_name", "avatar_url", "profile_url", "followers", "last_seen_at"],
        changed,
    )
    return found


def _update_rows(model: type[Contact] | type[Item], fields: list[str], rows: list[Any]) -> None:
    """One prepared UPDATE run for many rows (Django's bulk_update builds a slow CASE per field)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    concrete = [model._meta.get_field(name) for name in fields]
    attnames = [str(getattr(f, "attname", f.name)) for f in concrete]
    columns = [str(getattr(f, "column", f.name)) for f in concrete]
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    # Identifiers come from the model's own metadata, quoted; every value is a parameter.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[getattr(row, a) for a in attnames] + [row.pk] for row in rows])


def _conversations(
    channel: Channel, messages: list[Interaction], contacts: dict[str, Contact]
) -> dict[str, Conversation]:
    ids = {m.conversation_id: m for m in messages if m.conversation_id}
    if not ids:
        return {}
    scope = Conversation.objects.filter(channel=channel)
    found = {c.remote_id: c for c in scope.filter(remote_id__in=ids)}
    missing = [cid for cid in ids if cid not in found]
    if missing:
        Conversation.objects.bulk_create(
            [
                Conversation(
                    workspace_id=channel.workspace_id,
                    channel=channel,
                    remote_id=cid,
                    contact=contacts.get(ids[cid].author.remote_id),
                    last_message_at=ids[cid].created_at,
                )
                for cid in missing
            ],
            ignore_conflicts=True,
        )
        found |= {c.remote_id: c for c in scope.filter(remote_id__in=missing)}
    for message in messages:
        conversation = found.get(message.conversation_id)
        if conversation is not None and message.created_at > conversation.last_message_at:
            conversation.last_message_at = message.created_at
            Conversation.objects.filter(
                pk=conversation.pk, last_message_at__lt=message.created_at
            ).update(last_message_at=message.created_at)
    return found


def ingest(channel: Channel, interactions: Iterable[Interaction]) -> Ingested:
    """Store what is new, reflect edits, and never store anything twice.

    Works on the whole batch at once (a poll's page, a push's payload): a handful
    of statements per batch rather than several per item.
    """
    result = Ingested()
    unique: dict[str, Interaction] = {}
    for interaction in interactions:
        if interaction.author.remote_id == channel.remote_id or not interaction.author.remote_id:
            result.skipped += int(interaction.author.remote_id != channel.remote_id)
            continue
        unique[interaction.remote_id] = interaction  # the last delivery of a repeat wins
    if not unique:
        return result
    batch = list(unique.values())
    contacts = _contacts(channel, batch)
    activities = [i for i in batch if i.kind in ACTIVITY_KINDS]
    if activities:
        before = Activity.objects.filter(
            channel=channel, remote_id__in=[a.remote_id for a in activities]
        ).count()
        Activity.objects.bulk_create(
            [
                Activity(
                    channel=channel,
                    remote_id=a.remote_id,
                    kind=a.kind,
                    contact=contacts[a.author.remote_id],
                    post_remote_id=a.post.remote_id if a.post else "",
                    occurred_at=a.created_at,
                )
                for a in activities
            ],
            ignore_conflicts=True,
        )
        result.activities = len(activities) - before
    inbox = [i for i in batch if i.kind not in ACTIVITY_KINDS]
    if not inbox:
        return result
    existing = {
        item.remote_id: item
        for item in Item.objects.filter(
            channel=channel, remote_id__in=[i.remote_id for i in inbox]
        ).select_related("contact")
    }
    for interaction in inbox:
        item = existing.get(interaction.remote_id)
        if item is None:
            continue
        if interaction.deleted:
            if item.deleted_at is None:
                Item.objects.filter(pk=item.pk).update(deleted_at=timezone.now())
                result.updated += 1
        else:
            changed = False
            if interaction.text and interaction.text != item.text:
                _reflect_edit(item, interaction.text)
                changed = True
            # A reviewer can change their stars (Google reviews are edited in place).
            rating = valid_rating(interaction.rating)
            if rating is not None and rating != item.rating:
                Item.objects.filter(pk=item.pk).update(rating=rating)
                item.rating = rating
                changed = True
            result.updated += int(changed)
    # Something removed before Minbar ever saw it is not worth an item.
    fresh = [i for i in inbox if i.remote_id not in existing and not i.deleted]
    if fresh:
        created = _create_items(channel, fresh, contacts)
        result.created = len(created)
    return result


def searchable(text: str, contact: Contact) -> str:
    return normalize(" ".join((text, contact.display_name, contact.handle)))


def _reflect_edit(item: Item, text: str) -> None:
    item.text = text
    item.search_text = searchable(text, item.contact)
    item.edited_at = timezone.now()
    fields = ["text", "search_text", "edited_at"]
    if not item.sentiment_corrections.exists():  # a person's label stays
        judged = analyze(text, item.language[:2])
        item.sentiment = item.sentiment_predicted = judged.label
        item.sentiment_score = judged.score
        fields += ["sentiment", "sentiment_predicted", "sentiment_score"]
    item.save(update_fields=fields)


def _create_items(
    channel: Channel, fresh: list[Interaction], contacts: dict[str, Contact]
) -> list[Item]:

    now = timezone.now()
    conversations = _conversations(
        channel, [i for i in fresh if i.kind == InteractionKind.DIRECT_MESSAGE], contacts
    )
    post_ids = {i.post.remote_id for i in fresh if i.post}
    targets = _targets(channel, post_ids)
    wanted_parents = {
        i.parent.remote_id
        for i in fresh
        if i.parent and (not i.post or i.parent.remote_id != i.post.remote_id)
    }
    parents = dict(
        Item.objects.filter(channel=channel, remote_id__in=wanted_parents).values_list(
            "remote_id", "pk"
        )
    )
    settings_row = InboxSettings.objects.filter(workspace_id=channel.workspace_id).first()
    target_minutes = settings_row.first_response_target_minutes if settings_row else 60
    hours = BusinessHours.of(channel.workspace)
    rules = RuleRun(
        list(Rule.objects.filter(workspace_id=channel.workspace_id, enabled=True)),
        Context(hours=hours, now=now),
    )
    items = []
    for interaction in fresh:
        judged = analyze(interaction.text, interaction.language[:2])
        post_remote_id = interaction.post.remote_id if interaction.post else ""
        parent_remote_id = interaction.parent.remote_id if interaction.parent else ""
        item = Item(
            workspace_id=channel.workspace_id,
            channel=channel,
            remote_id=interaction.remote_id,
            kind=Kind(interaction.kind),
            contact=contacts[interaction.author.remote_id],
            text=interaction.text,
            search_text=searchable(interaction.text, contacts[interaction.author.remote_id]),
            url=interaction.url[:1000],
            language=(interaction.language or judged.language)[:16],
            rating=valid_rating(interaction.rating),
            sentiment=judged.label,
            sentiment_predicted=judged.label,
            sentiment_score=judged.score,
            remote_created_at=interaction.created_at,
            received_at=now,
            post_remote_id=post_remote_id,
            parent_remote_id=parent_remote_id,
            target_id=targets.get(post_remote_id),
            parent_id=parents.get(parent_remote_id),
            conversation=conversations.get(interaction.conversation_id),
            reply_remote_id=interaction.ref.remote_id if interaction.ref else "",
            reply_url=(interaction.ref.url if interaction.ref else "")[:1000],
        )
        if item.reply_remote_id and target_minutes:
            item.response_due_at = hours.add(item.remote_created_at, target_minutes * 60)
            # Already late when it reached Minbar (a backfill, an outage): counted, not alerted.
            if item.response_due_at <= now:
                item.response_breached_at = now
        rules.decide(item)
        items.append(item)
    try:
        with transaction.atomic():
            _insert_items(channel, items)
    except IntegrityError:
        # Another worker stored some of them at the same moment (a poll and a push):
        # keep the ones that are still new, one by one.
        items = _create_one_by_one(channel, items)
    _link_threads(channel, items)
    rules.finish()
    counts: dict[int, int] = {}
    for item in items:
        counts[item.contact_id] = counts.get(item.contact_id, 0) + 1
    by_count: dict[int, list[int]] = {}
    for contact_id, count in counts.items():
        by_count.setdefault(count, []).append(contact_id)
    for count, contact_ids in by_count.items():
        Contact.objects.filter(pk__in=contact_ids).update(
            interactions_count=F("interactions_count") + count
        )
    return items


def _insert_items(channel: Channel, items: list[Item]) -> None:
    """One prepared INSERT run for the batch, then the new ids in one query.

    Django's ``bulk_create`` compiles every value of every row through the ORM
    (about half of ingestion's time for these wide rows); plain values go to the
    driver as they are, and only dates and JSON go through their fields.
    """
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    prepared = {
        f.attname
        for f in fields
        if isinstance(f, models.JSONField | models.DateTimeField | models.DateField)
    }
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model's own metadata, quoted; every value is a parameter.
    sql = f"INSERT INTO {quote(Item._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    rows = [
        [
            f.get_db_prep_save(getattr(item, f.attname), connection)
            if f.attname in prepared
            else getattr(item, f.attname)
            for f in fields
        ]
        for item in items
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    ids = dict(
        Item.objects.filter(
            channel=channel, remote_id__in=[i.remote_id for i in items]
        ).values_list("remote_id", "pk")
    )
    for item in items:
        item.pk = ids[item.remote_id]
        item._state.adding = False
        item._state.db = connection.alias


def _create_one_by_one(channel: Channel, items: list[Item]) -> list[Item]:
    kept = []
    for item in items:
        item.pk = None
        try:
            with transaction.atomic():
                item.save(force_insert=True)
        except IntegrityError:
            continue
        kept.append(item)
    return kept


def _targets(channel: Channel, post_ids: set[str]) -> dict[str, int]:
    """The channel's published targets by the post ids interactions name.

    A post the network keeps as several messages (a Telegram album, "5,6,7") is
    named by its first message in comments; it is found by that too.
    """
    from minbar.publishing.models import Target

    scope = Target.objects.filter(channel=channel)
    found = dict(scope.filter(remote_id__in=post_ids).values_list("remote_id", "pk"))
    unknown = [pid for pid in post_ids if pid and pid not in found and "," not in pid]
    if unknown:
        several = Q()
        for pid in unknown:
            several |= Q(remote_id__startswith=f"{pid},")
        for remote_id, pk in scope.filter(several).values_list("remote_id", "pk"):
            found.setdefault(remote_id.split(",")[0], pk)
    return found


def _link_threads(channel: Channel, items: list[Item]) -> None:
    """Replies find what they answer, whichever arrived first."""
    by_remote = {item.remote_id: item for item in items}
    linked = []
    for item in items:
        if item.parent_id is None and item.parent_remote_id in by_remote:
            parent = by_remote[item.parent_remote_id]
            if parent.pk != item.pk:
                item.parent_id = parent.pk
                linked.append(item)
    waiting = list(
        Item.objects.filter(
            channel=channel, parent__isnull=True, parent_remote_id__in=list(by_remote)
        ).only("pk", "parent_remote_id")
    )
    for child in waiting:
        child.parent_id = by_remote[child.parent_remote_id].pk
    _update_rows(Item, ["parent"], linked + waiting)


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
    if not error:
        from minbar.inbox.push import ensure_subscribed

        ensure_subscribed(channel, cursor, moment)
        cursor.refresh_from_db(fields=["push_state"])
        if cursor.push_state == "active":
            # Pushes bring news at once; polling stays as the safety net, less often.
            next_poll = moment + interval * PUSHED_POLL_FACTOR
    Cursor.objects.filter(pk=cursor.pk).update(
        lease_until=None,
        last_polled_at=moment,
        next_poll_at=next_poll,
        last_error=error[:500],
    )
    return total
