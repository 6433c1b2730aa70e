"""Goals in a real browser: creating one from the dashboard, in English and in Arabic (RTL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from minbar.analytics.models import Goal
from minbar.analytics.providers import reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, Event, get_store
from minbar.analytics.tests.helpers import fake_channel, install_fake_networks

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def measured(world, monkeypatch):
    """Acme (UTC days) with 100 engagements in the days before today and 30 today."""
    set_link_provider(None)
    world.acme.time_zone = "UTC"
    world.acme.save(update_fields=["time_zone"])
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    now = timezone.now()
    get_store().record(
        [
            Event(world.acme.pk, pulse.pk, 1, 1, "likes", now - timedelta(days=3), 100),
            Event(world.acme.pk, pulse.pk, 1, 1, "likes", now, 30),
        ]
    )
    get_store().roll_up(timezone.now() + LAG)
    yield pulse
    reset_link_provider()


def test_member_creates_a_goal_from_the_dashboard(page: Page, world, measured, page_problems):
    sign_in(page, "bob")
    page.goto("/w/acme/analytics/")
    section = page.get_by_test_id("dashboard-goals")
    expect(section).to_contain_text("No goals for this scope yet.")
    section.get_by_role("link", name="New goal").click()
    expect(page.get_by_role("heading", name="New goal", exact=True)).to_be_visible()
    assert_accessible(page, "the goal form")
    page.get_by_label("Name", exact=True).fill("Hold the pace")
    page.get_by_label("Metric", exact=True).select_option("engagements")
    page.get_by_label("Target", exact=True).select_option("absolute")
    page.get_by_label("Target value").fill("0")
    page.get_by_test_id("save-goal").click()
    expect(page.get_by_text("Enter a target above zero.")).to_be_visible()
    page.get_by_label("Target value").fill("1000")
    page.get_by_test_id("save-goal").click()
    card = page.get_by_test_id(f"goal-{Goal.objects.get().pk}")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("goal-current")).to_have_text("30")
    expect(card.get_by_test_id("goal-target")).to_have_text("1,000")
    # 30 on day 1 of 90: projected 2,700, on track.
    expect(card.get_by_test_id("goal-status")).to_have_text("On track")
    expect(card.get_by_test_id("goal-target-line")).to_have_count(1)
    expect(card.get_by_test_id("goal-projection-line")).to_have_count(1)
    page.goto("/w/acme/analytics/goals/")  # not at the card's #anchor, where focus would start
    assert_accessible(page, "the goals page")
    page.goto("/w/acme/analytics/")
    expect(page.get_by_test_id("dashboard-goals")).to_contain_text("Hold the pace")
    # The refused form answers 422 on purpose (Chromium logs it); nothing else may fail.
    assert page_problems.unexpected("status of 422") == []


def test_arabic_goal_form_and_card_are_right_to_left(
    page: Page, world, measured, page_problems, arabic
):
    world.bob.language = "ar"
    world.bob.save(update_fields=["language"])
    sign_in(page, "bob")
    page.goto("/w/acme/analytics/goals/")
    assert_direction(page, "ar")
    expect(page.get_by_role("heading", name=arabic["Goals"], exact=True)).to_be_visible()
    page.get_by_test_id("new-goal").click()
    expect(page.get_by_role("heading", name=arabic["New goal"], exact=True)).to_be_visible()
    page.get_by_label(arabic["Name"], exact=True).fill("زيادة التفاعل")
    page.get_by_label(arabic["Metric"], exact=True).select_option("engagements")
    page.get_by_label(arabic["Target"], exact=True).select_option(
        label=arabic["A change over the baseline (%)"]
    )
    page.get_by_label(arabic["Target value"]).fill("15")
    # The last day before the first: refused, in Arabic, nothing lost.
    today = timezone.now().date()
    page.get_by_label(arabic["Last day"]).fill((today - timedelta(days=5)).isoformat())
    page.get_by_test_id("save-goal").click()
    expect(
        page.get_by_text(arabic["The last day must be on or after the first day."])
    ).to_be_visible()
    expect(page.get_by_label(arabic["Name"], exact=True)).to_have_value("زيادة التفاعل")
    page.get_by_label(arabic["Last day"]).fill((today + timedelta(days=9)).isoformat())
    page.get_by_test_id("save-goal").click()
    goal = Goal.objects.get()
    assert goal.baseline == 100  # the ten days before today
    card = page.get_by_test_id(f"goal-{goal.pk}")
    expect(card.get_by_test_id("goal-status")).to_have_text(arabic["On track"])
    assert_direction(page, "ar")
    # Time runs leftwards: the first day's tick is on the right of the chart.
    ticks = card.locator("svg.goal-chart text.tick")
    expect(ticks).to_have_count(2)
    first_x = float(ticks.nth(0).get_attribute("x") or 0)
    last_x = float(ticks.nth(1).get_attribute("x") or 0)
    assert first_x > last_x
    box = card.locator("svg.goal-chart").bounding_box()
    assert box is not None and box["width"] > 200
    page.goto("/w/acme/analytics/goals/")
    assert_accessible(page, "the Arabic goals page")
    # The refused form answers 422 on purpose (Chromium logs it); nothing else may fail.
    assert page_problems.unexpected("status of 422") == []
