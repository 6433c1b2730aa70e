"""The week calendar in a real browser: drag a post to another day and hour, or move it
with the keyboard, in English and in Arabic."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from minbar.channels.models import Channel
from minbar.publishing import calendar
from minbar.publishing.models import Post, PostState, Target, TargetState

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def next_week_post(world):
    """A scheduled post at 10:20 London time on a day of next week."""
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="c1", handle="@acme"
    )
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=8)
    when = datetime.combine(day, time(10, 20), LONDON)
    post = Post.objects.create(
        workspace=world.acme,
        author=world.alice,
        text="Cold brew season starts\nmore details below",
        state=PostState.SCHEDULED,
        scheduled_at=when,
        tags=["coffee"],
    )
    Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED, due_at=when)
    return post


@pytest.mark.parametrize("language", ["en", "ar"])
def test_dragging_a_card_in_the_week_moves_it_to_that_day_and_hour(
    page: Page, world, next_week_post, language, page_problems
):
    world.alice.language = language
    world.alice.save(update_fields=["language"])
    post = next_week_post
    local = post.scheduled_at.astimezone(LONDON)
    # A day of the same week (which starts on Sunday in English, Saturday in Arabic).
    week_start = calendar.start_of_week(local.date(), 6 if language == "en" else 5)
    target_day = week_start + timedelta(days=3 if local.date() != week_start + timedelta(3) else 4)
    sign_in(page, "alice")
    assert_direction(page, language)
    page.goto(f"/w/acme/publishing/calendar/week/?week={local.date().isoformat()}")
    assert_accessible(page, f"the week calendar ({language})")

    card = page.locator(f'.cal-card[data-post="{post.pk}"]')
    expect(card).to_contain_text("Cold brew season starts")
    expect(card).not_to_contain_text("more details below")
    source = page.locator(f'td.cal-slot[data-day="{local.date().isoformat()}"][data-hour="10"]')
    expect(source.locator(".cal-card")).to_have_count(1)
    # Columns follow the language: Sunday first in English, Saturday in Arabic, and in
    # Arabic the first column is on the right.
    headers = page.locator("table.week thead th[data-day]")
    first_day = datetime.fromisoformat(headers.first.get_attribute("data-day") or "").date()
    assert first_day.weekday() == (6 if language == "en" else 5)
    first_box = headers.first.bounding_box()
    last_box = headers.last.bounding_box()
    assert first_box and last_box
    assert (first_box["x"] < last_box["x"]) == (language == "en")

    drop = page.locator(f'td.cal-slot[data-day="{target_day.isoformat()}"][data-hour="15"]')
    card.drag_to(drop)
    expect(drop.locator(f'.cal-card[data-post="{post.pk}"]')).to_be_visible()
    post.refresh_from_db()
    assert post.scheduled_at == datetime.combine(target_day, time(15, 20), LONDON)
    assert post.events.filter(kind="rescheduled").exists()

    # The filters narrow the week; their pop-over closes on Escape.
    page.locator("details.filter-group summary").nth(1).click()
    page.locator("input[name=tag][value=coffee]").check()
    page.keyboard.press("Escape")
    expect(page.locator("details.filter-group[open]")).to_have_count(0)
    page.locator("form.calendar-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"tag=coffee"))
    expect(page.locator(f'.cal-card[data-post="{post.pk}"]')).to_be_visible()
    page.locator('[data-testid="view-switch"] a').nth(1).click()  # the list view
    expect(page).to_have_url(re.compile(r"/calendar/list/\?from=[\d-]+&tag=coffee"))
    expect(page.locator(f'.agenda-item[data-post="{post.pk}"]')).to_contain_text("#coffee")
    page.goto(page.url)
    assert_accessible(page, f"the calendar list ({language})")
    assert page_problems.unexpected() == []


def test_moving_a_post_with_the_keyboard_only(page: Page, world, next_week_post, page_problems):
    post = next_week_post
    local = post.scheduled_at.astimezone(LONDON)
    sign_in(page, "alice")
    page.goto(f"/w/acme/publishing/calendar/week/?week={local.date().isoformat()}")
    card = page.locator(f'.cal-card[data-post="{post.pk}"]')
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    week_start = calendar.start_of_week(local.date(), 6)  # Sunday, in English
    new_day = week_start + timedelta(days=2 if local.date() != week_start + timedelta(2) else 5)
    card.get_by_label("Date").fill(new_day.isoformat())
    card.get_by_label("Time").fill("07:45")
    card.get_by_role("button", name="Move", exact=True).press("Enter")
    expect(page.locator(".messages")).to_contain_text("Moved.")
    post.refresh_from_db()
    assert post.scheduled_at == datetime.combine(new_day, time(7, 45), LONDON)
    moved = page.locator(f'td.cal-slot[data-day="{new_day.isoformat()}"][data-hour="7"]')
    expect(moved.locator(f'.cal-card[data-post="{post.pk}"]')).to_be_visible()
    assert page_problems.unexpected() == []
