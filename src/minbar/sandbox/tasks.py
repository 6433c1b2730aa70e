from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from minbar.sandbox.actions import release_all


@db_periodic_task(crontab(minute="*"))
def advance_sandbox() -> int:
    """Every minute: release the sandbox events whose simulated time has come."""
    return release_all()
