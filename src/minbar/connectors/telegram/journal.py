"""What each idempotency key has sent so far, remembered in this process.

The Bot API takes no idempotency key and gives bots no way to read a chat's
history or search it (https://core.telegram.org/bots/api#available-methods has
no such method), so Telegram cannot be asked "did this post go out?" by key.
The connector therefore remembers, per key, the message ids of every part it
sent. A retry of the same request (flood control halfway through a thread, in
this process) then sends only what is missing, and ``lookup(idempotency_key=…)``
answers from here. Another process knows nothing of it, which is why the
connector declares ``lookup_authoritative_seconds = 0``: a "not found" never
proves a post did not go out, and the engine asks a person instead of posting
twice.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class Attempt:
    chat_id: int
    # Part index (0 = the post, 1… = the thread) → the message ids it became.
    parts: dict[int, list[int]] = field(default_factory=dict)
    dates: dict[int, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)


class Journal:
    TTL = 48 * 3600.0  # as long as Telegram lets a bot delete what it sent
    MAX = 2000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Attempt] = {}

    def get(self, key: str, chat_id: int) -> Attempt:
        with self._lock:
            self._prune()
            attempt = self._entries.get(key)
            if attempt is None or attempt.chat_id != chat_id:
                attempt = self._entries[key] = Attempt(chat_id=chat_id)
            return attempt

    def peek(self, key: str, chat_id: int) -> Attempt | None:
        with self._lock:
            self._prune()
            attempt = self._entries.get(key)
            return attempt if attempt is not None and attempt.chat_id == chat_id else None

    def _prune(self) -> None:
        cutoff = time.time() - self.TTL
        for key in [k for k, v in self._entries.items() if v.started < cutoff]:
            del self._entries[key]
        while len(self._entries) > self.MAX:
            del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


JOURNAL = Journal()
