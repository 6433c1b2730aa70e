"""The real clock the sandbox reads; tests replace ``now`` to let real time pass."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
