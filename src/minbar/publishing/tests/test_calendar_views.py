"""The week and list views, the filters they share with the month view and the feed,
moving a post to a day and hour, and the view switcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from conftest import make_user
from minbar.audit.models import AuditEvent
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput
from minbar.publishing import actions, calendar
from minbar.publishing.models import Post, PostState, Target, TargetState
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership

# Far enough ahead that "not in the past" never gets in the way of these dates.
SPRING_FORWARD_LONDON = date(2031, 3, 30)  # 01:00 GMT -> 02:00 BST
FALL_BACK_NEW_YORK = date(2031, 11, 2)  # 02:00 EDT -> 01:00 EST


@pytest.fixture
def channels(world):
    return [
        Channel.objects.create(
            workspace=world.acme, network="sandbox", remote_id=f"c{i}", handle=handle
        )
        for i, handle in enumerate(("@acme_x", "@acme_page"))
    ]


@pytest.fixture
def make_post(world, channels):
    def make(
        when: datetime | None,
        text: str = "Spring menu launch",
        *,
        state: str = PostState.SCHEDULED,
        target_state: str = TargetState.SCHEDULED,
        on: list[Channel] | None = None,
        tags: list[str] | None = None,
        author=None,
    ) -> Post:
        post = Post.objects.create(
            workspace=world.acme,
            author=author or world.alice,
            text=text,
            state=state,
            scheduled_at=when,
            tags=tags or [],
        )
        for channel in on if on is not None else channels[:1]:
            Target.objects.create(post=post, channel=channel, state=target_state, due_at=when)
        return post

    return make


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _slot(week: calendar.Week, day: date, hour: int) -> calendar.Slot:
    row = next(r for r in week.rows if r.hour == hour)
    return next(s for s in row.slots if s.day == day)


# --- Week grid -------------------------------------------------------------------------------


def test_the_week_starts_on_sunday_in_english_and_saturday_in_arabic():
    wednesday = date(2031, 6, 11)
    with translation.override("en"):
        assert calendar.start_of_week(wednesday, calendar.first_weekday()) == date(2031, 6, 8)
    with translation.override("ar"):
        assert calendar.start_of_week(wednesday, calendar.first_weekday()) == date(2031, 6, 7)


def test_arabic_week_page_starts_on_saturday(world):
    world.alice.language = "ar"
    world.alice.save()
    client = _client(world.alice)
    html = client.get("/w/acme/publishing/calendar/week/?week=2031-06-11").content.decode()
    assert html.index('data-day="2031-06-07"') < html.index('data-day="2031-06-13"')
    assert 'data-day="2031-06-06"' not in html and 'data-day="2031-06-14"' not in html
    assert 'dir="rtl"' in html


def test_london_spring_forward_week_has_a_23_hour_day_and_a_skipped_hour(db, make_post):
    before = make_post(datetime(2031, 3, 30, 0, 30, tzinfo=UTC), "Before the change")  # 00:30 GMT
    after = make_post(datetime(2031, 3, 30, 1, 30, tzinfo=UTC), "After the change")  # 02:30 BST
    week = calendar.week_grid(
        Post.objects.all(), SPRING_FORWARD_LONDON, "Europe/London", all_hours=True
    )
    assert [d.hours for d in week.days] == [23, 24, 24, 24, 24, 24, 24]
    assert _slot(week, SPRING_FORWARD_LONDON, 1).skipped
    assert not _slot(week, SPRING_FORWARD_LONDON, 2).skipped
    assert not _slot(week, date(2031, 3, 31), 1).skipped
    assert _slot(week, SPRING_FORWARD_LONDON, 0).posts == [before]
    assert _slot(week, SPRING_FORWARD_LONDON, 2).posts == [after]
    assert len(week.rows) == 24


def test_new_york_fall_back_week_shows_both_occurrences_of_the_repeated_hour(db, make_post):
    first = make_post(datetime(2031, 11, 2, 5, 30, tzinfo=UTC), "First 01:30")  # EDT
    second = make_post(datetime(2031, 11, 2, 6, 30, tzinfo=UTC), "Second 01:30")  # EST
    week = calendar.week_grid(
        Post.objects.all(), FALL_BACK_NEW_YORK, "America/New_York", all_hours=True
    )
    assert week.days[0].hours == 25
    slot = _slot(week, FALL_BACK_NEW_YORK, 1)
    assert slot.repeated and not slot.skipped
    assert slot.posts == [first, second]
    assert not _slot(week, FALL_BACK_NEW_YORK, 3).repeated


def test_new_york_fall_back_page_labels_each_occurrence_with_its_zone(world, make_post):
    world.alice.time_zone = "America/New_York"
    world.alice.save()
    make_post(datetime(2031, 11, 2, 5, 30, tzinfo=UTC), "First 01:30")
    make_post(datetime(2031, 11, 2, 6, 30, tzinfo=UTC), "Second 01:30")
    html = (
        _client(world.alice)
        .get("/w/acme/publishing/calendar/week/?week=2031-11-02&hours=all")
        .content.decode()
    )
    cell = html.split('data-day="2031-11-02" data-hour="1"', 1)[1].split("</td>", 1)[0]
    assert "Happens twice" in cell
    assert "1:30 a.m. EDT" in cell and "1:30 a.m. EST" in cell
    assert 'data-testid="dst-note"' in html


def test_riyadh_has_no_clock_changes(db, make_post):
    week = calendar.week_grid(Post.objects.all(), date(2031, 3, 30), "Asia/Riyadh", all_hours=True)
    assert {d.hours for d in week.days} == {24}
    assert not any(s.skipped or s.repeated for row in week.rows for s in row.slots)


def test_posts_outside_working_hours_stay_visible_in_their_own_rows(db, make_post):
    early = make_post(datetime(2031, 6, 10, 3, 15, tzinfo=UTC), "Dawn post")  # 04:15 BST
    late = make_post(datetime(2031, 6, 10, 22, 45, tzinfo=UTC), "Night post")  # 23:45 BST
    week = calendar.week_grid(Post.objects.all(), date(2031, 6, 8), "Europe/London")
    assert week.rows[0].bucket == "early" and week.rows[-1].bucket == "late"
    assert [p for s in week.rows[0].slots for p in s.posts] == [early]
    assert [p for s in week.rows[-1].slots for p in s.posts] == [late]
    assert [r.hour for r in week.rows[1:-1]] == list(range(6, 23))
    quiet = calendar.week_grid(Post.objects.none(), date(2031, 6, 8), "Europe/London")
    assert not any(r.bucket for r in quiet.rows)


def test_week_page_shows_each_post_at_its_local_day_and_hour(world, make_post, channels):
    world.alice.time_zone = "Asia/Riyadh"
    world.alice.save()
    # 23:30 UTC on 9 June is 02:30 on 10 June in Riyadh, outside working hours;
    # 07:05 UTC is 10:05.
    make_post(datetime(2031, 6, 9, 23, 30, tzinfo=UTC), "Night owl special")
    make_post(datetime(2031, 6, 10, 7, 5, tzinfo=UTC), "Morning coffee\nsecond line", on=channels)
    html = _client(world.alice).get("/w/acme/publishing/calendar/week/?week=2031-06-10").content
    page = html.decode()
    cell = page.split('data-day="2031-06-10" data-hour="10"', 1)[1].split("</td>", 1)[0]
    assert "Morning coffee" in cell and "second line" not in cell and "10:05" in cell
    assert "@acme_x" in cell and "@acme_page" in cell and 'dir="auto"' in cell
    assert "Scheduled" in cell and "Move…" in cell
    assert "Night owl special" in page.split("cal-bucket", 1)[1]


def test_week_reads_its_posts_with_the_same_number_of_queries_however_many(
    world, make_post, channels
):
    client = _client(world.alice)
    url = "/w/acme/publishing/calendar/week/?week=2031-06-08"
    make_post(datetime(2031, 6, 9, 9, 0, tzinfo=UTC), on=channels)
    client.get(url)  # warm the session and the feed token
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for day in range(7):
        for hour in (8, 12, 16):
            make_post(datetime(2031, 6, 8 + day, hour, 0, tzinfo=UTC), on=channels)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).content.decode().count("cal-card state-") == 22
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_bad_week_falls_back_with_a_message(world):
    html = _client(world.alice).get("/w/acme/publishing/calendar/week/?week=soon").content
    assert "is not a date like 2026-03-09" in html.decode()


# --- Filters ---------------------------------------------------------------------------------

VIEWS = {
    "month": "/w/acme/publishing/calendar/?month=2031-06",
    "week": "/w/acme/publishing/calendar/week/?week=2031-06-08",
    "list": "/w/acme/publishing/calendar/list/?from=2031-06-01",
}


@pytest.fixture
def assorted(world, make_post, channels):
    """Posts in the week of 8 June 2031 that differ in one respect each."""
    cora = make_user("cora")
    Membership.objects.create(user=cora, workspace=world.acme, role="contributor")
    at = datetime(2031, 6, 10, 9, 0, tzinfo=UTC)
    return {
        "plain": make_post(at, "Plain scheduled post"),
        "other_channel": make_post(at, "On the page only", on=[channels[1]]),
        "tagged": make_post(at, "Tagged ramadan post", tags=["ramadan", "offers"]),
        "arabic_tag": make_post(at, "Arabic tagged post", tags=["قهوة"]),
        "draft": make_post(
            at, "A draft with a time", state=PostState.DRAFT, target_state=TargetState.DRAFT
        ),
        "held": make_post(at, "Held by the limit", target_state=TargetState.HELD),
        "by_cora": make_post(at, "Written by Cora", author=cora),
        "cancelled": make_post(
            at, "Cancelled post", state=PostState.CANCELLED, target_state=TargetState.CANCELLED
        ),
    }


def _shown(html: str, assorted: dict[str, Post]) -> set[str]:
    return {key for key, post in assorted.items() if post.text in html}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_without_filters_every_view_shows_all_but_cancelled_posts(world, assorted, view):
    html = _client(world.alice).get(VIEWS[view]).content.decode()
    assert _shown(html, assorted) == set(assorted) - {"cancelled"}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel={page}", {"other_channel"}),
        ("channel={page}&channel={x}", {"*"}),
        ("tag=ramadan", {"tagged"}),
        ("tag=%D9%82%D9%87%D9%88%D8%A9", {"arabic_tag"}),
        ("tag=ramadan&tag=%D9%82%D9%87%D9%88%D8%A9", {"tagged", "arabic_tag"}),
        ("status=draft", {"draft"}),
        ("status=problem", {"held"}),
        ("status=cancelled", {"cancelled"}),
        ("status=draft&status=problem", {"draft", "held"}),
        ("author={cora}", {"by_cora"}),
        ("channel={x}&tag=ramadan", {"tagged"}),
    ],
)
def test_each_filter_narrows_every_view(world, assorted, channels, view, query, expected):
    cora = assorted["by_cora"].author
    query = query.format(x=channels[0].pk, page=channels[1].pk, cora=cora.pk)
    html = _client(world.alice).get(f"{VIEWS[view]}&{query}").content.decode()
    if expected == {"*"}:
        expected = set(assorted) - {"cancelled"}
    assert _shown(html, assorted) == expected


def test_filters_are_kept_when_switching_view_and_moving_in_time(world, assorted, channels):
    html = (
        _client(world.alice)
        .get(f"{VIEWS['week']}&channel={channels[1].pk}&tag=ramadan&status=scheduled")
        .content.decode()
    )
    carried = f"channel={channels[1].pk}&amp;tag=ramadan&amp;status=scheduled"
    assert f'/publishing/calendar/?month=2031-06&amp;{carried}"' in html
    assert f'/publishing/calendar/list/?from=2031-06-08&amp;{carried}"' in html
    assert f'?week=2031-06-15&amp;{carried}"' in html
    assert 'data-testid="clear-filters"' in html
    assert 'data-testid="ics-url-filtered"' in html


def test_unknown_filter_values_are_ignored_not_refused(world, assorted):
    html = (
        _client(world.alice)
        .get(f"{VIEWS['week']}&channel=abc&status=bogus&author=x")
        .content.decode()
    )
    assert _shown(html, assorted) == set(assorted) - {"cancelled"}


def test_old_bookmarks_with_a_single_state_still_filter(world, assorted):
    html = _client(world.alice).get(f"{VIEWS['month']}&state=draft").content.decode()
    assert _shown(html, assorted) == {"draft"}


# --- Who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*VIEWS.values(), "/w/acme/publishing/planner/"])
def test_outsider_gets_404_on_the_calendar_views(world, path):
    assert _client(world.charlie).get(path).status_code == 404


@pytest.mark.parametrize("role", ["contributor", "analyst", "editor"])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_members_who_may_view_content_see_every_view(world, assorted, role, view):
    member = make_user(f"{role}-member")
    Membership.objects.create(user=member, workspace=world.acme, role=role)
    response = _client(member).get(VIEWS[view])
    assert response.status_code == 200
    assert "Plain scheduled post" in response.content.decode()
    # Only those who may write get the controls that move posts.
    assert ("Move…" in response.content.decode()) == (view != "month" and role != "analyst")


def test_client_role_cannot_open_the_calendar(world):
    member = make_user("client-member")
    Membership.objects.create(user=member, workspace=world.acme, role="client")
    assert _client(member).get(VIEWS["week"]).status_code == 403


def test_analyst_cannot_move_and_contributor_can(world, make_post):
    post = make_post(datetime(2031, 6, 10, 9, 15, tzinfo=UTC))
    for role, status in (("analyst", 403), ("contributor", 204)):
        member = make_user(f"{role}-mover")
        Membership.objects.create(user=member, workspace=world.acme, role=role)
        response = _client(member).post(
            f"/w/acme/publishing/posts/{post.pk}/move/", {"day": "2031-06-11", "hour": "14"}
        )
        assert response.status_code == status


def test_outsider_cannot_move_another_workspaces_post(world, make_post):
    post = make_post(datetime(2031, 6, 10, 9, 15, tzinfo=UTC))
    response = _client(world.charlie).post(
        f"/w/acme/publishing/posts/{post.pk}/move/", {"day": "2031-06-11", "hour": "14"}
    )
    assert response.status_code == 404
    response = _client(world.charlie).post(
        f"/w/globex/publishing/posts/{post.pk}/move/", {"day": "2031-06-11", "hour": "14"}
    )
    assert response.status_code == 404
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 6, 10, 9, 15, tzinfo=UTC)


# --- Moving to a day and hour ----------------------------------------------------------------


def test_dropping_on_a_day_and_hour_moves_the_post_keeping_its_minutes(world, make_post):
    post = make_post(datetime(2031, 3, 27, 9, 40, tzinfo=UTC))  # 09:40 GMT in London
    response = _client(world.bob).post(
        f"/w/acme/publishing/posts/{post.pk}/move/", {"day": "2031-03-31", "hour": "15"}
    )
    assert response.status_code == 204
    post.refresh_from_db()
    # 31 March is summer time: 15:40 BST is 14:40 UTC.
    assert post.scheduled_at == datetime(2031, 3, 31, 14, 40, tzinfo=UTC)
    assert set(post.targets.values_list("due_at", flat=True)) == {post.scheduled_at}
    event = post.events.get(kind="rescheduled")
    assert event.actor == world.bob and event.data["data_to"] == post.scheduled_at.isoformat()
    audit = AuditEvent.objects.get(action="post.rescheduled")
    assert audit.data == {"from": "2031-03-27T09:40:00+00:00", "to": "2031-03-31T14:40:00+00:00"}


def test_moving_into_the_hour_the_clocks_skip_is_refused_clearly(world, make_post):
    post = make_post(datetime(2031, 3, 27, 9, 40, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="does not exist on 2031-03-30 in Europe/London"):
        actions.move_to(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            post.pk,
            SPRING_FORWARD_LONDON,
            1,
            "Europe/London",
        )
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 3, 27, 9, 40, tzinfo=UTC)
    assert not post.events.filter(kind="rescheduled").exists()


def test_moving_into_the_past_is_refused(world, make_post):
    post = make_post(timezone.now() + timedelta(days=1))
    yesterday = (timezone.now() - timedelta(days=1)).date()
    response = _client(world.alice).post(
        f"/w/acme/publishing/posts/{post.pk}/move/", {"day": yesterday.isoformat(), "hour": "12"}
    )
    assert response.status_code == 422
    assert "That time has passed" in response.content.decode()


def test_a_published_post_cannot_be_moved_to_another_hour(world, make_post):
    post = make_post(
        timezone.now() + timedelta(days=2),
        state=PostState.PUBLISHED,
        target_state=TargetState.PUBLISHED,
    )
    with pytest.raises(Conflict):
        actions.move_to(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            post.pk,
            date.today() + timedelta(days=5),
            10,
            "UTC",
        )


def test_a_post_going_out_on_one_channel_cannot_be_moved(world, make_post, channels):
    post = make_post(timezone.now() + timedelta(days=2), on=channels)
    post.targets.filter(channel=channels[1]).update(state=TargetState.PUBLISHING)
    response = _client(world.alice).post(
        f"/w/acme/publishing/posts/{post.pk}/move/",
        {"day": (date.today() + timedelta(days=4)).isoformat(), "hour": "10"},
    )
    assert response.status_code == 409


def test_an_hour_outside_the_day_is_refused(world, make_post):
    post = make_post(datetime(2031, 6, 10, 9, 15, tzinfo=UTC))
    response = _client(world.alice).post(
        f"/w/acme/publishing/posts/{post.pk}/move/", {"day": "2031-06-11", "hour": "24"}
    )
    assert response.status_code == 422


def test_the_move_form_reschedules_without_dragging(world, make_post):
    post = make_post(datetime(2031, 6, 10, 9, 15, tzinfo=UTC))
    back = "/w/acme/publishing/calendar/week/?week=2031-06-08"
    response = _client(world.alice).post(
        f"/w/acme/publishing/posts/{post.pk}/reschedule/",
        {"date": "2031-06-12", "time": "18:05", "next": back},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    assert "Moved." in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 6, 12, 17, 5, tzinfo=UTC)  # 18:05 BST
    assert post.scheduled_time_zone == "Europe/London"


def test_the_move_form_explains_a_skipped_time_and_keeps_the_post(world, make_post):
    post = make_post(datetime(2031, 3, 27, 9, 40, tzinfo=UTC))
    response = _client(world.alice).post(
        f"/w/acme/publishing/posts/{post.pk}/reschedule/",
        {"date": "2031-03-30", "time": "01:30", "next": "https://evil.example/"},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[0][0] == "/w/acme/publishing/planner/"
    assert "the clocks go forward then" in html
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2031, 3, 27, 9, 40, tzinfo=UTC)


# --- List view -------------------------------------------------------------------------------


def test_list_groups_posts_by_local_day_and_pages_through_them(world, make_post):
    world.alice.time_zone = "Asia/Riyadh"
    world.alice.save()
    start = datetime(2031, 6, 1, 6, 0, tzinfo=UTC)
    posts = [
        make_post(start + timedelta(hours=5 * i), f"Agenda post {i:02d}", tags=["menu"])
        for i in range(calendar_page_size() + 5)
    ]
    client = _client(world.alice)
    first = client.get("/w/acme/publishing/calendar/list/?from=2031-06-01&tag=menu")
    html = first.content.decode()
    assert html.count('class="agenda-item"') == calendar_page_size()
    assert "Agenda post 00" in html and f"Agenda post {calendar_page_size():02d}" not in html
    # 06:00 UTC is 09:00 in Riyadh; 21:00 UTC (post 3) is already 2 June there.
    day_one = html.split('datetime="2031-06-01"', 1)[1].split('datetime="2031-06-02"', 1)[0]
    assert "Agenda post 02" in day_one and "Agenda post 03" not in day_one
    assert "by Alice" in html and "#menu" in html and "@acme_x" in html
    assert "?from=2031-06-01&amp;tag=menu&amp;page=2" in html
    second = client.get("/w/acme/publishing/calendar/list/?from=2031-06-01&tag=menu&page=2")
    assert second.content.decode().count('class="agenda-item"') == 5
    assert posts[-1].text in second.content.decode()


def calendar_page_size() -> int:
    from minbar.publishing.views import AGENDA_PAGE_SIZE

    return AGENDA_PAGE_SIZE


def test_list_starts_today_and_leaves_out_earlier_posts(world, make_post):
    make_post(timezone.now() - timedelta(days=3), "Post of last week")
    make_post(timezone.now() + timedelta(days=3), "Post of next week")
    html = _client(world.alice).get("/w/acme/publishing/calendar/list/").content.decode()
    assert "Post of next week" in html and "Post of last week" not in html


# --- View switcher ---------------------------------------------------------------------------


def test_calendar_opens_the_view_last_used(world):
    client = _client(world.alice)
    response = client.get("/w/acme/publishing/planner/")
    assert response["Location"] == "/w/acme/publishing/calendar/"
    client.get("/w/acme/publishing/calendar/week/")
    response = client.get("/w/acme/publishing/planner/?tag=menu")
    assert response["Location"] == "/w/acme/publishing/calendar/week/?tag=menu"
    client.get("/w/acme/publishing/calendar/list/")
    assert client.get("/w/acme/publishing/planner/")["Location"] == (
        "/w/acme/publishing/calendar/list/"
    )
    # Each person's choice is their own.
    assert _client(world.bob).get("/w/acme/publishing/planner/")["Location"] == (
        "/w/acme/publishing/calendar/"
    )


# --- iCalendar feed with filters -------------------------------------------------------------


def test_the_feed_takes_the_same_filters(world, assorted, channels):
    token = calendar.feed_token(Actor(user=world.alice), access_for(world.alice, "acme"))
    everything = Client().get(f"/calendar/{token}.ics").content.decode()
    assert everything.count("BEGIN:VEVENT") == len(assorted) - 1
    only = Client().get(f"/calendar/{token}.ics?tag=ramadan&status=scheduled").content.decode()
    assert only.count("BEGIN:VEVENT") == 1 and "Tagged ramadan post" in only
    page = Client().get(f"/calendar/{token}.ics?channel={channels[1].pk}").content.decode()
    assert page.count("BEGIN:VEVENT") == 1 and "On the page only" in page
    # Filters never widen the feed to another workspace, nor open it without the token.
    assert Client().get("/calendar/wrong.ics?tag=ramadan").status_code == 404


def test_coming_up_on_the_publish_page_groups_by_the_viewers_local_day(world, make_post):
    world.alice.time_zone = "Asia/Riyadh"
    world.alice.save()
    # 23:30 UTC on 9 June is 02:30 on 10 June in Riyadh.
    make_post(datetime(2031, 6, 9, 23, 30, tzinfo=UTC), "Night owl special")
    html = _client(world.alice).get("/w/acme/publishing/").content.decode()
    coming_up = html.split('id="upcoming-heading"', 1)[1].split("</section>", 1)[0]
    assert 'datetime="2031-06-10"' in coming_up and 'datetime="2031-06-09"' not in coming_up
