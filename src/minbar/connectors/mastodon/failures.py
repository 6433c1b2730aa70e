"""Mastodon.py's exceptions turned into Minbar's error taxonomy.

Mastodon answers errors with ``{"error": "..."}`` and an HTTP status
(https://docs.joinmastodon.org/entities/Error/); Mastodon.py raises
``MastodonAPIError(message, status, reason, error)`` subclasses for them,
``MastodonRatelimitError`` for 429 (we run it with ``ratelimit_method="throw"``
so it never sleeps: Minbar's engine decides when to wait) and
``MastodonNetworkError`` when no answer came back, with the ``requests``
exception as its ``__context__``.

Rate limits: Mastodon sends ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (an ISO 8601 time) on responses
(https://docs.joinmastodon.org/api/rate-limits/). Mastodon.py keeps no headers on
the exception, so the connector captures the last response's headers and
:func:`retry_after_from_headers` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from mastodon import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonIOError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonVersionError,
)

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import retry_after_seconds

# When a 429 carries no usable header at all: Mastodon's general window is 5 minutes.
DEFAULT_RETRY_AFTER = 300.0

# A 403 that is about the sign-in or the account as a whole, not about one
# request: reconnecting (or the instance's staff) must fix it, so every further
# attempt would fail the same way.
_ACCOUNT_WIDE_403 = (
    "scope",  # "This action is outside the authorized scopes"
    "login",  # "Your login is currently disabled"
    "disabled",
    "suspended",
    "not approved",  # "Your login is missing a confirmed e-mail" and friends
    "confirm",
)


class Redirected(Exception):
    """The instance answered an API call with a redirect; Minbar never follows those.

    Following would let a server send Minbar's access token, or Minbar itself,
    to an address nobody checked (see ``check_outbound_url``).
    """

    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"redirected ({status}) to {location or 'an unnamed address'}")
        self.status = status
        self.location = location


def _parse_time(value: str) -> datetime | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:  # epoch seconds (GoToSocial and some proxies)
        return datetime.fromtimestamp(number, UTC) if number > 1_000_000_000 else None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A server's Date header has one-second resolution and some servers cache it
# for a second more; only a larger gap means the local clock is really off.
CLOCK_SKEW_TOLERANCE = 10.0


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: datetime | None = None, default: float = DEFAULT_RETRY_AFTER
) -> float:
    """Seconds to wait before the next call, from a Mastodon response's headers.

    ``X-RateLimit-Reset`` is what Mastodon documents, so it wins. It is an
    absolute time on the server's clock: when the response's ``Date`` shows
    the local clock is off by more than a few seconds, the wait is measured
    from ``Date`` instead of from now. ``Retry-After`` (proxies, other
    servers) comes next, then ``default``.
    """
    now = now or datetime.now(UTC)
    lowered = {key.lower(): value for key, value in headers.items()}
    reset_value = lowered.get("x-ratelimit-reset") or ""
    reset = _parse_time(reset_value) if reset_value else None
    if reset is not None:
        base = now
        date = lowered.get("date")
        if date:
            try:
                server_now = parsedate_to_datetime(date)
            except (TypeError, ValueError):
                server_now = now
            if abs((server_now - now).total_seconds()) > CLOCK_SKEW_TOLERANCE:
                base = server_now
        return max(0.0, (reset - base).total_seconds())
    return retry_after_seconds(lowered, default=default)


def _body_error(response: requests.Response | None) -> str:
    """``error`` from a response's JSON body (Mastodon.py sometimes drops it)."""
    if response is None:
        return ""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("error"):
        return str(data.get("error_description") or data["error"])
    return ""


def _api_error_parts(
    exc: MastodonAPIError, response: requests.Response | None
) -> tuple[int | None, str]:
    """(HTTP status, the instance's own words) from a MastodonAPIError's args."""
    args = exc.args
    status = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    reason = ""
    if len(args) > 3 and args[3]:
        reason = str(args[3])
    elif status is not None and response is not None and response.status_code == status:
        # Mastodon.py casts the error body to the endpoint's return type first,
        # which loses "error" for list endpoints; read it from the response.
        reason = _body_error(response) or (str(args[2]) if len(args) > 2 and args[2] else "")
    elif status is None:
        # Not an HTTP error but an unreadable answer ("Could not parse response as JSON").
        reason = " ".join(str(a) for a in args)
    elif len(args) > 2 and args[2]:
        reason = str(args[2])
    return status, reason


def _network_error(exc: MastodonNetworkError, *, label: str, creates: bool) -> ConnectorError:
    cause = exc.__cause__ or exc.__context__
    detail = str(exc)
    if isinstance(cause, Redirected):
        return Rejected(
            f"{label} answered with a redirect to {cause.location or 'another address'}. "
            "Check the instance address and reconnect the account with the address it uses.",
            detail=detail,
            status=cause.status,
        )
    # Nothing was sent: refused connection, unknown name, connect timeout.
    not_sent = isinstance(cause, requests.exceptions.ConnectTimeout) or (
        isinstance(cause, requests.exceptions.ConnectionError)
        and not isinstance(cause, requests.exceptions.ReadTimeout)
        and any(
            word in detail
            for word in (
                "NewConnectionError",
                "NameResolutionError",
                "Failed to resolve",
                "Connection refused",
            )
        )
    )
    if not_sent or not creates:
        return TemporaryError(f"Minbar cannot reach {label} right now.", detail=detail)
    return OutcomeUnknown(
        f"{label} did not answer in time; the post may have gone out.", detail=detail
    )


def translate(
    exc: MastodonError,
    *,
    label: str,
    creates: bool = False,
    response: requests.Response | None = None,
) -> ConnectorError:
    """The taxonomy error for a Mastodon.py exception.

    ``label`` names the instance for people ("Mastodon (example.social)").
    ``creates`` is true when the request creates a post: an answer that never
    came (timeout) or a 500/504 may hide a post that went out, so those become
    :class:`OutcomeUnknown` and the engine reconciles with ``lookup``.
    ``response`` is the response that failed, when there was one: its headers
    give the rate-limit wait and its body the instance's words.
    """
    headers: Mapping[str, str] = response.headers if response is not None else {}
    if isinstance(exc, MastodonRatelimitError) and response is not None and response.ok:
        # Mastodon.py also raises this when a *successful* answer carries an
        # X-RateLimit-Reset it cannot read: the request itself went through.
        if creates:
            return OutcomeUnknown(
                f"{label} sent an answer Minbar could not read; the post may have gone out.",
                detail=str(exc),
                status=response.status_code,
            )
        return TemporaryError(f"{label} sent an answer Minbar could not read.", detail=str(exc))
    if isinstance(exc, MastodonRatelimitError):
        return RateLimited(
            f"{label} asks Minbar to slow down (too many requests).",
            retry_after=retry_after_from_headers(headers),
            detail=str(exc),
        )
    if isinstance(exc, MastodonNetworkError):
        return _network_error(exc, label=label, creates=creates)
    if isinstance(exc, MastodonVersionError):
        return NotSupported(f"{label} runs a version that cannot do this.", detail=str(exc))
    if isinstance(exc, MastodonIllegalArgumentError):
        return Rejected(f"Minbar could not prepare this for {label}: {exc}", detail=str(exc))
    if isinstance(exc, MastodonIOError):  # a media file Minbar could not read
        return Rejected(f"Minbar could not read a media file: {exc}", detail=str(exc))
    if not isinstance(exc, MastodonAPIError):
        return TemporaryError(f"{label} gave an unexpected answer.", detail=str(exc))

    status, reason = _api_error_parts(exc, response)
    detail = reason or str(exc)
    # The instance's words end the sentence: "…refused it: Validation failed: …exceeded."
    said = f": {reason.rstrip('. ')}." if reason else "."
    if status == 429:  # only when a caller bypassed Mastodon.py's own 429 handling
        return RateLimited(
            f"{label} asks Minbar to slow down (too many requests).",
            retry_after=retry_after_from_headers(headers),
            detail=detail,
        )
    if status == 401:
        return AuthExpired(
            f"{label} no longer accepts Minbar's access to this account{said} "
            "Reconnect the account.",
            detail=detail,
            status=status,
        )
    if status == 403:
        if any(word in reason.lower() for word in _ACCOUNT_WIDE_403):
            return AuthExpired(
                f"{label} refuses this account's access{said} Reconnect the account, "
                "or ask the instance's staff if the account is limited.",
                detail=detail,
                status=status,
            )
        return Rejected(f"{label} does not allow this{said}", detail=detail, status=status)
    if status in (404, 410):
        return Rejected(
            f"{label} cannot find it; it may have been deleted{said}",
            detail=detail,
            status=status,
        )
    if status is None:
        # A 2xx whose body could not be read: for a new post it was probably created.
        if creates:
            return OutcomeUnknown(
                f"{label} sent an unreadable answer; the post may have gone out.",
                detail=detail,
            )
        return TemporaryError(f"{label} sent an unreadable answer.", detail=detail)
    if status >= 500:
        if creates and status in (500, 504):
            return OutcomeUnknown(
                f"{label} failed while handling the post ({status}); it may have gone out.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{label} is having trouble ({status}); Minbar will try again.",
            detail=detail,
            status=status,
        )
    if status == 422:
        return Rejected(f"{label} refused it{said}", detail=detail, status=status)
    return Rejected(f"{label} refused the request ({status}){said}", detail=detail, status=status)
