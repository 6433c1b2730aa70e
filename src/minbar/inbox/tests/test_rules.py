"""Inbox rules: conditions, order, stop, round-robin, alerts, auto-replies; business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from conftest import PASSWORD, make_user
from minbar.accounts.models import User
from minbar.channels.actions import connector_for
from minbar.connectors.types import Author, Interaction, InteractionKind, PostRequest, RemoteRef
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.inbox import actions, ingestion
from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import Contact, Item, ItemEvent, Reply, Rule
from minbar.inbox.rules import normalize
from minbar.notifications.models import Notification
from minbar.workspaces.access import WorkspaceAccess, access_for
from minbar.workspaces.models import Membership

THURSDAY_NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _as(user: User) -> tuple[Actor, WorkspaceAccess]:
    return Actor(user=user), access_for(user, "acme")


def _said(
    channel,
    text: str,
    n: int = 1,
    *,
    followers: int | None = None,
    at=THURSDAY_NOON,
    on: str = "p1",
):
    ingestion.ingest(
        channel,
        [
            Interaction(
                remote_id=f"r{n}",
                kind=InteractionKind.COMMENT,
                author=Author(remote_id=f"fan{n}", handle=f"@p{n}", followers=followers),
                created_at=at,
                text=text,
                post=RemoteRef(on),
                parent=RemoteRef(on),
                ref=RemoteRef(on),
            )
        ],
    )
    return Item.objects.get(channel=channel, remote_id=f"r{n}")


def _rule(world, name, conditions, then, **extra) -> Rule:
    return actions.save_rule(
        *_as(world.alice), name=name, conditions=conditions, actions_=then, **extra
    )


def test_arabic_keywords_match_whatever_the_spelling(world, channel):
    assert normalize("الإستِرجاع") == normalize("الاسترجاع")
    _rule(world, "Refunds", {"keywords": ["استرجاع", "refund"]}, {"add_tags": ["refund"]})
    assert _said(channel, "أريد الإسترجاع لو سمحت", 1).tags == ["refund"]
    assert _said(channel, "Need a REFUND please", 2).tags == ["refund"]
    assert _said(channel, "متى استرجاعي؟", 4).tags == ["refund"]
    assert _said(channel, "refunded already, thanks", 3).tags == []  # whole words only


def test_rules_run_in_order_and_stop_ends_the_run(world, channel):
    _rule(world, "Urgent", {"sentiments": ["negative"]}, {"priority": 3}, stop=True)
    _rule(world, "Tag all", {"kinds": ["comment"]}, {"add_tags": ["seen"]})
    angry = _said(channel, "Terrible service, I hate this", 1)
    calm = _said(channel, "What time do you open?", 2)
    assert (angry.priority, angry.tags) == (3, [])
    assert calm.tags == ["seen"]
    assert ItemEvent.objects.filter(item=angry, kind="rule").count() == 1
    assert Rule.objects.get(name="Urgent").matched == 1


def test_round_robin_assigns_in_turn(world, channel):
    dave = make_user("dave")
    Membership.objects.create(user=dave, workspace=world.acme, role="editor")
    _rule(world, "Share", {"kinds": ["comment"]}, {"round_robin": [world.bob.pk, dave.pk]})
    owners = [_said(channel, f"hello {n}", n).assignee for n in range(1, 5)]
    assert owners == [world.bob, dave, world.bob, dave]


def test_conditions_on_links_emails_followers_and_hours(world, channel):
    _rule(world, "Links", {"has_link": True}, {"spam": True})
    _rule(world, "Big", {"min_followers": 10_000}, {"priority": 2})
    _rule(world, "Night", {"hours": "outside"}, {"add_tags": ["after-hours"]})
    assert _said(channel, "win free stuff https://x.example", 1).status == "spam"
    assert _said(channel, "hi", 2, followers=50_000).priority == 2
    assert _said(channel, "hi", 3, followers=None).priority == 1  # unknown is not "big"
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert _said(channel, "anyone?", 4, at=saturday).tags == ["after-hours"]
    assert _said(channel, "anyone?", 5).tags == []


def test_alert_and_auto_reply_run_after_the_item_is_saved(
    world, channel, django_capture_on_commit_callbacks
):
    saved = actions.save_reply_template(
        *_as(world.bob), "Got it", "Thanks {first_name}, we are on it."
    )
    _rule(
        world,
        "Complaints",
        {"keywords": ["broken"]},
        {"alert": [world.bob.pk], "auto_reply": saved.pk},
    )
    ours = connector_for(channel).publish(PostRequest(text="Orders ship today")).remote_id
    with django_capture_on_commit_callbacks(execute=True):
        item = _said(channel, "My order arrived broken", 1, on=ours)
    assert Notification.objects.filter(user=world.bob, kind="inbox.alert").exists()
    reply = Reply.objects.get(item=item)
    assert reply.by_rule and reply.state == "sent" and reply.text.startswith("Thanks")
    # Replies sent by rules are counted apart: the first human response is still to come.
    assert Item.objects.get(pk=item.pk).first_response_at is None
    assert set(ItemEvent.objects.filter(item=item).values_list("kind", flat=True)) == {
        "rule",
        "alerted",
        "auto_replied",
    }


def test_rules_are_checked_and_only_admins_change_them(world, channel):
    with pytest.raises(NotAllowed):
        actions.save_rule(
            *_as(world.bob), name="x", conditions={"kinds": ["comment"]}, actions_={"close": True}
        )
    with pytest.raises(InvalidInput, match="fix"):
        _rule(world, "Everything", {}, {"close": True})
    with pytest.raises(InvalidInput):
        _rule(world, "Nothing to do", {"kinds": ["comment"]}, {})
    with pytest.raises(InvalidInput):
        _rule(world, "Outsider", {"kinds": ["comment"]}, {"assign_to": world.charlie.pk})


def test_rules_page_saves_reorders_and_deletes(world, channel):
    owner = Client()
    owner.login(username="alice", password=PASSWORD)
    form = {"name": "VIP", "vip": "yes", "priority": "3", "enabled": "1"}
    assert owner.post("/w/acme/inbox/rules/", form).status_code == 302
    assert owner.post("/w/acme/inbox/rules/", form | {"name": "Second"}).status_code == 302
    first, second = Rule.objects.order_by("position")
    assert first.conditions == {"vip": True} and first.actions == {"priority": 3}
    owner.post("/w/acme/inbox/rules/", {"op": "up", "rule": second.pk})
    assert list(Rule.objects.order_by("position").values_list("name", flat=True)) == [
        "Second",
        "VIP",
    ]
    bad = owner.post("/w/acme/inbox/rules/", {"name": "Bad", "min_followers": "many"})
    assert bad.status_code == 422 and "Bad" in bad.content.decode()
    owner.post("/w/acme/inbox/rules/", {"op": "delete", "rule": first.pk})
    assert Rule.objects.count() == 1
    member = Client()
    member.login(username="bob", password=PASSWORD)
    assert member.get("/w/acme/inbox/rules/").status_code == 200
    assert member.post("/w/acme/inbox/rules/", form).status_code == 422
    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get("/w/acme/inbox/rules/").status_code == 404


def test_vip_contacts_and_rules(world, channel):
    Contact.objects.create(workspace=world.acme, network="sandbox", remote_id="fan7", vip=True)
    _rule(world, "VIP first", {"vip": True}, {"priority": 3})
    assert _said(channel, "hello", 7).priority == 3


@pytest.mark.parametrize(
    ("zone", "start", "end", "minutes"),
    [
        # Thursday 16:50 to Sunday 09:10 in a Sunday-to-Thursday, 9-to-17 Riyadh week: 10 + 10.
        ("Asia/Riyadh", datetime(2026, 11, 26, 13, 50), datetime(2026, 11, 29, 6, 10), 20),
        # London, Friday 16:30 → Monday 09:30 across the clocks going back (Oct 25, 2026).
        ("Europe/London", datetime(2026, 10, 23, 15, 30), datetime(2026, 10, 26, 9, 30), 60),
        # New York, the Monday after the clocks went forward: a full 8-hour day.
        ("America/New_York", datetime(2026, 3, 9, 13, 0), datetime(2026, 3, 9, 21, 0), 480),
    ],
)
def test_business_time_between_two_moments(zone, start, end, minutes):
    week = {str(d): [["09:00", "17:00"]] for d in range(5)}
    if zone == "Asia/Riyadh":
        week = {str(d): [["09:00", "17:00"]] for d in (6, 0, 1, 2, 3)}
    hours = BusinessHours.parse(zone, week, [])
    start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    assert hours.seconds_between(start, end) == minutes * 60
    assert hours.add(start, minutes * 60) == end or minutes == 0


def test_holidays_are_not_business_time():
    hours = BusinessHours.parse("UTC", {"3": [["09:00", "17:00"]]}, ["2026-11-26"])
    thursday = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert not hours.is_open(thursday)
    assert hours.seconds_between(thursday, thursday + timedelta(hours=3)) == 0


def test_an_alert_also_goes_to_webhooks_subscribed_to_inbox_alerts(
    world, channel, django_capture_on_commit_callbacks, monkeypatch
):
    from minbar.webhooks import delivery
    from minbar.webhooks.models import WebhookDelivery, WebhookEndpoint

    monkeypatch.setattr(delivery, "kick", lambda: None)
    WebhookEndpoint.objects.create(
        workspace=world.acme,
        url="https://hooks.example.com/x",
        secret="whsec_x",
        events=["inbox.alert"],
    )
    _rule(world, "Legal", {"keywords": ["lawyer"]}, {"alert": [world.bob.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        item = _said(channel, "I will call my lawyer", 1)
    sent = WebhookDelivery.objects.get(event_type="inbox.alert")
    assert sent.payload["data"]["item"]["id"] == item.pk
    assert sent.payload["data"]["rule"]["name"] == "Legal"
