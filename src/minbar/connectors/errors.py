"""The small taxonomy of failures the publishing engine acts on.

Every connector turns its network's errors into one of these, so the engine
needs no knowledge of any network: it waits on ``RateLimited``, retries
``TemporaryError``, asks for a reconnect on ``AuthExpired``, stops on
``Rejected`` and reconciles ``OutcomeUnknown`` with ``lookup`` instead of
retrying blindly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone


class ConnectorError(Exception):
    """Base class. ``message`` is for people (a marketer); ``detail`` is the network's raw words."""

    kind = "error"

    def __init__(self, message: str, *, detail: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail[:2000]
        self.status = status


class RateLimited(ConnectorError):
    """Too many requests: wait ``retry_after`` seconds (from the network's headers) and retry."""

    kind = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: float, detail: str = "", status: int | None = 429
    ):
        super().__init__(message, detail=detail, status=status)
        self.retry_after = max(0.0, retry_after)

    @property
    def until(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.retry_after)


class TemporaryError(ConnectorError):
    """The network is down or slow; the same request may succeed later."""

    kind = "temporary"


class AuthExpired(ConnectorError):
    """The credentials no longer work; the channel needs reconnecting by a person."""

    kind = "auth_expired"


class Rejected(ConnectorError):
    """The network refused this request for good (content rules, size, duplicates…)."""

    kind = "rejected"


class OutcomeUnknown(ConnectorError):
    """The request may or may not have taken effect (timeout after sending, ambiguous 5xx).

    Never retried blindly: the engine calls ``lookup`` to find out.
    """

    kind = "outcome_unknown"


class NotSupported(ConnectorError):
    """The network (or this connector) cannot do this at all; see its capabilities."""

    kind = "not_supported"


class BadSignature(ConnectorError):
    """A push (webhook) whose signature does not match: not from the network, or altered."""

    kind = "bad_signature"
