"""The synthetic audience: deterministic for a seed, with the advertised distributions."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from minbar.sandbox.audience import (
    AGE_BANDS,
    ARAB_CITIES,
    CHRONOTYPES,
    CITIES,
    INCOME_BANDS,
    WORLD_CITIES,
    AudienceParams,
    generate_audience,
    summary,
)
from minbar.sandbox.content import INTEREST_INDEX


@pytest.fixture(scope="module")
def audience():
    return generate_audience(AudienceParams(seed=11))


def test_same_seed_same_people_and_graph():
    params = AudienceParams(seed=123, size=800)
    first = generate_audience(params)
    generate_audience.cache_clear()
    again = generate_audience(params)
    assert first is not again
    assert first.people == again.people
    assert first.followers_of == again.followers_of
    assert first.account_followers == again.account_followers
    other = generate_audience(AudienceParams(seed=124, size=800))
    assert other.people != first.people


def test_default_size_and_every_person_is_complete(audience):
    assert len(audience) == 3000
    cities = {c.name: c for c in CITIES}
    for person in audience.people:
        assert 18 <= person.age <= 80
        city = cities[person.city]
        assert (person.country, person.climate, person.time_zone) == (
            city.country,
            city.climate,
            city.time_zone,
        )
        assert person.climate in {"hot", "temperate", "cold"}
        assert person.income in INCOME_BANDS
        assert person.job_title and person.industry
        assert 2 <= len(person.interests) <= 6
        assert len(set(person.interests)) == len(person.interests)
        assert all(i in INTEREST_INDEX for i in person.interests)
        assert person.language in {"en", "ar"}
        assert person.active_hours and all(0 <= h <= 23 for h in person.active_hours)
        assert person.propensity > 0
    assert len({p.handle for p in audience.people}) == len(audience)


def test_languages_follow_the_arabic_share(audience):
    # 40% live in Arab cities (≈ 88% Arabic speakers there), 60% elsewhere (≈ 3%).
    arab_rate = sum(c.weight * c.arabic for c in ARAB_CITIES) / sum(c.weight for c in ARAB_CITIES)
    world_rate = sum(c.weight * c.arabic for c in WORLD_CITIES) / sum(
        c.weight for c in WORLD_CITIES
    )
    expected = 0.4 * arab_rate + 0.6 * world_rate
    share = sum(p.language == "ar" for p in audience.people) / len(audience)
    assert share == pytest.approx(expected, abs=0.03)
    mostly_arabic = generate_audience(AudienceParams(seed=11, size=1500, arabic_share=0.9))
    assert sum(p.language == "ar" for p in mostly_arabic.people) / 1500 > 0.75
    arabic_cities = {c.name for c in ARAB_CITIES}
    in_arab_cities = sum(p.city in arabic_cities for p in audience.people) / len(audience)
    assert in_arab_cities == pytest.approx(0.4, abs=0.03)


def test_ages_climates_and_incomes_have_the_advertised_shares(audience):
    n = len(audience)
    bands = Counter(
        next(i for i, b in enumerate(AGE_BANDS) if b[0] <= p.age <= b[1]) for p in audience.people
    )
    for i, (_low, _high, weight) in enumerate(AGE_BANDS):
        assert bands[i] / n == pytest.approx(weight, abs=0.03)
    climates = Counter(p.climate for p in audience.people)
    assert set(climates) == {"hot", "temperate", "cold"}
    assert climates["cold"] / n > 0.05
    incomes = Counter(p.income for p in audience.people)
    assert set(incomes) == set(INCOME_BANDS)
    students = [p for p in audience.people if p.job_title == "Student"]
    assert students and all(p.age <= 22 for p in students)
    assert Counter(p.income for p in students).most_common(1)[0][0] == "low"
    assert all(p.age >= 65 for p in audience.people if p.job_title == "Retired")


def test_active_hours_come_from_chronotypes(audience):
    lengths = [len(p.active_hours) for p in audience.people]
    assert 4 <= statistics.median(lengths) <= 11
    evening = sum(any(h in p.active_hours for h in (19, 20, 21)) for p in audience.people)
    assert evening / len(audience) > 0.8  # nearly everyone is on in the evening
    templates = {frozenset(hours) for hours in CHRONOTYPES.values()}
    exact = sum(frozenset(p.active_hours) in templates for p in audience.people)
    assert 0 < exact < len(audience)  # some jitter, but the templates show through


def test_follower_graph_has_a_few_influencers_with_many_followers(audience):
    degrees = [audience.follower_count(i) for i in range(len(audience))]
    influencers = [p.index for p in audience.people if p.influencer]
    assert 3 <= len(influencers) <= 30
    median = statistics.median(degrees)
    assert 5 <= median <= 40
    for index in influencers:
        assert degrees[index] > 8 * median
    ordinary = max(d for i, d in enumerate(degrees) if i not in set(influencers))
    assert min(degrees[i] for i in influencers) > ordinary
    # People mostly follow people who speak their language.
    same = total = 0
    for target, followers in enumerate(audience.followers_of):
        for follower in followers:
            total += 1
            same += audience.arabic[target] == audience.arabic[follower]
    assert same / total > 0.75


def test_account_followers_share_and_topic_bias():
    plain = generate_audience(AudienceParams(seed=5, size=2000))
    assert len(plain.account_followers) / 2000 == pytest.approx(0.35, abs=0.04)
    coffee = generate_audience(AudienceParams(seed=5, size=2000, topics=("coffee",)))
    assert len(coffee.account_followers) / 2000 == pytest.approx(0.35, abs=0.04)

    def coffee_share(aud, people):
        return sum("coffee" in aud.people[i].interests for i in people) / len(people)

    assert coffee_share(coffee, coffee.account_followers) > 1.5 * coffee_share(
        plain, plain.account_followers
    )


def test_summary_reports_the_distributions(audience):
    data = summary(audience)
    assert data["size"] == 3000
    assert abs(sum(data["languages"].values()) - 1) < 0.01
    assert set(data["climates"]) == {"hot", "temperate", "cold"}
    assert data["influencers"] >= 3
    assert data["followers_per_person"]["max"] > data["followers_per_person"]["median"]
    assert "coffee" in data["interests"]


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        generate_audience(AudienceParams(seed=1, size=0))
    with pytest.raises(ValueError):
        generate_audience(AudienceParams(seed=1, size=10, topics=("knitting",)))
