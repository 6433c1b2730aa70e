"""Google's error answers turned into Minbar's error taxonomy.

The YouTube Data API answers errors with
``{"error": {"code": 403, "message": "...", "errors": [{"domain": "youtube.quota",
"reason": "quotaExceeded", "message": "..."}]}}``; the *reason* says what happened
(https://developers.google.com/youtube/v3/docs/errors). The OAuth token endpoint
answers ``{"error": "invalid_grant", "error_description": "..."}``
(https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code).

How each reason is handled:

* ``quotaExceeded`` (403): the project's daily units are spent → RateLimited until
  the next midnight Pacific Time, when Google resets them
  (https://developers.google.com/youtube/data/determine_quota_cost);
* ``rateLimitExceeded`` / ``userRateLimitExceeded`` (403) and any 429: too many
  requests in a short time → RateLimited after ``Retry-After`` or a minute;
* ``uploadLimitExceeded`` (400): the channel uploaded as many videos as YouTube
  allows in a day → RateLimited for 24 hours ("try again in 24 hours", YouTube's
  announcement of the per-channel upload limit);
* ``authError`` (401), a token refused → AuthExpired once a refresh did not help;
  ``authenticatedUserAccountClosed``/``…Suspended``/``youtubeSignupRequired`` →
  AuthExpired (a person must act on the Google account);
* ``insufficientPermissions`` (403) → Rejected asking to reconnect and allow the
  permission (Google's consent screen lets people untick scopes);
* other 4xx → Rejected with Google's message;
* 5xx: on a write that may have been carried out (500, 502, 504) →
  OutcomeUnknown; otherwise TemporaryError.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from minbar.connectors.youtube.quota import seconds_until_reset

LABEL = "YouTube"
# Google asks for exponential backoff on rate limits without saying how long;
# a minute is the first step the engine takes when no Retry-After comes.
DEFAULT_RATE_WAIT = 60.0
UPLOAD_LIMIT_WAIT = 24 * 3600.0
# Seconds after the Pacific midnight before trying again: clocks differ a little.
RESET_MARGIN = 120.0

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
ACCOUNT_REASONS = frozenset(
    {
        "authenticatedUserAccountClosed",
        "authenticatedUserAccountSuspended",
        "youtubeSignupRequired",
        "accountDelegationForbidden",
    }
)


@dataclass(frozen=True)
class GoogleError:
    status: int
    reason: str
    message: str
    domain: str = ""


def parse_error(response: httpx.Response) -> GoogleError:
    """The first reason and the message of an error answer (or what can be read of it)."""
    try:
        body: Any = response.json()
    except ValueError:
        return GoogleError(response.status_code, "", response.text[:300].strip())
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        first = (error.get("errors") or [{}])[0]
        first = first if isinstance(first, dict) else {}
        return GoogleError(
            response.status_code,
            str(first.get("reason") or error.get("status") or ""),
            _plain(str(error.get("message") or first.get("message") or "")),
            str(first.get("domain") or ""),
        )
    if isinstance(error, str):  # OAuth endpoints
        return GoogleError(response.status_code, error, str(body.get("error_description") or error))
    return GoogleError(response.status_code, "", response.text[:300].strip())


def _plain(message: str) -> str:
    """Google's messages carry HTML links ("exceeded your <a href=…>quota</a>")."""
    out: list[str] = []
    inside = False
    for char in message:
        if char == "<":
            inside = True
        elif char == ">":
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out).strip()


def translate(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed answer of the YouTube or YouTube Analytics API."""
    error = parse_error(response)
    status, reason = error.status, error.reason
    said = f": {error.message.rstrip('. ')}." if error.message else "."
    detail = f"{status} {reason} {error.message}".strip()
    if reason in QUOTA_REASONS:
        return RateLimited(
            f"{LABEL}: Minbar's Google Cloud project has used today's YouTube API quota. "
            "It is renewed at midnight Pacific Time.",
            retry_after=seconds_until_reset() + RESET_MARGIN,
            detail=detail,
            status=status,
        )
    if reason == "uploadLimitExceeded":
        return RateLimited(
            f"{LABEL}: this channel has uploaded as many videos as YouTube allows in a day.",
            retry_after=UPLOAD_LIMIT_WAIT,
            detail=detail,
            status=status,
        )
    if status == 429 or reason in RATE_REASONS:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down (too many requests).",
            retry_after=retry_after_seconds(response.headers, default=DEFAULT_RATE_WAIT),
            detail=detail,
            status=status,
        )
    if status == 401 or reason in ACCOUNT_REASONS:
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this channel{said} "
            "Reconnect the channel.",
            detail=detail,
            status=status,
        )
    if reason in ("insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
        return Rejected(
            f"{LABEL} did not give Minbar the permission this needs. Reconnect the channel "
            "and leave every permission ticked on Google's page.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 502, 504):
            return OutcomeUnknown(
                f"{LABEL} failed while handling the request ({status}); it may have gone through.",
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
            f"{LABEL} cannot find it; it may have been deleted{said}", detail=detail, status=status
        )
    if status == 403:
        return Rejected(f"{LABEL} does not allow this{said}", detail=detail, status=status)
    return Rejected(f"{LABEL} refused the request ({status}){said}", detail=detail, status=status)


def transport_error(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (connect failures) is temporary; no answer after sending a write is unknown."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            f"{LABEL} did not answer in time; it may have gone through.", detail=str(exc)
        )
    return TemporaryError(f"{LABEL} did not answer in time.", detail=str(exc))
