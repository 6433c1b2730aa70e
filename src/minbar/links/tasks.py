from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from minbar.links.recorder import flush
from minbar.links.rollups import forget_old_salts


@db_periodic_task(crontab(minute="7", hour="0"))
def forget_visitor_salts() -> int:
    """Past days' salts go, so their visitor hashes can no longer be matched to anyone."""
    return forget_old_salts()


@db_periodic_task(crontab(minute="*"))
def flush_clicks() -> int:
    """In worker processes (which redirect nothing) this is a no-op; a safety net elsewhere."""
    return flush()
