"""Simulated time: events are released when their time comes, by the task and on reads."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from minbar.sandbox import actions, queries
from minbar.sandbox.models import EventKind, SandboxEvent, to_ms
from minbar.sandbox.tasks import advance_sandbox
from minbar.sandbox.tests.helpers import Api, install_clock, new_account

pytestmark = pytest.mark.django_db


def released(account) -> int:
    account.refresh_from_db()
    return SandboxEvent.objects.filter(
        account=account, due_ms__lte=account.released_until_ms
    ).count()


def test_a_post_schedules_its_future_and_releases_it_as_simulated_time_passes(monkeypatch):
    clock = install_clock(monkeypatch)
    account = new_account(speed=60).account
    published = actions.publish(account, text="Our new espresso blend #coffee")
    post = published.post
    assert published.scheduled == post.simulated > 100
    assert released(account) == 0
    clock.pass_time(minutes=10)  # ten real minutes are ten simulated hours at speed 60
    actions.release(account)
    first = released(account)
    assert first > 0
    post_events = SandboxEvent.objects.filter(post=post)
    due = post_events.filter(due_ms__lte=account.released_until_ms)
    assert all(e.due_ms - post.published_sim_ms <= 10 * 3600 * 1000 for e in due)
    # Released events got real times between publication and now, in order.
    occurred = list(due.order_by("due_ms", "id").values_list("occurred_ms", flat=True))
    times = [t for t in occurred if t is not None]
    assert len(times) == len(occurred) and times == sorted(times)
    assert to_ms(post.created_at) <= times[0] and times[-1] <= to_ms(clock.moment)
    clock.pass_time(hours=2)
    actions.release(account)
    assert released(account) > first
    assert post_events.filter(due_ms__gt=account.released_until_ms).count() == 0  # all out


def test_the_periodic_task_advances_every_running_account(monkeypatch):
    clock = install_clock(monkeypatch)
    running = new_account(speed=60).account
    frozen = new_account(speed=0, handle="frozen").account
    actions.publish(running, text="Coffee #coffee")
    actions.publish(frozen, text="Coffee #coffee")
    clock.pass_time(minutes=30)
    result = advance_sandbox.call_local()
    assert result > 0
    assert released(running) > 0
    assert released(frozen) == 0  # a stopped clock only moves with advance()
    # Through the queue as well (immediate mode in tests).
    clock.pass_time(minutes=30)
    before = released(running)
    advance_sandbox()
    assert released(running) > before


def test_reads_release_lazily(monkeypatch):
    clock = install_clock(monkeypatch)
    api = Api()
    api.connect(name="Lazy", speed=60)
    post = api.post("/posts", {"text": "Coffee #coffee"}).json()
    assert api.get(f"/posts/{post['id']}/metrics").json()["values"]["impressions"] == 0
    clock.pass_time(minutes=20)
    assert api.get(f"/posts/{post['id']}/metrics").json()["values"]["impressions"] > 0


def test_advance_and_speed_changes():
    account = new_account(speed=0).account
    actions.publish(account, text="Coffee #coffee")
    assert actions.advance(account, 3600) > 0
    start = actions.sim_now_ms(account)
    actions.set_speed(account, 600)
    assert actions.sim_now_ms(account) >= start
    actions.set_speed(account, 0)
    frozen_at = actions.sim_now_ms(account)
    assert actions.sim_now_ms(account) == frozen_at


def test_days_between_posts_bring_mentions_messages_and_follows():
    account = new_account(speed=0, flavour="facebook").account
    before = queries.follower_count(account)
    actions.advance(account, 10 * 86400)
    kinds = set(
        SandboxEvent.objects.filter(
            account=account, post__isnull=True, due_ms__lte=account.released_until_ms
        ).values_list("kind", flat=True)
    )
    assert {EventKind.MENTION, EventKind.MESSAGE, EventKind.FOLLOW, EventKind.CHATTER} <= kinds
    assert EventKind.REVIEW in kinds  # facebook-like pages get reviews
    assert queries.follower_count(account) > before
    # Each simulated day is scheduled once.
    count = SandboxEvent.objects.filter(account=account).count()
    actions.release(account)
    assert SandboxEvent.objects.filter(account=account).count() == count


def test_a_long_pause_only_simulates_the_last_month():
    account = new_account(speed=0).account
    actions.advance(account, 365 * 86400)
    first = SandboxEvent.objects.filter(account=account).order_by("due_ms").first()
    assert first is not None
    assert first.due_ms >= account.released_until_ms - 32 * 86_400_000


def test_deleting_a_post_stops_its_audience():
    account = new_account(speed=0).account
    post = actions.publish(account, text="Coffee #coffee").post
    actions.advance(account, 1800)
    actions.delete_post(account, actions.find_post(account, post.remote_id))
    pending = SandboxEvent.objects.filter(post=post, due_ms__gt=account.released_until_ms)
    assert not pending.exists()


def test_new_followers_see_later_posts():
    account = new_account(speed=0, flavour="x", follower_share=0.05).account
    audience = actions.audience_for(account)
    actions.advance(account, 20 * 86400)
    followers, no_follow = actions.followers_state(account, audience)
    assert len(followers) > len(audience.account_followers)
    assert followers <= no_follow


def test_the_command_creates_advances_and_ticks():
    out = io.StringIO()
    call_command("sandbox", "create", "--name", "CLI Coffee", "--flavour", "instagram", stdout=out)
    created = json.loads(out.getvalue())
    assert created["handle"] == "cli_coffee" and created["token"].startswith("sbx_")
    out = io.StringIO()
    call_command("sandbox", "advance", "cli_coffee", "3600", stdout=out)
    assert "events released" in out.getvalue()
    out = io.StringIO()
    call_command("sandbox", "tick", stdout=out)
    assert "events released" in out.getvalue()
    out = io.StringIO()
    call_command("sandbox", "list", stdout=out)
    assert "@cli_coffee" in out.getvalue()


def test_the_task_forgets_old_chatter(monkeypatch):
    clock = install_clock(monkeypatch)
    account = new_account(speed=86400).account  # a simulated day per real second
    clock.pass_time(seconds=60)
    advance_sandbox.call_local()
    account.refresh_from_db()
    oldest = (
        SandboxEvent.objects.filter(account=account, kind=EventKind.CHATTER)
        .order_by("due_ms")
        .values_list("due_ms", flat=True)
        .first()
    )
    assert oldest is not None
    assert oldest >= account.released_until_ms - 30 * 86_400_000
