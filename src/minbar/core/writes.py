"""Write transactions that queue in the process, not in SQLite's busy handler.

SQLite runs one write transaction at a time (Minbar's start with ``BEGIN
IMMEDIATE``). A thread that finds the file locked is put to sleep by SQLite's
busy handler for 1, 2, 5, 10 … up to 100 ms and then looks again, so with a
few dozen threads writing (publishing threads, the sandbox server's request
threads) most of the time goes to sleeping past the moment the lock was free.
Threads of one process wait for each other here instead, on a lock that hands
over the moment it is released; other processes still meet in SQLite's busy
handler. On PostgreSQL this is a plain ``transaction.atomic()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

_writer = threading.Lock()


@contextmanager
def write_transaction(using: str = "default") -> Iterator[None]:
    """``transaction.atomic()``, entered by one thread of the process at a time on SQLite."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        # Nested: the outer transaction already holds SQLite's write lock.
        with transaction.atomic(using=using):
            yield
        return
    with _writer, transaction.atomic(using=using):
        yield


# -- group commit ------------------------------------------------------------------------


# Writes a leader runs in one transaction: enough to share the commit and the lock's
# hand-over among a burst's requests, few enough that none waits long behind the others.
GROUP_MAX = 32


@dataclass(eq=False)
class _Job:
    work: Callable[[], Any]
    hint: Any = None
    result: Any = None
    error: BaseException | None = None
    done: bool = False


class _Group:
    """Threads' writes waiting for one transaction, and whether a thread is writing them."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.pending: list[_Job] = []
        self.leading = False


_groups: dict[str, _Group] = {}
_groups_lock = threading.Lock()


def _group(using: str) -> _Group:
    with _groups_lock:
        return _groups.setdefault(using, _Group())


def grouped_write[T](work: Callable[[], T], using: str = "default", *, hint: Any = None) -> T:
    """Run ``work()`` in a write transaction shared with other threads' ``work``.

    On SQLite every write transaction of the process runs alone, so under load
    threads queue for the write lock and each pays its own ``BEGIN``/``COMMIT``
    and a hand-over of the lock (and of the GIL). Here the first thread to arrive
    writes for everyone waiting: each ``work`` in its own savepoint, all of them
    in one transaction, committed once. A ``work`` that raises is rolled back
    alone (its savepoint) and its exception is raised in its own thread; if the
    commit fails, nothing of the group was written and every thread gets the
    error. A caller's result is returned only after the transaction that wrote
    it has committed. ``work`` must not depend on thread-local state other than
    the database connection (it may run in another thread's connection).

    ``hint`` says what ``work`` will read, so that the group's reads can be done
    together (:func:`group_hints`, :func:`group_memo`).

    Elsewhere (PostgreSQL, or inside a transaction already) it is
    ``write_transaction()`` around ``work()``.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with write_transaction(using):
            return work()
    group = _group(using)
    job = _Job(work, hint)
    mine: list[_Job] = []
    with group.changed:
        group.pending.append(job)
        while group.leading and not job.done:
            group.changed.wait()
        if not job.done:
            group.leading = True
            group.pending.remove(job)
            mine = [job, *group.pending[: GROUP_MAX - 1]]
            del group.pending[: GROUP_MAX - 1]
    if mine:
        try:
            _write_group(mine, using)
        finally:
            with group.changed:
                group.leading = False
                for member in mine:
                    member.done = True
                group.changed.notify_all()
    if job.error is not None:
        raise job.error
    return job.result


class _Writing(threading.local):
    """The group this thread is writing, if any."""

    hints: list[Any] | None = None
    memo: dict[str, Any] | None = None


_writing = _Writing()


def group_hints() -> list[Any]:
    """The hints of every write in the group this thread is writing ([] outside one)."""
    return list(_writing.hints or [])


def group_memo() -> dict[str, Any] | None:
    """A dict for what the group's writes read, kept while the group's transaction lasts.

    ``None`` outside a group. The writes may keep there what they read once for
    all of them (see :func:`group_hints`) and must keep it true as they write;
    it is emptied when a write fails (its savepoint is rolled back, and what it
    changed in the memo with it).
    """
    return _writing.memo


def _write_group(jobs: list[_Job], using: str) -> None:
    _writing.hints, _writing.memo = [job.hint for job in jobs], {}
    try:
        with write_transaction(using):
            for job in jobs:
                try:
                    with transaction.atomic(using=using):
                        job.result = job.work()
                except Exception as exc:
                    job.error = exc
                    _writing.memo = {}
    except Exception as exc:
        # Not committed: nothing the group wrote is there.
        for job in jobs:
            job.result, job.error = None, job.error or exc
    except BaseException:
        # The leader is interrupted (KeyboardInterrupt): the others are told so, plainly.
        for job in jobs[1:]:
            job.result, job.error = None, job.error or RuntimeError("The write was interrupted.")
        raise
    finally:
        _writing.hints, _writing.memo = None, None
