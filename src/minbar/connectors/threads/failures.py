"""Threads' Graph-style errors turned into Minbar's error taxonomy.

The Threads API answers errors the way Meta's Graph API does
(https://developers.facebook.com/docs/graph-api/guides/error-handling)::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 460, "error_user_title": "...",
               "error_user_msg": "...", "fbtrace_id": "EJplcsCHuLu"}}

Codes, with the recovery the error-handling page names for each:

* 190 (and 102, and ``OAuthException`` with no code): the token expired, was
  revoked (subcode 458 app removed, 460 password changed, 463 expired, 467
  invalid) → :class:`AuthExpired`, reconnect.
* 4, 17, 32, 613, 80001-80014, 341: too many calls → :class:`RateLimited`.
* 1 ("API Unknown"), 2 ("API Service"): temporary → :class:`TemporaryError`,
  except that a write answered this way may have happened → :class:`OutcomeUnknown`.
* 3, 10, 200-299: a permission the app or the person has not granted →
  :class:`Rejected` naming the permission problem (the account still works for
  everything else, so it is not an expired sign-in).
* 100 (invalid parameter; subcode 33: the object does not exist), 368 (blocked
  for a policy), 506 (duplicate) and anything else → :class:`Rejected` with
  Threads' own message.

Rate limits: the Threads API counts calls per app and user over 24 hours by
``call_count``, ``total_cputime`` and ``total_time``
(https://developers.facebook.com/docs/threads/overview#rate-limiting) — the
fields Meta reports as percentages in ``X-App-Usage``; business use cases add
``X-Business-Use-Case-Usage`` with ``estimated_time_to_regain_access`` in minutes
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting). The
wait is read from those, then from ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import retry_after_seconds
from minbar.connectors.meta_graph import failures as graph
from minbar.connectors.meta_graph.failures import (
    AUTH_CODES,
    DOES_NOT_EXIST_SUBCODE,
    PERMISSION_CODES,
    RATE_LIMIT_CODES,
    TRANSIENT_CODES,
    GraphError,
)

LABEL = "Threads"
# With no header to go by: Meta's windows are rolling hours, so wait a good while.
DEFAULT_RETRY_AFTER = 300.0
# When X-App-Usage says a budget is spent (100 %) but not when it comes back.
SPENT_BUDGET_WAIT = 3600.0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_error(response: httpx.Response) -> GraphError | None:
    """The Graph ``error`` object of a response (meta_graph's reading), or None without one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # some OAuth endpoints answer {"error": "...", ...}
        description = str(body.get("error_description") or error)
        return GraphError(response.status_code, None, None, description, "", False, type=error)
    found = graph.parse_error(response)
    return found if found.envelope else None


def _usage(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def retry_after_from_headers(
    headers: Mapping[str, str], default: float = DEFAULT_RETRY_AFTER
) -> float:
    """Seconds to wait, from Meta's usage headers, then ``Retry-After``, else ``default``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    business = _usage(lowered, "x-business-use-case-usage")
    if isinstance(business, dict):
        minutes = [
            _int(entry.get("estimated_time_to_regain_access")) or 0
            for entries in business.values()
            if isinstance(entries, list)
            for entry in entries
            if isinstance(entry, dict)
        ]
        if minutes and max(minutes) > 0:
            return max(minutes) * 60.0
    if "retry-after" in lowered:
        return retry_after_seconds(lowered, default=default)
    app = _usage(lowered, "x-app-usage")
    if isinstance(app, dict):
        spent = [_int(value) or 0 for value in app.values()]
        if spent and max(spent) >= 100:
            return SPENT_BUDGET_WAIT
    return default


def error_for_response(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed Threads response.

    ``writes`` is true for a request that creates something people see
    (``threads_publish``): when Threads failed while handling it, the post may
    be out, so the error is :class:`OutcomeUnknown`.
    """
    status = response.status_code
    error = parse_error(response)
    if error is None:
        return _error_without_body(response, writes=writes)
    detail = error.detail
    said = f": {error.first_words.rstrip('. ')}." if error.first_words else "."
    if error.code in AUTH_CODES or (error.code is None and error.type == "OAuthException"):
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account{said} "
            "Reconnect the account.",
            detail=detail,
            status=status,
        )
    if error.code in RATE_LIMIT_CODES or status == 429:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down{said}",
            retry_after=retry_after_from_headers(response.headers),
            detail=detail,
            status=status,
        )
    if error.code in TRANSIENT_CODES or status >= 500:
        if writes and (error.code == 1 or status in (500, 504)):
            return OutcomeUnknown(
                f"{LABEL} failed while handling the post{said} It may have gone out.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{LABEL} is having trouble{said} Minbar will try again.", detail=detail, status=status
        )
    if error.code in PERMISSION_CODES:
        return Rejected(
            f"{LABEL} does not allow this with the permissions Minbar was given{said} "
            "Reconnect the account and grant every permission Minbar asks for.",
            detail=detail,
            status=status,
        )
    if status == 404 or error.subcode == DOES_NOT_EXIST_SUBCODE:
        return Rejected(
            f"{LABEL} cannot find it; it may have been deleted{said}", detail=detail, status=404
        )
    return Rejected(f"{LABEL} refused it{said}", detail=detail, status=status)


def _error_without_body(response: httpx.Response, *, writes: bool) -> ConnectorError:
    status = response.status_code
    detail = response.text[:500]
    if status == 429:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down.",
            retry_after=retry_after_from_headers(response.headers),
            detail=detail,
            status=status,
        )
    if status in (401, 403):
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account. Reconnect the account.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 502, 504):
            return OutcomeUnknown(
                f"{LABEL} failed while handling the post ({status}); it may have gone out.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{LABEL} is having trouble ({status}); Minbar will try again.",
            detail=detail,
            status=status,
        )
    if status == 404:
        return Rejected(
            f"{LABEL} cannot find it; it may have been deleted.", detail=detail, status=404
        )
    return Rejected(f"{LABEL} refused the request ({status}).", detail=detail, status=status)


def error_for_transport(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (refused, unknown name) is temporary; a lost answer to a write is unknown."""
    return graph.transport_error(exc, label=LABEL, writes=writes, gone="the post may have gone out")
