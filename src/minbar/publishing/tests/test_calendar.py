"""The month calendar, moving posts by dragging, and the iCalendar feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import Conflict
from minbar.publishing import actions
from minbar.publishing.models import Post, PostState, Target, TargetState
from minbar.workspaces.access import access_for


@pytest.fixture
def scheduled(world):
    channel = Channel.objects.create(
        workspace=world.acme, network="sandbox", remote_id="c1", handle="@acme"
    )

    def make(when: datetime, text: str = "Spring menu launch") -> Post:
        post = Post.objects.create(
            workspace=world.acme,
            author=world.alice,
            text=text,
            state=PostState.SCHEDULED,
            scheduled_at=when,
        )
        Target.objects.create(post=post, channel=channel, state=TargetState.SCHEDULED, due_at=when)
        return post

    return make


def test_month_shows_posts_on_the_viewers_local_day(world, scheduled):
    # 23:30 UTC on 9 March 2031 is already 10 March in Riyadh (UTC+3).
    scheduled(datetime(2031, 3, 9, 23, 30, tzinfo=UTC))
    world.alice.time_zone = "Asia/Riyadh"
    world.alice.save()
    client = Client()
    client.force_login(world.alice)
    html = client.get("/w/acme/publishing/calendar/?month=2031-03").content.decode()
    cell = html.split('data-day="2031-03-10"', 1)[1].split("</td>", 1)[0]
    assert "Spring menu launch" in cell and "02:30" in cell
    assert (
        "Spring menu launch" not in html.split('data-day="2031-03-09"', 1)[1].split("</td>", 1)[0]
    )


def test_a_bad_month_falls_back_with_a_message(world):
    client = Client()
    client.force_login(world.alice)
    html = client.get("/w/acme/publishing/calendar/?month=soon", follow=True).content.decode()
    assert "is not a month like 2026-03" in html


def test_dragging_moves_the_post_keeping_its_local_time(world, scheduled):
    post = scheduled(datetime(2031, 3, 27, 9, 0, tzinfo=UTC))  # 09:00 in London (GMT)
    client = Client()
    client.force_login(world.bob)
    response = client.post(f"/w/acme/publishing/posts/{post.pk}/move/", {"day": "2031-03-31"})
    assert response.status_code == 204
    post.refresh_from_db()
    # 31 March is summer time in London: 09:00 local is 08:00 UTC.
    assert post.scheduled_at == datetime(2031, 3, 31, 8, 0, tzinfo=UTC)
    assert set(post.targets.values_list("due_at", flat=True)) == {post.scheduled_at}
    assert post.events.filter(kind="rescheduled").exists()


def test_a_published_post_cannot_be_moved(world, scheduled):
    post = scheduled(timezone.now() + timedelta(days=2))
    post.targets.update(state=TargetState.PUBLISHED)
    with pytest.raises(Conflict):
        actions.move_to_day(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            post.pk,
            date.today() + timedelta(days=5),
            "UTC",
        )


def test_the_ics_feed_lists_scheduled_posts_and_renewing_kills_the_old_address(world, scheduled):
    scheduled(datetime(2031, 5, 1, 7, 0, tzinfo=UTC), text="Eid offers, 20% off; all week")
    client = Client()
    client.force_login(world.alice)
    html = client.get("/w/acme/publishing/calendar/").content.decode()
    url = html.split('data-testid="ics-url">', 1)[1].split("<", 1)[0]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    feed = Client().get(path)
    body = feed.content.decode()
    assert feed["Content-Type"].startswith("text/calendar")
    assert "DTSTART:20310501T070000Z" in body
    assert "SUMMARY:Eid offers\\, 20% off\\; all week" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    client.post("/w/acme/publishing/calendar/renew/")
    assert Client().get(path).status_code == 404


def test_feed_of_another_workspace_is_not_guessable(world):
    assert Client().get("/calendar/not-a-token.ics").status_code == 404
