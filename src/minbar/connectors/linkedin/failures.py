"""LinkedIn's error answers turned into Minbar's error taxonomy.

LinkedIn answers an error with a status and a JSON body such as
``{"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
"message": "Invalid access token"}``
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling).
Service error codes Minbar acts on:

* 65600 invalid token, 65601 revoked by the member, 65602 expired, 65604 empty
  token → :class:`AuthExpired` (a person reconnects);
* 100 ``ACCESS_DENIED`` on a 403 ("Not enough permissions to access: …") →
  :class:`Rejected`: the account lacks the scope or the Page role, and the message
  says which, unless it is about the token's scopes (then a reconnect can fix it);
* 422 ``DUPLICATE_POST`` ("Content is a duplicate of urn:li:share:…") →
  :class:`Rejected`, naming the earlier post.

Rate limits (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits):
limits are per day — per application and per member — and "reset at midnight UTC
every day". A 429 carries no header saying when to come back, so Minbar waits
until the next midnight UTC when the message names a daily limit ("Resource level
throttle APPLICATION DAY limit …"). "In rare cases, LinkedIn may also return a 429
response as part of infrastructure protection"; those name no daily limit and
Minbar waits a minute (or what ``Retry-After`` says, should it come).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.utils.translation import gettext as _

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)

LABEL = "LinkedIn"
TOKEN_CODES = {65600, 65601, 65602, 65603, 65604}
INFRASTRUCTURE_WAIT = 60.0
DUPLICATE_RE = re.compile(r"duplicate of (urn:li:[a-zA-Z]+:\d+)")


def reconnect_advice() -> str:
    return _("LinkedIn sign-ins last 60 days; reconnect the channel in Minbar to sign in again.")


def seconds_until_midnight_utc(now: datetime | None = None) -> float:
    """LinkedIn's daily counters start again at 00:00 UTC."""
    now = now or datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (tomorrow - now).total_seconds())


def error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def reason_of(response: httpx.Response) -> str:
    """LinkedIn's own words for a failure (``message``, or OAuth's ``error_description``)."""
    body = error_body(response)
    words = body.get("message") or body.get("error_description") or body.get("error")
    if words:
        return str(words)
    return response.text[:300]


def duplicate_of(response: httpx.Response) -> str:
    """The earlier post's URN when LinkedIn refused a post as a duplicate, else ""."""
    match = DUPLICATE_RE.search(reason_of(response))
    return match.group(1) if match else ""


def rate_limit_wait(response: httpx.Response, now: datetime | None = None) -> float:
    retry_after = response.headers.get("retry-after", "")
    if retry_after.isdigit():
        return float(retry_after)
    reason = reason_of(response).upper()
    if "DAY" in reason or "DAILY" in reason:
        return seconds_until_midnight_utc(now)
    return INFRASTRUCTURE_WAIT


def translate(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a LinkedIn error response.

    ``writes`` is true for a request that creates something (a post, a comment):
    a 500 or 504 then means it may have been carried out (:class:`OutcomeUnknown`).
    """
    status = response.status_code
    body = error_body(response)
    reason = reason_of(response)
    code = body.get("serviceErrorCode")
    words = {"reason": reason.rstrip(". ") or str(status), "status": status}
    if status == 429:
        daily = "DAY" in reason.upper()
        message = (
            _("LinkedIn's daily limit is reached (%(reason)s); Minbar waits until it resets.")
            if daily
            else _("LinkedIn asks Minbar to slow down (%(reason)s).")
        )
        return RateLimited(message % words, retry_after=rate_limit_wait(response), detail=reason)
    if status == 401 or code in TOKEN_CODES:
        return AuthExpired(
            _("LinkedIn no longer accepts this channel's sign-in (%(reason)s).") % words
            + " "
            + reconnect_advice(),
            detail=reason,
            status=status,
        )
    if status == 403:
        if "scope" in reason.lower():
            return AuthExpired(
                _(
                    "LinkedIn refuses this request because the sign-in lacks a permission "
                    "(%(reason)s). Reconnect the channel and approve every permission Minbar "
                    "asks for."
                )
                % words,
                detail=reason,
                status=status,
            )
        return Rejected(
            _(
                "LinkedIn does not allow this account to do that (%(reason)s). For a Page, "
                "the person who connected it must be one of its administrators."
            )
            % words,
            detail=reason,
            status=status,
        )
    earlier = duplicate_of(response) if status == 422 else ""
    if earlier:
        return Rejected(
            _(
                "LinkedIn refused the post as a duplicate of an earlier one (%(url)s). "
                "Change the text to post it again."
            )
            % {"url": f"https://www.linkedin.com/feed/update/{earlier}/"},
            detail=reason,
            status=status,
        )
    if status in (404, 410):
        return Rejected(
            _("LinkedIn cannot find it; it may have been deleted (%(reason)s).") % words,
            detail=reason,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 504):
            return OutcomeUnknown(
                _(
                    "LinkedIn failed while handling the request (%(status)s); it may have "
                    "gone through."
                )
                % words,
                detail=reason,
                status=status,
            )
        return TemporaryError(
            _("LinkedIn is having trouble (%(status)s); Minbar will try again.") % words,
            detail=reason,
            status=status,
        )
    return Rejected(
        _("LinkedIn refused the request (%(status)s): %(reason)s.") % words,
        detail=reason,
        status=status,
    )


def transport_error(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (refused, unknown name, connect timeout) is temporary; after sending,
    a write's outcome is unknown."""
    not_sent = isinstance(
        exc,
        (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol),
    )
    if not_sent or not writes:
        return TemporaryError(_("Minbar cannot reach LinkedIn right now."), detail=str(exc))
    return OutcomeUnknown(
        _("LinkedIn did not answer in time; it may have gone through."), detail=str(exc)
    )
