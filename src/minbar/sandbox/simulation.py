"""The engagement model: who sees a post, who reacts, and how shares spread.

Everything here is pure (no database): given an audience, a post's features,
its publication time and a seed, :func:`simulate_post` returns the complete,
deterministic schedule of what will happen to the post — impressions, likes,
comments, shares, link clicks, mentions and new follows — each at an offset in
seconds after publication. The server stores the schedule and releases each
event when the account's simulated clock reaches it (see actions.py).

The model, in short (docs/sandbox.md has every number):

* **Seeing.** A person is on the network during their active hours (in their
  own time zone). In each active hour they open the app with probability
  ``SESSION_CHANCE``; the post is then in their feed with the flavour's
  ``feed_share``, fading with the post's age (``exp(-age / freshness_hours)``).
  The first such hour is their impression; some see it a second time.
* **Reacting.** Each impression may give a like, a comment, a share and a link
  click, independently, with the flavour's base rates multiplied by: interest
  match (post topics vs the person's interests), language (Arabic posts reach
  Arabic speakers), climate words (iced vs warm), age (per flavour), the hour,
  the content (media, length, hashtags, links, questions) and the person's own
  propensity to engage.
* **Spreading.** A share puts the post in the sharer's followers' feeds from the
  moment of the share (independent-cascade model): each of them may see it and
  react, shares included. Most posts stop at the account's followers; the few
  that an influencer shares reach far beyond.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from minbar.sandbox import content
from minbar.sandbox.audience import TIME_ZONES, Audience, Person
from minbar.sandbox.flavours import FlavourSpec, spec_for

# -- parameters (documented in docs/sandbox.md) ------------------------------------

SESSION_CHANCE = 0.6  # an active person opens the app in a given active hour
SECOND_IMPRESSION = 0.3  # a viewer sees the post once more, later
BUCKET_SECONDS = 15 * 60  # impressions are stored per 15 simulated minutes
FOLLOW_AFTER_ENGAGING = 0.08  # a non-follower who engages follows the account
SHARED_FEED_BOOST = 2.0  # a post shared by someone you follow stands out in your feed
INFLUENCER_SHARE_BOOST = 5.0  # influencers share more readily


@dataclass(frozen=True)
class Rates:
    like: float
    comment: float
    share: float
    click: float


BASE_RATES = {
    "x": Rates(like=0.025, comment=0.004, share=0.008, click=0.02),
    "facebook": Rates(like=0.03, comment=0.007, share=0.006, click=0.015),
    "instagram": Rates(like=0.05, comment=0.008, share=0.004, click=0.003),
}
# Reach beyond followers through search, hashtags and explore pages, for people
# who share the post's topics: a base chance plus one per hashtag (capped).
DISCOVERY = {"x": (0.02, 0.015, 2), "facebook": (0.01, 0.0, 0), "instagram": (0.01, 0.01, 10)}
# Likes by age band (18-24, 25-34, 35-44, 45-54, 55-64, 65+).
AGE_FACTORS = {
    "x": (1.1, 1.2, 1.0, 0.85, 0.7, 0.6),
    "facebook": (0.7, 0.9, 1.1, 1.2, 1.25, 1.25),
    "instagram": (1.4, 1.25, 1.0, 0.75, 0.5, 0.4),
}
# Engagement by the viewer's local hour: evenings are best, nights worst.
HOUR_FACTORS = (
    0.7, 0.7, 0.7, 0.7, 0.7, 0.7,  # 0-5
    0.9, 0.9, 0.9,  # 6-8
    0.9, 0.9, 0.9,  # 9-11
    1.1, 1.1,  # 12-13
    0.9, 0.9, 0.9, 0.9,  # 14-17
    1.25, 1.25, 1.25, 1.25, 1.25,  # 18-22
    1.0,  # 23
)  # fmt: skip
INTEREST_FACTORS = {"no_topic": 1.0, "miss": 0.4, "one": 2.2, "more": 3.0}
# Language: the person speaks the post's language, or not (en reader of an
# Arabic post; ar reader of an English post — many read English).
LANGUAGE_FACTORS = {"same": 1.0, "en_reads_ar": 0.06, "ar_reads_en": 0.3}
CLIMATE_FACTORS = {"match": 1.5, "opposite": 0.7}
INCOME_CLICK_FACTORS = (0.8, 0.9, 1.0, 1.15, 1.25)
SENTIMENT_BASE = (0.55, 0.30, 0.15)  # positive, neutral, negative
QUOTE_SHARE = 0.25  # a share that quotes the post with a comment, mentioning the account


@dataclass(frozen=True)
class PostFeatures:
    language: str
    topic_mask: int
    climate: str = ""
    media: str = "none"  # none, image, gallery or video
    urls: tuple[str, ...] = ()  # clickable destinations, the link first
    length: int = 0
    hashtags: int = 0
    question: bool = False

    @classmethod
    def of(
        cls,
        text: str,
        *,
        link: str = "",
        media_types: Iterable[str] = (),
        language: str = "",
        links_clickable: bool = True,
    ) -> PostFeatures:
        kinds = [m.split("/", 1)[0] for m in media_types]
        if not kinds:
            media = "none"
        elif "video" in kinds:
            media = "video"
        else:
            media = "gallery" if len(kinds) > 1 else "image"
        destinations = ([link] if link else []) + [u for u in content.urls(text) if u != link]
        if not links_clickable:
            destinations = destinations[:1] if link else []  # only the "link in bio"
        return cls(
            language=language or content.detect_language(text),
            topic_mask=content.topic_mask(text),
            climate=content.climate_of(text),
            media=media,
            urls=tuple(destinations),
            length=content.character_length(text),
            hashtags=len(content.hashtags(text)),
            question="?" in text or "؟" in text,
        )


@dataclass(frozen=True, slots=True)
class Scheduled:
    """One future event: ``offset`` seconds after publication (or the day's start)."""

    offset: int
    kind: str
    person: int = -1
    count: int = 1
    reach: int = 0
    text: str = ""
    language: str = ""
    sentiment: str = ""
    url: str = ""
    rating: int = 0


@dataclass
class SimulationResult:
    events: list[Scheduled]
    reach: int = 0
    impressions: int = 0
    reach_beyond_followers: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def _utc_offset_minutes(time_zone: str, hour_stamp: int) -> int:
    when = datetime.fromtimestamp(hour_stamp * 3600, tz=ZoneInfo("UTC"))
    offset = when.astimezone(ZoneInfo(time_zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


@lru_cache(maxsize=256)
def _slot_hours(first_minute: int, hours: int) -> tuple[tuple[int, ...], ...]:
    """Local hour of every hour-long slot of a window, per time zone.

    Cached: the posts of a busy minute share it, and the time zone arithmetic was
    a sizeable part of simulating a post.
    """
    rows = []
    for tz in TIME_ZONES:
        row = []
        for j in range(hours + 1):
            minute = first_minute + j * 60
            offset = _utc_offset_minutes(tz, minute // 60)
            row.append(((minute + offset) // 60) % 24)
        rows.append(tuple(row))
    return tuple(rows)


def local_hour(time_zone: str, when: datetime) -> int:
    return when.astimezone(ZoneInfo(time_zone)).hour


def _content_factors(features: PostFeatures, flavour: str) -> Rates:
    like = comment = share = click = 1.0
    media_like = {"none": 1.0, "image": 1.35, "gallery": 1.45, "video": 1.6}[features.media]
    like *= media_like
    share *= media_like
    if features.media != "none":
        comment *= 1.1
    if features.media == "video":
        click *= 0.8
    if features.urls and flavour in {"x", "facebook"}:
        like *= 0.85  # feeds demote posts that send people away
        share *= 1.1
    n = features.length
    if flavour == "x":
        like *= 1.15 if n <= 100 else (0.9 if n > 200 else 1.0)
    elif flavour == "facebook":
        like *= 1.2 if n <= 80 else (0.75 if n > 500 else 1.0)
    else:
        like *= 1.05 if n <= 300 else (0.85 if n > 1500 else 1.0)
    tags = features.hashtags
    if flavour == "instagram":
        tag_factor = (
            0.9 if tags == 0 else (1.2 if 3 <= tags <= 11 else (0.8 if tags > 20 else 1.05))
        )
    elif flavour == "x":
        tag_factor = 1.15 if 1 <= tags <= 2 else (0.75 if tags >= 4 else 1.0)
    else:
        tag_factor = 1.05 if 1 <= tags <= 2 else (0.8 if tags >= 4 else 1.0)
    like *= tag_factor
    share *= tag_factor
    if features.question:
        comment *= 1.8
    return Rates(like=like, comment=comment, share=share, click=click)


class _Simulator:
    """One post's simulation; kept as an object so the inner loops stay flat."""

    def __init__(
        self,
        audience: Audience,
        features: PostFeatures,
        spec: FlavourSpec,
        published_at: datetime,
        rng: random.Random,
        *,
        handle: str,
        followers: frozenset[int],
        no_follow: frozenset[int],
    ) -> None:
        self.a = audience
        self.f = features
        self.spec = spec
        self.rng = rng
        self.handle = handle
        self.followers = followers
        self.no_follow = no_follow
        self.flavour = spec.flavour
        self.hours = spec.window_hours
        self.window = self.hours * 3600
        self.rates = BASE_RATES[self.flavour]
        self.content = _content_factors(features, self.flavour)
        self.age_factors = AGE_FACTORS[self.flavour]
        self.feed = SESSION_CHANCE * spec.feed_share
        self.tau = spec.freshness_hours
        start = published_at.timestamp()
        self.slot_hours = _slot_hours(int(start // 60) + 30, self.hours)
        self.tables: dict[tuple[int, int, int], list[float]] = {}
        self.seen = bytearray(len(audience))
        self.events: list[Scheduled] = []
        self.buckets: dict[int, list[int]] = {}
        self.reach = 0
        self.impressions = 0
        self.beyond = 0
        self.cascade: deque[tuple[int, int]] = deque()
        self.followed: set[int] = set()
        self.climate_code = {"hot": 0, "cold": 2}.get(features.climate, -1)

    # -- seeing ---------------------------------------------------------------

    def _table(self, tz: int, mask: int, start: int, shared: bool) -> list[float]:
        """Cumulative chance of a first impression by each slot from ``start`` on."""
        key = (tz, mask, start if not shared else -1 - start)
        table = self.tables.get(key)
        if table is None:
            table = []
            hours = self.slot_hours[tz]
            feed = min(0.95, self.feed * SHARED_FEED_BOOST) if shared else self.feed
            survive, total = 1.0, 0.0
            for j in range(start, self.hours):
                if mask >> hours[j] & 1:
                    p = feed * math.exp(-(j - start) / self.tau)
                    total += survive * p
                    survive *= 1.0 - p
                table.append(total)
            self.tables[key] = table
        return table

    def _exposure(self, person: int, after: int, *, shared: bool = False) -> int:
        """Seconds after publication when the person first sees it from ``after`` on, or -1."""
        start = after // 3600
        if start >= self.hours:
            return -1
        table = self._table(self.a.tz_index[person], self.a.active_mask[person], start, shared)
        u = self.rng.random()
        if not table or u >= table[-1]:
            return -1
        slot = start + bisect_right(table, u)
        low = max(slot * 3600, after + 1)
        high = slot * 3600 + 3599
        return self.rng.randint(low, high) if high > low else low

    def _impression(self, person: int, at: int) -> None:
        self.seen[person] = 1
        self.reach += 1
        if person not in self.followers:
            self.beyond += 1
        self._count(at, reach=1)
        if self.rng.random() < SECOND_IMPRESSION:
            again = at + self.rng.randint(3600, 8 * 3600)
            if again < self.window:
                self._count(again, reach=0)

    def _count(self, at: int, *, reach: int) -> None:
        bucket = self.buckets.setdefault(at // BUCKET_SECONDS, [0, 0])
        bucket[0] += 1
        bucket[1] += reach
        self.impressions += 1

    # -- reacting -------------------------------------------------------------

    def _engage(self, i: int, at: int) -> None:
        a, f, rng = self.a, self.f, self.rng
        match = 0
        if f.topic_mask:
            match = (a.interest_mask[i] & f.topic_mask).bit_count()
            interest = INTEREST_FACTORS["miss" if not match else ("one" if match == 1 else "more")]
        else:
            interest = INTEREST_FACTORS["no_topic"]
        arabic_person = a.arabic[i]
        if (f.language == "ar") == arabic_person:
            language = LANGUAGE_FACTORS["same"]
        else:
            language = LANGUAGE_FACTORS["ar_reads_en" if arabic_person else "en_reads_ar"]
        climate = 1.0
        if self.climate_code >= 0:
            person_climate = a.climate_code[i]
            if person_climate == self.climate_code:
                climate = CLIMATE_FACTORS["match"]
            elif person_climate != 1:
                climate = CLIMATE_FACTORS["opposite"]
        hour = self.slot_hours[a.tz_index[i]][min(at // 3600, self.hours)]
        person = a.people[i]
        common = person.propensity * interest * language * climate * HOUR_FACTORS[hour]
        rates, c = self.rates, self.content
        p_like = rates.like * common * c.like * self.age_factors[a.age_band[i]]
        p_comment = rates.comment * common * c.comment * (1.2 if person.influencer else 1.0)
        p_share = (
            rates.share * common * c.share * (INFLUENCER_SHARE_BOOST if person.influencer else 1.0)
        )
        p_click = (
            rates.click * common * c.click * INCOME_CLICK_FACTORS[a.income_index[i]]
            if f.urls
            else 0.0
        )
        engaged = False
        if rng.random() < min(0.9, p_like):
            engaged = True
            self.events.append(Scheduled(at + rng.randint(5, 600), "like", i))
        if rng.random() < min(0.9, p_comment):
            engaged = True
            self._comment(i, at + rng.randint(60, 1800), match, person)
        if rng.random() < min(0.9, p_share):
            engaged = True
            shared_at = at + rng.randint(60, 1200)
            self.events.append(Scheduled(shared_at, "share", i))
            self.cascade.append((i, shared_at))
            if rng.random() < QUOTE_SHARE:
                self._mention(i, shared_at, match, person)
        if p_click and rng.random() < min(0.9, p_click):
            url = f.urls[0] if len(f.urls) == 1 or rng.random() < 0.6 else rng.choice(f.urls)
            self.events.append(Scheduled(at + rng.randint(2, 180), "click", i, url=url))
        if (
            engaged
            and i not in self.followers
            and i not in self.no_follow
            and i not in self.followed
            and rng.random() < FOLLOW_AFTER_ENGAGING * (1.5 if match else 1.0)
        ):
            self.followed.add(i)
            self.events.append(Scheduled(at + rng.randint(60, 900), "follow", i))

    def _sentiment(self, match: int, person: Person) -> str:
        positive, neutral, negative = SENTIMENT_BASE
        if self.f.topic_mask:
            if match:
                positive, negative = positive + 0.15, negative - 0.05
            else:
                positive, negative = positive - 0.15, negative + 0.05
        if (self.f.language == "ar") != (person.language == "ar"):
            positive -= 0.1
        if self.f.question:
            positive -= 0.1
        neutral = 1.0 - positive - negative
        return self.rng.choices(
            ("positive", "neutral", "negative"), weights=(positive, neutral, negative)
        )[0]

    def _voice(self, person: Person) -> str:
        """The language a person writes in about this post."""
        if person.language == "ar" and self.f.language == "en" and self.rng.random() < 0.5:
            return "en"
        return person.language

    def _interest(self, person: Person) -> content.Interest:
        shared = [k for k in person.interests if self.f.topic_mask >> content.INTEREST_INDEX[k] & 1]
        post_topics = content.topics_of(self.f.topic_mask)
        key = (shared or post_topics or list(person.interests))[0]
        return content.INTERESTS[content.INTEREST_INDEX[key]]

    def _comment(self, i: int, at: int, match: int, person: Person) -> None:
        sentiment = self._sentiment(match, person)
        language = self._voice(person)
        text = content.write(
            self.rng,
            content.COMMENTS,
            language=language,
            sentiment=sentiment,
            interest=self._interest(person),
            city=person.city_ar if language == "ar" else person.city,
            climate=person.climate,
        )
        self.events.append(
            Scheduled(at, "comment", i, text=text, language=language, sentiment=sentiment)
        )

    def _mention(self, i: int, at: int, match: int, person: Person) -> None:
        sentiment = self._sentiment(match, person)
        language = self._voice(person)
        text = content.write(
            self.rng,
            content.MENTIONS,
            language=language,
            sentiment=sentiment,
            interest=self._interest(person),
            city=person.city_ar if language == "ar" else person.city,
            handle=f"@{self.handle}",
        )
        self.events.append(
            Scheduled(at, "mention", i, text=text, language=language, sentiment=sentiment)
        )

    # -- the whole post ---------------------------------------------------------

    def run(self) -> SimulationResult:
        a, rng = self.a, self.rng
        for i in sorted(self.followers):
            at = self._exposure(i, 0)
            if at >= 0:
                self._impression(i, at)
                self._engage(i, at)
        base, per_tag, cap = DISCOVERY[self.flavour]
        if self.f.topic_mask:
            chance = base + per_tag * min(self.f.hashtags, cap)
            for i in range(len(a)):
                if (
                    not self.seen[i]
                    and i not in self.followers
                    and a.interest_mask[i] & self.f.topic_mask
                    and rng.random() < chance
                ):
                    at = self._exposure(i, 0)
                    if at >= 0:
                        self._impression(i, at)
                        self._engage(i, at)
        while self.cascade:
            sharer, shared_at = self.cascade.popleft()
            for i in a.followers_of[sharer]:
                if self.seen[i]:
                    continue
                at = self._exposure(i, shared_at, shared=True)
                if at >= 0:
                    self._impression(i, at)
                    self._engage(i, at)
        for bucket, (count, reach) in self.buckets.items():
            at = min(bucket * BUCKET_SECONDS + BUCKET_SECONDS - 1, self.window)
            self.events.append(Scheduled(at, "impressions", count=count, reach=reach))
        events = [e for e in self.events if e.offset <= self.window + 3600]
        events.sort(key=lambda e: (e.offset, e.kind, e.person))
        counts: dict[str, int] = {}
        for e in events:
            if e.kind != "impressions":
                counts[e.kind] = counts.get(e.kind, 0) + 1
        return SimulationResult(
            events=events,
            reach=self.reach,
            impressions=self.impressions,
            reach_beyond_followers=self.beyond,
            counts=counts,
        )


def simulate_post(
    audience: Audience,
    features: PostFeatures,
    *,
    flavour: str,
    published_at: datetime,
    seed: str | int,
    handle: str = "account",
    followers: frozenset[int] | None = None,
    no_follow: frozenset[int] = frozenset(),
) -> SimulationResult:
    """The complete schedule of one post's audience reactions (deterministic for ``seed``).

    ``followers`` defaults to the audience's initial followers; pass the current
    ones when people have followed since. ``no_follow`` lists people who must
    not follow again (they already have a follow event).
    """
    simulator = _Simulator(
        audience,
        features,
        spec_for(flavour),
        published_at,
        random.Random(f"minbar-sandbox-post:{seed}"),
        handle=handle,
        followers=audience.account_followers if followers is None else followers,
        no_follow=no_follow,
    )
    return simulator.run()


# -- life between posts ----------------------------------------------------------------

BACKGROUND = {
    # mean per simulated day: a constant plus a share of the followers
    "mention": (0.5, 0.0015),
    "message": (0.5, 0.001),
    "review": (0.3, 0.0003),  # facebook-like accounts only
    "follow": (0.5, 0.003),
    "chatter": (8.0, 0.0),
}


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _time_in_active_hour(rng: random.Random, person: Person, day_start: datetime) -> int:
    """Seconds after ``day_start`` (UTC midnight) within one of the person's active hours."""
    hour = rng.choice(person.active_hours) if person.active_hours else rng.randrange(24)
    offset = _utc_offset_minutes(person.time_zone, int(day_start.timestamp() // 3600) + 12)
    utc_minute = (hour * 60 - offset) % (24 * 60)
    return utc_minute * 60 + rng.randrange(3600)


def simulate_day(
    audience: Audience,
    *,
    flavour: str,
    day_start: datetime,
    seed: str | int,
    handle: str,
    followers: int,
    no_follow: frozenset[int] = frozenset(),
    topics_mask: int = 0,
) -> list[Scheduled]:
    """What happens to an account on one simulated day besides its posts.

    Mentions, direct messages, reviews (facebook-like), organic follows and
    public chatter (people posting about their interests, which search finds),
    each at an offset in seconds after ``day_start``.
    """
    rng = random.Random(f"minbar-sandbox-day:{seed}:{day_start.date().isoformat()}")
    people = audience.people
    if not people:
        return []
    events: list[Scheduled] = []

    def anyone() -> Person:
        return people[rng.randrange(len(people))]

    def interest_of(person: Person) -> content.Interest:
        shared = [k for k in person.interests if topics_mask >> content.INTEREST_INDEX[k] & 1]
        key = (shared or list(person.interests))[0]
        return content.INTERESTS[content.INTEREST_INDEX[key]]

    def sentiment(weights: tuple[float, float, float] = SENTIMENT_BASE) -> str:
        return rng.choices(("positive", "neutral", "negative"), weights=weights)[0]

    for kind, (constant, per_follower) in BACKGROUND.items():
        if kind == "review" and not spec_for(flavour).reviews:
            continue
        for _ in range(_poisson(rng, constant + per_follower * followers)):
            person = anyone()
            at = _time_in_active_hour(rng, person, day_start)
            language = person.language
            city = person.city_ar if language == "ar" else person.city
            interest = interest_of(person)
            if kind == "follow":
                if person.index in audience.account_followers or person.index in no_follow:
                    continue
                events.append(Scheduled(at, "follow", person.index))
            elif kind == "review":
                rating = rng.choices((5, 4, 3, 2, 1), weights=(0.4, 0.25, 0.15, 0.1, 0.1))[0]
                mood = "positive" if rating >= 4 else ("neutral" if rating == 3 else "negative")
                text = content.fill(
                    rng,
                    rng.choice(content.REVIEWS[language][rating]),
                    language=language,
                    sentiment=mood,
                    interest=interest,
                    city=city,
                )
                events.append(
                    Scheduled(
                        at,
                        "review",
                        person.index,
                        text=text,
                        language=language,
                        sentiment=mood,
                        rating=rating,
                    )
                )
            else:
                table = {
                    "mention": content.MENTIONS,
                    "message": content.MESSAGES,
                    "chatter": content.CHATTER,
                }[kind]
                mood = sentiment((0.25, 0.6, 0.15) if kind == "message" else SENTIMENT_BASE)
                text = content.write(
                    rng,
                    table,
                    language=language,
                    sentiment=mood,
                    interest=interest,
                    city=city,
                    climate=person.climate,
                    handle=f"@{handle}",
                )
                events.append(
                    Scheduled(at, kind, person.index, text=text, language=language, sentiment=mood)
                )
    events.sort(key=lambda e: (e.offset, e.kind, e.person))
    return events


def reply_reactions(audience: Audience, person_index: int, *, seed: str | int) -> list[Scheduled]:
    """How a person reacts when the account answers them: a like, sometimes a thank-you."""
    if not 0 <= person_index < len(audience):
        return []
    rng = random.Random(f"minbar-sandbox-reply:{seed}")
    person = audience.people[person_index]
    events: list[Scheduled] = []
    if rng.random() < 0.5:
        events.append(Scheduled(rng.randint(60, 3600), "like", person_index))
    if rng.random() < 0.25:
        mood = rng.choice(("positive", "positive", "neutral"))
        text = rng.choice(content.REPLIES[person.language][mood])
        events.append(
            Scheduled(
                rng.randint(120, 7200),
                "reply",
                person_index,
                text=text,
                language=person.language,
                sentiment=mood,
            )
        )
    return events


def day_start_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def days_between(first: datetime, last: datetime) -> list[datetime]:
    """UTC midnights from ``first``'s day through ``last``'s day."""
    day, end, days = day_start_of(first), day_start_of(last), []
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    return days
