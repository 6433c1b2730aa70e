"""Triage and reply in the inbox, in English and in Arabic, with the keyboard and a saved reply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from minbar.channels import actions as channel_actions
from minbar.channels.actions import connector_for
from minbar.connectors.types import Author, Interaction, InteractionKind, PostRequest, RemoteRef
from minbar.core.actor import Actor
from minbar.inbox import actions, ingestion
from minbar.inbox.models import Item
from minbar.workspaces.access import access_for

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def comments(settings, live_server, world):
    settings.MINBAR_BASE_URL = live_server.url
    access = access_for(world.alice, "acme")
    channel = channel_actions.connect_with_fields(
        Actor(user=world.alice), access, "sandbox", {"name": "Acme Page", "flavour": "facebook"}
    )
    post = connector_for(channel).publish(PostRequest(text="Our new blend")).remote_id
    said = [
        ("Where is your Riyadh branch?", "en"),
        ("القهوة اليوم رائعة جداً", "ar"),
        ("Terrible, my cup arrived cold", "en"),
    ]
    ingestion.ingest(
        channel,
        [
            Interaction(
                remote_id=f"c{n}",
                kind=InteractionKind.COMMENT,
                author=Author(remote_id=f"fan{n}", handle=f"@fan{n}", display_name=f"Sara {n}"),
                created_at=datetime(2026, 11, 25, 9, n, tzinfo=UTC),
                text=text,
                language=language,
                post=RemoteRef(post),
                parent=RemoteRef(post),
                ref=RemoteRef(post),
            )
            for n, (text, language) in enumerate(said)
        ],
    )
    actions.save_reply_template(
        Actor(user=world.bob), access_for(world.bob, "acme"), "Thanks", "Thanks {first_name}!"
    )
    return channel


def test_member_triages_with_the_keyboard_and_answers_with_a_saved_reply(
    page: Page, world, comments, page_problems
):
    sign_in(page, "bob")
    page.goto("/w/acme/inbox/")
    assert_accessible(page, "the inbox")
    rows = page.locator(".inbox-row")
    expect(rows).to_have_count(3)
    expect(page.locator(".sentiment-chip-negative")).to_have_count(1)
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(3):  # newest first: the third row is the oldest question
        page.keyboard.press("j")
    expect(rows.nth(2)).to_have_class("inbox-row sentiment-neutral is-current")
    page.keyboard.press("x")
    page.keyboard.press("e")  # close the ticked item
    expect(page.locator(".messages")).to_contain_text("1 item(s) updated")
    expect(page.locator(".inbox-row")).to_have_count(2)
    assert Item.objects.get(text="Where is your Riyadh branch?").status == "closed"

    page.get_by_role("link", name="Terrible, my cup arrived cold").click()
    page.get_by_label("Use a saved reply").select_option(label="Thanks")
    expect(page.locator("#reply-text")).to_have_value("Thanks Sara!")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".messages")).to_contain_text("Reply sent")
    expect(page.get_by_test_id("replies")).to_contain_text("Thanks Sara!")
    item = Item.objects.get(text="Terrible, my cup arrived cold")
    assert item.first_response_at is not None and item.first_responder == world.bob
    assert page_problems.unexpected() == []


def test_arabic_inbox_is_right_to_left_and_arabic_text_keeps_its_direction(
    page: Page, world, comments, page_problems, arabic
):
    world.bob.language = "ar"
    world.bob.save(update_fields=["language"])
    sign_in(page, "bob")
    page.goto("/w/acme/inbox/")
    assert_direction(page, "ar")
    assert_accessible(page, "the inbox (ar)")
    expect(page.get_by_role("heading", name=arabic["Inbox"], exact=True)).to_be_visible()
    arabic_text = page.get_by_role("link", name="القهوة اليوم رائعة جداً")
    expect(arabic_text).to_have_attribute("dir", "auto")
    arabic_text.click()
    expect(page.get_by_test_id("sentiment")).to_contain_text(arabic["Positive"])
    page.locator("#reply-text").fill("شكراً لك!")
    page.get_by_role("button", name=arabic["Send reply"]).click()
    expect(page.get_by_test_id("replies")).to_contain_text("شكراً لك!")
    assert page_problems.unexpected() == []
