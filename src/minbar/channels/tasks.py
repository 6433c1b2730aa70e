from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from minbar.channels.actions import check_all_channels, refresh_expiring_tokens


@db_periodic_task(crontab(minute="*/5"))
def refresh_channel_tokens() -> dict[str, int]:
    """Refresh tokens before they expire, so posts never meet an expired sign-in."""
    return refresh_expiring_tokens()


@db_periodic_task(crontab(minute="41"))
def check_channel_health() -> dict[str, int]:
    """Hourly: verify every channel so a broken one is noticed before a post is due."""
    return check_all_channels()
