from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from minbar.accounts.actions import purge_login_attempts
from minbar.workspaces.actions import purge_expired_invitations


@db_periodic_task(crontab(minute="17", hour="3"))
def purge_stale_security_rows() -> dict[str, int]:
    """Keep the throttle table small and forget invitations long expired."""
    return {
        "login_attempts": purge_login_attempts(days=7),
        "invitations": purge_expired_invitations(days=30),
    }
