"""Make a short link with the UTM builder, in English and in Arabic (right to left)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from minbar.links.models import Link

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["en", "ar"])
def test_member_creates_a_link_with_the_utm_builder(
    page: Page, world, arabic, page_problems, language, settings, live_server
):
    settings.MINBAR_BASE_URL = live_server.url
    world.bob.language = language
    world.bob.save(update_fields=["language"])
    words = (lambda s: arabic[s]) if language == "ar" else (lambda s: s)
    sign_in(page, "bob")
    page.goto("/w/acme/links/")
    assert_direction(page, language)
    expect(page.get_by_role("heading", name=words("Links"), exact=True)).to_be_visible()
    page.get_by_test_id("new-link").click()
    expect(page.get_by_role("heading", name=words("New short link"))).to_be_visible()
    assert_accessible(page, f"the link form ({language})")

    page.get_by_label(words("Destination")).fill("https://shop.example.com/menu?ref=home")
    preview = page.get_by_test_id("utm-preview")
    # The medium is filled in for a social link; the destination's own query stays first.
    expect(preview).to_have_text("https://shop.example.com/menu?ref=home&utm_medium=social")
    page.get_by_label(words("Source (utm_source)")).fill("instagram")
    page.get_by_label(words("Campaign (utm_campaign)")).fill("رمضان")
    # The final address updates while typing, tags encoded, the page's own query kept.
    expect(preview).to_contain_text("ref=home")
    expect(preview).to_contain_text("utm_source=instagram")
    expect(preview).to_contain_text("utm_medium=social")
    expect(preview).to_contain_text("utm_campaign=%D8%B1%D9%85%D8%B6%D8%A7%D9%86")
    page.get_by_test_id("save-link").click()

    expect(page.get_by_test_id("short-url")).to_contain_text("/l/")
    link = Link.objects.get()
    assert (link.utm_source, link.utm_medium, link.utm_campaign) == ("instagram", "social", "رمضان")
    expect(page.get_by_test_id("short-url")).to_have_text(f"{live_server.url}/l/{link.code}")
    expect(page.get_by_test_id("target-url")).to_contain_text("utm_source=instagram")
    expect(page.locator("img[src$='qr.svg']")).to_be_visible()
    assert_direction(page, language)
    # The form's skip link left "#main" in the address, and a redirect keeps it.
    page.goto(page.url.split("#")[0])
    assert_accessible(page, f"the link page ({language})")
    assert page_problems.unexpected() == []
