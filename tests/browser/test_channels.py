"""Connecting a sandbox channel and watching its live activity, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox_here(settings, live_server):
    # The sandbox connector calls Minbar's own address; here that is the live server.
    settings.MINBAR_BASE_URL = live_server.url


@pytest.mark.parametrize("language", ["en", "ar"])
def test_owner_connects_a_sandbox_channel_and_sees_it_come_alive(
    page: Page, world, sandbox_here, language, page_problems
):
    world.alice.language = language
    world.alice.save(update_fields=["language"])
    sign_in(page, "alice")
    assert_direction(page, language)
    page.goto("/w/acme/channels/")
    assert_accessible(page, f"the channels page ({language})")
    page.goto("/w/acme/channels/")
    page.locator("a.card-link[href$='/channels/connect/sandbox/']").click()
    expect(page).to_have_url(re.compile(r"/channels/connect/sandbox/(#main)?$"))
    page.goto("/w/acme/channels/connect/sandbox/")
    assert_accessible(page, f"the sandbox connect page ({language})")
    page.locator("input[name=name]").fill("Acme Roasters")
    page.locator("select[name=flavour]").select_option("instagram")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/w/acme/channels/\d+/(#main)?$"))
    expect(page.locator(".health-connected")).to_be_visible()
    # The live panel arrives through HTMX with the account's counters.
    tiles = page.locator(".metric-tile")
    expect(tiles.first).to_be_visible()
    assert tiles.count() >= 2
    page.goto(page.url.split("#", 1)[0])  # fresh load: the skip-link check starts at the top
    expect(page.locator(".metric-tile").first).to_be_visible()
    assert_accessible(page, f"the channel page ({language})")

    page.get_by_role("button", name=re.compile("Test connection|اختبار الاتصال")).click()
    expect(page.locator(".row-ok")).to_be_visible()
    assert page_problems.unexpected() == []
