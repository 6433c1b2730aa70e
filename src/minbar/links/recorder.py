"""The click buffer: the redirect appends to memory, a flusher thread writes in batches.

A redirect must not wait for the database, so :func:`record` only appends to a
list. A background thread writes the list (:func:`minbar.links.rollups.write_clicks`)
every ``MINBAR_LINKS_FLUSH_SECONDS`` (1 s) or as soon as
``MINBAR_LINKS_FLUSH_CLICKS`` (500) are waiting, whichever comes first.

No click is lost on a clean shutdown: ``minbar serve`` runs the server's shutdown
hooks (:func:`minbar.core.server.on_shutdown`) after waitress stops, and
:func:`shutdown` stops the thread and writes what is left; an ``atexit`` hook does
the same for other processes. Clicks that arrive after that (a request thread
still finishing) are written at once. A batch that fails to write is kept and
tried again with the next one.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

logger = logging.getLogger("minbar.links")


@dataclass(frozen=True)
class PendingClick:
    """A click as the redirect saw it; the raw address lives only in memory, until hashed."""

    link_id: int
    workspace_id: int
    channel_id: int | None
    post_id: int | None
    contact_id: int | None
    click_id: str  # empty for bots
    at: datetime
    ip: str
    user_agent: str
    ua_class: str
    referrer_host: str


Writer = Callable[[list[PendingClick]], None]


class ClickRecorder:
    def __init__(
        self,
        write: Writer,
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        background: bool = True,
    ) -> None:
        self._write = write
        self.batch_size = batch_size
        self.interval = interval
        self.background = background
        self._pending: list[PendingClick] = []
        self._lock = threading.Lock()
        # One flush at a time, so batches are written in the order they were taken.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0

    # -- the request path -------------------------------------------------------------

    def record(self, click: PendingClick) -> None:
        with self._lock:
            closed = self._closed
            if not closed:
                self._pending.append(click)
                full = len(self._pending) >= self.batch_size
        if closed:
            # After shutdown: a request that was still running writes its own click.
            self._write_batch([click])
            return
        if self.background:
            self._ensure_thread()
            if full:
                self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    # -- writing --------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything waiting now; returns how many clicks were written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            if not self._write_batch(batch):
                with self._lock:
                    # Kept, in order, ahead of what arrived meanwhile.
                    self._pending[:0] = batch
                return 0
            return len(batch)

    def _write_batch(self, batch: list[PendingClick]) -> bool:
        try:
            self._write(batch)
        except Exception:
            logger.exception(
                "could not write %d clicks; they are kept for the next try", len(batch)
            )
            return False
        self.written += len(batch)
        return True

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._closed:
                return
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="minbar-click-flusher", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        from django.db import connections

        try:
            while not self._stopping.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                self.flush()
        finally:
            connections.close_all()

    # -- stopping -------------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> int:
        """Stop the flusher and write what is left; later clicks are written one by one."""
        before = self.written
        thread = self._thread
        self._stopping.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            self._closed = True
        # A failing database gets a few more tries before the process goes.
        for _attempt in range(3):
            self.flush()
            if not self.pending():
                break
        if self.pending():
            logger.error("%d clicks could not be written before shutdown", self.pending())
        return self.written - before

    def reopen(self) -> None:
        """For tests: accept buffered clicks again after a shutdown."""
        with self._lock:
            self._closed = False
            self._pending = []
        self._stopping.clear()


def _write(batch: list[PendingClick]) -> None:
    from minbar.links.rollups import write_clicks

    write_clicks(batch)


recorder = ClickRecorder(
    _write,
    batch_size=int(getattr(settings, "MINBAR_LINKS_FLUSH_CLICKS", 500)),
    interval=float(getattr(settings, "MINBAR_LINKS_FLUSH_SECONDS", 1.0)),
    background=bool(getattr(settings, "MINBAR_LINKS_BACKGROUND_FLUSH", True)),
)


def record(click: PendingClick) -> None:
    recorder.record(click)


def flush() -> int:
    return recorder.flush()


def shutdown() -> int:
    written = recorder.shutdown()
    if written:
        logger.info("wrote %d buffered clicks before stopping", written)
    return written


atexit.register(shutdown)
