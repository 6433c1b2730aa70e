"""What Minbar sent, remembered in this process, for ``lookup(idempotency_key=...)``.

Meta's APIs take no idempotency key and have no hidden field to carry one, so a
post cannot be found by key on the network. When a publish call's outcome is
unknown (a timeout after sending, a 500), the connector looks for a post of the
account with the same text made since the attempt began — but only this process
knows the text of an attempt. Connectors therefore declare
``lookup_authoritative_seconds = 0``: a "not found" never proves a post did not
go out, and the engine leaves such a post for a person to check rather than post
it twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

# How far back a match may be, before the attempt's start (clock differences).
CLOCK_MARGIN = timedelta(minutes=2)
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class Attempt:
    account: str
    text: str
    started_at: datetime


class Journal:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, Attempt] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: str, attempt: Attempt) -> None:
        if not key:
            return
        with self._lock:
            self._entries[key] = attempt
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def recall(self, key: str, account: str) -> Attempt | None:
        with self._lock:
            attempt = self._entries.get(key)
        return attempt if attempt is not None and attempt.account == account else None


def same_text(a: str, b: str) -> bool:
    """Meta may trim or normalise line ends; compare what a person would see."""
    return " ".join(a.split()) == " ".join(b.split())


def matches(attempt: Attempt, text: str, created_at: datetime | None) -> bool:
    if created_at is None or created_at < attempt.started_at - CLOCK_MARGIN:
        return False
    return same_text(attempt.text, text)


JOURNAL = Journal()
