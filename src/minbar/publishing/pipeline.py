"""One dispatcher pass: a claiming thread feeds a bounded pool of publishing threads.

A network call mostly waits (50 ms or more for an answer), so a worker needs
many calls in flight to keep up with a burst; claiming them one by one, each
thread for itself, would cost a transaction per post and make the threads
queue for the database's write lock. So the pass's own thread claims targets in
batches (:func:`minbar.publishing.claims.claim_batch`) of a pool's worth —
whenever the queue in front of the threads is empty, which is before any
thread runs out of work — and ``threads`` publishing threads each take a
claimed target, make the call and record its outcome
(``dispatcher.publish_claimed``). Claimed targets may wait in the queue for a
free thread (at most a pool's worth, for less than one network call): they
count as on their way, which is what they are about to be. A batch costs about
the same whatever its size (a dozen queries, two transactions), so larger
batches are less CPU per post: a claim per half pool cost 12 % more of
Minbar's CPU per post in bench/publishing.py's burst.

A pass that claims a pool's worth at once — a backlog, such as a burst due at
one instant — asks the queue for one more pass (:func:`_ask_for_help`), once: an
idle queue worker, in this process or another, joins in with its own threads,
and asks in turn while the backlog lasts. Without it a burst went out through
one pass's threads while the other workers waited for the next minute.

Connectors are made once per channel per pass (the credentials are decrypted
once, and the sandbox connector keeps its HTTP connections alive).

Inside a transaction (a test, a caller's ``atomic``) and with one thread, the
pass claims and publishes one target at a time in the calling thread: other
threads could not see uncommitted rows.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from typing import Any

from django.db import connection, connections

from minbar.channels.models import Channel
from minbar.publishing import claims, limits
from minbar.publishing.models import Target

logger = logging.getLogger("minbar.publishing")

Notices = list[tuple[int, str]]


class Connectors:
    """One connector per channel for the length of a pass, shared by its threads."""

    def __init__(self) -> None:
        self._made: dict[int, Any] = {}
        self._lock = threading.Lock()

    def prepare(self, targets: list[Target]) -> None:
        """Read, in one query, the credentials of the channels without a connector yet."""
        with self._lock:
            new = [t.channel for t in targets if t.channel_id not in self._made]
        claims.load_credentials(new)

    def get(self, channel: Channel) -> Any:
        from minbar.publishing.dispatcher import _connector

        with self._lock:
            made = self._made.get(channel.pk)
        if made is None:
            made = _connector(channel)  # may raise: the target fails as "could not prepare"
            with self._lock:
                made = self._made.setdefault(channel.pk, made)
        return made


def _tell(notices: Notices) -> None:
    from minbar.publishing.dispatcher import _notify

    for target_id, kind in notices:
        _notify(target_id, kind)


def _publish(target: Target, worker: str, connectors: Connectors) -> bool:
    """Publish one claimed target and record it; False when recording failed."""
    from minbar.publishing.dispatcher import publish_claimed

    notices: Notices = []
    try:
        publish_claimed(target, worker, notices, connector_for=connectors.get)
    except Exception:
        # Recording failed (the database went away?): the claim stays and the
        # reaper recovers it, so nothing is lost. The pass stops claiming.
        logger.exception("could not record the outcome of target %s", target.pk)
        return False
    finally:
        _tell(notices)
    return True


class Publishers:
    """Publishing threads, started as work arrives (at most ``size``)."""

    def __init__(self, size: int, worker: str, connectors: Connectors) -> None:
        self.size, self.worker, self.connectors = size, worker, connectors
        self.jobs: queue.SimpleQueue[Target | None] = queue.SimpleQueue()
        self.done: queue.SimpleQueue[tuple[Target, bool]] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.outstanding = 0

    def submit(self, target: Target) -> None:
        self.outstanding += 1
        if len(self.threads) < min(self.size, self.outstanding):
            thread = threading.Thread(
                target=self._work, name=f"minbar-publish-{len(self.threads)}", daemon=True
            )
            thread.start()
            self.threads.append(thread)
        self.jobs.put(target)

    def _work(self) -> None:
        try:
            while (target := self.jobs.get()) is not None:
                self.done.put((target, _publish(target, self.worker, self.connectors)))
        finally:
            connections.close_all()  # this thread's connections only

    def finished(self) -> list[tuple[Target, bool]]:
        """Wait for at least one target to be done; returns all done so far."""
        results = [self.done.get()]
        while True:
            try:
                results.append(self.done.get_nowait())
            except queue.Empty:
                break
        self.outstanding -= len(results)
        return results

    def close(self) -> None:
        """Let every thread finish what it took (claimed targets are always published)."""
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join()


def _inline(run: Any, connectors: Connectors) -> int:
    handled = 0
    while True:
        notices: Notices = []
        try:
            batch = claims.claim_batch(run, 1, notices)
        finally:
            _tell(notices)
        if not batch:
            return handled
        for target in batch:
            handled += 1
            if not _publish(target, run.worker, connectors):
                return handled
            run.busy.pop(target.channel_id, None)


def _ask_for_help() -> bool:
    """Enqueue one more dispatcher pass, for a free queue worker; True once asked."""
    from huey.contrib.djhuey import HUEY

    from minbar.publishing.tasks import dispatch_soon

    if HUEY.immediate:
        return True  # tests and debugging: it would run here, inside this pass
    try:
        dispatch_soon()
    except Exception:
        # The queue being down only means no help: this pass carries on alone.
        logger.warning("could not enqueue a helping dispatcher pass", exc_info=True)
    return True


def run_pass(worker: str, threads: int) -> int:
    """Claim and publish until nothing is claimable; returns how many targets were handled."""
    from minbar.publishing.dispatcher import _Pass

    run = _Pass(worker=worker)
    connectors = Connectors()
    if threads <= 1 or connection.in_atomic_block:
        return _inline(run, connectors)
    cap = limits.channel_concurrency()
    # A queue of up to a pool's worth waits for free threads, so that claiming
    # (a pool's worth whenever the queue is empty) never leaves threads idle.
    depth, low = 2 * threads, threads
    publishers = Publishers(threads, worker, connectors)
    on_the_way: Counter[int] = Counter()
    handled, stopping, asked = 0, False, False
    try:
        while True:
            room = depth - publishers.outstanding
            if not stopping and (publishers.outstanding == 0 or room >= low):
                notices: Notices = []
                try:
                    full = [pk for pk, n in on_the_way.items() if n >= cap]
                    batch = claims.claim_batch(run, room, notices, skip_channels=full)
                    connectors.prepare(batch)
                finally:
                    _tell(notices)
                for target in batch:
                    on_the_way[target.channel_id] += 1
                    publishers.submit(target)
                handled += len(batch)
                if not asked and len(batch) >= threads:
                    asked = _ask_for_help()
            if publishers.outstanding == 0:
                return handled
            for target, ok in publishers.finished():
                on_the_way[target.channel_id] -= 1
                if on_the_way[target.channel_id] <= 0:
                    del on_the_way[target.channel_id]
                run.busy.pop(target.channel_id, None)
                stopping = stopping or not ok
    finally:
        publishers.close()
