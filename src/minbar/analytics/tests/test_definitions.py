"""Every definition on numbers computed by hand (docs/metrics.md)."""

from __future__ import annotations

import pytest

from minbar.analytics import definitions as d
from minbar.connectors.bluesky import CONNECTOR as Bluesky
from minbar.connectors.mastodon import CONNECTOR as Mastodon
from minbar.connectors.sandbox import CONNECTOR as Sandbox


def test_engagements_add_every_engagement_counter_the_network_gives():
    # 10 likes + 3 comments + 2 shares + 1 quote + 4 saves + 5 clicks = 25
    values = {"likes": 10, "comments": 3, "shares": 2, "quotes": 1, "saves": 4, "clicks": 5}
    extra = {"impressions": 900, "reach": 700, "video_views": 50}
    assert d.engagements({**values, **extra}) == 25


def test_engagements_of_a_network_without_engagement_counters_are_not_provided_not_zero():
    assert d.engagements({"impressions": 100}) is None
    assert d.engagements({"likes": 0}) == 0


def test_engagement_rate_is_engagements_over_impressions():
    assert d.engagement_rate(25, 1000) == pytest.approx(0.025)
    assert d.engagement_rate(25, 0) is None
    assert d.engagement_rate(25, None) is None
    assert d.engagement_rate(None, 1000) is None


def test_change_against_the_previous_period():
    assert d.change(150, 120) == pytest.approx(0.25)
    assert d.change(90, 120) == pytest.approx(-0.25)
    assert d.change(10, 0) is None  # no base to compare with
    assert d.change(None, 5) is None


def test_share_of_voice_click_through_and_conversion_rates():
    assert d.share_of_voice(30, 90) == pytest.approx(0.25)  # 30 / (30 + 90)
    assert d.share_of_voice(0, 0) is None
    assert d.click_through_rate(40, 8000) == pytest.approx(0.005)
    assert d.conversion_rate(6, 40) == pytest.approx(0.15)
    assert d.conversion_rate(6, None) is None


def test_summary_counts_a_key_only_over_channels_whose_network_reports_it():
    # Channel 1 (Pulse): likes, comments, clicks, impressions.
    # Channel 2 (Echo): likes, shares, reach.
    provides = {
        1: frozenset({"likes", "comments", "clicks", "impressions"}),
        2: frozenset({"likes", "shares", "reach"}),
    }
    by_channel = {
        1: {"likes": 40, "comments": 6, "clicks": 4, "impressions": 2000},
        2: {"likes": 10, "shares": 5},
    }
    summary = d.summarize(by_channel, provides, {1: "Pulse", 2: "Echo"})
    assert summary.totals["likes"] == 50
    assert summary.totals["shares"] == 5
    assert summary.totals["impressions"] == 2000
    assert summary.totals["saves"] is None  # nobody reports saves
    assert summary.missing["saves"] == ("Echo", "Pulse")
    assert summary.missing["impressions"] == ("Echo",)
    # engagements: Pulse 40 + 6 + 4 = 50, Echo 10 + 5 = 15 -> 65
    assert summary.engagements == 65
    # the rate only over networks with impressions: 50 / 2000
    assert summary.engagement_rate == pytest.approx(0.025)
    assert summary.missing["engagement_rate"] == ("Echo",)


def test_a_channel_with_no_events_counts_as_zero_for_what_it_reports():
    summary = d.summarize({}, {1: frozenset({"likes"})}, {1: "Pulse"})
    assert summary.totals["likes"] == 0
    assert summary.engagements == 0
    assert summary.engagement_rate is None  # no impressions anywhere


def test_reach_is_averaged_per_post_never_summed():
    posts = [
        {"likes": 10, "shares": 2, "reach": 400},  # rate 12 / 400 = 0.03
        {"likes": 5, "reach": 100},  # rate 0.05
        {"likes": 7},  # no reach reported: left out
    ]
    result = d.reach(posts)
    assert result.average == pytest.approx(250.0)  # (400 + 100) / 2, not 500
    assert result.highest == 400
    assert result.posts == 2
    assert result.engagement_rate == pytest.approx(0.04)  # (0.03 + 0.05) / 2


def test_reach_of_networks_without_reach_is_not_provided():
    result = d.reach([{"likes": 3}])
    assert (result.average, result.highest, result.engagement_rate) == (None, None, None)


def test_followers_add_up_channels_that_report_them():
    assert d.followers({1: {"followers": 1200}, 2: {"followers": 300}, 3: {"posts": 9}}) == 1500
    assert d.followers({3: {"posts": 9}}) is None


def test_each_network_s_engagement_keys_follow_its_capabilities():
    assert d.engagement_keys(Bluesky.capabilities) == ("likes", "comments", "shares", "quotes")
    assert d.engagement_keys(Mastodon.capabilities) == ("likes", "comments", "shares", "quotes")
    assert d.engagement_keys(Sandbox.capabilities) == ("likes", "comments", "shares", "clicks")


def test_docs_metrics_table_matches_the_connectors():
    from pathlib import Path

    from minbar.connectors.registry import all_connectors

    doc = (Path(__file__).resolve().parents[4] / "docs" / "metrics.md").read_text()
    expected = d.engagement_table(all_connectors().values())
    start = doc.index("<!-- engagement-keys:start -->\n") + len("<!-- engagement-keys:start -->\n")
    assert doc[start : doc.index("<!-- engagement-keys:end -->")] == expected, (
        "docs/metrics.md is out of date: run `minbar analytics keys` and paste it between "
        "the engagement-keys markers"
    )
