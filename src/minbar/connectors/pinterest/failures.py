"""Pinterest's errors turned into Minbar's error taxonomy.

Every Pinterest API v5 error answers ``{"code": <int>, "message": "<text>"}`` (the
``Error`` schema of https://developers.pinterest.com/docs/api/v5/ , the same in the
official OpenAPI description github.com/pinterest/api-description, ``v5/openapi.yaml``).
The codes and statuses the reference documents, and what Minbar makes of them:

* 401 (code 2 "Authentication failed."): the access token is expired or revoked.
  The connector refreshes once and tries again; a second 401 is :class:`AuthExpired`.
* 403 code 29 "You are not permitted to access that resource." — and, for apps that
  only have Trial access, "Apps with Trial access may not create Pins in production
  https://api.pinterest.com - use API Sandbox https://api-sandbox.pinterest.com
  instead." (seen in the wild; https://developers.pinterest.com/docs/key-concepts/access-tiers/
  explains the tiers) → :class:`Rejected`, naming what the administrator must do.
  403 codes 233 ("Your image is too small…") and 235 ("Sorry, this image is broken…")
  are the image's fault → :class:`Rejected`.
* 404 codes 40 (board), 50 (Pin), 2031 (board section) → :class:`Rejected`
  (``status=404``, so a delete of a Pin already gone can count as done).
* 409 "Could not get exclusive access…": the request was not carried out →
  :class:`TemporaryError`.
* 429 code 8 "This request exceeded a rate limit…" → :class:`RateLimited`. The
  official quick-start code (github.com/pinterest/api-quickstart, ``api_common.py``)
  treats a 429 whose message mentions spam as a block, not a limit: retrying does
  not help, so it is :class:`Rejected`.
* 5xx: on a request that creates a Pin, Pinterest may have created it before
  failing → :class:`OutcomeUnknown`; otherwise :class:`TemporaryError`.
* 400 and anything else → :class:`Rejected` with Pinterest's own message.

Rate limits (https://developers.pinterest.com/docs/reference/rate-limits/): every
endpoint belongs to a category (``org_read``, ``org_write``, ``org_analytics``…)
limited per day per app with Trial access and per minute per user per app with
Standard access, plus 100 requests per second per user per app overall. The page
documents no header that says when a limit resets, so Minbar reads ``Retry-After``
or ``X-RateLimit-Reset`` when an answer carries them and otherwise waits
:data:`DEFAULT_RETRY_AFTER` (the windows are a minute long).
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

LABEL = "Pinterest"
DEFAULT_RETRY_AFTER = 60.0
CODE_RATE_LIMITED = 8
CODE_NOT_PERMITTED = 29
CODE_BOARD_NOT_FOUND = 40
CODE_PIN_NOT_FOUND = 50
CODE_SECTION_NOT_FOUND = 2031
IMAGE_CODES = frozenset({233, 235})


@dataclass(frozen=True)
class PinterestError:
    """The parts of an error body Minbar acts on."""

    code: int | None = None
    message: str = ""

    @property
    def detail(self) -> str:
        words = self.message or "(no message)"
        return f"{words} · code {self.code}" if self.code is not None else words


def parse_error(response: httpx.Response) -> PinterestError:
    try:
        body: Any = response.json()
    except ValueError:
        return PinterestError(message=response.text[:500])
    if not isinstance(body, dict):
        return PinterestError(message=str(body)[:500])
    code = body.get("code")
    message = body.get("message") or body.get("message_detail") or body.get("error") or ""
    return PinterestError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        message=str(message),
    )


def _said(error: PinterestError) -> str:
    return f": {error.message.rstrip('. ')}." if error.message else "."


def error_for_response(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed Pinterest answer.

    ``writes`` marks a request that creates something people see (a Pin): when
    Pinterest failed while handling it, the Pin may exist.
    """
    status = response.status_code
    error = parse_error(response)
    said = _said(error)
    detail = error.detail
    if status == 429 or error.code == CODE_RATE_LIMITED:
        if "spam" in error.message.lower():
            return Rejected(
                f"{LABEL} blocked this as spam{said} Change the Pin (text, link or image) "
                "before trying again.",
                detail=detail,
                status=status,
            )
        return RateLimited(
            f"{LABEL} asks Minbar to slow down{said}",
            retry_after=retry_after_seconds(response.headers, default=DEFAULT_RETRY_AFTER),
            detail=detail,
            status=status,
        )
    if status == 401:
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this account{said} "
            "Reconnect the account.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 502, 504):
            return OutcomeUnknown(
                f"{LABEL} failed while creating the Pin{said} It may have been created.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{LABEL} is having trouble{said} Minbar will try again.", detail=detail, status=status
        )
    if status == 409:
        return TemporaryError(
            f"{LABEL} is busy with this board{said} Minbar will try again.",
            detail=detail,
            status=status,
        )
    if status == 403 and "trial access" in error.message.lower():
        return Rejected(
            f"{LABEL} refused the Pin: Minbar's Pinterest app has only Trial access, which "
            "cannot publish Pins people can see. The administrator must request Standard "
            "access for the app (see docs/networks/pinterest.md).",
            detail=detail,
            status=status,
        )
    if status == 403 and error.code in IMAGE_CODES:
        return Rejected(f"{LABEL} refused the image{said}", detail=detail, status=status)
    if status == 403:
        return Rejected(
            f"{LABEL} does not allow this with the access Minbar was given{said} "
            "Reconnect the account and allow everything Minbar asks for.",
            detail=detail,
            status=status,
        )
    if status == 404:
        what = {
            CODE_BOARD_NOT_FOUND: "the board",
            CODE_SECTION_NOT_FOUND: "the board section",
            CODE_PIN_NOT_FOUND: "the Pin",
        }.get(error.code or 0, "it")
        return Rejected(
            f"{LABEL} cannot find {what}; it may have been deleted{said}",
            detail=detail,
            status=404,
        )
    return Rejected(f"{LABEL} refused it{said}", detail=detail, status=status)


def error_for_transport(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (refused, unknown name) is temporary; a lost answer to a write is unknown."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            f"{LABEL} did not answer in time; the Pin may have been created.", detail=str(exc)
        )
    return TemporaryError(f"{LABEL} did not answer in time.", detail=str(exc))
