"""Meta's usage headers, and a brake applied before the limit is hit.

Most Graph API answers carry how much of a rate limit has been used
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting):

* ``X-App-Usage`` (Platform Rate Limits, app and user tokens):
  ``{"call_count": 28, "total_time": 25, "total_cputime": 25}`` — percentages;
* ``X-Page-Usage`` (Pages called with a Page token): the same keys, plus
  ``estimated_time_to_regain_access`` (minutes) once throttled;
* ``X-Business-Use-Case-Usage`` (Business Use Case limits; Pages with Page
  tokens, the Instagram Platform): ``{"<object id>": [{"type": "pages",
  "call_count": 100, "total_cputime": 25, "total_time": 25,
  "estimated_time_to_regain_access": 19}]}``.

When any percentage reaches :data:`BRAKE_PERCENT`, Minbar stops calling with that
token until the estimated time has passed (or :data:`DEFAULT_WAIT` when Meta gave no
estimate: the Platform window is a rolling hour) and raises
:class:`~minbar.connectors.errors.RateLimited` instead — calling on would only be
refused and, per the page above, still count against the limit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage", "x-ad-account-usage")
USAGE_KEYS = ("call_count", "total_time", "total_cputime")
BRAKE_PERCENT = 95.0
DEFAULT_WAIT = 300.0  # seconds, when a header reached the brake without an estimate


@dataclass(frozen=True)
class Usage:
    """The highest percentage any usage header reported, and Meta's wait estimate (seconds)."""

    percent: float
    regain_seconds: float
    header: str = ""

    @property
    def near_limit(self) -> bool:
        return self.percent >= BRAKE_PERCENT or self.regain_seconds > 0

    @property
    def wait(self) -> float:
        return self.regain_seconds or DEFAULT_WAIT


def _numbers(entry: Mapping[str, Any]) -> tuple[float, float]:
    percent = 0.0
    for key in USAGE_KEYS:
        try:
            percent = max(percent, float(entry.get(key) or 0))
        except (TypeError, ValueError):
            continue
    try:
        regain = float(entry.get("estimated_time_to_regain_access") or 0) * 60.0
    except (TypeError, ValueError):
        regain = 0.0
    return percent, regain


def _entries(value: Any) -> list[Mapping[str, Any]]:
    """The usage objects in one header: a flat object, or BUC's ``{id: [objects]}``."""
    if not isinstance(value, Mapping):
        return []
    if any(key in value for key in USAGE_KEYS):
        return [value]
    found: list[Mapping[str, Any]] = []
    for item in value.values():
        if isinstance(item, list):
            found += [e for e in item if isinstance(e, Mapping)]
        elif isinstance(item, Mapping):
            found.append(item)
    return found


def read_usage(headers: Mapping[str, str]) -> Usage | None:
    """The usage the answer reported, or None when it carried no usage header."""
    lowered = {key.lower(): value for key, value in headers.items()}
    best: Usage | None = None
    for name in USAGE_HEADERS:
        raw = lowered.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        for entry in _entries(value):
            percent, regain = _numbers(entry)
            if best is None or (percent, regain) > (best.percent, best.regain_seconds):
                best = Usage(percent=percent, regain_seconds=regain, header=name)
    return best


class UsageBrake:
    """Per token (hashed), until when no call should be made. Shared by a process's threads."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(base_url: str, token: str) -> str:
        return hashlib.sha256(f"{base_url}\n{token}".encode()).hexdigest()[:32]

    def note(self, key: str, usage: Usage | None) -> None:
        if usage is None:
            return
        with self._lock:
            if usage.near_limit:
                self._until[key] = max(self._until.get(key, 0.0), time.monotonic() + usage.wait)
            elif usage.percent < BRAKE_PERCENT:
                self._until.pop(key, None)

    def remaining(self, key: str) -> float:
        """Seconds to wait before calling with this token again (0 when free)."""
        with self._lock:
            until = self._until.get(key, 0.0)
            left = until - time.monotonic()
            if left <= 0:
                self._until.pop(key, None)
                return 0.0
            return left

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


BRAKE = UsageBrake()
