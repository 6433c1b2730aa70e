"""Recurring and evergreen posts: a series whose occurrences are real posts.

The first occurrence is the post the person wrote. Later ones are created ahead
of time, up to :data:`HORIZON`, by :func:`fill_due_series` (a periodic task), each
with its own targets, history and approval state. Creating occurrence *n* is
claimed in the database (a row lock on the series where the database has them,
and the unique ``(series, occurrence)`` constraint everywhere), so any number of
workers may run the task at once, or twice, without making a post twice.

Times keep the first occurrence's local wall-clock time in the series' zone
across daylight saving (a time skipped by the change moves to the first minute
that exists). Evergreen series have no end: each next occurrence goes into the
channels' queue slots at least ``every_days`` days after the previous one.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, Conflict, InvalidInput, NotAllowed, NotFound
from minbar.publishing import actions
from minbar.publishing.actions import PostInput, Repeat, Variant
from minbar.publishing.models import (
    Post,
    PostSeries,
    PostState,
    RepeatKind,
    TargetState,
)
from minbar.publishing.queue import wall_to_utc
from minbar.publishing.target_media import choices_from
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm, has_perm

logger = logging.getLogger("minbar.publishing")

HORIZON = timedelta(days=7)
# An occurrence due sooner than this when its turn comes is treated as missed.
MIN_LEAD = timedelta(minutes=1)
MAX_EVERY_DAYS = 365
MAX_COUNT = 1000
# States of an occurrence that has not started going out (stopping a series cancels them).
NOT_STARTED = (
    PostState.DRAFT,
    PostState.AWAITING_APPROVAL,
    PostState.APPROVED,
    PostState.SCHEDULED,
)


def _content(post_input: PostInput) -> dict[str, Any]:
    return {
        "text": post_input.text,
        "link": post_input.link,
        "first_comment": post_input.first_comment,
        "thread": post_input.thread,
        "media": [{"asset": m.asset, "alt_text": m.alt_text} for m in post_input.media],
        "tags": post_input.tags,
        "notes": post_input.notes,
        "channels": post_input.channel_ids,
        "variants": {
            str(cid): {
                "text": v.text,
                "first_comment": v.first_comment,
                "media": None
                if v.media is None
                else [{"asset": m.asset, "alt_text": m.alt_text} for m in v.media],
                "link": v.link,
                "thread": v.thread,
                "options": v.options,
            }
            for cid, v in post_input.variants.items()
        },
    }


def _check_repeat(repeat: Repeat, post_input: PostInput) -> None:
    if repeat.kind not in RepeatKind.values:
        raise InvalidInput(
            _("Choose how the post repeats."), fields={"repeat": _("Unknown repeat.")}
        )
    if post_input.when not in ("at", "queue"):
        raise InvalidInput(
            _("A repeating post needs a first time: choose a time or the queue."),
            fields={"when": _("Choose a time or the queue.")},
        )
    if repeat.kind == RepeatKind.EVERGREEN and post_input.when != "queue":
        raise InvalidInput(
            _("An evergreen post goes into the queue: choose “Add to queue”."),
            fields={"when": _("Choose the queue.")},
        )
    if not 1 <= repeat.every_days <= MAX_EVERY_DAYS:
        raise InvalidInput(
            _("Repeat every 1 to %(n)d days.") % {"n": MAX_EVERY_DAYS},
            fields={"repeat_every": _("Out of range.")},
        )
    if repeat.kind == RepeatKind.WEEKLY and (
        not repeat.weekdays or any(not 0 <= d <= 6 for d in repeat.weekdays)
    ):
        raise InvalidInput(
            _("Choose the days of the week it repeats on."),
            fields={"repeat_weekdays": _("Choose at least one day.")},
        )
    if repeat.count is not None and not 1 <= repeat.count <= MAX_COUNT:
        raise InvalidInput(
            _("Repeat 1 to %(n)d times.") % {"n": MAX_COUNT},
            fields={"repeat_count": _("Out of range.")},
        )
    if repeat.kind == RepeatKind.EVERGREEN and (repeat.count or repeat.until):
        raise InvalidInput(
            _("An evergreen post has no end; stop it from the post's page when it is done."),
            fields={"repeat_count": _("Leave empty for evergreen posts.")},
        )


def start_series(actor: Actor, access: WorkspaceAccess, post_input: PostInput) -> Post:
    """The first occurrence, its series, and the occurrences due within the horizon."""
    repeat = post_input.repeat
    assert repeat is not None
    _check_repeat(repeat, post_input)
    channels = actions._channels(access, post_input.channel_ids)
    variations = [v.strip() for v in repeat.variations if v.strip()]
    for number, text in enumerate(variations, start=1):
        problems = actions.check_targets(
            PostInput(
                text=text,
                thread=post_input.thread,
                first_comment=post_input.first_comment,
                channel_ids=post_input.channel_ids,
            ),
            channels,
        )
        if problems:
            found = " ".join(m for ms in problems.values() for m in ms)
            raise InvalidInput(
                _("Variation %(n)d does not fit every channel: %(problems)s")
                % {"n": number, "problems": found},
                fields={"variations": _("Shorten it or drop it.")},
            )
    needs_approval = actions._needs_approval(access)
    series = PostSeries.objects.create(
        workspace=access.workspace,
        author=actor.user,
        kind=repeat.kind,
        every_days=repeat.every_days,
        weekdays=sorted(set(repeat.weekdays)) if repeat.kind == RepeatKind.WEEKLY else [],
        # Set from the first occurrence below (the queue may pick its time).
        starts_at=timezone.now(),
        time_zone=post_input.scheduled_time_zone or access.workspace.time_zone or "UTC",
        max_occurrences=repeat.count,
        until=repeat.until,
        content=_content(post_input),
        variations=variations,
        approved_version=None if needs_approval else 1,
        last_occurrence=1,
    )
    post = actions.write_post(
        actor, access, post_input, needs_approval=needs_approval, occurrence_of=series, occurrence=1
    )
    assert post.scheduled_at is not None
    series.starts_at = post.scheduled_at
    if post_input.when == "queue" or not post_input.scheduled_time_zone:
        series.time_zone = post.scheduled_time_zone or series.time_zone
    if series.until is not None and series.until < local_date(series, series.starts_at):
        raise InvalidInput(
            _("The end date is before the first time."), fields={"repeat_until": _("Too early.")}
        )
    series.save(update_fields=["starts_at", "time_zone"])
    record(
        actor,
        "post_series.started",
        workspace=access.workspace,
        target=series,
        data={"kind": series.kind, "post": post.pk},
    )
    fill_series(series.pk)
    series.refresh_from_db()  # the post's own copy, for what the caller shows
    return post


def local_date(series: PostSeries, instant: datetime) -> date:
    return instant.astimezone(zoneinfo.ZoneInfo(series.time_zone)).date()


def planned_time(series: PostSeries, number: int) -> datetime | None:
    """When occurrence ``number`` falls (UTC), for series with a fixed rule; None past the end.

    Evergreen series have no fixed times (their occurrences take queue slots).
    """
    if series.kind == RepeatKind.EVERGREEN or number < 1:
        return None
    if series.max_occurrences is not None and number > series.max_occurrences:
        return None
    zone = zoneinfo.ZoneInfo(series.time_zone)
    local = series.starts_at.astimezone(zone)
    first_day, wall = local.date(), local.time().replace(tzinfo=None)
    if number == 1:
        day = first_day
    elif series.kind == RepeatKind.DAYS:
        day = first_day + timedelta(days=series.every_days * (number - 1))
    else:
        week = [first_day + timedelta(days=i) for i in range(1, 8)]
        chosen = [d for d in week if d.weekday() in series.weekdays]
        index = number - 2
        day = chosen[index % len(chosen)] + timedelta(weeks=index // len(chosen))
    if series.until is not None and day > series.until:
        return None
    return wall_to_utc(day, wall, zone)


def upcoming_times(series: PostSeries, limit: int = 5) -> list[datetime]:
    """The next times not yet created as posts (for the post page and the calendar)."""
    if not series.active:
        return []
    out: list[datetime] = []
    number = series.last_occurrence + 1
    while len(out) < limit:
        at = planned_time(series, number)
        if at is None:
            break
        out.append(at)
        number += 1
    return out


@dataclass(frozen=True)
class Planned:
    """An occurrence the series will make later (shown faintly on the calendar)."""

    at: datetime
    text: str
    post_id: int  # the latest occurrence made, to open the series from


def planned_by_day(
    workspace_id: int, start: datetime, end: datetime, time_zone: str, channels: Iterable[int] = ()
) -> dict[date, list[Planned]]:
    """Occurrences not created yet, by local day; ``channels`` keeps series using any of them."""
    wanted = set(channels)
    zone = zoneinfo.ZoneInfo(time_zone)
    out: dict[date, list[Planned]] = {}
    active = PostSeries.objects.filter(workspace_id=workspace_id, active=True).exclude(
        kind=RepeatKind.EVERGREEN
    )
    for one in active:
        if wanted and not wanted & set(one.content.get("channels", [])):
            continue
        latest = one.occurrences.order_by("-occurrence").values_list("pk", flat=True).first()
        if latest is None:
            continue
        texts = [one.content.get("text", ""), *one.variations]
        number = one.last_occurrence + 1
        # Bounded: a month holds at most a few dozen occurrences of a daily series.
        for _step in range(200):
            at = planned_time(one, number)
            if at is None or at >= end:
                break
            if at >= start:
                text = texts[(number - 1) % len(texts)]
                out.setdefault(at.astimezone(zone).date(), []).append(Planned(at, text, latest))
            number += 1
    for items in out.values():
        items.sort(key=lambda p: p.at)
    return out


def _input_for(series: PostSeries, number: int) -> PostInput:
    content = series.content
    texts = [content.get("text", ""), *series.variations]
    text = texts[(number - 1) % len(texts)]
    post_input = PostInput(
        text=text,
        link=content.get("link", ""),
        first_comment=content.get("first_comment", ""),
        thread=list(content.get("thread", [])),
        media=choices_from(content.get("media") or []),
        channel_ids=[int(c) for c in content.get("channels", [])],
        variants={
            int(cid): Variant(
                text=v.get("text"),
                first_comment=v.get("first_comment", ""),
                media=None if v.get("media") is None else choices_from(v["media"]),
                link=v.get("link", ""),
                thread=v.get("thread"),
                options=dict(v.get("options") or {}),
            )
            for cid, v in content.get("variants", {}).items()
        },
        tags=list(content.get("tags", [])),
        notes=content.get("notes", ""),
        time_zone=series.time_zone or "UTC",
    )
    if series.kind == RepeatKind.EVERGREEN:
        post_input.when = "queue"
    else:
        post_input.when = "at"
        post_input.scheduled_at = planned_time(series, number)
        post_input.scheduled_time_zone = series.time_zone
    return post_input


def _stop(series: PostSeries, reason: str) -> None:
    series.active = False
    series.stopped_at = timezone.now()
    series.save(update_fields=["active", "stopped_at", "last_occurrence"])
    logger.info("series %s ended: %s", series.pk, reason)


def _author_access(series: PostSeries) -> WorkspaceAccess | None:
    if series.author is None:
        return None
    membership = (
        Membership.objects.filter(user=series.author, workspace=series.workspace)
        .select_related("workspace")
        .first()
    )
    if membership is None or not has_perm(membership.role, Perm.CREATE_CONTENT):
        return None
    return WorkspaceAccess(
        workspace=membership.workspace, membership=membership, role=membership.role
    )


def fill_series(series_id: int, moment: datetime | None = None) -> int:
    """Create the series' occurrences due within the horizon; returns how many were made."""
    moment = moment or timezone.now()
    made = 0
    with transaction.atomic():
        # Another worker filling this series right now: leave it to that one.
        series = (
            PostSeries.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace", "author")
            .filter(pk=series_id, active=True)
            .first()
        )
        if series is None:
            return 0
        access = _author_access(series)
        if access is None:
            _stop(series, "the author can no longer write posts here")
            return 0
        while True:
            number = series.last_occurrence + 1
            if series.kind == RepeatKind.EVERGREEN:
                previous = series.occurrences.filter(occurrence=series.last_occurrence).first()
                if previous is None or previous.scheduled_at is None:
                    _stop(series, "the previous occurrence is gone")
                    break
                earliest = previous.scheduled_at + timedelta(days=series.every_days)
                if earliest > moment + HORIZON:
                    break
                after: datetime | None = earliest
            else:
                at = planned_time(series, number)
                if at is None:
                    _stop(series, "last occurrence made")
                    break
                if at > moment + HORIZON:
                    break
                if at <= max(moment, timezone.now()) + MIN_LEAD:
                    # Missed (workers were down): skipped, not published late.
                    series.last_occurrence = number
                    continue
                after = None
            post_input = _input_for(series, number)
            needs_approval = series.approved_version != series.version and not access.can(
                Perm.PUBLISH_WITHOUT_APPROVAL
            )
            try:
                with transaction.atomic():
                    post_input.queue_after = after
                    actor = Actor(user=series.author, via="series")
                    actions.write_post(
                        actor,
                        access,
                        post_input,
                        needs_approval=needs_approval,
                        occurrence_of=series,
                        occurrence=number,
                    )
            except IntegrityError:
                # Made by another worker (the unique (series, occurrence) claim).
                series.refresh_from_db(fields=["last_occurrence"])
                series.last_occurrence = max(series.last_occurrence, number)
                continue
            except ActionError as exc:
                _stop(series, f"occurrence {number} could not be made: {exc.message}")
                break
            series.last_occurrence = number
            made += 1
        series.save(update_fields=["last_occurrence"])
    return made


def fill_due_series(moment: datetime | None = None) -> int:
    """Every active series (the periodic task); returns the occurrences made."""
    made = 0
    for series_id in PostSeries.objects.filter(active=True).values_list("pk", flat=True):
        try:
            made += fill_series(series_id, moment)
        except Exception:
            logger.exception("could not fill series %s", series_id)
    return made


def follow_edit(post: Post, post_input: PostInput, *, needs_approval: bool) -> None:
    """Editing an occurrence changes what the series' later occurrences get.

    An edit by someone who cannot publish alone needs a new approval for the
    series (the next occurrences wait for it); occurrences already made keep theirs.
    """
    if post.series_id is None:
        return
    series = PostSeries.objects.select_for_update().filter(pk=post.series_id).first()
    if series is None:
        return
    content = _content(post_input)
    if post.occurrence and series.variations:
        # The edited text is this occurrence's; the series' own text stays its base.
        texts = [series.content.get("text", ""), *series.variations]
        index = (post.occurrence - 1) % len(texts)
        texts[index] = post_input.text
        content["text"], series.variations = texts[0], texts[1:]
    series.content = content
    series.version += 1
    if not needs_approval:
        series.approved_version = series.version
    series.save(update_fields=["content", "variations", "version", "approved_version"])
    Post.objects.filter(pk=post.pk).update(series_version=series.version)


def after_approval(actor: Actor, post: Post) -> None:
    """Approving an occurrence approves its series' version, and the occurrences made from it."""
    if post.series_id is None or post.series_version is None:
        return
    updated = PostSeries.objects.filter(pk=post.series_id, version=post.series_version).update(
        approved_version=post.series_version
    )
    if not updated:
        return
    now = timezone.now()
    for sibling in Post.objects.filter(
        series_id=post.series_id,
        series_version=post.series_version,
        state=PostState.AWAITING_APPROVAL,
    ).exclude(pk=post.pk):
        sibling.state = PostState.SCHEDULED
        sibling.save(update_fields=["state"])
        sibling.targets.filter(state=TargetState.AWAITING_APPROVAL).update(
            state=TargetState.SCHEDULED, updated_at=now
        )
        actions._event(
            sibling,
            actor,
            "approved",
            _("Approved with occurrence %(n)d of the series.") % {"n": post.occurrence or 0},
            from_state=PostState.AWAITING_APPROVAL,
            to_state=PostState.SCHEDULED,
        )


def get_series(access: WorkspaceAccess, series_id: int) -> PostSeries:
    series = PostSeries.objects.filter(workspace=access.workspace, pk=series_id).first()
    if series is None or not access.can(Perm.VIEW_CONTENT):
        raise NotFound(_("No such series."))
    return series


@transaction.atomic
def stop_series(actor: Actor, access: WorkspaceAccess, series_id: int) -> PostSeries:
    """No more occurrences; the ones made but not started yet are cancelled."""
    series = get_series(access, series_id)
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    series = PostSeries.objects.select_for_update().get(pk=series.pk)
    if not series.active:
        raise Conflict(_("This series has already stopped."))
    series.active = False
    series.stopped_at = timezone.now()
    series.save(update_fields=["active", "stopped_at"])
    for post in series.occurrences.filter(
        state__in=NOT_STARTED, scheduled_at__gt=timezone.now()
    ).exclude(targets__state__in=(TargetState.PUBLISHING, TargetState.PUBLISHED)):
        try:
            actions.cancel_post(actor, access, post.pk)
        except ActionError:
            logger.info("occurrence %s of series %s left as it is", post.pk, series.pk)
    record(actor, "post_series.stopped", workspace=access.workspace, target=series)
    return series
