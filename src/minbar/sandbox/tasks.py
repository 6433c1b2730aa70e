from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from minbar.sandbox.actions import release_all


@db_periodic_task(crontab(minute="*"))
def advance_sandbox() -> int:
    """Every minute: release the sandbox events whose simulated time has come, and push them."""
    from minbar.sandbox.push import push_pending

    released = release_all()
    push_pending()
    return released


@db_task()
def push_account(account_id: int) -> None:
    """Push what an account just released to its subscriber (at once, not at the next minute)."""
    from minbar.sandbox.push import push_pending

    push_pending([account_id])
