"""The click buffer: batches by count and by time, keeps failed batches, loses nothing on stop."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

from django.test import Client

from minbar.links import recorder
from minbar.links.models import Click, ClickDay
from minbar.links.recorder import ClickRecorder, PendingClick
from minbar.links.rollups import recompute

from .helpers import click, make_link

WAIT = 30  # seconds; a generous bound for a thread to run, not a performance check


def _pending(n: int) -> PendingClick:
    return PendingClick(
        link_id=1,
        workspace_id=1,
        channel_id=None,
        post_id=None,
        contact_id=None,
        click_id=f"c{n}",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        ip="",
        user_agent="",
        ua_class="desktop",
        referrer_host="",
    )


class FakeWriter:
    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.fail_times = fail_times
        self.wrote = threading.Event()

    def __call__(self, batch: list[PendingClick]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("database away")
        self.batches.append([c.click_id for c in batch])
        self.wrote.set()


def test_the_flusher_writes_as_soon_as_a_batch_is_full():
    writer = FakeWriter()
    buffer = ClickRecorder(writer, batch_size=3, interval=3600)
    for n in range(3):
        buffer.record(_pending(n))
    assert writer.wrote.wait(WAIT)
    assert writer.batches == [["c0", "c1", "c2"]]
    buffer.shutdown()


def test_the_flusher_writes_what_waits_after_the_interval():
    writer = FakeWriter()
    buffer = ClickRecorder(writer, batch_size=1000, interval=0.05)
    buffer.record(_pending(1))
    assert writer.wrote.wait(WAIT)
    assert writer.batches == [["c1"]]
    buffer.shutdown()


def test_shutdown_writes_what_is_left_and_later_clicks_are_written_at_once():
    writer = FakeWriter()
    buffer = ClickRecorder(writer, batch_size=1000, interval=3600)
    for n in range(5):
        buffer.record(_pending(n))
    assert buffer.shutdown() == 5
    assert sum(len(b) for b in writer.batches) == 5
    buffer.record(_pending(9))  # a request still running after the server stopped
    assert writer.batches[-1] == ["c9"] and buffer.pending() == 0


def test_a_batch_that_fails_is_kept_in_order_and_written_next_time():
    writer = FakeWriter(fail_times=1)
    buffer = ClickRecorder(writer, batch_size=1000, interval=3600, background=False)
    buffer.record(_pending(1))
    buffer.record(_pending(2))
    assert buffer.flush() == 0 and buffer.pending() == 2
    buffer.record(_pending(3))
    assert buffer.flush() == 3
    assert writer.batches == [["c1", "c2", "c3"]]


def test_count_written_equals_clicks_sent_through_the_batch_writer(world):
    link = make_link(world.alice)
    client = Client()
    for n in range(120):
        click(client, link, ip=f"203.0.113.{n % 40}")
        if n % 50 == 49:
            recorder.flush()
    recorder.flush()
    assert Click.objects.count() == 120
    day = ClickDay.objects.get()
    assert day.clicks == 120 and day.visitors == 40


def test_shutdown_hook_of_the_server_writes_the_buffer(world):
    from minbar.core.server import _shutdown_hooks, run_shutdown_hooks

    assert recorder.shutdown in _shutdown_hooks
    link = make_link(world.alice)
    for _ in range(7):
        click(Client(), link)
    assert Click.objects.count() == 0
    run_shutdown_hooks()
    assert Click.objects.count() == 7


def test_recompute_rebuilds_the_rollups_from_raw_clicks(world):
    link = make_link(world.alice)
    client = Client()
    for n in range(6):
        click(client, link, ip=f"203.0.113.{n % 2}")
    for _bot in range(3):
        click(client, link, ua="Twitterbot/1.0")
    recorder.flush()
    day = ClickDay.objects.get()
    before = (day.clicks, day.visitors, day.bots)
    ClickDay.objects.update(clicks=999, visitors=999)
    Click.objects.update(first_of_day=True)
    today = day.day
    assert recompute(today, today) == 6
    day = ClickDay.objects.get()  # rebuilt
    assert (day.clicks, day.visitors, day.bots) == before == (6, 2, 3)
    assert Click.objects.filter(first_of_day=True).count() == 2


def test_the_rollup_command_and_the_salt_purge(world):
    from datetime import timedelta

    from django.core.management import call_command

    from minbar.links.models import VisitorSalt
    from minbar.links.rollups import forget_old_salts, visitor_hash

    link = make_link(world.alice)
    click(Client(), link)
    recorder.flush()
    ClickDay.objects.update(clicks=0)
    call_command("links_rollup", "--days", "1", stdout=io.StringIO())
    assert ClickDay.objects.get().clicks == 1
    today = datetime.now(UTC).date()
    old = today - timedelta(days=3)
    same = visitor_hash("192.0.2.1", "ua", old)
    assert same == visitor_hash("192.0.2.1", "ua", old) != visitor_hash("192.0.2.1", "ua", today)
    assert forget_old_salts(today) == 1
    assert not VisitorSalt.objects.filter(day=old).exists()
