"""X's error answers and rate-limit headers turned into Minbar's error taxonomy.

X API v2 answers errors with an RFC 7807 problem (``application/problem+json``,
https://docs.x.com/x-api/fundamentals/response-codes-and-errors): ``type``
(``about:blank`` for plain HTTP errors, else
``https://api.twitter.com/2/problems/<name>``), ``title``, ``detail``,
``status`` and, for invalid requests, ``errors: [{"message", "parameters"}]``.
Some failures come inside a 200 answer as ``errors`` next to ``data``
(``resource-not-found`` for a deleted post in a lookup).

Every answer carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (Unix seconds when the window starts again),
https://docs.x.com/x-api/fundamentals/rate-limits. X sends no Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)

LABEL = "X"
PROBLEMS = "https://api.twitter.com/2/problems/"
# When a 429 carries no usable reset: X's usual window is 15 minutes.
DEFAULT_RETRY_AFTER = 15 * 60.0
DUPLICATE = "duplicate content"


@dataclass(frozen=True)
class RateWindow:
    """One endpoint's window as the last answer reported it."""

    limit: int | None
    remaining: int | None
    reset: float | None  # Unix seconds

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateWindow:
        return cls(
            limit=_int(headers.get("x-rate-limit-limit")),
            remaining=_int(headers.get("x-rate-limit-remaining")),
            reset=_float(headers.get("x-rate-limit-reset")),
        )

    def wait(self, now: float | None = None) -> float | None:
        """Seconds until the window opens again, or None when the reset is unknown."""
        if self.reset is None:
            return None
        return max(0.0, self.reset - (time.time() if now is None else now))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem object of an error answer ({} when the body is not JSON)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def problem_name(body: Mapping[str, Any]) -> str:
    """``client-forbidden`` from ``https://api.twitter.com/2/problems/client-forbidden``."""
    kind = str(body.get("type") or "")
    return kind[len(PROBLEMS) :] if kind.startswith(PROBLEMS) else ""


def reason(body: Mapping[str, Any], response: httpx.Response | None = None) -> str:
    """X's own words: ``detail``, else the first of ``errors``, else ``title``."""
    words = str(body.get("detail") or "")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = str(first.get("message") or first.get("detail") or "")
        if message and message not in words:
            words = f"{words} {message}".strip()
    if not words:
        words = str(body.get("title") or "")
    if not words and response is not None:
        words = response.text[:300]
    return words


def rate_limited(headers: Mapping[str, str], *, detail: str = "") -> RateLimited:
    window = RateWindow.from_headers(headers)
    wait = window.wait()
    return RateLimited(
        "X asks Minbar to slow down (its limit for this kind of request is reached).",
        retry_after=DEFAULT_RETRY_AFTER if wait is None else wait,
        detail=detail or "Too Many Requests",
    )


def translate(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed X answer.

    ``writes`` is true for a request that creates something (a post): a 500 or
    a gateway timeout may hide a post that went out, so those become
    :class:`OutcomeUnknown`.
    """
    status = response.status_code
    body = problem(response)
    name = problem_name(body)
    words = reason(body, response)
    detail = response.text[:2000]
    said = f": {words.rstrip('. ')}." if words else "."
    if status == 429:
        if name == "usage-capped":
            # The project's monthly post cap or credits are spent: waiting 15 min will not do.
            limited = rate_limited(response.headers, detail=detail)
            return RateLimited(
                f"X's usage cap for Minbar's developer app is reached{said} "
                "Raise the plan or wait for the cap to reset.",
                retry_after=max(limited.retry_after, DEFAULT_RETRY_AFTER),
                detail=detail,
            )
        return rate_limited(response.headers, detail=detail)
    if status == 401:
        return AuthExpired(
            f"X no longer accepts Minbar's access to this account{said} Reconnect the account.",
            detail=detail,
            status=status,
        )
    if status == 403:
        if DUPLICATE in words.lower():
            return Rejected(
                "X refuses a post with the same text as one the account already posted. "
                "Change the text.",
                detail=detail,
                status=status,
            )
        if name in ("client-forbidden", "unsupported-authentication"):
            return NotSupported(
                f"X does not let Minbar's developer app do this{said} Check the app's "
                "access level and settings in the X developer portal (docs/networks/x.md).",
                detail=detail,
                status=status,
            )
        if "scope" in words.lower() or "suspended" in words.lower() or "locked" in words.lower():
            return AuthExpired(
                f"X refuses this account's access{said} Reconnect the account.",
                detail=detail,
                status=status,
            )
        return Rejected(f"X does not allow this{said}", detail=detail, status=status)
    if status in (404, 410) or name == "resource-not-found":
        return Rejected(
            f"X cannot find it; it may have been deleted{said}", detail=detail, status=status
        )
    if status >= 500:
        if writes and status in (500, 504):
            return OutcomeUnknown(
                f"X failed while handling the post ({status}); it may have gone out.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"X is having trouble ({status}); Minbar will try again.",
            detail=detail,
            status=status,
        )
    if status == 400 and name == "invalid-request":
        return Rejected(f"X refused the request{said}", detail=detail, status=status)
    return Rejected(f"X refused the request ({status}){said}", detail=detail, status=status)


def transport(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (refused, unknown name, connect timeout) is temporary; else maybe sent."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TemporaryError("Minbar cannot reach X right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            "X did not answer in time; the post may have gone out.", detail=str(exc)
        )
    return TemporaryError("X did not answer in time.", detail=str(exc))
