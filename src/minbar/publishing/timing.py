"""Turn a time a person typed in their zone into UTC, honestly across daylight saving."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput


def local_to_utc(local: datetime, time_zone: str) -> datetime:
    """``local`` is a wall-clock time in ``time_zone``; refuse times that do not exist there.

    When clocks go forward (e.g. 01:30 in London on the last Sunday of March)
    that wall time never happens; guessing would publish an hour off, so the
    person is asked to choose. When clocks go back, the first occurrence is used.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    aware = local.replace(tzinfo=zone, fold=0)
    back = aware.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidInput(
            _(
                "%(time)s does not exist on %(date)s in %(zone)s: the clocks go forward then. "
                "Choose %(suggestion)s instead."
            )
            % {
                "time": local.strftime("%H:%M"),
                "date": local.strftime("%Y-%m-%d"),
                "zone": time_zone,
                "suggestion": back.strftime("%H:%M"),
            },
            fields={"scheduled_at": _("This time is skipped by daylight saving.")},
        )
    return aware.astimezone(UTC)
