"""The analytics dashboard in a real browser, in English and in Arabic (right to left)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from minbar.analytics import collection
from minbar.analytics.providers import reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, get_store
from minbar.analytics.tests.helpers import (
    FakeNetwork,
    fake_channel,
    install_fake_networks,
    published,
)

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def measured(world, monkeypatch):
    set_link_provider(None)
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    echo = fake_channel(world.acme, "echo", "@acme.echo")
    out = timezone.now() - timedelta(hours=3)
    published(pulse, "p1", out, text="Iced latte is back", tags=["launch"])
    published(pulse, "p2", out, text="Monday blend")
    published(echo, "e1", out, text="قهوة اليوم")
    FakeNetwork.counters.update(
        {
            "p1": {"likes": 30, "comments": 5, "clicks": 5, "impressions": 1000},
            "p2": {"likes": 2, "comments": 0, "clicks": 0, "impressions": 400},
            "e1": {"likes": 8, "shares": 2, "reach": 250},
            "@account": {"followers": 1500},
        }
    )
    collection.track_published()
    for channel in (pulse, echo):
        collection.collect_channel(channel.pk)
    get_store().roll_up(timezone.now() + LAG)
    yield pulse, echo
    reset_link_provider()


def test_member_reads_the_dashboard_and_narrows_it_to_a_channel(
    page: Page, world, measured, page_problems
):
    sign_in(page, "bob")
    page.goto("/w/acme/")
    page.get_by_role("link", name="Analytics", exact=True).click()
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    assert_accessible(page, "the analytics dashboard")
    expect(page.get_by_test_id("kpi-engagements")).to_have_text("52")
    expect(page.get_by_test_id("note-engagement_rate")).to_have_text("not provided by Echo")
    expect(page.get_by_test_id("engagement-chart").locator("rect.bar")).to_have_count(30)
    expect(page.get_by_test_id("funnel")).to_contain_text("the links app is not installed")
    expect(page.get_by_test_id("top-posts")).to_contain_text("Iced latte is back")
    page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_test_id("engagement-chart").locator("rect.bar")).to_have_count(7)
    page.get_by_text("Look at one channel or one tag").click()
    page.get_by_role("link", name="@acme", exact=True).click()
    expect(page.get_by_test_id("kpi-engagements")).to_have_text("42")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    assert download.value.suggested_filename.startswith("acme-channel-kpis-")
    assert page_problems.unexpected() == []


def test_arabic_dashboard_is_right_to_left_with_time_running_leftwards(
    page: Page, world, measured, page_problems, arabic
):
    world.bob.language = "ar"
    world.bob.save(update_fields=["language"])
    sign_in(page, "bob")
    page.goto("/w/acme/analytics/?days=7")
    assert_direction(page, "ar")
    expect(page.get_by_role("heading", name=arabic["Analytics"], exact=True)).to_be_visible()
    bars = page.get_by_test_id("engagement-chart").locator("rect.bar")
    expect(bars).to_have_count(7)
    # Today (the last day, where the engagement is) is drawn leftmost.
    today_bar = bars.nth(6)
    assert today_bar.get_attribute("x") == "0.0"
    assert float(today_bar.get_attribute("height") or 0) > 0
    box = page.get_by_test_id("engagement-chart").locator("svg").bounding_box()
    assert box is not None and box["width"] > 200
    expect(page.get_by_test_id("kpi-engagements")).to_have_text("52")
    assert page_problems.unexpected() == []
