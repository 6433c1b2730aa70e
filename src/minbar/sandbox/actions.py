"""Every state change of the sandbox network.

The sandbox stands in for a third-party network, so its actions are the
network's own (authenticated by a sandbox token, not by a Minbar user) and
are not written to Minbar's audit log: the channel operations that cause them
are, where the publishing engine performs them. Messages are the network's
words (English, like real APIs' error messages), not Minbar's interface.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import math
import random
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify

from minbar.connectors.types import RateLimitRule, TextCounting
from minbar.core import plainsql
from minbar.core.errors import Conflict, InvalidInput, NotFound
from minbar.core.writes import group_hints, group_memo, write_transaction
from minbar.sandbox import clock, content
from minbar.sandbox.audience import (
    DEFAULT_ARABIC_SHARE,
    DEFAULT_FOLLOWER_SHARE,
    DEFAULT_SIZE,
    MAX_SIZE,
    Audience,
    AudienceParams,
    generate_audience,
)
from minbar.sandbox.flavours import INSTAGRAM_CAROUSEL_MAX, Flavour, FlavourSpec, spec_for
from minbar.sandbox.models import (
    EventKind,
    SandboxAccount,
    SandboxEvent,
    SandboxPost,
    from_ms,
    to_ms,
)
from minbar.sandbox.simulation import (
    PostFeatures,
    Scheduled,
    day_start_of,
    days_between,
    reply_reactions,
    simulate_day,
    simulate_post,
)

DEFAULT_SPEED = 60.0
MAX_SPEED = 100_000.0
MAX_ADVANCE_SECONDS = 366 * 24 * 3600
BACKGROUND_CATCH_UP_DAYS = 31  # after a long pause, only the last month is simulated
TOKEN_PREFIX = "sbx_"
HANDLE_RE = re.compile(r"^[a-z0-9_]{2,30}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    account: SandboxAccount
    token: str  # shown once; only its hash is stored


def _unique_handle(wanted: str, name: str) -> str:
    base = (wanted or slugify(name).replace("-", "_"))[:26].strip("_") or "account"
    if len(base) < 2:
        base = f"{base}_account"
    handle, n = base, 2
    while SandboxAccount.objects.filter(handle=handle).exists():
        handle, n = f"{base}_{n}", n + 1
    return handle


def _number(value: Any, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number.", fields={name: "A number."}) from None
    if not low <= number <= high or math.isnan(number):
        raise InvalidInput(
            f"{name} must be between {low:g} and {high:g}.",
            fields={name: f"Between {low:g} and {high:g}."},
        )
    return number


def _topics(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidInput("topics must be a list of interests.", fields={"topics": "A list."})
    unknown = [t for t in value if t not in content.INTEREST_INDEX]
    if unknown:
        known = ", ".join(content.INTEREST_INDEX)
        raise InvalidInput(
            f"Unknown topics: {', '.join(unknown)}. Known: {known}.",
            fields={"topics": "Unknown topic."},
        )
    return sorted(set(value))


@transaction.atomic
def create_account(
    *,
    flavour: str,
    name: str,
    handle: str = "",
    seed: int | None = None,
    audience_size: int = DEFAULT_SIZE,
    arabic_share: float = DEFAULT_ARABIC_SHARE,
    follower_share: float = DEFAULT_FOLLOWER_SHARE,
    topics: list[str] | tuple[str, ...] | str = (),
    speed: float = DEFAULT_SPEED,
) -> NewAccount:
    if flavour not in Flavour.values:
        raise InvalidInput(
            f"flavour must be one of {', '.join(Flavour.values)}.",
            fields={"flavour": "facebook, x or instagram."},
        )
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput(
            "An account needs a name (at most 120 characters).", fields={"name": "Required."}
        )
    handle = (handle or "").strip().lstrip("@").lower()
    if handle:
        if not HANDLE_RE.match(handle):
            raise InvalidInput(
                "A handle has 2 to 30 letters a-z, digits or underscores.",
                fields={"handle": "Letters, digits, underscores."},
            )
        if SandboxAccount.objects.filter(handle=handle).exists():
            raise Conflict(f"The handle @{handle} is taken.", fields={"handle": "Taken."})
    size = int(_number(audience_size, "audience_size", 1, MAX_SIZE))
    arabic = _number(arabic_share, "arabic_share", 0, 1)
    share = _number(follower_share, "follower_share", 0, 1)
    chosen_speed = _number(speed, "speed", 0, MAX_SPEED)
    if seed is None:
        seed = secrets.randbelow(2**31)
    seed = int(_number(seed, "seed", 0, 2**62))
    now = clock.now()
    now_ms = to_ms(now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account = SandboxAccount.objects.create(
        handle=handle or _unique_handle("", name),
        name=name,
        flavour=flavour,
        token_hash=hash_token(token),
        seed=seed,
        audience_size=size,
        arabic_share=arabic,
        follower_share=share,
        topics=_topics(topics),
        speed=chosen_speed,
        clock_anchor_real=now,
        clock_anchor_sim_ms=now_ms,
        released_until_ms=now_ms,
        released_real_ms=now_ms,
        background_until_ms=now_ms,
        created_at=now,
    )
    return NewAccount(account=account, token=token)


def rotate_token(account: SandboxAccount) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    SandboxAccount.objects.filter(pk=account.pk).update(token_hash=hash_token(token))
    account.token_hash = hash_token(token)
    return token


def authenticate(token: str) -> SandboxAccount | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    # Every API call authenticates: plain SQL, the ORM's compilation cost more than the lookup.
    found = plainsql.instances(SandboxAccount, "token_hash = %s", [hash_token(token)])
    return found[0] if found else None


# generate_audience keeps 16 audiences; a server with many small test accounts
# (a benchmark's hundreds of 30-people audiences) would rebuild one on every post.
SMALL_AUDIENCE = 200
_small_audience = lru_cache(maxsize=1024)(generate_audience.__wrapped__)


def audience_for(account: SandboxAccount) -> Audience:
    build = _small_audience if account.audience_size <= SMALL_AUDIENCE else generate_audience
    return build(
        AudienceParams(
            seed=account.seed,
            size=account.audience_size,
            arabic_share=account.arabic_share,
            follower_share=account.follower_share,
            topics=tuple(account.topics),
        )
    )


def spec_of(account: SandboxAccount) -> FlavourSpec:
    return spec_for(account.flavour)


# -- the simulated clock -----------------------------------------------------------


def sim_now_ms(account: SandboxAccount, now: datetime | None = None) -> int:
    now = now or clock.now()
    elapsed = max(0.0, (now - account.clock_anchor_real).total_seconds())
    return account.clock_anchor_sim_ms + int(elapsed * 1000 * account.speed)


def _locked(account: SandboxAccount) -> SandboxAccount:
    return SandboxAccount.objects.select_for_update().get(pk=account.pk)


def _refresh(account: SandboxAccount, fresh: SandboxAccount) -> None:
    for f in SandboxAccount._meta.concrete_fields:
        setattr(account, f.attname, getattr(fresh, f.attname))


def followers_state(
    account: SandboxAccount, audience: Audience
) -> tuple[frozenset[int], frozenset[int]]:
    """(current followers, people who must not follow again)."""
    reads = _group_reads()
    follows: Iterable[tuple[int | None, int]]
    if reads is not None and account.pk in reads.follows:
        follows = reads.follows[account.pk]
    else:
        follows = SandboxEvent.objects.filter(account=account, kind=EventKind.FOLLOW).values_list(
            "person", "due_ms"
        )
    released, everyone = set(), set()
    for person, due in follows:
        if person is None:
            continue
        everyone.add(person)
        if due <= account.released_until_ms:
            released.add(person)
    return (
        audience.account_followers | frozenset(released),
        audience.account_followers | frozenset(everyone),
    )


def _schedule_background(account: SandboxAccount, until_ms: int) -> int:
    """Schedule the simulated days up to ``until_ms`` not scheduled yet (locked account)."""
    if until_ms < account.background_until_ms:
        return 0  # the common case: today is scheduled, no audience needed
    audience = audience_for(account)
    first = max(account.background_until_ms, until_ms - BACKGROUND_CATCH_UP_DAYS * 86_400_000)
    followers, no_follow = followers_state(account, audience)
    rows: list[tuple[Any, ...]] = []
    for day in days_between(from_ms(first), from_ms(until_ms)):
        day_ms = to_ms(day)
        for event in simulate_day(
            audience,
            flavour=account.flavour,
            day_start=day,
            seed=account.seed,
            handle=account.handle,
            followers=len(followers),
            no_follow=no_follow,
            topics_mask=content.mask_of(account.topics),
        ):
            due = day_ms + event.offset * 1000
            if due >= account.background_until_ms and due > account.released_until_ms:
                rows.append(_event_values(account.pk, None, event, due))
                if event.kind == EventKind.FOLLOW:
                    no_follow = no_follow | {event.person}
    _insert_events(rows)
    _note_events(account, rows)
    account.background_until_ms = to_ms(day_start_of(from_ms(until_ms)) + timedelta(days=1))
    return len(rows)


def _release_locked(account: SandboxAccount, now: datetime, *, save: bool = True) -> int:
    """Release what the simulated clock has reached (the account row is locked).

    ``save`` False leaves the account's clock fields for the caller's single
    UPDATE (:func:`save_locked`).
    """
    sim = sim_now_ms(account, now)
    _schedule_background(account, sim)
    start, real_start, real_end = account.released_until_ms, account.released_real_ms, to_ms(now)
    released = 0
    if sim > start:
        # Spread the real times of the released events over the real time that
        # passed since the last release, in the order they were due.
        ratio = max(0, real_end - real_start) / (sim - start)
        # Plain SQL: this runs on every publish, and compiling the ORM's expression
        # cost more than the update itself.
        sql = (
            f"UPDATE {plainsql.table(SandboxEvent)} "  # noqa: S608 - a model's table; values bound
            "SET occurred_ms = CAST(%s + (due_ms - %s) * %s AS BIGINT) "
            "WHERE account_id = %s AND due_ms > %s AND due_ms <= %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [float(real_start), start, float(ratio), account.pk, start, sim])
            released = max(0, cursor.rowcount)
        account.released_until_ms = sim
        account.released_real_ms = max(real_start, real_end)
    if save:
        SandboxAccount.objects.filter(pk=account.pk).update(
            released_until_ms=account.released_until_ms,
            released_real_ms=account.released_real_ms,
            background_until_ms=account.background_until_ms,
        )
    return released


def release(account: SandboxAccount, now: datetime | None = None) -> int:
    """Release every event whose simulated time has come; the number released."""
    with write_transaction():
        fresh = _locked(account)
        count = release_locked(fresh, now, save=True)
    _refresh(account, fresh)
    return count


def release_locked(
    account: SandboxAccount, now: datetime | None = None, *, save: bool = False
) -> int:
    """Release on an account locked in the caller's transaction; pushes after the commit."""
    count = _release_locked(account, now or clock.now(), save=save)
    if count and account.webhook_url:
        from minbar.sandbox.tasks import push_account

        transaction.on_commit(partial(push_account, account.pk))
    return count


CHATTER_KEPT_DAYS = 30  # public chatter older than this (simulated) is forgotten


def release_all(now: datetime | None = None) -> int:
    """Advance every running account (the periodic task); the number of events released.

    It also forgets old public chatter, which only search reads, so that an
    account left running for months keeps a bounded table.
    """
    total = 0
    for account in SandboxAccount.objects.filter(speed__gt=0):
        total += release(account, now)
        SandboxEvent.objects.filter(
            account=account,
            kind=EventKind.CHATTER,
            due_ms__lt=account.released_until_ms - CHATTER_KEPT_DAYS * 86_400_000,
        ).delete()
    return total


def advance(account: SandboxAccount, seconds: float) -> int:
    """Move the account's simulated clock forward; returns the events released."""
    amount = _number(seconds, "seconds", 0, MAX_ADVANCE_SECONDS)
    with transaction.atomic():
        fresh = _locked(account)
        fresh.clock_anchor_sim_ms += int(amount * 1000)
        SandboxAccount.objects.filter(pk=fresh.pk).update(
            clock_anchor_sim_ms=fresh.clock_anchor_sim_ms
        )
        count = _release_locked(fresh, clock.now())
        if count and fresh.webhook_url:
            from minbar.sandbox.tasks import push_account

            transaction.on_commit(partial(push_account, fresh.pk))
    _refresh(account, fresh)
    return count


def set_speed(account: SandboxAccount, speed: float) -> None:
    """Change how fast simulated time runs (0 stops it: only ``advance`` moves it)."""
    chosen = _number(speed, "speed", 0, MAX_SPEED)
    with transaction.atomic():
        fresh = _locked(account)
        now = clock.now()
        _release_locked(fresh, now)
        fresh.clock_anchor_sim_ms = sim_now_ms(fresh, now)
        fresh.clock_anchor_real = now
        fresh.speed = chosen
        SandboxAccount.objects.filter(pk=fresh.pk).update(
            clock_anchor_sim_ms=fresh.clock_anchor_sim_ms,
            clock_anchor_real=now,
            speed=chosen,
        )
    _refresh(account, fresh)


# -- posts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInfo:
    mime_type: str
    width: int | None = None
    height: int | None = None
    size: int | None = None
    alt_text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "mime_type": self.mime_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.size,
            "alt_text": self.alt_text,
        }


def parse_media(raw: Any) -> list[MediaInfo]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise InvalidInput("media must be a list.", fields={"media": "A list."})
    items = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("mime_type"), str):
            raise InvalidInput(
                "Each media item needs a mime_type.", fields={"media": "mime_type missing."}
            )

        def whole(key: str, item: dict[str, Any] = item) -> int | None:
            value = item.get(key)
            if value is None:
                return None
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(f"media {key} must be a whole number.", fields={"media": key})
            return value

        items.append(
            MediaInfo(
                mime_type=item["mime_type"].lower(),
                width=whole("width"),
                height=whole("height"),
                size=whole("bytes"),
                alt_text=str(item.get("alt_text") or ""),
            )
        )
    return items


def text_length(spec: FlavourSpec, text: str) -> int:
    if spec.text.counting == TextCounting.WEIGHTED:
        return content.weighted_length(text, spec.text.url_length or 23)
    return content.character_length(text)


def validate_post(spec: FlavourSpec, text: str, media: list[MediaInfo], link: str) -> None:
    """The flavour's real rules; a violation is a 422 like the network's own."""
    rules, title = spec.media, spec.title
    length = text_length(spec, text)
    if length > spec.text.max_length:
        raise InvalidInput(
            f"Text is {length} characters; {title} allows {spec.text.max_length}.",
            fields={"text": "Too long."},
        )
    if not text.strip() and not media:
        raise InvalidInput("A post needs text or media.", fields={"text": "Required."})
    tags, names = content.hashtags(text), content.mentions(text)
    if spec.max_hashtags is not None and len(tags) > spec.max_hashtags:
        raise InvalidInput(
            f"{title} allows at most {spec.max_hashtags} hashtags.", fields={"text": "Hashtags."}
        )
    if spec.max_mentions is not None and len(names) > spec.max_mentions:
        raise InvalidInput(
            f"{title} allows at most {spec.max_mentions} mentions.", fields={"text": "Mentions."}
        )
    if link and not re.match(r"^https?://[^\s/]+", link):
        raise InvalidInput("link must be an http(s) URL.", fields={"link": "An http(s) URL."})
    if rules.media_required and not media:
        raise InvalidInput(
            f"{title} posts need an image or a video.", fields={"media": "Required."}
        )
    images = [m for m in media if m.mime_type.startswith("image/")]
    videos = [m for m in media if m.mime_type.startswith("video/")]
    for item in media:
        allowed = rules.image_types if item.mime_type.startswith("image/") else rules.video_types
        if item.mime_type not in allowed:
            raise InvalidInput(
                f"{title} does not accept {item.mime_type}.", fields={"media": "Type."}
            )
        limit = rules.max_image_bytes if item in images else rules.max_video_bytes
        if item.size is not None and limit is not None and item.size > limit:
            raise InvalidInput(
                f"A {item.mime_type} file may be at most {limit // (1024 * 1024)} MB on {title}.",
                fields={"media": "Too large."},
            )
        if item.width and item.height and (rules.min_aspect_ratio or rules.max_aspect_ratio):
            ratio = item.width / item.height
            if (rules.min_aspect_ratio and ratio < rules.min_aspect_ratio - 0.005) or (
                rules.max_aspect_ratio and ratio > rules.max_aspect_ratio + 0.005
            ):
                raise InvalidInput(
                    f"{title} needs an aspect ratio between {rules.min_aspect_ratio:.2f} "
                    f"and {rules.max_aspect_ratio:.2f} (got {ratio:.2f}).",
                    fields={"media": "Aspect ratio."},
                )
        if (
            item.alt_text
            and rules.alt_text_max_length
            and len(item.alt_text) > rules.alt_text_max_length
        ):
            raise InvalidInput("Alt text is too long.", fields={"media": "Alt text."})
    if images and videos and not rules.mix_images_and_video:
        raise InvalidInput(f"{title} cannot mix images and video.", fields={"media": "Mixed."})
    if len(images) > rules.max_images or len(videos) > rules.max_videos:
        raise InvalidInput(
            f"{title} allows {rules.max_images} images or {rules.max_videos} videos per post.",
            fields={"media": "Too many."},
        )
    if spec.flavour == Flavour.INSTAGRAM and len(media) > INSTAGRAM_CAROUSEL_MAX:
        raise InvalidInput(
            f"A carousel holds at most {INSTAGRAM_CAROUSEL_MAX} items.",
            fields={"media": "Too many."},
        )


def find_post(account: SandboxAccount, remote_id: str, *, deleted: bool = False) -> SandboxPost:
    match = re.fullmatch(r"p(\d{1,18})", remote_id or "")
    post = None
    if match:
        posts = SandboxPost.objects.filter(account=account, pk=int(match.group(1)))
        if not deleted:
            posts = posts.filter(deleted_at__isnull=True)
        post = posts.first()
    if post is None:
        raise NotFound(f"No post {remote_id} on this account.")
    return post


def find_event(account: SandboxAccount, remote_id: str) -> SandboxEvent:
    match = re.fullmatch(r"e(\d{1,18})", remote_id or "")
    event = None
    if match:
        event = SandboxEvent.objects.filter(
            account=account,
            pk=int(match.group(1)),
            due_ms__lte=account.released_until_ms,
            deleted_at__isnull=True,
        ).first()
    if event is None:
        raise NotFound(f"No interaction {remote_id} on this account.")
    return event


def post_by_key(account: SandboxAccount, key: str) -> SandboxPost | None:
    if not key:
        return None
    reads = _group_reads()
    if reads is not None and (account.pk, key) in reads.keys_read:
        return reads.by_key.get((account.pk, key))
    return SandboxPost.objects.filter(
        account=account, idempotency_key=key, deleted_at__isnull=True
    ).first()


ANSWERABLE = (
    EventKind.COMMENT,
    EventKind.REPLY,
    EventKind.MENTION,
    EventKind.MESSAGE,
    EventKind.REVIEW,
)


@dataclass
class Published:
    post: SandboxPost
    created: bool
    scheduled: int = 0


def lock(account: SandboxAccount) -> SandboxAccount:
    """The account row, locked until the caller's write transaction ends."""
    reads = _group_reads()
    if reads is not None and account.pk in reads.accounts:
        return copy.copy(reads.accounts[account.pk])
    return _locked(account)


# The account fields a locked request may change, written back in one UPDATE.
_REQUEST_FIELDS = (
    "request_count",
    "request_window_start",
    "request_window_count",
    "faults",
    "post_counter",
    "released_until_ms",
    "released_real_ms",
    "background_until_ms",
)


def save_locked(account: SandboxAccount) -> None:
    """Write back what a locked request changed on the account, in one UPDATE."""
    plainsql.update(account, _REQUEST_FIELDS)
    reads = _group_reads()
    if reads is not None and account.pk in reads.accounts:
        reads.accounts[account.pk] = copy.copy(account)


# -- reads shared by the publishing requests written together ------------------------------


@dataclass(frozen=True)
class PublishHint:
    """What a publishing request will read: its account and its idempotency key."""

    account_id: int
    key: str


@dataclass
class _GroupReads:
    """What a group of publishing requests reads, read once for all of them.

    The API's publishing requests that arrive together are written in one
    transaction (``core.writes.grouped_write``), one after the other. Each
    would read its account, look its key up, count its posting-limit window and
    list its account's followers: four queries per post. Here they are four
    queries per group, and each request's writes keep them true for the next
    (:func:`save_locked`, :func:`_note_post`, :func:`_note_events`). Nothing else
    writes to the database while the group's transaction lasts.
    """

    accounts: dict[int, SandboxAccount]
    keys_read: set[tuple[int, str]]
    by_key: dict[tuple[int, str], SandboxPost]
    since: datetime  # post times are known from here on
    post_times: dict[int, list[tuple[datetime, bool]]]  # (created_at, is a reply)
    follows: dict[int, list[tuple[int | None, int]]]  # (person, due_ms)

    @classmethod
    def load(cls, hints: list[PublishHint]) -> _GroupReads:
        # Plain SQL: once per group, and compiling four QuerySets cost more than running them.
        accounts = plainsql.by_id(SandboxAccount, (hint.account_id for hint in hints))
        keys_read = {(h.account_id, h.key) for h in hints if h.key and h.account_id in accounts}
        by_key: dict[tuple[int, str], SandboxPost] = {}
        if keys_read:
            owners = sorted({pk for pk, _ in keys_read})
            keys = sorted({key for _, key in keys_read})
            for post in plainsql.instances(
                SandboxPost,
                f"account_id IN ({plainsql.placeholders(owners)}) "
                f"AND idempotency_key IN ({plainsql.placeholders(keys)}) "
                "AND deleted_at IS NULL ORDER BY id",
                [*owners, *keys],
            ):
                by_key.setdefault((post.account_id, post.idempotency_key), post)
        widest = max(
            (rule.window_seconds for a in accounts.values() for rule in publish_rules(a)),
            default=0,
        )
        since = clock.now() - timedelta(seconds=widest)
        known = sorted(accounts)
        among = f"account_id IN ({plainsql.placeholders(known)})"
        post_times: dict[int, list[tuple[datetime, bool]]] = {pk: [] for pk in accounts}
        follows: dict[int, list[tuple[int | None, int]]] = {pk: [] for pk in accounts}
        if not known:
            return cls(accounts, keys_read, by_key, since, post_times, follows)
        for account_id, created, to_post, to_event in plainsql.select(
            SandboxPost,
            f"{among} AND created_at > %s",
            [*known, plainsql.param(SandboxPost, "created_at", since)],
            fields=("account_id", "created_at", "reply_to_post_id", "reply_to_event_id"),
        ):
            post_times[account_id].append((created, to_post is not None or to_event is not None))
        for account_id, person, due in plainsql.select(
            SandboxEvent,
            f"{among} AND kind = %s",
            [*known, str(EventKind.FOLLOW)],
            fields=("account_id", "person", "due_ms"),
        ):
            follows[account_id].append((person, due))
        return cls(accounts, keys_read, by_key, since, post_times, follows)


def _group_reads() -> _GroupReads | None:
    """The reads of the group of publishing requests being written, if this is one."""
    memo = group_memo()
    if memo is None:
        return None
    reads = memo.get("sandbox.publish")
    if reads is None:
        hints = [hint for hint in group_hints() if isinstance(hint, PublishHint)]
        if not hints:
            return None
        reads = memo["sandbox.publish"] = _GroupReads.load(hints)
    return reads if isinstance(reads, _GroupReads) else None


def _note_post(post: SandboxPost) -> None:
    reads = _group_reads()
    if reads is None or post.account_id not in reads.accounts:
        return
    if post.idempotency_key and (post.account_id, post.idempotency_key) in reads.keys_read:
        reads.by_key[(post.account_id, post.idempotency_key)] = post
    is_reply = post.reply_to_post_id is not None or post.reply_to_event_id is not None
    reads.post_times[post.account_id].append((post.created_at, is_reply))


def _note_events(account: SandboxAccount, rows: list[tuple[Any, ...]]) -> None:
    """Keep the group's follows true after inserting ``rows`` (``_event_values`` tuples)."""
    reads = _group_reads()
    if reads is None or account.pk not in reads.accounts:
        return
    reads.follows[account.pk] += [
        (row[_PERSON], row[_DUE_MS]) for row in rows if row[_KIND] == EventKind.FOLLOW
    ]


def publish(
    account: SandboxAccount,
    *,
    text: str = "",
    media: list[MediaInfo] | None = None,
    link: str = "",
    reply_to: str = "",
    idempotency_key: str = "",
    visibility: str = "public",
    language: str = "",
    locked: bool = False,
    replay: SandboxPost | None = None,
) -> Published:
    """Create a post (or a reply) and schedule its audience's reactions.

    The same ``idempotency_key`` returns the post already made with it.
    ``reply_to`` is a post id (``p…``, a thread or a first comment) or an
    interaction id (``e…``, answering a comment, mention, message or review).

    ``locked``: the caller holds ``account`` locked (:func:`lock`) in its write
    transaction, has looked the key up (``replay``: the post already made with
    it) and saves the account afterwards (:func:`save_locked`) — the API counts
    the request and publishes in one transaction that way.
    """
    media = media or []
    text = text or ""
    key = (idempotency_key or "").strip()[:200]
    existing = replay if locked else post_by_key(account, key)
    if existing is not None:
        return Published(existing, created=False)
    if language and language not in {"en", "ar"}:
        language = ""
    spec = spec_of(account)
    reply_post: SandboxPost | None = None
    reply_event: SandboxEvent | None = None
    if reply_to:
        if reply_to.startswith("e"):
            if not locked:
                release(account)  # an event that just came due can be answered
            else:
                release_locked(account)
            reply_event = find_event(account, reply_to)
            if reply_event.kind not in ANSWERABLE:
                raise InvalidInput(
                    f"A {reply_event.kind} cannot be answered.",
                    fields={"reply_to": "Not answerable."},
                )
        else:
            reply_post = find_post(account, reply_to)
    replying = reply_post is not None or reply_event is not None
    if replying:
        # Replies follow the text rules; media rules (Instagram's "needs media") do not apply.
        length = text_length(spec, text)
        if not text.strip():
            raise InvalidInput("A reply needs text.", fields={"text": "Required."})
        if length > spec.text.max_length:
            raise InvalidInput(
                f"Text is {length} characters; {spec.title} allows {spec.text.max_length}.",
                fields={"text": "Too long."},
            )
    else:
        validate_post(spec, text, media, link)
    if visibility not in {"public", "unlisted", "private", "direct"}:
        visibility = "public"
    if reply_event is not None and reply_event.kind == EventKind.MESSAGE:
        visibility = "direct"
    features = PostFeatures.of(
        text,
        link=link,
        media_types=[m.mime_type for m in media],
        language=language,
        links_clickable=spec.links_clickable,
    )
    draft = _Draft(
        text=text,
        media=media,
        link=link,
        features=features,
        visibility=visibility,
        reply_post=reply_post,
        reply_event=reply_event,
        key=key,
    )
    if locked:
        return _create_locked(account, draft, clock.now())
    try:
        with write_transaction():
            fresh = _locked(account)
            existing = post_by_key(fresh, key)
            if existing is not None:
                return Published(existing, created=False)
            published = _create_locked(fresh, draft, clock.now())
            save_locked(fresh)
    except IntegrityError:
        # The same key raced in from another request: the first one wins.
        existing = post_by_key(account, key)
        if existing is None:
            raise
        return Published(existing, created=False)
    _refresh(account, fresh)
    return published


@dataclass
class _Draft:
    """A checked post about to be created."""

    text: str
    media: list[MediaInfo]
    link: str
    features: PostFeatures
    visibility: str
    reply_post: SandboxPost | None
    reply_event: SandboxEvent | None
    key: str


def _create_locked(account: SandboxAccount, draft: _Draft, now: datetime) -> Published:
    """Create the post and its audience's reactions; the caller saves the account."""
    _release_locked(account, now, save=False)
    account.post_counter += 1
    number, start = account.post_counter, account.released_until_ms
    events = _simulate(account, number, draft, now)
    post = SandboxPost(
        account=account,
        number=number,
        text=draft.text,
        media=[m.as_dict() for m in draft.media],
        link=draft.link,
        urls=list(draft.features.urls),
        language=draft.features.language,
        topics=content.topics_of(draft.features.topic_mask),
        visibility=draft.visibility,
        reply_to_post=draft.reply_post,
        reply_to_event=draft.reply_event,
        idempotency_key=draft.key,
        created_at=now,
        published_sim_ms=start,
        simulated=len(events),
    )
    plainsql.insert(post)
    rows = [
        _event_values(account.pk, post.pk, event, start + max(1, event.offset) * 1000)
        for event in events
    ]
    _insert_events(rows)
    _note_post(post)
    _note_events(account, rows)
    return Published(post, created=True, scheduled=len(rows))


# The columns _insert_events writes, in the order of _event_values.
_EVENT_COLUMNS = (
    "account_id",
    "post_id",
    "kind",
    "person",
    "due_ms",
    "occurred_ms",
    "count",
    "reach",
    "text",
    "language",
    "sentiment",
    "url",
    "rating",
    "hidden",
    "deleted_at",
)


_KIND, _PERSON, _DUE_MS = (_EVENT_COLUMNS.index(c) for c in ("kind", "person", "due_ms"))


def _event_values(
    account_id: int, post_id: int | None, event: Scheduled, due_ms: int
) -> tuple[Any, ...]:
    """One SandboxEvent row as plain values, in the order of ``_EVENT_COLUMNS``."""
    return (
        account_id,
        post_id,
        str(event.kind),
        event.person if event.person >= 0 else None,
        due_ms,
        None,
        event.count,
        event.reach,
        event.text,
        event.language,
        event.sentiment,
        event.url,
        event.rating or None,
        False,
        None,
    )


def _insert_events(rows: list[tuple[Any, ...]]) -> None:
    """Insert event rows with one prepared statement.

    A busy sandbox publishes hundreds of posts a second, each with dozens of audience
    reactions; building them as models and compiling ``bulk_create``'s SQL cost more
    than the simulation itself. The values are plain (ints, strings, None, False).
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
        quote(SandboxEvent._meta.db_table),
        ", ".join(quote(c) for c in _EVENT_COLUMNS),
        ", ".join(["%s"] * len(_EVENT_COLUMNS)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _simulate(
    account: SandboxAccount, number: int, draft: _Draft, now: datetime
) -> list[Scheduled]:
    """The audience's reactions to a new post, before it is stored."""
    audience = audience_for(account)
    seed = f"{account.seed}:{number}"
    if draft.reply_event is not None:
        if draft.reply_event.person is None:
            return []
        return list(reply_reactions(audience, draft.reply_event.person, seed=seed))
    if draft.reply_post is not None:
        return []  # threads and first comments: the audience reacts to the first post
    followers, no_follow = followers_state(account, audience)
    return list(
        simulate_post(
            audience,
            draft.features,
            flavour=account.flavour,
            published_at=now,
            seed=seed,
            handle=account.handle,
            followers=followers,
            no_follow=no_follow,
        ).events
    )


def delete_post(account: SandboxAccount, post: SandboxPost) -> None:
    """Delete a post: it disappears and its audience stops reacting."""
    with transaction.atomic():
        fresh = _locked(account)
        _release_locked(fresh, clock.now())
        SandboxPost.objects.filter(pk=post.pk).update(deleted_at=clock.now())
        SandboxEvent.objects.filter(post=post, due_ms__gt=fresh.released_until_ms).delete()
    _refresh(account, fresh)
    post.deleted_at = clock.now()


# -- interactions --------------------------------------------------------------------

HIDEABLE = (EventKind.COMMENT, EventKind.REPLY, EventKind.MENTION)


def hide_interaction(account: SandboxAccount, event: SandboxEvent, hidden: bool = True) -> None:
    if event.kind not in HIDEABLE:
        raise InvalidInput(f"A {event.kind} cannot be hidden.", fields={"id": "Not hideable."})
    SandboxEvent.objects.filter(pk=event.pk).update(hidden=hidden)
    event.hidden = hidden


def delete_interaction(account: SandboxAccount, event: SandboxEvent) -> None:
    if event.kind not in (EventKind.COMMENT, EventKind.REPLY):
        raise InvalidInput(
            "Only comments on the account's own posts can be deleted.",
            fields={"id": "Not deletable."},
        )
    SandboxEvent.objects.filter(pk=event.pk).update(deleted_at=clock.now())


# -- faults and limits -------------------------------------------------------------

FAULT_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,  # added to every answer
    "jitter_ms": 0,  # plus a random 0..jitter_ms
    "rate_limited": 0.0,  # chance of a 429 with Retry-After: retry_after
    "retry_after": 30,
    "server_error": 0.0,  # chance of a 503 before doing anything
    "timeout": 0.0,  # chance of stalling stall_seconds before doing anything, then 504
    "ambiguous": 0.0,  # chance of doing the request, then answering 500
    "ambiguous_timeout": 0.0,  # chance of doing it, then stalling and answering 504
    "stall_seconds": 30.0,
    "fail_next": [],  # outcomes forced on the next requests, in order
    "publish_limits": None,  # [[limit, window_seconds], …] instead of the flavour's
    "request_limit": None,  # [limit, window_seconds] instead of the flavour's
}
OUTCOMES = ("ok", "rate_limited", "server_error", "timeout", "ambiguous", "ambiguous_timeout")
_PROBABILITIES = ("rate_limited", "server_error", "timeout", "ambiguous", "ambiguous_timeout")


def faults_of(account: SandboxAccount) -> dict[str, Any]:
    return {**FAULT_DEFAULTS, **(account.faults or {})}


def _limit_pair(value: Any, name: str) -> list[int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise InvalidInput(
            f"{name} must be [limit, window_seconds] with positive whole numbers.",
            fields={name: "[limit, window_seconds]"},
        )
    return [int(value[0]), int(value[1])]


def set_faults(
    account: SandboxAccount, config: dict[str, Any], *, merge: bool = False
) -> dict[str, Any]:
    """Configure fault injection; ``merge`` keeps settings not mentioned."""
    if not isinstance(config, dict):
        raise InvalidInput("faults must be an object.")
    unknown = sorted(set(config) - set(FAULT_DEFAULTS))
    if unknown:
        raise InvalidInput(
            f"Unknown fault settings: {', '.join(unknown)}.",
            fields={k: "Unknown." for k in unknown},
        )
    result: dict[str, Any] = dict(account.faults or {}) if merge else {}
    for key, value in config.items():
        if key in _PROBABILITIES:
            result[key] = _number(value, key, 0, 1)
        elif key in {"latency_ms", "jitter_ms"}:
            result[key] = int(_number(value, key, 0, 60_000))
        elif key == "retry_after":
            result[key] = int(_number(value, key, 0, 86_400))
        elif key == "stall_seconds":
            result[key] = _number(value, key, 0, 300)
        elif key == "fail_next":
            if not isinstance(value, list) or any(v not in OUTCOMES for v in value):
                raise InvalidInput(
                    f"fail_next is a list of: {', '.join(OUTCOMES)}.", fields={key: "Outcomes."}
                )
            result[key] = list(value)[:100]
        elif key == "publish_limits":
            if value is None:
                result[key] = None
            elif not isinstance(value, list):
                raise InvalidInput("publish_limits must be a list.", fields={key: "A list."})
            else:
                result[key] = [_limit_pair(v, key) for v in value]
        elif key == "request_limit":
            result[key] = None if value is None else _limit_pair(value, key)
    total = sum(float(result.get(k, 0.0)) for k in _PROBABILITIES)
    if total > 1.0:
        raise InvalidInput("The fault chances add up to more than 1.")
    result = {k: v for k, v in result.items() if v != FAULT_DEFAULTS[k]}
    SandboxAccount.objects.filter(pk=account.pk).update(faults=result)
    account.faults = result
    return faults_of(account)


def publish_rules(account: SandboxAccount) -> tuple[RateLimitRule, ...]:
    override = faults_of(account)["publish_limits"]
    if override is not None:
        return tuple(RateLimitRule("publish", limit, window) for limit, window in override)
    return spec_of(account).publish_limits


def request_rule(account: SandboxAccount) -> RateLimitRule:
    override = faults_of(account)["request_limit"]
    if override is not None:
        return RateLimitRule("request", override[0], override[1])
    return spec_of(account).request_limit


@dataclass
class Decision:
    """What the server does with one request: the injected outcome and the limit headers."""

    outcome: str = "ok"
    limit: int = 0
    remaining: int = 0
    reset_at: float = 0.0  # epoch seconds
    retry_after: int | None = None
    latency: float = 0.0  # seconds to wait before answering
    stall: float = 0.0  # seconds to hang for timeouts
    reason: str = ""

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _publish_window(
    account: SandboxAccount, rules: tuple[RateLimitRule, ...], now: datetime
) -> tuple[RateLimitRule, int, datetime] | None:
    """The tightest publishing rule: (rule, posts in its window, when the window frees up).

    One query for every rule: the times of the posts inside the widest window
    (at most a few hundred: the limits are small), counted here.
    """
    if not rules:
        return None
    widest = now - timedelta(seconds=max(r.window_seconds for r in rules))
    replies_count = spec_of(account).replies_count_as_posts
    reads = _group_reads()
    if reads is not None and account.pk in reads.post_times and widest >= reads.since:
        times = sorted(
            created
            for created, is_reply in reads.post_times[account.pk]
            if created > widest and (replies_count or not is_reply)
        )
    else:
        posts = SandboxPost.objects.filter(account=account, created_at__gt=widest)
        if not replies_count:
            posts = posts.filter(reply_to_post__isnull=True, reply_to_event__isnull=True)
        times = sorted(posts.order_by().values_list("created_at", flat=True))
    tightest: tuple[RateLimitRule, int, datetime] | None = None
    for rule in rules:
        since = now - timedelta(seconds=rule.window_seconds)
        first = bisect.bisect_right(times, since)
        used = len(times) - first
        frees_at = (times[first] if used else now) + timedelta(seconds=rule.window_seconds)
        if tightest is None or rule.limit - used < tightest[0].limit - tightest[1]:
            tightest = (rule, used, frees_at)
    return tightest


def current_limits(account: SandboxAccount) -> Decision:
    """The request window as it stands, without counting a request (control endpoints)."""
    rule = request_rule(account)
    now = clock.now()
    start = account.request_window_start
    if start is None or now >= start + timedelta(seconds=rule.window_seconds):
        return Decision(limit=rule.limit, remaining=rule.limit, reset_at=now.timestamp())
    return Decision(
        limit=rule.limit,
        remaining=rule.limit - account.request_window_count,
        reset_at=(start + timedelta(seconds=rule.window_seconds)).timestamp(),
    )


def consume_request(account: SandboxAccount, *, publish: bool = False) -> Decision:
    """Count a request against the limits and decide its injected fault, if any."""
    with write_transaction():
        fresh = _locked(account)
        decision = count_request_locked(fresh, publish=publish)
        save_locked(fresh)
    account.faults = fresh.faults
    return decision


def count_request_locked(account: SandboxAccount, *, publish: bool = False) -> Decision:
    """Count a request on a locked account and decide its fault; the caller saves it."""
    fresh = account
    now = clock.now()
    faults = faults_of(fresh)
    fresh.request_count += 1
    rule = request_rule(fresh)
    window_start = fresh.request_window_start
    if window_start is None or now >= window_start + timedelta(seconds=rule.window_seconds):
        window_start, fresh.request_window_count = now, 0
    fresh.request_window_start = window_start
    fresh.request_window_count += 1
    window_end = window_start + timedelta(seconds=rule.window_seconds)
    decision = Decision(
        limit=rule.limit,
        remaining=rule.limit - fresh.request_window_count,
        reset_at=window_end.timestamp(),
    )
    if fresh.request_window_count > rule.limit:
        decision.outcome = "rate_limited"
        decision.retry_after = max(1, math.ceil((window_end - now).total_seconds()))
        decision.reason = f"Too many requests: {rule.limit} per {rule.window_seconds} seconds."
    elif publish:
        tightest = _publish_window(fresh, publish_rules(fresh), now)
        if tightest is not None:
            prule, used, frees_at = tightest
            decision.limit = prule.limit
            decision.remaining = prule.limit - used - 1
            decision.reset_at = frees_at.timestamp()
            if used >= prule.limit:
                decision.outcome = "rate_limited"
                decision.remaining = 0
                decision.retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
                decision.reason = (
                    f"Posting limit reached: {prule.limit} posts per "
                    f"{prule.window_seconds} seconds."
                )
    rng = random.Random(f"minbar-sandbox-faults:{fresh.seed}:{fresh.request_count}")
    forced = list(faults["fail_next"])
    if decision.outcome == "ok":
        if forced:
            decision.outcome = forced.pop(0)
        else:
            draw, total = rng.random(), 0.0
            for name in _PROBABILITIES:
                total += float(faults[name])
                if draw < total:
                    decision.outcome = name
                    break
        if decision.outcome == "rate_limited":
            decision.retry_after = int(faults["retry_after"])
            decision.remaining = 0
            decision.reset_at = now.timestamp() + decision.retry_after
            decision.reason = "Rate limit exceeded (injected)."
    decision.latency = (faults["latency_ms"] + rng.uniform(0, faults["jitter_ms"])) / 1000
    decision.stall = float(faults["stall_seconds"])
    if forced != list(faults["fail_next"]):
        stored = dict(fresh.faults or {})
        if forced:
            stored["fail_next"] = forced
        else:
            stored.pop("fail_next", None)
        fresh.faults = stored
    return decision


def request_latency(account: SandboxAccount) -> float:
    """Seconds a request waits before it is handled (the account's latency and jitter)."""
    faults = faults_of(account)
    return (faults["latency_ms"] + random.uniform(0, faults["jitter_ms"])) / 1000


def connect_decision(now: datetime | None = None) -> Decision:
    """The server-wide limit on creating sandbox accounts (``/connect``)."""
    now = now or clock.now()
    window = 3600
    since = now - timedelta(seconds=window)
    recent = SandboxAccount.objects.filter(created_at__gt=since)
    used = recent.count()
    oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
    frees_at = (oldest or now) + timedelta(seconds=window)
    decision = Decision(
        limit=CONNECT_LIMIT, remaining=CONNECT_LIMIT - used - 1, reset_at=frees_at.timestamp()
    )
    if used >= CONNECT_LIMIT:
        decision.outcome = "rate_limited"
        decision.retry_after = max(1, math.ceil((frees_at - now).total_seconds()))
        decision.reason = f"At most {CONNECT_LIMIT} sandbox accounts per hour on this server."
    return decision


CONNECT_LIMIT = 300
