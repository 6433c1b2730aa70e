"""Posting queues: weekly slots per channel, across daylight saving, and "add to queue"."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time

import pytest
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.channels.models import Channel
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.publishing import actions, bulk, calendar, dispatcher, queue
from minbar.publishing.actions import PostInput
from minbar.publishing.models import Post, PostState, QueueSlot, Target, TargetState
from minbar.workspaces.access import access_for

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
RIYADH = zoneinfo.ZoneInfo("Asia/Riyadh")


def _slots(world, channel, slots, zone=None):
    return queue.set_slots(
        Actor(user=world.alice), access_for(world.alice, "acme"), channel.pk, slots, zone
    )


def _queue(user, channels, text="Fresh roast today") -> Post:
    return actions.create_post(
        Actor(user=user),
        access_for(user, "acme"),
        PostInput(text=text, channel_ids=[c.pk for c in channels], when="queue"),
    )


def _due(post: Post) -> dict[str, datetime | None]:
    return {t.channel.handle: t.due_at for t in post.targets.select_related("channel")}


# --- Slot times across daylight saving ---------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # London springs forward at 01:00 UTC: 01:30 never happens, 02:00 BST is first.
        (LONDON, date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # London falls back: 01:30 happens twice, the first (BST) is used.
        (LONDON, date(2026, 10, 25), time(1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (LONDON, date(2026, 7, 5), time(9, 0), datetime(2026, 7, 5, 8, 0, tzinfo=UTC)),
        # New York: 02:30 is skipped in March (03:00 EDT is first), 01:30 repeats in November.
        (NEW_YORK, date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        # Riyadh has no daylight saving: always UTC+3.
        (RIYADH, date(2026, 3, 29), time(9, 0), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        (RIYADH, date(2026, 10, 25), time(1, 30), datetime(2026, 10, 24, 22, 30, tzinfo=UTC)),
    ],
)
def test_slot_instant_follows_daylight_saving(zone, day, at, expected):
    assert queue.wall_to_utc(day, at, zone) == expected


def test_weekly_slot_keeps_its_local_time_across_the_change():
    start = datetime(2026, 3, 21, 0, 0, tzinfo=UTC)
    london = list(queue.slot_times([(6, time(9, 0))], "Europe/London", start, weeks=2))
    assert london[:2] == [
        datetime(2026, 3, 22, 9, 0, tzinfo=UTC),  # GMT
        datetime(2026, 3, 29, 8, 0, tzinfo=UTC),  # BST
    ]
    new_york = list(
        queue.slot_times([(6, time(9, 0))], "America/New_York", datetime(2026, 3, 1, tzinfo=UTC), 2)
    )
    assert new_york[:2] == [
        datetime(2026, 3, 1, 14, 0, tzinfo=UTC),  # EST
        datetime(2026, 3, 8, 13, 0, tzinfo=UTC),  # EDT
    ]
    riyadh = list(queue.slot_times([(6, time(9, 0))], "Asia/Riyadh", start, 2))
    assert riyadh[:2] == [
        datetime(2026, 3, 22, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
    ]


def test_slot_times_are_ascending_and_never_before_the_start():
    start = datetime(2030, 6, 3, 9, 30, tzinfo=UTC)  # Monday 10:30 in London
    times = list(
        queue.slot_times(
            [(0, time(9, 0)), (0, time(13, 0)), (2, time(8, 0))], "Europe/London", start, 1
        )
    )
    assert times[:3] == [
        datetime(2030, 6, 3, 12, 0, tzinfo=UTC),
        datetime(2030, 6, 5, 7, 0, tzinfo=UTC),
        datetime(2030, 6, 10, 8, 0, tzinfo=UTC),
    ]
    assert times == sorted(times) and min(times) >= start


# --- Editing a channel's schedule ---------------------------------------------------


def test_owner_sets_slots_with_a_preset_copies_a_day_and_removes_one(world, channels):
    actor, access = Actor(user=world.alice), access_for(world.alice, "acme")
    schedule = queue.apply_preset(actor, access, channels[0].pk, "3-a-day")
    assert schedule.slots.count() == 21
    assert sorted({t for _d, t in queue.current_slots(schedule)}) == [
        time(9, 0),
        time(13, 0),
        time(17, 0),
    ]
    queue.set_slots(actor, access, channels[0].pk, [(0, time(8, 15)), (0, time(18, 0))])
    schedule = queue.copy_to_all_days(actor, access, channels[0].pk, 0)
    assert schedule.slots.count() == 14
    schedule = queue.remove_slot(actor, access, channels[0].pk, 3, time(8, 15))
    assert (3, time(8, 15)) not in queue.current_slots(schedule)
    assert (3, time(18, 0)) in queue.current_slots(schedule)
    schedule = queue.add_slot(actor, access, channels[0].pk, 3, time(7, 0))
    assert (3, time(7, 0)) in queue.current_slots(schedule)


def test_schedule_zone_defaults_to_the_workspace_and_can_be_chosen(world, channels):
    schedule = _slots(world, channels[0], [(0, time(9, 0))])
    assert schedule.time_zone == "" and queue.zone_of(schedule) == world.acme.time_zone
    schedule = _slots(world, channels[0], [(0, time(9, 0))], "Asia/Riyadh")
    assert queue.zone_of(schedule) == "Asia/Riyadh"
    with pytest.raises(InvalidInput):
        _slots(world, channels[0], [(0, time(9, 0))], "Mars/Olympus")


def test_editor_cannot_change_posting_times_and_outsider_gets_404(world, channels):
    with pytest.raises(NotAllowed):
        queue.set_slots(
            Actor(user=world.bob), access_for(world.bob, "acme"), channels[0].pk, [(0, time(9))]
        )
    globex_channel = Channel.objects.create(
        workspace=world.globex, network="fakenet", remote_id="g", handle="globex.one"
    )
    with pytest.raises(NotFound):
        queue.set_slots(
            Actor(user=world.alice),
            access_for(world.alice, "acme"),
            globex_channel.pk,
            [(0, time(9))],
        )
    assert not QueueSlot.objects.exists()


def test_channel_page_edits_the_schedule(world, channels):
    client = Client()
    client.force_login(world.alice)
    base = f"/w/acme/channels/{channels[0].pk}/queue/"
    response = client.post(base, {"action": "preset", "preset": "3-a-day"})
    assert response.status_code == 302
    client.post(base, {"action": "add", "weekday": "0", "time": "07:45"})
    client.post(base, {"action": "remove", "weekday": "1", "time": "13:00"})
    client.post(base, {"action": "zone", "time_zone": "America/New_York"})
    page = client.get(f"/w/acme/channels/{channels[0].pk}/").content.decode()
    assert "Posting times" in page and "07:45" in page and "America/New_York" in page
    schedule = queue.get_schedule(access_for(world.alice, "acme"), channels[0].pk)
    assert schedule.slots.count() == 21 and schedule.time_zone == "America/New_York"
    bad = client.post(base, {"action": "add", "weekday": "0", "time": "25:99"})
    assert bad.status_code == 302 and schedule.slots.count() == 21
    outsider = Client()
    outsider.force_login(world.charlie)
    assert outsider.post(base, {"action": "preset", "preset": "1-a-day"}).status_code == 404
    assert schedule.slots.count() == 21


# --- Adding to the queue ------------------------------------------------------------


def test_each_channel_takes_its_own_next_slot(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")  # Mondays 09:00 London
    _slots(world, channels[1], [(6, time(18, 0)), (1, time(9, 0))], "Asia/Riyadh")
    post = _queue(world.bob, channels)
    assert post.state == PostState.SCHEDULED
    assert _due(post) == {
        "acme.one": datetime(2030, 6, 3, 8, 0, tzinfo=UTC),
        # Sunday 18:00 in Riyadh is 15:00 UTC, still ahead of noon UTC.
        "acme.two": datetime(2030, 6, 2, 15, 0, tzinfo=UTC),
    }
    assert post.scheduled_at == datetime(2030, 6, 2, 15, 0, tzinfo=UTC)
    # The next post takes the next free slot of each channel.
    second = _queue(world.bob, channels, "Second")
    assert _due(second) == {
        "acme.one": datetime(2030, 6, 10, 8, 0, tzinfo=UTC),
        "acme.two": datetime(2030, 6, 4, 6, 0, tzinfo=UTC),
    }


def test_full_week_rolls_over_to_the_next_and_never_into_the_past(world, channels, clock):
    # Monday 09:00 London is already past at Monday 10:00 UTC.
    clock.moment = datetime(2030, 6, 3, 10, 0, tzinfo=UTC)
    _slots(world, channels[0], [(0, time(9, 0)), (2, time(9, 0))], "Europe/London")
    dues = [_due(_queue(world.bob, channels[:1], f"p{i}"))["acme.one"] for i in range(3)]
    assert dues == [
        datetime(2030, 6, 5, 8, 0, tzinfo=UTC),
        datetime(2030, 6, 10, 8, 0, tzinfo=UTC),
        datetime(2030, 6, 12, 8, 0, tzinfo=UTC),
    ]


def test_queue_without_slots_says_where_to_set_them(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))])
    with pytest.raises(InvalidInput) as exc:
        _queue(world.bob, channels)
    assert exc.value.message == "Set up posting times for acme.two first."
    hint = exc.value.fields[f"channel_{channels[1].pk}"]
    assert f"/w/acme/channels/{channels[1].pk}/#queue" in hint
    assert not Post.objects.exists()


def test_contributors_queued_post_waits_for_approval_and_holds_its_slot(
    world, channels, contributor, clock
):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")
    _slots(world, channels[1], [(1, time(9, 0))], "Europe/London")
    post = _queue(contributor, channels)
    assert post.state == PostState.AWAITING_APPROVAL
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.AWAITING_APPROVAL}
    second = _queue(world.bob, channels[:1])
    assert _due(second)["acme.one"] == datetime(2030, 6, 10, 8, 0, tzinfo=UTC)
    actions.approve_post(Actor(user=world.bob), access_for(world.bob, "acme"), post.pk)
    # Approval keeps each channel's own slot.
    assert _due(post) == {
        "acme.one": datetime(2030, 6, 3, 8, 0, tzinfo=UTC),
        "acme.two": datetime(2030, 6, 4, 8, 0, tzinfo=UTC),
    }
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.SCHEDULED}


def test_cancelling_frees_the_slot_without_moving_later_posts(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")
    first, second = _queue(world.bob, channels[:1], "a"), _queue(world.bob, channels[:1], "b")
    actions.cancel_post(Actor(user=world.bob), access_for(world.bob, "acme"), first.pk)
    assert _due(second)["acme.one"] == datetime(2030, 6, 10, 8, 0, tzinfo=UTC)
    third = _queue(world.bob, channels[:1], "c")
    assert _due(third)["acme.one"] == datetime(2030, 6, 3, 8, 0, tzinfo=UTC)


def test_editing_a_queued_post_keeps_its_slot(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")
    post = _queue(world.bob, channels[:1])
    _queue(world.bob, channels[:1], "later")
    edited = actions.update_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        post.pk,
        PostInput(text="Edited", channel_ids=[channels[0].pk], when="queue"),
    )
    assert _due(edited)["acme.one"] == datetime(2030, 6, 3, 8, 0, tzinfo=UTC)


def test_dispatcher_and_calendar_use_each_targets_own_time(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")
    _slots(world, channels[1], [(6, time(18, 0))], "Asia/Riyadh")
    post = _queue(world.bob, channels)
    assert dispatcher.next_wake_at(clock.moment) == datetime(2030, 6, 2, 15, 0, tzinfo=UTC)
    due = Target.objects.filter(due_at__lte=datetime(2030, 6, 2, 15, 0, tzinfo=UTC))
    assert [t.channel.handle for t in due] == ["acme.two"]
    month = calendar.month_grid(Post.objects.all(), date(2030, 6, 1), "Europe/London")
    days = {d.date: d.posts for week in month.weeks for d in week}
    assert days[date(2030, 6, 2)] == [post]
    client = Client()
    client.force_login(world.bob)
    page = client.get(f"/w/acme/publishing/posts/{post.pk}/").content.decode()
    assert 'datetime="2030-06-02T16:00:00+01:00"' in page
    assert 'datetime="2030-06-03T09:00:00+01:00"' in page


def test_composer_shows_the_slot_each_channel_would_get(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0))], "Europe/London")
    client = Client()
    client.force_login(world.bob)
    html = client.post(
        "/w/acme/publishing/check/",
        {"text": "Hi", "channels": [channels[0].pk, channels[1].pk], "when": "queue"},
    ).content.decode()
    assert 'data-testid="queue-slot"' in html and "Set up posting times for acme.two" in html
    refused = client.post(
        "/w/acme/publishing/new/",
        {"text": "Queued", "channels": [channels[0].pk, channels[1].pk], "when": "queue"},
    )
    assert refused.status_code == 422
    assert f'href="/w/acme/channels/{channels[1].pk}/#queue" data-testid="setup-queue"' in (
        refused.content.decode()
    )
    response = client.post(
        "/w/acme/publishing/new/",
        {"text": "Queued", "channels": [channels[0].pk], "when": "queue"},
    )
    post = Post.objects.get()
    assert response.status_code == 302 and post.scheduled_at == datetime(
        2030, 6, 3, 8, 0, tzinfo=UTC
    )


def test_add_to_queue_through_the_api(world, channels, clock):
    secret = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    url = f"/api/v1/workspaces/acme/channels/{channels[0].pk}/queue"
    put = client.put(
        url,
        {"time_zone": "America/New_York", "slots": [{"weekday": 0, "time": "09:00"}]},
        content_type="application/json",
    )
    assert put.status_code == 200, put.content
    assert put.json()["slots"] == [{"weekday": 0, "time": "09:00"}]
    assert put.json()["next_slots"][0] == "2030-06-03T13:00:00Z"
    got = client.get(url).json()
    assert got["time_zone"] == "America/New_York"
    created = client.post(
        "/api/v1/workspaces/acme/posts",
        {"text": "Queued", "channels": [channels[0].pk], "when": "queue"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["targets"][0]["due_at"] == "2030-06-03T13:00:00Z"
    missing = client.post(
        "/api/v1/workspaces/acme/posts",
        {"text": "Queued", "channels": [channels[1].pk], "when": "queue"},
        content_type="application/json",
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["message"] == "Set up posting times for acme.two first."
    charlie = create_api_token(Actor.system(), world.charlie, world.globex, name="c").secret
    outsider = Client(headers={"Authorization": f"Bearer {charlie}"})
    assert outsider.get(url).status_code == 404


def test_csv_rows_can_go_into_the_queue(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0)), (0, time(17, 0))], "Europe/London")
    data = b"text,channels,publish_at\r\nOne,acme.one,queue\r\nTwo,acme.one,queue\r\n"
    created = bulk.import_csv(
        Actor(user=world.bob), access_for(world.bob, "acme"), data, "Europe/London"
    )
    assert [p.scheduled_at for p in created] == [
        datetime(2030, 6, 3, 8, 0, tzinfo=UTC),
        datetime(2030, 6, 3, 16, 0, tzinfo=UTC),
    ]
    with pytest.raises(bulk.ImportRejected) as exc:
        bulk.import_csv(
            Actor(user=world.bob),
            access_for(world.bob, "acme"),
            b"text,channels,publish_at\r\nOne,acme.two,queue\r\n",
            "Europe/London",
        )
    assert exc.value.errors[0].message == "Set up posting times for acme.two first."
    assert Post.objects.count() == 2
