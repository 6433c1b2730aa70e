"""The engagement model: properties over many seeds, not exact numbers."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minbar.sandbox import content
from minbar.sandbox.audience import AudienceParams, generate_audience
from minbar.sandbox.simulation import (
    PostFeatures,
    local_hour,
    reply_reactions,
    simulate_day,
    simulate_post,
)

PUBLISHED = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # evening in the Gulf, noon in New York
ENGAGING = ("like", "comment", "share")
SEEDS = range(12)


@pytest.fixture(scope="module")
def audience():
    return generate_audience(AudienceParams(seed=3))


@pytest.fixture(scope="module")
def coffee_audience():
    return generate_audience(AudienceParams(seed=3, topics=("coffee",)))


def run(audience, text, seed, flavour="facebook", **features):
    return simulate_post(
        audience,
        PostFeatures.of(text, **features),
        flavour=flavour,
        published_at=PUBLISHED,
        seed=seed,
    )


def engagers(result):
    return [e.person for e in result.events if e.kind in ENGAGING]


def test_same_seed_same_schedule_and_another_seed_another(audience):
    first = run(audience, "Fresh coffee from our roastery", seed=1)
    again = run(audience, "Fresh coffee from our roastery", seed=1)
    other = run(audience, "Fresh coffee from our roastery", seed=2)
    assert first.events == again.events
    assert first.events != other.events
    assert first.events == sorted(first.events, key=lambda e: (e.offset, e.kind, e.person))
    assert all(e.offset > 0 for e in first.events)


def test_metrics_add_up(audience):
    result = run(audience, "Fresh coffee from our roastery https://oasis.example", seed=4)
    batches = [e for e in result.events if e.kind == "impressions"]
    assert sum(b.count for b in batches) == result.impressions
    assert sum(b.reach for b in batches) == result.reach
    assert result.impressions >= result.reach > 0
    assert result.reach <= len(audience)
    counts = Counter(e.kind for e in result.events if e.kind != "impressions")
    assert counts == Counter(result.counts)


def test_an_arabic_post_mostly_engages_arabic_speakers(audience):
    arabic = english = 0
    for seed in SEEDS:
        for person in engagers(run(audience, "قهوة جديدة من محمصتنا، تعالوا جربوها", seed)):
            if audience.arabic[person]:
                arabic += 1
            else:
                english += 1
    assert arabic / (arabic + english) > 0.8
    followers_arabic = sum(audience.arabic[i] for i in audience.account_followers) / len(
        audience.account_followers
    )
    assert followers_arabic < 0.5  # although most followers do not speak Arabic
    arabic_on_english = sum(
        audience.arabic[p]
        for seed in SEEDS
        for p in engagers(run(audience, "New coffee from our roastery, come try it", seed))
    )
    total_on_english = sum(
        len(engagers(run(audience, "New coffee from our roastery, come try it", s))) for s in SEEDS
    )
    assert arabic_on_english / total_on_english < followers_arabic


def test_people_interested_in_the_topic_engage_more(audience):
    coffee = content.INTEREST_INDEX["coffee"]
    lovers = {i for i in audience.account_followers if audience.interest_mask[i] >> coffee & 1}
    others = set(audience.account_followers) - lovers
    by_lovers = by_others = 0
    for seed in SEEDS:
        for person in engagers(run(audience, "Our new espresso blend is here", seed)):
            if person in lovers:
                by_lovers += 1
            elif person in others:
                by_others += 1
    assert by_lovers / len(lovers) > 2.5 * (by_others / len(others))


def test_a_post_matching_the_audience_beats_one_that_does_not_on_average(coffee_audience):
    matched = [
        len(engagers(run(coffee_audience, "Our new espresso blend is in the shop", s)))
        for s in range(20)
    ]
    unmatched = [
        len(engagers(run(coffee_audience, "Our new car wash is open in the shop", s)))
        for s in range(20)
    ]
    assert statistics.mean(matched) > 1.3 * statistics.mean(unmatched)


def test_media_and_questions_change_what_people_do(audience):
    plain = statistics.mean(
        sum(e.kind == "like" for e in run(audience, "Coffee time", s).events) for s in SEEDS
    )
    with_image = statistics.mean(
        sum(
            e.kind == "like"
            for e in run(audience, "Coffee time", s, media_types=["image/jpeg"]).events
        )
        for s in SEEDS
    )
    assert with_image > plain
    statement = sum(
        sum(e.kind == "comment" for e in run(audience, "Coffee time at the roastery", s).events)
        for s in SEEDS
    )
    question = sum(
        sum(e.kind == "comment" for e in run(audience, "Coffee time at the roastery?", s).events)
        for s in SEEDS
    )
    assert question > statement


def test_people_see_posts_in_their_own_active_hours(audience):
    result = run(audience, "Coffee time", seed=5)
    likes = [e for e in result.events if e.kind == "like"]
    assert likes
    for like in likes:
        person = audience.people[like.person]
        moment = PUBLISHED + timedelta(seconds=like.offset)
        # A like follows the impression within ten minutes.
        hours = {local_hour(person.time_zone, moment - timedelta(seconds=s)) for s in (5, 600)}
        assert hours & set(person.active_hours), (person.active_hours, hours)


def test_shares_cascade_with_a_long_tail(audience):
    beyond = sorted(
        run(audience, "Our new espresso blend is here", seed=s).reach_beyond_followers
        for s in range(80)
    )
    median = statistics.median(beyond)
    assert beyond[-1] >= 4 * max(median, 1)  # a few go far…
    assert sum(b >= 3 * max(median, 1) for b in beyond) <= 0.25 * len(beyond)  # …most do not
    assert statistics.mean(beyond) > median  # skewed to the right
    shares = [
        Counter(e.kind for e in run(audience, "Our new espresso blend is here", seed=s).events)[
            "share"
        ]
        for s in range(20)
    ]
    assert max(shares) > 0


def test_comments_have_language_and_sentiment(audience):
    sentiments: Counter[str] = Counter()
    for seed in SEEDS:
        for text in ("Our new espresso blend is here", "قهوة جديدة من محمصتنا"):
            result = run(audience, text, seed)
            for event in result.events:
                if event.kind in {"comment", "mention"}:
                    assert event.sentiment in {"positive", "neutral", "negative"}
                    assert event.language in {"en", "ar"}
                    assert content.detect_language(event.text.replace("@account", "")) == (
                        event.language
                    )
                    sentiments[event.sentiment] += 1
    assert set(sentiments) == {"positive", "neutral", "negative"}
    assert sentiments["positive"] > sentiments["negative"]


def test_matched_posts_are_received_more_warmly(coffee_audience):
    def positive_share(text):
        moods = [
            e.sentiment
            for s in range(25)
            for e in run(coffee_audience, text, s).events
            if e.kind == "comment"
        ]
        return sum(m == "positive" for m in moods) / len(moods)

    assert positive_share("Our new espresso blend") > positive_share("Our new car wash")


def test_clicks_go_to_the_posts_own_links(audience):
    text = "Menu at https://oasis.example/menu and https://oasis.example/hours"
    clicks = [
        e
        for s in SEEDS
        for e in run(audience, text, s, link="https://oasis.example/blend").events
        if e.kind == "click"
    ]
    assert clicks
    urls = Counter(c.url for c in clicks)
    assert set(urls) <= {
        "https://oasis.example/blend",
        "https://oasis.example/menu",
        "https://oasis.example/hours",
    }
    assert urls.most_common(1)[0][0] == "https://oasis.example/blend"
    assert not any(e.kind == "click" for e in run(audience, "No links here", 1).events)
    # Instagram captions do not link; only the "link in bio" gets clicks.
    features = PostFeatures.of(text, links_clickable=False)
    assert features.urls == ()


def test_arabic_and_english_flavours_all_run(audience):
    for flavour in ("x", "facebook", "instagram"):
        result = run(audience, "Coffee #coffee", seed=1, flavour=flavour)
        assert result.reach > 0


def test_a_day_between_posts(audience):
    day = datetime(2026, 3, 10, tzinfo=UTC)
    kwargs: dict[str, Any] = {"day_start": day, "seed": 9, "handle": "oasis", "followers": 1000}
    facebook = simulate_day(audience, flavour="facebook", **kwargs)
    assert facebook == simulate_day(audience, flavour="facebook", **kwargs)
    kinds = Counter(e.kind for e in facebook)
    assert kinds["chatter"] > 0
    assert all(0 <= e.offset < 86400 for e in facebook)
    for event in facebook:
        if event.kind == "follow":
            assert event.person not in audience.account_followers
        if event.kind == "review":
            assert 1 <= event.rating <= 5 and event.sentiment
    reviews = sum(
        e.kind == "review"
        for d in range(20)
        for e in simulate_day(
            audience, flavour="x", **{**kwargs, "day_start": day + timedelta(days=d)}
        )
    )
    assert reviews == 0  # only facebook-like pages get reviews


def test_reply_reactions_are_deterministic(audience):
    assert reply_reactions(audience, 5, seed="a") == reply_reactions(audience, 5, seed="a")
    assert reply_reactions(audience, -1, seed="a") == []
