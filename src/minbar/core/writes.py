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
from collections.abc import Iterator
from contextlib import contextmanager

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
