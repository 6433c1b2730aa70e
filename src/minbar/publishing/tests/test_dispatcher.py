"""The dispatcher's state machine against the sandbox network (in process).

Every test publishes through the real connector to the sandbox server and
counts what the network holds, so "published once" is checked on the network's
side, not only in Minbar's rows.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from minbar.channels.models import Channel, Health
from minbar.connectors.types import RateLimitRule
from minbar.core.errors import Conflict
from minbar.notifications.models import Notification
from minbar.publishing import dispatcher, limits, tasks
from minbar.publishing.models import PostEvent, PostState, Target, TargetState
from minbar.publishing.tests.test_dispatcher_helpers import (
    kinds,
    make_post,
    network_posts,
    pass_time,
    refreshed,
    sandbox_channel,
    set_faults,
    target_of,
)
from minbar.sandbox.tests.helpers import route_sandbox_in_process


@pytest.fixture
def channel(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    return sandbox_channel(world)


def small_limits(monkeypatch, *rules: RateLimitRule) -> None:
    """Give every channel these posting limits instead of its network's."""
    real = limits.capabilities_of

    def capabilities_of(channel: Channel):
        return replace(real(channel), rate_limits=rules)

    monkeypatch.setattr(limits, "capabilities_of", capabilities_of)


# -- the happy path and the state machine -------------------------------------------------


def test_a_due_target_goes_out_once_with_its_thread_and_history(world, channel):
    post = make_post(world, [channel], text="New roast #coffee", thread=["Part two", "Part three"])
    assert dispatcher.dispatch_due() == 1
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED
    assert target.remote_id.startswith("p") and target.remote_url.startswith("http")
    assert len(target.thread_remote_ids) == 2
    assert target.attempts == 1 and target.limit_units == 3
    assert target.published_at is not None
    [out] = network_posts(channel)
    assert out.text == "New roast #coffee" and out.idempotency_key == target.idempotency_key
    assert [p.text for p in network_posts(channel, replies=True)][1:] == ["Part two", "Part three"]
    assert kinds(target) == ["target.claimed", "target.published"]
    events = PostEvent.objects.filter(target=target)
    assert [(e.from_state, e.to_state) for e in events] == [
        ("scheduled", "publishing"),
        ("publishing", "published"),
    ]
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    # Nothing left to do: a second pass sends nothing.
    assert dispatcher.dispatch_due() == 0
    assert len(network_posts(channel)) == 1


def test_first_comment_follows_the_post(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    facebook = sandbox_channel(world, "Acme Page", flavour="facebook")
    post = make_post(world, [facebook], text="Open today", first_comment="Menu: acme.example")
    dispatcher.dispatch_due()
    first, comment = network_posts(facebook, replies=True)
    assert comment.reply_to_post_id == first.pk and comment.text == "Menu: acme.example"
    assert target_of(post).state == TargetState.PUBLISHED


def test_only_due_scheduled_targets_are_claimed(world, channel):
    later = make_post(world, [channel], due=timezone.now() + timedelta(minutes=5))
    unapproved = make_post(world, [channel], state=TargetState.AWAITING_APPROVAL)
    draft = make_post(world, [channel], state=TargetState.DRAFT)
    waiting = make_post(world, [channel])
    Target.objects.filter(post=waiting).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    assert dispatcher.dispatch_due() == 0
    for post in (later, unapproved, draft, waiting):
        assert target_of(post).attempts == 0
    assert network_posts(channel) == []
    # "Publish now" may leave the due time empty: due at once.
    now_post = make_post(world, [channel])
    Target.objects.filter(post=now_post).update(due_at=None)
    assert dispatcher.dispatch_due() == 1
    assert target_of(now_post).state == TargetState.PUBLISHED


def test_a_claimed_target_cannot_be_claimed_again(world, channel):
    post = make_post(world, [channel])
    first = dispatcher._claim_next(dispatcher._Pass(worker="w1"), [])
    assert first is not None and first.post_id == post.pk
    assert first.state == TargetState.PUBLISHING and first.claimed_by == "w1"
    # Another worker finds nothing, and the conditional update SQLite relies on
    # matches no row once the state has moved.
    assert dispatcher._claim_next(dispatcher._Pass(worker="w2"), []) is None
    assert (
        Target.objects.filter(pk=first.pk, state=TargetState.SCHEDULED).update(
            state=TargetState.PUBLISHING, claimed_by="w2"
        )
        == 0
    )
    assert refreshed(first).claimed_by == "w1"


def test_post_state_follows_its_targets(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    x = sandbox_channel(world, "Acme X")
    facebook = sandbox_channel(world, "Acme FB", flavour="facebook")
    post = make_post(world, [x, facebook], text="x" * 300)  # too long for X only
    dispatcher.dispatch_due()
    states = dict(Target.objects.filter(post=post).values_list("channel_id", "state"))
    assert states == {x.pk: TargetState.FAILED, facebook.pk: TargetState.PUBLISHED}
    post.refresh_from_db()
    assert post.state == PostState.PARTLY_PUBLISHED

    both_fail = make_post(world, [x], text="y" * 300)
    dispatcher.dispatch_due()
    both_fail.refresh_from_db()
    assert both_fail.state == PostState.FAILED

    in_progress = make_post(world, [x, facebook], text="Soon")
    Target.objects.filter(post=in_progress, channel=x).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    dispatcher.dispatch_due()
    in_progress.refresh_from_db()
    assert in_progress.state == PostState.PUBLISHING  # one out, one still to go


# -- retries --------------------------------------------------------------------------------


def test_temporary_errors_are_retried_with_growing_backoff(world, channel, settings):
    settings.MINBAR_PUBLISH_RETRY_SECONDS = 10
    set_faults(channel, fail_next=["server_error", "server_error"])
    post = make_post(world, [channel])
    target = target_of(post)
    waits = []
    for attempt in (1, 2):
        before = timezone.now()
        dispatcher.dispatch_due()
        target = refreshed(target)
        assert target.state == TargetState.SCHEDULED and target.attempts == attempt
        assert target.last_error_kind == "temporary" and target.next_attempt_at is not None
        waits.append((target.next_attempt_at - before).total_seconds())
        assert dispatcher.dispatch_due() == 0  # not before its time
        pass_time(target)
    assert 4.9 <= waits[0] <= 10.5 and 9.9 <= waits[1] <= 20.5  # base·2^(n-1), upper half
    dispatcher.dispatch_due()
    target = refreshed(target)
    assert target.state == TargetState.PUBLISHED and target.attempts == 3
    assert target.last_error_kind == "" and target.last_error_message == ""
    assert len(network_posts(channel)) == 1
    assert kinds(target).count("target.retry") == 2


def test_backoff_is_capped_and_jittered(settings):
    settings.MINBAR_PUBLISH_RETRY_SECONDS = 30
    settings.MINBAR_PUBLISH_RETRY_MAX_SECONDS = 100
    delays = {dispatcher.retry_delay(1).total_seconds() for _ in range(20)}
    assert all(15 <= d <= 30 for d in delays) and len(delays) > 1
    assert all(50 <= dispatcher.retry_delay(9).total_seconds() <= 100 for _ in range(20))


def test_it_gives_up_after_max_attempts_and_tells_people(world, channel, settings):
    settings.MINBAR_PUBLISH_MAX_ATTEMPTS = 2
    set_faults(channel, fail_next=["server_error"] * 3)
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    pass_time(target_of(post))
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.FAILED and target.attempts == 2
    assert "gave up after 2 attempts" in target.last_error_message
    assert network_posts(channel) == []
    notified = Notification.objects.filter(kind="publishing.failed")
    # The owner (alice) and the author (bob, an editor); never charlie, an outsider.
    assert sorted(n.user.username for n in notified) == ["alice", "bob"]
    note = notified.first()
    assert note is not None
    assert note.url == f"/w/acme/publishing/posts/{post.pk}/"
    assert "could not be published" in note.title and "gave up" in note.body
    post.refresh_from_db()
    assert post.state == PostState.FAILED


def test_a_rate_limit_waits_retry_after_and_is_not_an_attempt(world, channel):
    set_faults(channel, fail_next=["rate_limited"], retry_after=12)
    first = make_post(world, [channel])
    before = timezone.now()
    dispatcher.dispatch_due()
    target = target_of(first)
    assert target.state == TargetState.SCHEDULED and target.attempts == 0
    assert target.next_attempt_at is not None
    assert 11.9 <= (target.next_attempt_at - before).total_seconds() <= 14
    assert kinds(target)[-1] == "target.rate_limited"
    channel.refresh_from_db()
    assert channel.health == Health.RATE_LIMITED
    # The whole channel waits: a second post due now is not sent into the 429.
    second = make_post(world, [channel])
    dispatcher.dispatch_due()
    assert kinds(target_of(second)) == ["target.waiting"]
    assert target_of(second).next_attempt_at == channel.rate_limited_until
    pass_time(target, target_of(second))
    assert dispatcher.dispatch_due() == 2
    assert {target_of(p).state for p in (first, second)} == {TargetState.PUBLISHED}
    assert target_of(first).attempts == 1
    assert len(network_posts(channel)) == 2
    channel.refresh_from_db()
    assert channel.health == Health.CONNECTED


def test_a_rejected_post_fails_with_the_networks_reason(world, channel):
    post = make_post(world, [channel], text="é" * 281)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.FAILED and target.last_error_kind == "rejected"
    assert "280" in target.last_error_message
    assert Notification.objects.filter(kind="publishing.failed").count() == 2
    channel.refresh_from_db()
    assert channel.health == Health.CONNECTED  # one refused post says nothing about the account


def test_expired_credentials_fail_the_post_and_ask_for_a_reconnect(world, channel):
    credentials = channel.get_credentials()
    credentials.secrets["access_token"] = "revoked"
    channel.set_credentials(credentials)
    channel.save()
    first, second = make_post(world, [channel]), make_post(world, [channel])
    dispatcher.dispatch_due(threads=1)
    channel.refresh_from_db()
    assert channel.health == Health.NEEDS_RECONNECT
    for post in (first, second):
        target = target_of(post)
        assert target.state == TargetState.FAILED and target.last_error_kind == "auth_expired"
        assert "Reconnect" in target.last_error_message or "reconnect" in target.last_error_message
    # Told once about the channel (its admins), and about each post.
    assert Notification.objects.filter(kind="channel.broken").count() == 1
    assert Notification.objects.filter(kind="publishing.failed").count() == 4


def test_an_unexpected_error_after_sending_is_unconfirmed_not_retried(world, channel, monkeypatch):
    from minbar.connectors.sandbox import SandboxConnector

    real = SandboxConnector.publish

    def publish_then_crash(self, request):
        real(self, request)
        raise KeyError("answer")

    monkeypatch.setattr(SandboxConnector, "publish", publish_then_crash)
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.last_error_kind == "outcome_unknown"
    monkeypatch.setattr(SandboxConnector, "publish", real)
    pass_time(target)
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED
    assert kinds(target)[-1] == "target.reconciled"
    assert len(network_posts(channel)) == 1


# -- late cutoff and held posts ----------------------------------------------------------------


def test_a_post_too_late_is_held_and_a_person_can_send_it(world, channel):
    post = make_post(world, [channel], due=timezone.now() - timedelta(minutes=45))
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.HELD
    assert "more than 30 minutes late" in target.last_error_message
    assert network_posts(channel) == []
    assert Notification.objects.filter(kind="publishing.held").count() == 2
    dispatcher.retry_target(target, actor=world.alice)
    target = target_of(post)
    assert target.state == TargetState.SCHEDULED and target.attempts == 0
    retried = PostEvent.objects.get(target=target, kind="target.retried")
    assert retried.actor == world.alice and retried.from_state == TargetState.HELD
    dispatcher.dispatch_due()
    assert target_of(post).state == TargetState.PUBLISHED
    assert len(network_posts(channel)) == 1


def test_the_late_cutoff_is_a_setting(world, channel, settings):
    settings.MINBAR_LATE_CUTOFF_MINUTES = 60
    ok = make_post(world, [channel], due=timezone.now() - timedelta(minutes=45))
    dispatcher.dispatch_due()
    assert target_of(ok).state == TargetState.PUBLISHED
    settings.MINBAR_LATE_CUTOFF_MINUTES = None  # never hold
    old = make_post(world, [channel], due=timezone.now() - timedelta(days=2))
    dispatcher.dispatch_due()
    assert target_of(old).state == TargetState.PUBLISHED


def test_only_failed_held_or_unconfirmed_targets_can_be_retried(world, channel):
    post = make_post(world, [channel])
    dispatcher.dispatch_due()
    with pytest.raises(Conflict):
        dispatcher.retry_target(target_of(post))
    assert len(network_posts(channel)) == 1


# -- limits ------------------------------------------------------------------------------------


def test_a_posting_limit_makes_posts_wait_for_the_window(world, channel, monkeypatch, settings):
    settings.MINBAR_PUBLISH_CHANNEL_CONCURRENCY = 5
    small_limits(monkeypatch, RateLimitRule("publish", 4, 600))
    thread = make_post(world, [channel], text="One", thread=["two"])  # counts 2
    singles = [make_post(world, [channel], text=f"Single {n}") for n in range(3)]
    dispatcher.dispatch_due()
    states = [target_of(p).state for p in [thread, *singles]]
    assert states == [TargetState.PUBLISHED] * 3 + [TargetState.SCHEDULED]
    waiting = target_of(singles[-1])
    assert waiting.attempts == 0 and kinds(waiting) == ["target.waiting"]
    first_sent = target_of(thread).claimed_at
    assert first_sent is not None and waiting.next_attempt_at is not None
    # Room comes back when the oldest sends (the two-part thread) leave the window.
    assert (
        abs((waiting.next_attempt_at - (first_sent + timedelta(seconds=600))).total_seconds()) < 1
    )
    assert "allows 4 posts in 10 minutes" in waiting.last_error_message
    assert len(network_posts(channel)) == 3


def test_a_limit_that_would_make_a_post_late_holds_it(world, channel, monkeypatch):
    small_limits(monkeypatch, RateLimitRule("publish", 1, 2 * 3600))
    first, second = make_post(world, [channel]), make_post(world, [channel])
    dispatcher.dispatch_due()
    assert target_of(first).state == TargetState.PUBLISHED
    held = target_of(second)
    assert held.state == TargetState.HELD and "allows 1 post in 2 hours" in held.last_error_message
    assert PostEvent.objects.get(target=held, kind="target.held").data["reason"] == "limit"


def test_network_wide_limits_count_every_channel_of_the_network(world, monkeypatch, settings):
    route_sandbox_in_process(monkeypatch)
    settings.MINBAR_LATE_CUTOFF_MINUTES = None
    small_limits(monkeypatch, RateLimitRule("publish", 2, 600, scope="app"))
    a, b = sandbox_channel(world, "Acme A"), sandbox_channel(world, "Acme B")
    posts = [make_post(world, [a, b], text=f"Post {n}") for n in range(2)]
    dispatcher.dispatch_due()
    states = sorted(t.state for t in Target.objects.filter(post__in=posts))
    assert states == [TargetState.PUBLISHED] * 2 + [TargetState.SCHEDULED] * 2


def test_the_concurrency_cap_is_per_channel_and_counted_in_the_database(world, channel):
    # Another worker is publishing to this channel right now.
    busy = make_post(world, [channel])
    Target.objects.filter(post=busy).update(
        state=TargetState.PUBLISHING, claimed_by="elsewhere", claimed_at=timezone.now()
    )
    waiting = make_post(world, [channel])
    assert dispatcher.dispatch_due() == 0
    assert target_of(waiting).state == TargetState.SCHEDULED and kinds(target_of(waiting)) == []
    assert dispatcher.next_wake_at() is not None  # it looks again shortly


def test_limit_warnings_tell_the_composer_before_scheduling(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    facebook = sandbox_channel(world, "Acme FB", flavour="facebook")  # 50 per 24 hours
    start = timezone.now() + timedelta(days=1)
    for n in range(48):
        make_post(world, [facebook], due=start + timedelta(minutes=n))
    fits = [start + timedelta(hours=2), start + timedelta(hours=3)]
    assert dispatcher.limit_warnings(facebook, fits) == []
    over = [*fits, start + timedelta(hours=4)]
    [warning] = dispatcher.limit_warnings(facebook, over)
    assert "allows 50 posts in 24 hours on one account" in warning
    assert "would put 51 on @acme_fb" in warning
    # A post being rescheduled is not counted twice.
    last = Target.objects.filter(channel=facebook).order_by("-due_at").first()
    assert last is not None
    assert dispatcher.limit_warnings(facebook, over, exclude_post=last.post_id) == []
    assert dispatcher.limit_warnings(facebook, []) == []


def test_limit_warnings_use_the_flavours_windows(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    x = sandbox_channel(world, "Acme X")  # 50 per 15 minutes, 300 per 3 hours
    start = timezone.now() + timedelta(hours=1)
    burst = [start + timedelta(seconds=10 * n) for n in range(51)]
    [warning] = dispatcher.limit_warnings(x, burst)
    assert "allows 50 posts in 15 minutes" in warning and "51" in warning
    spread = [start + timedelta(minutes=16 * n) for n in range(12)]
    assert dispatcher.limit_warnings(x, spread) == []


# -- dead workers -------------------------------------------------------------------------------


def test_the_reaper_recovers_a_claim_whose_lease_expired(world, channel, settings):
    settings.MINBAR_PUBLISH_LEASE_SECONDS = 60
    post = make_post(world, [channel])
    target = target_of(post)
    Target.objects.filter(pk=target.pk).update(
        state=TargetState.PUBLISHING,
        claimed_by="other-host:0123456789:4242:99:0",
        claimed_at=timezone.now() - timedelta(seconds=30),
        attempts=1,
    )
    assert dispatcher.reap_stale() == 0  # within its lease, on a machine we cannot check
    Target.objects.filter(pk=target.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert dispatcher.reap_stale() == 1
    target = target_of(post)
    assert target.state == TargetState.UNCONFIRMED and target.last_error_kind == "worker_lost"
    # It was never sent: the sandbox's lookup is authoritative, so it goes out now.
    dispatcher.dispatch_due()
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED and target.attempts == 2
    assert kinds(target) == [
        "target.reaped",
        "target.reconciled",
        "target.claimed",
        "target.published",
    ]
    assert len(network_posts(channel)) == 1


def test_a_dead_local_worker_is_reaped_after_a_short_grace(world, channel):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(gone.stdout)
    name = dispatcher.worker_name("0")
    host, tag, _, start, _ = name.split(":")
    dead = f"{host}:{tag}:{pid}:{start}:0"
    assert dispatcher.claimer_is_dead(dead)
    assert not dispatcher.claimer_is_dead(name)  # this very process
    assert not dispatcher.claimer_is_dead(f"other:ffffffffff:{pid}:1:0")  # another machine
    assert not dispatcher.claimer_is_dead("w1")
    post = make_post(world, [channel])
    Target.objects.filter(post=post).update(
        state=TargetState.PUBLISHING, claimed_by=dead, claimed_at=timezone.now()
    )
    assert dispatcher.reap_stale() == 0  # the network may still be finishing its request
    Target.objects.filter(post=post).update(claimed_at=timezone.now() - timedelta(seconds=6))
    assert dispatcher.reap_stale() == 1
    assert target_of(post).state == TargetState.UNCONFIRMED


def test_a_worker_presumed_lost_still_records_its_post(world, channel):
    post = make_post(world, [channel])
    run = dispatcher._Pass(worker="slow")
    target = dispatcher._claim_next(run, [])
    assert target is not None
    # The reaper took the claim while "slow" was waiting for the network.
    Target.objects.filter(pk=target.pk).update(state=TargetState.UNCONFIRMED)
    assert dispatcher.publish_claimed(target, "slow", []) == "published"
    target = target_of(post)
    assert target.state == TargetState.PUBLISHED and "presumed lost" in (
        PostEvent.objects.filter(target=target).last().message  # type: ignore[union-attr]
    )
    assert len(network_posts(channel)) == 1


# -- media, kicking and planning -------------------------------------------------------------


def test_kick_runs_a_pass_after_commit(world, channel, django_capture_on_commit_callbacks):
    post = make_post(world, [channel])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatcher.kick()
    assert len(callbacks) == 1  # nothing runs before the caller's transaction commits
    assert target_of(post).state == TargetState.PUBLISHED


def test_the_next_wake_is_the_next_thing_to_do(world, channel):
    moment = timezone.now()
    assert dispatcher.next_wake_at(moment) is None
    make_post(world, [channel], due=moment + timedelta(seconds=40))
    retry = make_post(world, [channel], due=moment - timedelta(minutes=1))
    Target.objects.filter(post=retry).update(next_attempt_at=moment + timedelta(seconds=20))
    assert dispatcher.next_wake_at(moment) == moment + timedelta(seconds=20)


def test_wake_ups_step_towards_the_due_time_on_a_polling_queue():
    moment = timezone.now()
    due = moment + timedelta(seconds=60)
    assert tasks.wake_eta(due, moment, blocking=True) == due
    assert tasks.wake_eta(due, moment, blocking=False) == due - tasks.WARM_UP
    near = moment + timedelta(seconds=5)
    assert tasks.wake_eta(near, moment, blocking=False) == moment + tasks.STEP
    assert tasks.wake_eta(moment, moment, blocking=False) == moment
    assert tasks.plan_next_wake() is None  # immediate mode (tests): nothing would run it


def test_a_channel_whose_secrets_cannot_be_read_fails_alone(world, channel, monkeypatch):
    from django.db import connection

    broken = sandbox_channel(world, "Acme Broken")
    # Stored with keys Minbar no longer has (e.g. lost in a key rotation).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_channel SET credentials_blob = %s WHERE id = %s",
            ["gAAAAABnot-a-valid-fernet-token", broken.pk],
        )
    bad, good = make_post(world, [broken]), make_post(world, [channel])
    assert dispatcher.dispatch_due() == 2
    failed = Target.objects.get(post=bad)  # not through the channel: it cannot be loaded
    assert failed.state == TargetState.FAILED
    assert "cannot be decrypted" in failed.last_error_message
    assert target_of(good).state == TargetState.PUBLISHED
    # An unconfirmed target on it is left to a person, not looked up forever.
    Target.objects.filter(pk=failed.pk).update(
        state=TargetState.UNCONFIRMED, next_attempt_at=timezone.now()
    )
    dispatcher.dispatch_due()
    failed = Target.objects.get(pk=failed.pk)
    assert failed.state == TargetState.UNCONFIRMED and failed.next_attempt_at is None
