from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from minbar.accounts.actions import purge_login_attempts
from minbar.workspaces.actions import purge_expired_invitations


def _purge() -> dict[str, int]:
    return {
        "login_attempts": purge_login_attempts(days=7),
        "invitations": purge_expired_invitations(days=30),
    }


@db_task()
def purge_security_rows() -> dict[str, int]:
    """Keep the throttle table small and forget invitations long expired (on demand)."""
    return _purge()


@db_periodic_task(crontab(minute="17", hour="3"))
def purge_security_rows_daily() -> dict[str, int]:
    return _purge()


@db_task()
def demo_inbox_warm_up() -> int:
    """The demo's inbox fills and a member answers a few items once the server is up."""
    from minbar.core.demo import warm_up_inbox

    return warm_up_inbox()
