"""Graph API errors mapped onto Minbar's taxonomy.

Meta answers a failed call with an HTTP status and
``{"error": {"message", "type", "code", "error_subcode", "error_user_title",
"error_user_msg", "is_transient", "fbtrace_id"}}``
(https://developers.facebook.com/docs/graph-api/guides/error-handling). The code,
not the HTTP status, says what happened:

* 1 (API Unknown), 2 (API Service): temporary. On a *write* Meta also answers
  these after the object was made, so a write becomes ``OutcomeUnknown`` and the
  engine reconciles with ``lookup`` instead of posting twice;
* 4 (app), 17 (user), 32 (Page), 613 (custom), 341 (app limit), 80001-80014
  (Business Use Case limits, https://developers.facebook.com/docs/graph-api/overview/rate-limiting):
  rate limited — the wait is Meta's ``estimated_time_to_regain_access`` from the usage
  headers when given;
* 102 (session) and 190 (access token) with subcodes 458 (app not installed),
  459 (checkpoint), 460 (password changed), 463 (expired), 464 (unconfirmed user),
  467 (invalid token), 492 (invalid session): the sign-in no longer works;
* 10 and 200-299: a permission is missing (granted in the sign-in or App Review);
* 368: temporarily blocked for policy violations — refused, with Meta's words;
* 100: invalid parameter (subcode 33: the object does not exist);
* 506: duplicate post; 1609005: the link could not be read.

Instagram's publishing errors use the same envelope (code 9 / subcode 2207042:
the 24-hour publishing limit; code 9007 / subcode 2207027: the container is not
ready; https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes).
"""

from __future__ import annotations

from collections.abc import Mapping
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
from minbar.connectors.meta_graph.usage import DEFAULT_WAIT, read_usage

RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
AUTH_CODES = frozenset({102, 190})
AUTH_SUBCODES = {
    458: "Minbar's app was removed from this account",
    459: "Facebook needs the account's owner to sign in on facebook.com first",
    460: "the account's password changed",
    463: "the access token expired",
    464: "the account is not confirmed",
    467: "the access token is not valid any more",
    492: "the session is not valid any more",
}
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
POLICY_BLOCK = 368
INVALID_PARAMETER = 100
DOES_NOT_EXIST_SUBCODE = 33
DUPLICATE_POST = 506
LINK_ERROR = 1609005
# Instagram content publishing.
IG_PUBLISH_LIMIT_SUBCODE = 2207042
IG_NOT_READY_CODE = 9007
# Messenger: "This message is sent outside of allowed window."
OUTSIDE_WINDOW_SUBCODE = 2018278
# When Meta rate limits a publish with no estimate: try again in an hour.
DEFAULT_PUBLISH_LIMIT_WAIT = 3600.0


@dataclass(frozen=True)
class GraphError:
    """The fields of Meta's error envelope that Minbar acts on."""

    status: int
    code: int | None
    subcode: int | None
    message: str
    user_message: str
    transient: bool
    type: str = ""  # "OAuthException", …
    fbtrace_id: str = ""
    # False when the body held no error object (``message`` is then the raw text).
    envelope: bool = True

    @property
    def words(self) -> str:
        """Meta's own explanation: the user-facing text when there is one."""
        parts = [p for p in (self.user_message, self.message) if p]
        return " — ".join(dict.fromkeys(parts))

    @property
    def first_words(self) -> str:
        """The one explanation meant for people first (the user-facing text, else the message)."""
        return self.user_message or self.message

    @property
    def detail(self) -> str:
        """The explanation with the codes and trace id support would ask for."""
        parts = [self.first_words or "(no message)"]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.subcode is not None:
            parts.append(f"subcode {self.subcode}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return " · ".join(parts)

    @property
    def missing_object(self) -> bool:
        return (self.code == INVALID_PARAMETER and self.subcode == DOES_NOT_EXIST_SUBCODE) or (
            self.status == 404
        )


def parse_error(response: httpx.Response) -> GraphError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return GraphError(
            response.status_code, None, None, response.text[:300], "", False, envelope=False
        )

    def number(key: str) -> int | None:
        value = error.get(key)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    return GraphError(
        status=response.status_code,
        code=number("code"),
        subcode=number("error_subcode"),
        message=str(error.get("message") or ""),
        user_message=str(error.get("error_user_msg") or ""),
        transient=bool(error.get("is_transient")),
        type=str(error.get("type") or ""),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
    )


def _wait(headers: Mapping[str, str], default: float) -> float:
    usage = read_usage(headers)
    if usage is not None and usage.regain_seconds > 0:
        return usage.regain_seconds
    lowered = {k.lower(): v for k, v in headers.items()}
    return retry_after_seconds(lowered, default=default) if "retry-after" in lowered else default


def translate(response: httpx.Response, *, label: str, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed Graph answer. ``writes``: the call creates something."""
    error = parse_error(response)
    code, subcode, status = error.code, error.subcode, response.status_code
    detail = error.words or response.text[:500]
    said = f": {error.words.rstrip('. ')}." if error.words else "."
    if code in RATE_LIMIT_CODES or status == 429:
        return RateLimited(
            f"{label} asks Minbar to slow down (rate limit){said}",
            retry_after=_wait(response.headers, DEFAULT_WAIT),
            detail=detail,
            status=status,
        )
    if code == 9 and subcode == IG_PUBLISH_LIMIT_SUBCODE:
        return RateLimited(
            f"{label}: this account reached its 24-hour publishing limit{said}",
            retry_after=_wait(response.headers, DEFAULT_PUBLISH_LIMIT_WAIT),
            detail=detail,
            status=status,
        )
    if code in AUTH_CODES:
        why = AUTH_SUBCODES.get(subcode or 0, "the sign-in is not valid any more")
        return AuthExpired(
            f"{label} no longer accepts Minbar's access ({why}). Reconnect the account.",
            detail=detail,
            status=status,
        )
    if subcode == OUTSIDE_WINDOW_SUBCODE:
        return Rejected(
            f"{label} only lets a Page answer a message within 24 hours of the person's "
            f"last message{said}",
            detail=detail,
            status=status,
        )
    if code in PERMISSION_CODES:
        return Rejected(
            f"{label} refused: Minbar lacks a permission for this{said} Reconnect the "
            "account and grant every permission Minbar asks for.",
            detail=detail,
            status=status,
        )
    if code == POLICY_BLOCK:
        return Rejected(
            f"{label} has temporarily blocked this action for a policy reason{said}",
            detail=detail,
            status=status,
        )
    if code == DUPLICATE_POST:
        return Rejected(
            f"{label} refused a duplicate of a recent post{said}", detail=detail, status=status
        )
    if code == LINK_ERROR:
        return Rejected(f"{label} could not read the link{said}", detail=detail, status=status)
    if code == IG_NOT_READY_CODE:
        return TemporaryError(
            f"{label} has not finished processing the media yet{said}", detail=detail, status=status
        )
    if code in TRANSIENT_CODES or error.transient or status >= 500:
        if writes and (code in TRANSIENT_CODES or status in (500, 502, 504)):
            return OutcomeUnknown(
                f"{label} failed while handling the request; it may have gone through{said}",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{label} is having trouble; Minbar will try again{said}", detail=detail, status=status
        )
    if error.missing_object:
        return Rejected(
            f"{label} cannot find it; it may have been deleted{said}", detail=detail, status=404
        )
    return Rejected(f"{label} refused the request{said}", detail=detail, status=status)


def transport_error(
    exc: httpx.TransportError,
    *,
    label: str,
    writes: bool,
    gone: str = "it may have gone through",
) -> ConnectorError:
    """Not connected: temporary. Sent but no answer: unknown for a write (``gone`` says what)."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {label} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(f"{label} did not answer in time; {gone}.", detail=str(exc))
    return TemporaryError(f"{label} did not answer in time.", detail=str(exc))
