"""The inbox cursor for Meta networks: the newest time seen and the ids seen at that time.

Graph edges list comments and messages by time, with one-second timestamps
(``2026-08-01T10:00:00+0000``). A cursor of only the newest time would either
repeat the newest item forever (``>=``) or lose a second item made in the same
second (``>``); keeping the ids seen at that second avoids both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime


def parse_time(value: object) -> datetime | None:
    """Graph times: ISO 8601 with ``+0000``, or epoch seconds / milliseconds (webhooks)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if number > 10_000_000_000:  # milliseconds (Messenger webhooks)
            number /= 1000.0
        return datetime.fromtimestamp(number, UTC)
    text = str(value).strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    at: datetime | None = None
    ids: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        if not raw:
            return cls()
        moment, _, ids = raw.partition("|")
        return cls(parse_time(moment), frozenset(i for i in ids.split(",") if i))

    def is_new(self, remote_id: str, created_at: datetime) -> bool:
        if self.at is None:
            return True
        return created_at > self.at or (created_at == self.at and remote_id not in self.ids)

    def advanced(self, seen: Iterable[tuple[str, datetime]]) -> Cursor:
        at, ids = self.at, set(self.ids)
        for remote_id, created_at in seen:
            if at is None or created_at > at:
                at, ids = created_at, {remote_id}
            elif created_at == at:
                ids.add(remote_id)
        return Cursor(at, frozenset(ids))

    def dump(self) -> str:
        if self.at is None:
            return ""
        moment = self.at.astimezone(UTC).isoformat(timespec="seconds")
        return f"{moment}|{','.join(sorted(self.ids))}"
