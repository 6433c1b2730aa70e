"""Business hours: is the team working at a moment, and how much working time lies between two.

Response time is measured in business time: a comment at 16:50 on Thursday answered
at 09:10 on Sunday took 20 minutes for a Sunday-to-Thursday, 9-to-17 team.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from minbar.inbox.models import InboxSettings, default_hours
from minbar.workspaces.models import Workspace

# Longest span measured (a year); beyond it the answer is capped, never a runaway loop.
MAX_DAYS = 366


@dataclass(frozen=True)
class BusinessHours:
    zone: zoneinfo.ZoneInfo
    # weekday (Monday = 0) → [(start, end)] in local wall-clock time
    week: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]

    @classmethod
    def of(cls, workspace: Workspace) -> BusinessHours:
        found = InboxSettings.objects.filter(workspace=workspace).first()
        return cls.parse(
            found.time_zone if found and found.time_zone else workspace.time_zone,
            found.hours if found else default_hours(),
            found.holidays if found else [],
        )

    @classmethod
    def parse(
        cls, zone: str, hours: dict[str, list[list[str]]], holidays: list[str]
    ) -> BusinessHours:
        week: dict[int, list[tuple[time, time]]] = {}
        for day, spans in hours.items():
            week[int(day)] = sorted(
                (time.fromisoformat(start), time.fromisoformat(end)) for start, end in spans
            )
        return cls(
            zoneinfo.ZoneInfo(zone or "UTC"),
            week,
            frozenset(date.fromisoformat(d) for d in holidays),
        )

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working spans as aware UTC instants (correct on daylight-saving days)."""
        if day in self.holidays:
            return []
        spans = []
        for start, end in self.week.get(day.weekday(), []):
            begin = datetime.combine(day, start, self.zone).astimezone(UTC)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), self.zone)
                if end == time(0)
                else datetime.combine(day, end, self.zone)
            ).astimezone(UTC)
            if finish > begin:
                spans.append((begin, finish))
        return spans

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(b <= moment < e for b, e in self._spans(local.date()))

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from ``start`` to ``end`` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for begin, finish in self._spans(day):
                overlap = (min(finish, end) - max(begin, start)).total_seconds()
                if overlap > 0:
                    total += overlap
            if day >= last:
                break
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of working time after ``start`` (for response deadlines)."""
        remaining = seconds
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for begin, finish in self._spans(day):
                begin = max(begin, start)
                if finish <= begin:
                    continue
                span = (finish - begin).total_seconds()
                if span >= remaining:
                    return begin + timedelta(seconds=remaining)
                remaining -= span
            day += timedelta(days=1)
        return start + timedelta(days=MAX_DAYS)
