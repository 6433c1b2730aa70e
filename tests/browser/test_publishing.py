"""Compose for two channels with a variant, schedule, see the calendar, approve, see it out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import make_user
from minbar.channels import actions as channel_actions
from minbar.core.actor import Actor
from minbar.publishing import dispatcher
from minbar.publishing.models import Post, TargetState
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership

from .test_shell import assert_accessible, assert_direction, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox_channels(settings, live_server, world):
    settings.MINBAR_BASE_URL = live_server.url
    # One publishing thread: the test database lives in memory, shared by threads.
    settings.MINBAR_PUBLISH_THREADS = 1
    access = access_for(world.alice, "acme")
    return [
        channel_actions.connect_with_fields(
            Actor(user=world.alice), access, "sandbox", {"name": name, "flavour": flavour}
        )
        for name, flavour in (("Acme X", "x"), ("Acme Page", "facebook"))
    ]


def test_contributor_schedules_editor_approves_and_it_goes_out(
    page: Page, world, sandbox_channels, page_problems
):
    writer = make_user("cora")
    Membership.objects.create(user=writer, workspace=world.acme, role="contributor")
    x, page_channel = sandbox_channels
    when = (
        (timezone.now() + timedelta(days=2))
        .astimezone(timezone.get_default_timezone())
        .replace(second=0, microsecond=0)
    )
    local = when.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))

    sign_in(page, "cora")
    page.goto("/w/acme/publishing/new/")
    page.locator(f"input[name=channels][value='{x.pk}']").check()
    page.locator(f"input[name=channels][value='{page_channel.pk}']").check()
    page.locator("#id_text").fill("Cold brew season starts today #coffee")
    expect(page.locator("#composer-check .preview")).to_have_count(2)
    page.get_by_text(f"Different text for {page_channel.handle}").click()
    page.locator(f"input[name=override_{page_channel.pk}]").check()
    page.locator(f"#id_text_{page_channel.pk}").fill("Cold brew ☀️ #coffee #summer")
    page.get_by_label("At a time").check()
    page.locator("#id_scheduled_at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    # Let the live check (and its autosave) finish: the test server shares one
    # in-memory database connection between its threads.
    page.wait_for_load_state("networkidle")
    page.locator("main form.composer button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Sent for approval")

    page.goto(f"/w/acme/publishing/calendar/?month={local:%Y-%m}")
    expect(page.locator(f'td[data-day="{local:%Y-%m-%d}"] .cal-post')).to_contain_text(
        "Cold brew season"
    )

    page.context.clear_cookies()
    sign_in(page, "bob")
    post = Post.objects.get()
    page.goto(f"/w/acme/publishing/posts/{post.pk}/")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text("Approved")
    targets = {t.channel_id: t for t in post.targets.all()}
    assert targets[page_channel.pk].effective_text == "Cold brew ☀️ #coffee #summer"

    # Time passes: the post is due now, and the dispatcher sends it.
    post.targets.update(due_at=timezone.now())
    dispatcher.dispatch_due(threads=1)
    page.reload()
    expect(page.locator('[data-testid="targets-table"] .state-published')).to_have_count(2)
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.PUBLISHED}
    assert page_problems.unexpected() == []


def test_owner_sets_two_steps_and_the_client_signs_off_in_arabic(
    page: Page, world, sandbox_channels, page_problems, arabic
):
    dave = make_user("dave", first_name="Dave")
    cliff = make_user("cliff", first_name="Cliff", language="ar")
    Membership.objects.create(user=dave, workspace=world.acme, role="editor")
    Membership.objects.create(user=cliff, workspace=world.acme, role="client")

    sign_in(page, "alice")
    page.goto("/w/acme/publishing/approvals/settings/")
    assert_accessible(page, "the approval settings")
    page.get_by_label("Every post, including editors' and admins'").check()
    page.locator("#step-name-0").fill("Legal")
    page.locator(f"input[name=approvers_0][value='{dave.pk}']").check()
    page.locator("#step-name-1").fill("Client sign-off")
    page.locator(f"input[name=approvers_1][value='{cliff.pk}']").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Approval settings saved")

    page.goto("/w/acme/publishing/new/")
    page.locator(f"input[name=channels][value='{sandbox_channels[0].pk}']").check()
    page.locator("#id_text").fill("Cardamom latte is back")
    page.get_by_label("Publish now").check()
    # Let the live check (and its autosave) finish: the test server shares one
    # in-memory database connection between its threads.
    page.wait_for_load_state("networkidle")
    page.locator("main form.composer button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Sent for approval")
    expect(page.get_by_test_id("approval-route")).to_contain_text("Legal")

    page.context.clear_cookies()
    sign_in(page, "dave")
    page.goto("/w/acme/publishing/approvals/")
    page.get_by_test_id("waiting-for-me").get_by_role("link").first.click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Approved")

    page.context.clear_cookies()
    sign_in(page, "cliff")
    assert_direction(page, "ar")
    page.goto("/w/acme/publishing/approvals/")
    assert_accessible(page, "the approvals page (ar)")
    page.get_by_test_id("waiting-for-me").get_by_role("link").first.click()
    comments = page.get_by_test_id("comments")
    comments.get_by_role("button", name="@dave").click()
    expect(comments.locator("textarea")).to_have_value("@dave ")
    comments.locator("textarea").type("رائع")
    comments.get_by_role("button", name=arabic["Comment"], exact=True).click()
    expect(page.get_by_test_id("comments")).to_contain_text("@dave رائع")
    page.get_by_role("button", name=arabic["Approve"], exact=True).click()
    # The last step approved a "publish now" post: it goes out at once.
    expect(page.locator('[data-testid="targets-table"] .state-published')).to_have_count(1)
    assert Post.objects.get().state == "published"
    assert dave.notifications.filter(kind="publishing.mention").exists()
    assert page_problems.unexpected() == []
