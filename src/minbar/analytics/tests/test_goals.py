"""Goals: baseline, target, progress, projection and status on hand-computed numbers; alerts.

The goal runs 1 to 10 March 2026 in Asia/Riyadh (UTC+3); its baseline is 19 to
28 February there. Events are placed so that the time zone decides the day:
28 February 22:30 UTC is already 1 March in Riyadh.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from minbar.analytics import actions
from minbar.analytics import goals as g
from minbar.analytics.models import AccountSnapshot, Goal, PostTag, TargetKind
from minbar.analytics.providers import reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, Event, get_store
from minbar.analytics.tests.helpers import fake_channel, install_fake_networks
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.notifications.models import Notification
from minbar.workspaces.access import access_for

ZONE = "Asia/Riyadh"
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _no_links_app():
    set_link_provider(None)
    yield
    reset_link_provider()


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def record(channel, moment: datetime, post_id: int = 1, **values: int) -> None:
    get_store().record(
        [
            Event(channel.workspace_id, channel.pk, post_id, post_id, metric, moment, value)
            for metric, value in values.items()
        ]
    )
    get_store().roll_up(datetime.now(UTC) + LAG)


@pytest.fixture
def pulse(world, monkeypatch):
    """A Pulse channel (likes, comments, clicks, impressions) with a hand-made history."""
    install_fake_networks(monkeypatch)
    channel = fake_channel(world.acme, "pulse")
    # Baseline days (19-28 Feb in Riyadh): 60 + 40 = 100 engagements, 2,000 impressions.
    record(channel, at(20, 12, month=2), likes=60, impressions=1200)
    record(channel, at(27, 9, month=2), comments=40, impressions=800)
    # 28 Feb 22:30 UTC is 1 March 01:30 in Riyadh: the goal's first day, not the baseline.
    record(channel, datetime(2026, 2, 28, 22, 30, tzinfo=UTC), likes=10, impressions=400)
    # 3 March: 30 more (40 by the 4th), 600 more impressions (1,000).
    record(channel, at(3, 10), likes=20, clicks=10, impressions=600)
    # 10 March 21:30 UTC is 11 March in Riyadh: after the goal.
    record(channel, datetime(2026, 3, 10, 21, 30, tzinfo=UTC), likes=500)
    return channel


def make_goal(world, **fields) -> Goal:
    values: dict[str, Any] = {
        "name": "More engagement in March",
        "metric": "engagements",
        "target_kind": TargetKind.PERCENT,
        "target_value": Decimal("15"),
        "start_day": FIRST,
        "end_day": LAST,
        "time_zone": ZONE,
    } | fields
    data = actions.GoalInput(**values)
    return actions.create_goal(Actor(user=world.alice), access_for(world.alice, "acme"), data)


def summary(goal: Goal, today: date) -> g.GoalSummary:
    return g.summarize(g.reading_access(goal.workspace), goal, today=today)


# -- arithmetic ---------------------------------------------------------------------


def test_percent_goal_on_an_additive_metric_is_projected_at_the_pace_so_far(world, pulse):
    goal = make_goal(world)
    assert goal.baseline == 100  # the 28 Feb 22:30 UTC likes belong to 1 March in Riyadh
    result = summary(goal, date(2026, 3, 4))
    assert result.target == pytest.approx(115)  # 100 + 15 %
    assert result.current == 40  # 10 (1 March, Riyadh) + 30 (3 March)
    assert result.elapsed_days == 4 and result.total_days == 10
    assert result.projection == pytest.approx(100)  # 40 * 10 / 4
    assert result.progress == pytest.approx(40 / 115)
    assert result.status == "behind"  # 100 / 115 = 87 % < 90 %
    # The chart's series: cumulative values through each measured day.
    assert result.series == [
        (date(2026, 3, 1), 10.0),
        (date(2026, 3, 2), 10.0),
        (date(2026, 3, 3), 40.0),
        (date(2026, 3, 4), 40.0),
    ]


def test_the_eleventh_of_march_in_riyadh_is_after_the_goal(world, pulse):
    goal = make_goal(world)
    final = summary(goal, date(2026, 3, 12))
    assert final.current == 40  # the 500 likes at 21:30 UTC on the 10th are on the 11th there
    assert final.status == "missed"
    assert final.projection == 40


def test_at_risk_between_ninety_percent_and_the_target_and_on_track_at_it(world, pulse):
    at_risk = make_goal(world, target_kind=TargetKind.ABSOLUTE, target_value=Decimal("105"))
    # projection 100 / 105 = 95 % of the way
    assert summary(at_risk, date(2026, 3, 4)).status == "at_risk"
    on_track = make_goal(world, target_kind=TargetKind.ABSOLUTE, target_value=Decimal("100"))
    assert summary(on_track, date(2026, 3, 4)).status == "on_track"


def test_an_additive_goal_is_achieved_as_soon_as_the_target_is_reached(world, pulse):
    goal = make_goal(world, target_kind=TargetKind.ABSOLUTE, target_value=Decimal("40"))
    assert summary(goal, date(2026, 3, 4)).status == "achieved"


def test_before_the_first_day_a_goal_has_not_started(world, pulse):
    goal = make_goal(world)
    result = summary(goal, date(2026, 2, 28))
    assert result.status == "not_started"
    assert result.current is None and result.series == []


def test_a_rate_is_projected_as_its_current_value(world, pulse):
    goal = make_goal(
        world,
        metric="engagement_rate",
        target_kind=TargetKind.ABSOLUTE,
        target_value=Decimal("4.4"),  # percent
    )
    assert goal.baseline == pytest.approx(100 / 2000)  # 5 % over the baseline days
    result = summary(goal, date(2026, 3, 4))
    assert result.target == pytest.approx(0.044)
    assert result.current == pytest.approx(40 / 1000)  # 4 %
    assert result.projection == pytest.approx(0.04)  # not extrapolated
    assert result.status == "at_risk"  # 0.040 / 0.044 = 91 %


def test_a_percent_target_on_a_rate_moves_the_baseline_rate(world, pulse):
    goal = make_goal(world, metric="engagement_rate", target_value=Decimal("10"))
    result = summary(goal, date(2026, 3, 4))
    assert result.target == pytest.approx(0.055)  # 5 % + 10 % of it
    assert result.status == "behind"  # 0.040 / 0.055 = 73 %


def test_lower_is_better_targets_are_a_decrease():
    response_time = g.METRICS["response_time"]
    goal = Goal(metric="response_time", target_kind=TargetKind.PERCENT, target_value=Decimal("25"))
    assert g.target_of(goal, 3600) == pytest.approx(2700)  # an hour, 25 % faster
    absolute = Goal(
        metric="response_time", target_kind=TargetKind.ABSOLUTE, target_value=Decimal("30")
    )
    assert g.target_of(absolute, None) == 1800  # 30 minutes
    common: dict[str, Any] = {"started": True, "ended": False, "target": 2700.0}
    assert g.status_of(response_time, current=2600, projection=2600, **common) == "on_track"
    # 2700 / 2900 = 93 % of the way
    assert g.status_of(response_time, current=2900, projection=2900, **common) == "at_risk"
    assert g.status_of(response_time, current=3100, projection=3100, **common) == "behind"
    ended = common | {"ended": True}
    assert g.status_of(response_time, current=2600, projection=2600, **ended) == "achieved"
    assert g.status_of(response_time, current=2800, projection=2800, **ended) == "missed"


def test_followers_gained_compare_snapshots_before_and_after_the_days(world, pulse):
    for day, count in (
        (date(2026, 2, 18), 1000),
        (date(2026, 2, 28), 1100),
        (date(2026, 3, 3), 1130),
    ):
        AccountSnapshot.objects.create(
            workspace=world.acme,
            channel=pulse,
            day=day,
            fetched_at=datetime.combine(day, datetime.min.time(), UTC),
            values={"followers": count},
        )
    goal = make_goal(
        world,
        metric="followers_gained",
        target_kind=TargetKind.ABSOLUTE,
        target_value=Decimal("100"),
    )
    assert goal.baseline == 100  # 1,000 before 19 Feb, 1,100 by the end of 28 Feb
    result = summary(goal, date(2026, 3, 4))
    assert result.current == 30
    assert result.projection == pytest.approx(75)  # 30 * 10 / 4
    assert result.status == "behind"


def test_a_tag_goal_counts_only_the_tagged_posts(world, pulse):
    PostTag.objects.create(workspace=world.acme, post_id=7, tag="launch")
    record(pulse, at(2, 8), post_id=7, likes=12)
    record(pulse, at(2, 9), post_id=8, likes=99)
    goal = make_goal(
        world, tag="#launch", target_kind=TargetKind.ABSOLUTE, target_value=Decimal("30")
    )
    assert goal.tag == "launch"
    result = summary(goal, date(2026, 3, 4))
    assert result.scope == "tag"
    assert result.current == 12
    assert result.projection == pytest.approx(30)
    assert result.status == "on_track"
    assert [s.goal_id for s in g.goal_summaries(world.acme, tag="launch")] == [goal.pk]
    assert g.goal_summaries(world.acme) == []  # the workspace's own goals: none


def test_goal_summaries_is_the_public_view_of_a_scope(world, pulse):
    goal = make_goal(world)
    channel_goal = make_goal(world, name="Channel", channel_id=pulse.pk)
    (only,) = g.goal_summaries(world.acme, today=date(2026, 3, 4))
    assert only.goal_id == goal.pk
    assert only.metric_label == "Engagements"
    assert (only.baseline, only.target, only.current) == (100, pytest.approx(115), 40)
    assert only.status == "behind" and only.status_label == "Behind"
    (mine,) = g.goal_summaries(world.acme, channel_id=pulse.pk, today=date(2026, 3, 4))
    assert mine.goal_id == channel_goal.pk and mine.scope_label == "@acme"


def test_checkpoints_spread_over_the_days_and_end_today():
    assert g.checkpoints(date(2026, 3, 1), date(2026, 3, 1)) == [date(2026, 3, 1)]
    days = g.checkpoints(date(2026, 1, 1), date(2026, 3, 31))
    assert len(days) == g.SERIES_POINTS
    assert days[0] == date(2026, 1, 1) and days[-1] == date(2026, 3, 31)


# -- validation ---------------------------------------------------------------------


def errors_of(world, **fields) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        make_goal(world, **fields)
    return caught.value


def test_bad_goals_are_refused_field_by_field(world, pulse):
    assert errors_of(world, end_day=date(2026, 2, 1)).fields == {
        "end_day": "The last day must be on or after the first day."
    }
    assert errors_of(world, target_value=Decimal("0")).fields == {
        "target_value": "Enter a target above zero."
    }
    assert errors_of(world, target_value=Decimal("-5")).fields == {
        "target_value": "Enter a target above zero."
    }
    assert "metric" in errors_of(world, metric="vibes").fields
    assert "name" in errors_of(world, name="  ").fields
    both = errors_of(world, channel_id=pulse.pk, tag="launch")
    assert both.fields == {"tag": "Choose one channel or one tag, not both."}
    assert "metric" in errors_of(world, metric="response_rate", tag="launch").fields
    assert "channel_id" in errors_of(world, channel_id=pulse.pk + 999).fields
    assert "owner_id" in errors_of(world, owner_id=world.charlie.pk).fields
    assert Goal.objects.count() == 0


def test_a_percent_target_needs_a_baseline_above_zero(world, pulse):
    zero = errors_of(world, start_day=date(2026, 1, 10), end_day=date(2026, 1, 12))
    assert zero.fields == {"target_kind": "The baseline is 0: any percentage of it is 0."}
    assert "was 0 from" in zero.message and "Enter a value to reach instead" in zero.message
    unmeasured = errors_of(world, metric="conversions")  # no links app: not measured at all
    assert unmeasured.fields == {"target_kind": "No baseline to take a percentage of."}
    assert "Conversions was not measured from" in unmeasured.message
    # The same goal with a value to reach is fine.
    assert make_goal(world, metric="conversions", target_kind=TargetKind.ABSOLUTE).pk


def test_editing_what_is_measured_measures_the_baseline_again(world, pulse):
    goal = make_goal(world)
    access = access_for(world.alice, "acme")
    data = actions.GoalInput(
        name=goal.name,
        metric="impressions",
        target_kind=TargetKind.PERCENT,
        target_value=Decimal("10"),
        start_day=FIRST,
        end_day=LAST,
        time_zone=ZONE,
    )
    updated = actions.update_goal(Actor(user=world.alice), access, goal.pk, data)
    assert updated.baseline == 2000


def test_only_people_who_manage_campaigns_change_goals(world, pulse):
    from conftest import make_user
    from minbar.workspaces.models import Membership

    analyst = make_user("ana")
    Membership.objects.create(user=analyst, workspace=world.acme, role="analyst")
    data = actions.GoalInput(
        name="x",
        metric="engagements",
        target_kind=TargetKind.ABSOLUTE,
        target_value=Decimal("1"),
        start_day=FIRST,
        end_day=LAST,
    )
    with pytest.raises(NotAllowed):
        actions.create_goal(Actor(user=analyst), access_for(analyst, "acme"), data)
    bobs = actions.create_goal(Actor(user=world.bob), access_for(world.bob, "acme"), data)
    assert bobs.owner_id == world.bob.pk and bobs.created_by_id == world.bob.pk
    assert bobs.time_zone == world.acme.time_zone  # bob has no zone of his own


# -- alerts -------------------------------------------------------------------------


def test_behind_alerts_once_per_fall_and_again_after_a_recovery(
    world, pulse, django_capture_on_commit_callbacks
):
    goal = make_goal(world, owner_id=world.bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.check_goal(goal, today=date(2026, 3, 4)) == "behind"
        assert actions.check_goal(goal, today=date(2026, 3, 4)) == "behind"
    alerts = Notification.objects.filter(kind="goal_behind")
    assert sorted(n.user.username for n in alerts.all()) == ["alice", "bob"]  # owner + admins
    first = alerts.first()
    assert first is not None
    assert first.url == f"/w/acme/analytics/goals/#goal-{goal.pk}"
    assert "Goal behind: More engagement in March" in first.title
    assert "will reach 100 by" in first.body and "the target is 115" in first.body
    assert len(mail.outbox) == 2
    # Recovers: 6 more engagements on the 4th -> 46, projected 115.
    record(pulse, at(4, 6), comments=6)
    assert actions.check_goal(goal, today=date(2026, 3, 4)) == "on_track"
    goal.refresh_from_db()
    assert goal.alerted_behind is False and goal.last_status == "on_track"
    assert alerts.count() == 2
    # Nothing more by the 8th: projected 57.5, behind again, told again.
    assert actions.check_goal(goal, today=date(2026, 3, 8)) == "behind"
    assert alerts.count() == 4


def test_the_daily_check_looks_at_each_goal_once_a_local_day(world, pulse):
    today = timezone.now().date()
    goal = make_goal(
        world,
        start_day=today - timedelta(days=5),
        end_day=today + timedelta(days=30),
        target_kind=TargetKind.ABSOLUTE,
    )
    make_goal(
        world,
        name="Long over",
        start_day=date(2025, 1, 1),
        end_day=date(2025, 1, 31),
        target_kind=TargetKind.ABSOLUTE,
    )
    assert actions.check_goals() == 1  # the one that ended long ago is left alone
    assert actions.check_goals() == 0  # already checked today in Riyadh
    goal.refresh_from_db()
    assert goal.last_checked_at is not None and goal.last_status


def test_the_command_prints_goals_and_runs_the_check(world, pulse):
    from io import StringIO

    from django.core.management import call_command

    make_goal(world, target_kind=TargetKind.ABSOLUTE, target_value=Decimal("50"))
    out = StringIO()
    call_command("analytics", "goals", "--workspace", "acme", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("acme\t") and "now 40\ttarget 50\tprojected 40\tmissed" in line
    out = StringIO()
    call_command("analytics", "check-goals", stdout=out)
    assert out.getvalue().strip() == "Checked 0 goal(s)."  # it ended in March
