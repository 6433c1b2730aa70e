from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from minbar.workspaces.access import access_for
from minbar.workspaces.roles import Perm

View = Callable[..., HttpResponseBase]


def workspace_view(perm: Perm | None = None) -> Callable[[View], View]:
    """Resolve ``slug`` to the caller's access (404 for non-members), then check ``perm``."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            access = access_for(request.user, slug)  # type: ignore[arg-type]
            request.workspace_access = access  # type: ignore[attr-defined]
            if not getattr(request.user, "time_zone", ""):
                timezone.activate(zoneinfo.ZoneInfo(access.workspace.time_zone))
            if perm is not None and not access.can(perm):
                # Members learn nothing new from a 403: they know the workspace exists.
                raise PermissionDenied
            return view(request, access, *args, **kwargs)

        return wrapper

    return decorator
