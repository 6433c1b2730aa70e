"""Recurring and evergreen posts: occurrences made ahead of time, once, at the right local time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, connections
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput
from minbar.publishing import actions, series
from minbar.publishing.actions import PostInput, Repeat
from minbar.publishing.models import Post, PostSeries, PostState, TargetState
from minbar.publishing.tests.conftest import SUNDAY
from minbar.publishing.tests.test_queue import _slots
from minbar.publishing.timing import local_to_utc
from minbar.workspaces.access import access_for

MONDAY_9_LONDON = datetime(2030, 6, 3, 8, 0, tzinfo=UTC)


def _start(user, chans, repeat: Repeat, *, at=MONDAY_9_LONDON, text="Coffee of the week"):
    return actions.create_post(
        Actor(user=user),
        access_for(user, "acme"),
        PostInput(
            text=text,
            channel_ids=[c.pk for c in chans],
            when="at",
            scheduled_at=at,
            scheduled_time_zone="Europe/London",
            repeat=repeat,
        ),
    )


def _occurrences(first: Post) -> list[Post]:
    return list(Post.objects.filter(series=first.series).order_by("occurrence"))


def test_every_few_days_creates_occurrences_up_to_the_horizon(world, channels, clock):
    first = _start(world.bob, channels, Repeat(kind="days", every_days=2, count=10))
    made = _occurrences(first)
    # Made ahead for the next 7 days: Mon 3, Wed 5, Fri 7, Sun 9 June (09:00 London).
    assert [p.scheduled_at for p in made] == [
        MONDAY_9_LONDON + timedelta(days=2 * i) for i in range(4)
    ]
    assert [p.occurrence for p in made] == [1, 2, 3, 4]
    assert all(p.state == PostState.SCHEDULED for p in made)
    assert all(p.targets.count() == 2 for p in made)
    assert made[0].series is not None and made[0].series.last_occurrence == 4
    assert series.upcoming_times(made[0].series, 2) == [
        MONDAY_9_LONDON + timedelta(days=8),
        MONDAY_9_LONDON + timedelta(days=10),
    ]


def test_task_run_twice_makes_each_occurrence_once(world, channels, clock):
    first = _start(world.bob, channels, Repeat(kind="days", every_days=1, count=30))
    assert series.fill_due_series() == 0
    assert series.fill_due_series() == 0
    clock.moment = SUNDAY + timedelta(days=3)
    made_now = series.fill_due_series()
    assert made_now == 3 and series.fill_due_series() == 0
    numbers = [p.occurrence for p in _occurrences(first)]
    assert numbers == list(range(1, 11))


def test_a_worker_with_a_stale_count_does_not_duplicate(world, channels, clock):
    first = _start(world.bob, channels, Repeat(kind="days", every_days=1, count=30))
    assert first.series is not None
    # As if another worker made occurrences 2..7 and this one still believed 1.
    PostSeries.objects.filter(pk=first.series.pk).update(last_occurrence=1)
    assert series.fill_series(first.series.pk) == 0
    assert [p.occurrence for p in _occurrences(first)] == list(range(1, 8))
    first.series.refresh_from_db()
    assert first.series.last_occurrence == 7


@pytest.mark.django_db(transaction=True)
def test_several_workers_make_each_occurrence_once(world, channels, clock):
    """Three workers at once on PostgreSQL; one after another on SQLite (it serialises writers)."""
    first = _start(world.bob, channels, Repeat(kind="days", every_days=1, count=30))
    assert first.series is not None
    PostSeries.objects.filter(pk=first.series.pk).update(last_occurrence=1)
    Post.objects.filter(series=first.series, occurrence__gt=1).delete()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            series.fill_due_series()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    if connection.vendor == "sqlite":
        for _ in range(3):
            series.fill_due_series()
    else:
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert [p.occurrence for p in _occurrences(first)] == list(range(1, 8))


def test_variations_are_cycled_per_occurrence(world, channels, clock):
    first = _start(
        world.bob,
        channels[:1],
        Repeat(kind="days", every_days=1, count=5, variations=["Second text", "  ", "Third"]),
        text="First text",
    )
    texts = [p.text for p in _occurrences(first)]
    assert texts == ["First text", "Second text", "Third", "First text", "Second text"]


def test_a_variation_that_does_not_fit_is_refused(world, channels, clock):
    with pytest.raises(InvalidInput) as exc:
        _start(
            world.bob,
            channels[:1],
            Repeat(kind="days", count=3, variations=["x" * 150]),
        )
    assert "Variation 1 does not fit" in exc.value.message
    assert not Post.objects.exists() and not PostSeries.objects.exists()


def test_series_ends_after_its_count(world, channels, clock):
    first = _start(world.bob, channels[:1], Repeat(kind="days", every_days=1, count=3))
    assert [p.occurrence for p in _occurrences(first)] == [1, 2, 3]
    assert first.series is not None
    first.series.refresh_from_db()
    assert not first.series.active and series.upcoming_times(first.series) == []


def test_series_ends_on_its_date(world, channels, clock):
    first = _start(
        world.bob, channels[:1], Repeat(kind="days", every_days=1, until=date(2030, 6, 5))
    )
    assert [p.scheduled_at for p in _occurrences(first)] == [
        MONDAY_9_LONDON,
        MONDAY_9_LONDON + timedelta(days=1),
        MONDAY_9_LONDON + timedelta(days=2),
    ]
    with pytest.raises(InvalidInput):
        _start(world.bob, channels[:1], Repeat(kind="days", until=date(2030, 6, 1)))


def test_weekly_on_chosen_days(world, channels, clock):
    first = _start(world.bob, channels[:1], Repeat(kind="weekly", weekdays=[0, 3]))
    assert [p.scheduled_at for p in _occurrences(first)] == [
        MONDAY_9_LONDON,
        MONDAY_9_LONDON + timedelta(days=3),
    ]
    assert first.series is not None
    assert series.upcoming_times(first.series, 3) == [
        MONDAY_9_LONDON + timedelta(days=7),
        MONDAY_9_LONDON + timedelta(days=10),
        MONDAY_9_LONDON + timedelta(days=14),
    ]
    with pytest.raises(InvalidInput):
        _start(world.bob, channels[:1], Repeat(kind="weekly", weekdays=[]))


@pytest.mark.parametrize(
    ("zone", "first_local", "expected_utc"),
    [
        # London falls back on 27 Oct 2030: 09:00 BST, then 09:00 GMT.
        (
            "Europe/London",
            datetime(2030, 10, 21, 9, 0),
            [datetime(2030, 10, 21, 8, 0, tzinfo=UTC), datetime(2030, 10, 28, 9, 0, tzinfo=UTC)],
        ),
        # New York falls back on 3 Nov 2030.
        (
            "America/New_York",
            datetime(2030, 10, 28, 9, 0),
            [datetime(2030, 10, 28, 13, 0, tzinfo=UTC), datetime(2030, 11, 4, 14, 0, tzinfo=UTC)],
        ),
        # A 02:30 series in New York: skipped on 9 March 2031, so 03:00 EDT that day.
        (
            "America/New_York",
            datetime(2031, 3, 2, 2, 30),
            [datetime(2031, 3, 2, 7, 30, tzinfo=UTC), datetime(2031, 3, 9, 7, 0, tzinfo=UTC)],
        ),
        (
            "Asia/Riyadh",
            datetime(2030, 10, 21, 9, 0),
            [datetime(2030, 10, 21, 6, 0, tzinfo=UTC), datetime(2030, 10, 28, 6, 0, tzinfo=UTC)],
        ),
    ],
)
def test_occurrences_keep_the_local_time_across_daylight_saving(
    world, channels, clock, zone, first_local, expected_utc
):
    clock.moment = local_to_utc(first_local, zone) - timedelta(days=1)
    first = actions.create_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        PostInput(
            text="Weekly",
            channel_ids=[channels[0].pk],
            when="at",
            scheduled_at=local_to_utc(first_local, zone),
            scheduled_time_zone=zone,
            repeat=Repeat(kind="days", every_days=7, count=4),
        ),
    )
    clock.moment += timedelta(days=7)
    series.fill_due_series()
    assert [p.scheduled_at for p in _occurrences(first)][:2] == expected_utc


def test_approved_series_needs_no_new_approval_until_edited(world, channels, contributor, clock):
    first = _start(contributor, channels[:1], Repeat(kind="days", every_days=3))
    made = _occurrences(first)
    assert [p.state for p in made] == [PostState.AWAITING_APPROVAL] * 3
    actions.approve_post(Actor(user=world.bob), access_for(world.bob, "acme"), first.pk)
    assert [p.state for p in _occurrences(first)] == [PostState.SCHEDULED] * 3
    states = Post.objects.filter(series=first.series).values_list("targets__state", flat=True)
    assert set(states) == {TargetState.SCHEDULED}
    clock.moment = SUNDAY + timedelta(days=3)
    series.fill_due_series()
    assert _occurrences(first)[-1].occurrence == 4
    assert _occurrences(first)[-1].state == PostState.SCHEDULED
    # The contributor edits an occurrence: later ones wait for approval again.
    later = _occurrences(first)[-1]
    actions.update_post(
        Actor(user=contributor),
        access_for(contributor, "acme"),
        later.pk,
        PostInput(
            text="New wording",
            channel_ids=[channels[0].pk],
            when="at",
            scheduled_at=later.scheduled_at,
        ),
    )
    clock.moment = SUNDAY + timedelta(days=6)
    series.fill_due_series()
    newest = _occurrences(first)[-1]
    assert newest.occurrence == 5 and newest.text == "New wording"
    assert newest.state == PostState.AWAITING_APPROVAL


def test_stopping_cancels_occurrences_not_started_and_makes_no_more(world, channels, clock):
    first = _start(world.bob, channels[:1], Repeat(kind="days", every_days=1, count=10))
    client = Client()
    client.force_login(world.bob)
    page = client.get(f"/w/acme/publishing/posts/{first.pk}/").content.decode()
    assert "Occurrence 1 of 10" in page and "Next dates" in page
    outsider = Client()
    outsider.force_login(world.charlie)
    assert outsider.post(f"/w/acme/publishing/posts/{first.pk}/stop-series/").status_code == 404
    response = client.post(f"/w/acme/publishing/posts/{first.pk}/stop-series/")
    assert response.status_code == 302
    assert {p.state for p in _occurrences(first)} == {PostState.CANCELLED}
    clock.moment = SUNDAY + timedelta(days=5)
    assert series.fill_due_series() == 0 and len(_occurrences(first)) == 7
    page = client.get(f"/w/acme/publishing/posts/{first.pk}/").content.decode()
    assert "Stopped" in page


def test_evergreen_post_goes_back_into_the_queue(world, channels, clock):
    _slots(world, channels[0], [(0, time(9, 0)), (3, time(9, 0))], "Europe/London")
    first = actions.create_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        PostInput(
            text="Our classic blend",
            channel_ids=[channels[0].pk],
            when="queue",
            repeat=Repeat(kind="evergreen", every_days=7),
        ),
    )
    assert first.scheduled_at == MONDAY_9_LONDON and len(_occurrences(first)) == 1
    clock.moment = SUNDAY + timedelta(days=2)
    series.fill_due_series()
    # At least 7 days later, into the next free slot: Monday 10 June 09:00.
    assert [p.scheduled_at for p in _occurrences(first)] == [
        MONDAY_9_LONDON,
        MONDAY_9_LONDON + timedelta(days=7),
    ]
    with pytest.raises(InvalidInput):
        _start(world.bob, channels[:1], Repeat(kind="evergreen", count=3))


def test_repeat_needs_a_time_or_the_queue(world, channels, clock):
    with pytest.raises(InvalidInput):
        actions.create_post(
            Actor(user=world.bob),
            access_for(world.bob, "acme"),
            PostInput(
                text="x", channel_ids=[channels[0].pk], when="now", repeat=Repeat(kind="days")
            ),
        )


def test_composer_creates_a_repeating_post(world, channels, clock):
    client = Client()
    client.force_login(world.bob)
    response = client.post(
        "/w/acme/publishing/new/",
        {
            "text": "Tuesday tasting",
            "channels": [channels[0].pk],
            "when": "at",
            "scheduled_at": "2030-06-04T10:00",
            "repeat": "weekly",
            "repeat_weekdays": ["1", "4"],
            "repeat_end": "count",
            "repeat_count": "6",
            "variations": "Tasting again\n---\nLast call",
        },
    )
    assert response.status_code == 302, response.content.decode()
    made = Post.objects.filter(series__isnull=False).order_by("occurrence")
    assert [p.text for p in made] == ["Tuesday tasting", "Tasting again"]
    assert made[0].series is not None and made[0].series.max_occurrences == 6
    edit = client.get(f"/w/acme/publishing/posts/{made[1].pk}/edit/").content.decode()
    assert 'data-testid="series-note"' in edit


def test_repeating_post_through_the_api(world, channels, clock):
    secret = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    created = client.post(
        "/api/v1/workspaces/acme/posts",
        {
            "text": "Daily",
            "channels": [channels[0].pk],
            "when": "at",
            "scheduled_at": "2030-06-03T09:00:00+01:00",
            "time_zone": "Europe/London",
            "repeat": {"kind": "days", "every_days": 1, "count": 10, "variations": ["Again"]},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["occurrence"] == 1 and body["series"]["kind"] == "days"
    assert body["series"]["approved"] is True
    assert body["series"]["next_times"][0] == "2030-06-10T08:00:00Z"
    stopped = client.post(f"/api/v1/workspaces/acme/posts/{body['id']}/stop-series")
    assert stopped.status_code == 200 and stopped.json()["series"]["active"] is False
    again = client.post(f"/api/v1/workspaces/acme/posts/{body['id']}/stop-series")
    assert again.status_code == 409


def test_calendar_shows_occurrences_not_made_yet_as_planned(world, channels, clock):
    first = _start(world.bob, channels[:1], Repeat(kind="days", every_days=1, count=20))
    client = Client()
    client.force_login(world.bob)
    html = client.get("/w/acme/publishing/calendar/?month=2030-06").content.decode()
    # Seven made (3 to 9 June), thirteen planned (10 to 22 June).
    assert html.count('data-testid="planned"') == 13
    assert f"/w/acme/publishing/posts/{_occurrences(first)[-1].pk}/" in html
    other = client.get(f"/w/acme/publishing/calendar/?month=2030-06&channel={channels[1].pk}")
    assert 'data-testid="planned"' not in other.content.decode()


def test_occurrences_missed_while_workers_were_down_are_skipped(world, channels, clock):
    first = _start(world.bob, channels[:1], Repeat(kind="days", every_days=1, count=30))
    clock.moment = datetime(2030, 6, 20, 12, 0, tzinfo=UTC)
    series.fill_due_series()
    made = _occurrences(first)
    # 10 to 20 June passed unseen: skipped (and counted), never published late.
    assert [p.occurrence for p in made][6:9] == [7, 19, 20]
    assert made[7].scheduled_at == datetime(2030, 6, 21, 8, 0, tzinfo=UTC)
    assert all(p.scheduled_at > clock.moment for p in made[7:])
