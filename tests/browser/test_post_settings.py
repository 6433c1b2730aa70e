"""A network's own settings in the composer: shown per channel, the ones that apply
only to some choices appear with them, saved and listed on the post — in Arabic."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from conftest import make_user
from minbar.channels.models import Channel
from minbar.publishing.models import Target
from minbar.workspaces.models import Membership

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


def test_an_event_on_google_business_in_arabic(page: Page, world, page_problems, arabic):
    layla = make_user("layla", first_name="Layla", language="ar")
    Membership.objects.create(user=layla, workspace=world.acme, role="editor")
    shop = Channel.objects.create(
        workspace=world.acme,
        network="google_business",
        remote_id="locations/1",
        handle="Acme Café Riyadh",
    )
    prefix = f"#id_opt_{shop.pk}_"

    sign_in(page, "layla")
    page.goto("/w/acme/publishing/new/")
    assert_direction(page, "ar")
    assert_accessible(page, "the composer with network settings")
    settings = page.get_by_test_id(f"post-options-{shop.pk}")
    expect(settings).to_contain_text(arabic["Post type"])
    topic = page.locator(f"{prefix}topic")
    expect(topic.locator("option:checked")).to_have_text(arabic["Update"])
    # An update has a button and no event: the event's fields are hidden and not sent.
    expect(page.locator(f"{prefix}event_title")).to_be_hidden()
    expect(page.locator(f"{prefix}action_type")).to_be_visible()

    page.locator(f"input[name=channels][value='{shop.pk}']").check()
    page.locator("#id_text").fill("أمسية تذوّق خمسة أصناف من البن")
    topic.select_option("EVENT")
    expect(page.locator(f"{prefix}event_title")).to_be_visible()
    expect(page.locator(f"{prefix}coupon_code")).to_be_hidden()  # offers only
    page.locator(f"{prefix}event_title").fill("أمسية التذوق")
    page.locator(f"{prefix}event_start_date").fill("2031-01-15")
    page.locator(f"{prefix}event_start_time").fill("18:00")
    page.locator(f"{prefix}event_end_date").fill("2031-01-15")
    settings.screenshot(path="/tmp/post-settings-ar.png")
    page.get_by_role("button", name=arabic["Save"], exact=True).click()

    expect(page.locator(".messages")).to_contain_text(arabic["Draft saved."])
    target = Target.objects.get(channel=shop)
    assert target.options == {
        "topic": "EVENT",
        "event_title": "أمسية التذوق",
        "event_start_date": "2031-01-15",
        "event_start_time": "18:00",
        "event_end_date": "2031-01-15",
    }
    listed = page.get_by_test_id(f"target-settings-{target.pk}")
    expect(listed).to_contain_text(arabic["Event"])
    expect(listed).to_contain_text("أمسية التذوق")
    assert page_problems.unexpected() == []
