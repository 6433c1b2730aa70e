"""Writing, checking, approving and cancelling posts (the dispatcher is tested apart)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed
from minbar.publishing import actions
from minbar.publishing.actions import PostInput, Variant
from minbar.publishing.models import Post, PostState, TargetState
from minbar.publishing.timing import local_to_utc
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership


def _input(channels, **extra) -> PostInput:
    extra.setdefault("text", "Fresh roast today")
    return PostInput(channel_ids=[c.pk for c in channels], **extra)


def test_editor_schedules_for_two_channels_with_a_variant(world, channels):
    when = timezone.now() + timedelta(hours=3)
    post = actions.create_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        _input(
            channels,
            when="at",
            scheduled_at=when,
            variants={channels[1].pk: Variant(text="Short one")},
        ),
    )
    assert post.state == PostState.SCHEDULED and post.scheduled_at == when
    one, two = post.targets.order_by("channel__handle")
    assert (one.state, one.due_at, one.effective_text) == (
        TargetState.SCHEDULED,
        when,
        "Fresh roast today",
    )
    assert two.effective_text == "Short one"
    assert post.versions.count() == 1 and post.events.filter(kind="created").exists()


def test_text_over_a_channels_limit_is_refused_with_the_count(world, channels):
    with pytest.raises(InvalidInput) as exc:
        actions.create_post(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            _input(channels, text="x" * 150, when="now"),
        )
    assert exc.value.fields[f"channel_{channels[0].pk}"] == "FakeNet: 150/100 characters"
    assert not Post.objects.exists()


def test_a_draft_may_be_anything(world, channels):
    post = actions.create_post(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        _input(channels, text="x" * 150, when="draft"),
    )
    assert post.state == PostState.DRAFT
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.DRAFT}


def test_past_time_is_refused(world, channels):
    with pytest.raises(InvalidInput, match="has passed"):
        actions.create_post(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            _input(channels, when="at", scheduled_at=timezone.now() - timedelta(minutes=1)),
        )


def test_contributors_post_waits_for_approval_then_goes_out_on_time(world, channels, contributor):
    when = timezone.now() + timedelta(days=1)
    post = actions.create_post(
        Actor(user=contributor),
        access_for(contributor, "acme"),
        _input(channels, when="at", scheduled_at=when),
    )
    assert post.state == PostState.AWAITING_APPROVAL
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.AWAITING_APPROVAL}
    with pytest.raises(NotAllowed):
        actions.approve_post(Actor(user=contributor), access_for(contributor, "acme"), post.pk)
    actions.approve_post(Actor(user=world.bob), access_for(world.bob, "acme"), post.pk, "Nice")
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    assert set(post.targets.values_list("due_at", flat=True)) == {when}
    assert post.events.filter(kind="approved", message="Nice", actor=world.bob).exists()


def test_requesting_changes_needs_a_comment_and_returns_the_post_to_its_author(
    world, channels, contributor
):
    post = actions.create_post(
        Actor(user=contributor), access_for(contributor, "acme"), _input(channels, when="now")
    )
    with pytest.raises(InvalidInput):
        actions.request_changes(Actor(user=world.bob), access_for(world.bob, "acme"), post.pk, "  ")
    actions.request_changes(
        Actor(user=world.bob), access_for(world.bob, "acme"), post.pk, "Add the price"
    )
    post.refresh_from_db()
    assert post.state == PostState.CHANGES_REQUESTED
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.DRAFT}
    assert post.events.get(kind="changes_requested").message == "Add the price"


def test_contributor_editing_an_approved_post_sends_it_back_for_approval(
    world, channels, contributor
):
    access = access_for(contributor, "acme")
    when = timezone.now() + timedelta(days=1)
    post = actions.create_post(
        Actor(user=contributor), access, _input(channels, when="at", scheduled_at=when)
    )
    actions.approve_post(Actor(user=world.bob), access_for(world.bob, "acme"), post.pk)
    actions.update_post(
        Actor(user=contributor),
        access,
        post.pk,
        _input(channels, text="Changed", when="at", scheduled_at=when),
    )
    post.refresh_from_db()
    assert post.state == PostState.AWAITING_APPROVAL and post.version == 2


def test_analyst_cannot_write_and_cancel_stops_what_is_left(world, channels):
    analyst = make_user("ann")
    Membership.objects.create(user=analyst, workspace=world.acme, role="analyst")
    with pytest.raises(NotAllowed):
        actions.create_post(Actor(user=analyst), access_for(analyst, "acme"), _input(channels))
    post = actions.create_post(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        _input(channels, when="at", scheduled_at=timezone.now() + timedelta(hours=1)),
    )
    first = post.targets.first()
    assert first is not None
    first.state = TargetState.PUBLISHED
    first.save()
    actions.cancel_post(Actor(user=world.alice), access_for(world.alice, "acme"), post.pk)
    states = sorted(post.targets.values_list("state", flat=True))
    assert states == [TargetState.CANCELLED, TargetState.PUBLISHED]
    with pytest.raises(Conflict):
        actions.cancel_post(Actor(user=world.alice), access_for(world.alice, "acme"), post.pk)


@pytest.mark.parametrize(
    ("zone", "local", "expected_utc"),
    [
        ("Asia/Riyadh", datetime(2026, 3, 29, 9, 0), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        ("Europe/London", datetime(2026, 3, 29, 9, 0), datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),
        ("Europe/London", datetime(2026, 3, 28, 9, 0), datetime(2026, 3, 28, 9, 0, tzinfo=UTC)),
        # Clocks go back: 01:30 happens twice; the first one is meant.
        (
            "America/New_York",
            datetime(2026, 11, 1, 1, 30),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
    ],
)
def test_local_times_become_utc_across_daylight_saving(zone, local, expected_utc):
    assert local_to_utc(local, zone) == expected_utc


def test_a_time_skipped_by_daylight_saving_is_refused_with_a_suggestion():
    with pytest.raises(InvalidInput) as exc:
        local_to_utc(datetime(2026, 3, 29, 1, 30), "Europe/London")
    assert "01:30 does not exist on 2026-03-29 in Europe/London" in exc.value.message
    assert "Choose 02:30 instead." in exc.value.message


def test_compose_page_saves_and_shows_the_post(world, channels):
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/publishing/new/").content.decode()
    assert "acme.one" in page and "Preview and checks" in page
    response = client.post(
        "/w/acme/publishing/new/",
        {
            "text": "Weekend brunch menu",
            "channels": [channels[0].pk, channels[1].pk],
            f"override_{channels[1].pk}": "1",
            f"text_{channels[1].pk}": "Brunch!",
            "when": "at",
            "scheduled_at": "2030-06-01T10:30",
            "tags": "menu, weekend",
        },
    )
    post = Post.objects.get()
    assert response["Location"] == f"/w/acme/publishing/posts/{post.pk}/"
    # Europe/London in summer is UTC+1.
    assert post.scheduled_at == datetime(2030, 6, 1, 9, 30, tzinfo=UTC)
    assert post.tags == ["menu", "weekend"]
    detail = client.get(response["Location"]).content.decode()
    assert "Weekend brunch menu" in detail and "Scheduled" in detail
    listing = client.get("/w/acme/publishing/").content.decode()
    assert "Coming up" in listing and "Weekend brunch menu" in listing


def test_compose_errors_keep_what_was_typed(world, channels):
    client = Client()
    client.force_login(world.alice)
    response = client.post(
        "/w/acme/publishing/new/", {"text": "y" * 120, "channels": [channels[0].pk], "when": "now"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "FakeNet: 120/100 characters" in html and "y" * 120 in html


def test_live_check_shows_each_channels_count_and_preview(world, channels):
    client = Client()
    client.force_login(world.alice)
    html = client.post(
        "/w/acme/publishing/check/", {"text": "مرحبا بالعالم", "channels": [channels[0].pk]}
    ).content.decode()
    assert (
        '<bdi dir="ltr">13/100</bdi> characters' in html
        and 'dir="auto"' in html
        and "مرحبا بالعالم" in html
    )


def test_outsider_cannot_see_a_post(world, channels):
    post = actions.create_post(
        Actor(user=world.alice), access_for(world.alice, "acme"), _input(channels)
    )
    client = Client()
    client.force_login(world.charlie)
    assert client.get(f"/w/acme/publishing/posts/{post.pk}/").status_code == 404
    assert client.get(f"/w/globex/publishing/posts/{post.pk}/").status_code == 404


def test_a_channel_can_have_its_own_link_thread_and_first_comment(world, channels):
    from django.http import QueryDict

    from minbar.publishing.forms import post_input_from

    one, two = channels
    form = QueryDict(mutable=True)
    form.setlist("channels", [str(one.pk), str(two.pk)])
    form.update(
        {
            "text": "Launch",
            "link": "https://acme.example/launch",
            "thread": "Part two",
            "when": "draft",
            f"override_more_{two.pk}": "1",
            f"link_{two.pk}": "https://acme.example/ar",
            f"thread_{two.pk}": "الجزء الثاني\n---\nالجزء الثالث",  # noqa: RUF001 - Arabic
            f"first_comment_{two.pk}": "Menu inside",
        }
    )
    post = actions.create_post(
        Actor(user=world.alice), access_for(world.alice, "acme"), post_input_from(form, "UTC")
    )
    first, second = post.targets.order_by("channel__handle")
    assert (first.effective_link, first.effective_thread) == (
        "https://acme.example/launch",
        ["Part two"],
    )
    assert second.effective_link == "https://acme.example/ar"
    assert second.effective_thread == ["الجزء الثاني", "الجزء الثالث"]
    assert second.effective_first_comment == "Menu inside"
    snapshot = post.versions.get().snapshot
    assert {t["channel"]: t["link"] for t in snapshot["targets"]}[
        two.pk
    ] == "https://acme.example/ar"
