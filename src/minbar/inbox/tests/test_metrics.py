"""Response rate and first-response time in business hours; target warnings; settings page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from minbar.accounts.models import User
from minbar.core.actor import Actor
from minbar.inbox import actions, metrics
from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import Contact, InboxSettings, Item, Reply
from minbar.notifications.models import Notification
from minbar.workspaces.access import WorkspaceAccess, access_for

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _as(user: User) -> tuple[Actor, WorkspaceAccess]:
    return Actor(user=user), access_for(user, "acme")


def _item(world, channel, n: int, at: datetime, **extra) -> Item:
    contact, _ = Contact.objects.get_or_create(
        workspace=world.acme, network="sandbox", remote_id=f"fan{n}", handle=f"@fan{n}"
    )
    extra.setdefault("reply_remote_id", f"e{n}")
    return Item.objects.create(
        workspace=world.acme,
        channel=channel,
        remote_id=f"e{n}",
        kind="comment",
        contact=contact,
        text=f"question {n}",
        remote_created_at=at,
        **extra,
    )


def test_rate_and_times_count_business_hours_and_leave_rules_and_spam_out(world, channel):
    hours = BusinessHours.parse("UTC", {str(d): [["09:00", "17:00"]] for d in range(5)}, [])
    # Answered 30 business minutes later, by Bob.
    _item(
        world,
        channel,
        1,
        MONDAY_9,
        first_response_at=MONDAY_9 + timedelta(minutes=30),
        first_responder=world.bob,
    )
    # Friday 16:30, answered Monday 09:30: one business hour.
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    _item(
        world,
        channel,
        2,
        friday,
        first_response_at=datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
        first_responder=world.alice,
    )
    unanswered = _item(world, channel, 3, MONDAY_9)
    Reply.objects.create(item=unanswered, text="auto", by_rule=True, state="sent")
    _item(world, channel, 4, MONDAY_9, status="spam")
    _item(world, channel, 5, MONDAY_9, reply_remote_id="")  # cannot be answered there
    report = metrics.report(
        Item.objects.filter(workspace=world.acme), hours, MONDAY_9, MONDAY_9 + timedelta(days=14)
    )
    total = report.total
    assert (total.received, total.answerable, total.answered) == (5, 3, 2)
    assert total.rate == 2 / 3 and total.answered_by_rules == 1
    assert sorted(total.times) == [1800, 3600]
    assert total.median_seconds == 2700 and total.average_seconds == 2700
    assert report.by_member[world.bob.pk].times == [1800]
    assert metrics.humanize_seconds(3900) == "1 h 05 min"


def test_response_target_is_set_on_arrival_and_warned_then_breached_once(world, channel):
    from minbar.connectors.types import Author, Interaction, InteractionKind, RemoteRef
    from minbar.inbox import ingestion

    InboxSettings.objects.create(
        workspace=world.acme,
        time_zone="UTC",
        hours={str(d): [["00:00", "00:00"]] for d in range(7)},  # around the clock
        first_response_target_minutes=60,
        warn_before_minutes=15,
    )
    arrived = timezone.now()
    ingestion.ingest(
        channel,
        [
            Interaction(
                remote_id="e77",
                kind=InteractionKind.COMMENT,
                author=Author(remote_id="fan77", handle="@fan77"),
                created_at=arrived,
                text="Is anyone there?",
                post=RemoteRef("p1"),
                parent=RemoteRef("p1"),
                ref=RemoteRef("p1"),
            )
        ],
    )
    item = Item.objects.get(remote_id="e77")
    assert item.response_due_at is not None
    assert abs((item.response_due_at - arrived).total_seconds() - 3600) < 1
    assert actions.check_response_targets(arrived + timedelta(minutes=30)) == 0
    assert actions.check_response_targets(arrived + timedelta(minutes=50)) == 1
    assert actions.check_response_targets(arrived + timedelta(minutes=50)) == 0
    assert actions.check_response_targets(arrived + timedelta(minutes=61)) == 1
    assert actions.check_response_targets(arrived + timedelta(minutes=90)) == 0
    kinds = list(Notification.objects.filter(user=world.alice).values_list("kind", flat=True))
    assert kinds.count("inbox.response_due") == 1 and kinds.count("inbox.response_overdue") == 1


def test_metrics_page_shows_kpis_and_outsiders_get_404(world, channel):
    _item(world, channel, 1, timezone.now() - timedelta(hours=1))
    member = Client()
    member.login(username="bob", password=PASSWORD)
    page = member.get("/w/acme/inbox/metrics/?days=7")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="rate"' in body and "0%" in body and "<svg" in body
    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get("/w/acme/inbox/metrics/").status_code == 404
    assert outsider.get("/w/acme/inbox/hours/").status_code == 404


def test_business_hours_page_saves_a_sunday_to_thursday_week(world):
    owner = Client()
    owner.login(username="alice", password=PASSWORD)
    form = {"time_zone": "Asia/Riyadh", "holidays": "2026-12-02\n2026-09-23"}
    for day in (6, 0, 1, 2, 3):
        form |= {f"open_{day}": "1", f"start_{day}": "08:00", f"end_{day}": "16:00"}
    form |= {"first_response_target_minutes": "30", "warn_before_minutes": "10"}
    assert owner.post("/w/acme/inbox/hours/", form).status_code == 302
    saved = InboxSettings.objects.get(workspace=world.acme)
    assert sorted(saved.hours) == ["0", "1", "2", "3", "6"]
    assert saved.holidays == ["2026-09-23", "2026-12-02"]
    hours = BusinessHours.of(world.acme)
    assert hours.is_open(datetime(2026, 11, 29, 6, 0, tzinfo=UTC))  # Sunday 09:00 in Riyadh
    assert not hours.is_open(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))  # Friday
    bad = owner.post("/w/acme/inbox/hours/", form | {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 422
    member = Client()
    member.login(username="bob", password=PASSWORD)
    assert member.get("/w/acme/inbox/hours/").status_code == 403


def test_metrics_through_the_api(world, channel):
    _item(world, channel, 1, timezone.now() - timedelta(hours=2))
    api = Client()
    api.login(username="bob", password=PASSWORD)
    data = api.get("/api/v1/workspaces/acme/inbox-metrics?days=7").json()
    assert data["total"]["received"] == 1 and data["total"]["response_rate"] == 0.0
    assert str(channel.pk) in data["by_channel"]


def test_metrics_page_counts_sentiment_corrections(world, channel):
    item = _item(world, channel, 9, timezone.now() - timedelta(hours=1), sentiment="positive")
    actions.correct_sentiment(*_as(world.bob), item.pk, "negative")
    page = Client()
    page.login(username="bob", password=PASSWORD)
    body = page.get("/w/acme/inbox/metrics/").content.decode()
    assert "Positive → Negative: 1" in body


def test_arabic_metrics_page_keeps_chart_numbers_plain_and_its_title_short(world, channel):
    """Arabic writes decimals with U+066B, which SVG cannot read; the chart is not localized.
    The page title holds only its name (the corrections panel appears once, in the page)."""
    world.bob.language = "ar"
    world.bob.save()
    for hours in (1, 30, 55):
        _item(world, channel, hours, timezone.now() - timedelta(hours=hours))
    page = Client()
    page.login(username="bob", password=PASSWORD)
    body = page.get("/w/acme/inbox/metrics/?days=7").content.decode()
    start = body.index('class="chart"')
    svg = body[start : body.index("</svg>", start)]
    assert "\u066b" not in svg
    assert re.search(r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+"', svg)
    title = body[body.index("<title>") : body.index("</title>")]
    assert "corrections" not in title
    assert body.count('data-testid="corrections"') == 1
