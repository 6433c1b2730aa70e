"""Google's error answers for the Business Profile APIs, turned into Minbar's taxonomy.

The Business Profile APIs answer errors with Google's standard envelope
(https://cloud.google.com/apis/design/errors, https://google.aip.dev/193)::

    {"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                            "metadata": {"quota_limit_value": "300", ...}}]}}

The ``reason`` of the ErrorInfo comes from ``google.api.ErrorReason``
(https://github.com/googleapis/googleapis/blob/master/google/api/error_reason.proto)
or, for the Business Information API, from its own ErrorCode list
(https://developers.google.com/my-business/reference/businessinformation/rest/v1/ErrorCode).
Validation failures of the v4 API (local posts, reviews) carry
``google.mybusiness.v4.ValidationError`` details with ``errorDetails[].message``
(https://developers.google.com/my-business/reference/rest/Shared.Types/ValidationError),
and field problems elsewhere ``google.rpc.BadRequest.fieldViolations``. The OAuth
token endpoint answers ``{"error": "invalid_grant", "error_description": ...}``.

How each is handled:

* 429 / RESOURCE_EXHAUSTED (``RATE_LIMIT_EXCEEDED``): the project's per-minute quota
  (300 requests a minute per API by default,
  https://developers.google.com/my-business/content/limits) → RateLimited after
  ``Retry-After`` or a minute. A quota whose limit is **0** means Google has not
  approved the project's access request yet
  (https://developers.google.com/my-business/content/prereqs): waiting will not
  help, so it is Rejected with the way out;
* 401 / UNAUTHENTICATED → AuthExpired (the connector refreshes once first);
* 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` → Rejected asking to reconnect with the
  permission ticked; ``SERVICE_DISABLED`` → Rejected naming the API to enable in
  the Google Cloud project; other PERMISSION_DENIED → Rejected (the account may no
  longer own or manage the location, or the location is not verified);
* 404 / NOT_FOUND → Rejected (deleted on Google);
* 400 / INVALID_ARGUMENT, FAILED_PRECONDITION → Rejected with Google's words;
* 5xx: on a write that may have been carried out (500, 502, 504) →
  OutcomeUnknown; otherwise (503 UNAVAILABLE…) TemporaryError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

LABEL = "Google Business Profile"
# Quotas are per minute: a minute is the documented window to wait out.
DEFAULT_RATE_WAIT = 60.0
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
VALIDATION_ERROR = "type.googleapis.com/google.mybusiness.v4.ValidationError"
SCOPE_REASONS = frozenset({"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"})
AUTH_REASONS = frozenset({"ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_TYPE_UNSUPPORTED", "authError"})


@dataclass(frozen=True)
class GoogleError:
    status: int
    reason: str  # the ErrorInfo reason, else the canonical status ("NOT_FOUND")
    message: str
    code: str = ""  # canonical status name
    metadata: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # field-level messages

    def said(self) -> str:
        """Google's words for people: the message, then the field problems."""
        words = [self.message.rstrip(". ")] if self.message else []
        words += [p.rstrip(". ") for p in self.problems if p and p not in self.message]
        return ". ".join(words)


def parse_error(response: httpx.Response) -> GoogleError:
    try:
        body: Any = response.json()
    except ValueError:
        return GoogleError(response.status_code, "", response.text[:300].strip())
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # OAuth endpoints
        return GoogleError(response.status_code, error, str(body.get("error_description") or error))
    if not isinstance(error, dict):
        return GoogleError(response.status_code, "", response.text[:300].strip())
    status_name = str(error.get("status") or "")
    reason, metadata, problems = "", {}, []
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        kind = detail.get("@type")
        if kind == ERROR_INFO and not reason:
            reason = str(detail.get("reason") or "")
            raw = detail.get("metadata")
            metadata = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        elif kind == BAD_REQUEST:
            for violation in detail.get("fieldViolations") or []:
                if isinstance(violation, dict):
                    problems.append(_field_problem(violation.get("field"), violation))
        elif kind == VALIDATION_ERROR:
            for item in detail.get("errorDetails") or []:
                if isinstance(item, dict):
                    problems.append(_field_problem(item.get("field"), item))
    legacy = (error.get("errors") or [{}])[0]
    if not reason and isinstance(legacy, dict):
        reason = str(legacy.get("reason") or "")
    return GoogleError(
        status=response.status_code,
        reason=reason or status_name,
        message=str(error.get("message") or ""),
        code=status_name,
        metadata=metadata,
        problems=tuple(p for p in problems if p),
    )


def _field_problem(name: Any, item: dict[str, Any]) -> str:
    text = str(item.get("description") or item.get("message") or "")
    return f"{name}: {text}" if name and text else text


def translate(response: httpx.Response, *, writes: bool = False) -> ConnectorError:
    """The taxonomy error for a failed answer of a Business Profile API."""
    error = parse_error(response)
    status, reason = error.status, error.reason
    said = error.said()
    said_tail = f": {said}." if said else "."
    detail = f"{status} {error.code} {reason} {error.message} {' | '.join(error.problems)}"
    detail = " ".join(detail.split())
    if status == 429 or error.code == "RESOURCE_EXHAUSTED" or reason == "RATE_LIMIT_EXCEEDED":
        if error.metadata.get("quota_limit_value") == "0":
            return Rejected(
                f"{LABEL}: Minbar's Google Cloud project has no quota for the Business Profile "
                "APIs yet (0 requests a minute). Google grants it when it approves the "
                "project's API access request; see docs/networks/google_business.md.",
                detail=detail,
                status=status,
            )
        return RateLimited(
            f"{LABEL} asks Minbar to slow down (the per-minute quota is used up).",
            retry_after=retry_after_seconds(response.headers, default=DEFAULT_RATE_WAIT),
            detail=detail,
            status=status,
        )
    if status == 401 or error.code == "UNAUTHENTICATED" or reason in AUTH_REASONS:
        return AuthExpired(
            f"{LABEL} no longer accepts Minbar's access to this profile{said_tail} "
            "Reconnect the channel.",
            detail=detail,
            status=status,
        )
    if reason in SCOPE_REASONS:
        return Rejected(
            f"{LABEL}: Google did not give Minbar the permission to manage this profile. "
            "Reconnect the channel and allow Minbar to manage your business on Google.",
            detail=detail,
            status=status,
        )
    if reason == "SERVICE_DISABLED":
        service = error.metadata.get("service") or "a Business Profile API"
        return Rejected(
            f"{LABEL}: {service} is not enabled in Minbar's Google Cloud project. The "
            "administrator must enable it (see docs/networks/google_business.md).",
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
    if status == 404 or error.code == "NOT_FOUND":
        return Rejected(
            f"{LABEL} cannot find it; it may have been deleted{said_tail}",
            detail=detail,
            status=status,
        )
    if status == 403 or error.code == "PERMISSION_DENIED":
        return Rejected(
            f"{LABEL} does not allow this for this location{said_tail} The signed-in Google "
            "account must be an owner or manager of a verified profile.",
            detail=detail,
            status=status,
        )
    return Rejected(
        f"{LABEL} refused the request ({status}){said_tail}", detail=detail, status=status
    )


def transport_error(exc: httpx.TransportError, *, writes: bool = False) -> ConnectorError:
    """Nothing sent (connect failures) is temporary; no answer after sending a write is unknown."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            f"{LABEL} did not answer in time; it may have gone through.", detail=str(exc)
        )
    return TemporaryError(f"{LABEL} did not answer in time.", detail=str(exc))
