"""HTTP for connectors: safe outbound URLs, timeouts, and status codes mapped to the taxonomy."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)

USER_AGENT = "Minbar/0.1 (+https://github.com/minbar-social/minbar)"


class UnsafeURL(Rejected):
    """The URL points at an internal address Minbar must not be made to call."""


def check_outbound_url(url: str) -> str:
    """Refuse URLs that would make Minbar call its own network (SSRF).

    Loopback and private addresses are allowed only when
    ``MINBAR_ALLOW_PRIVATE_URLS`` is on (local test servers, a LAN instance).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeURL(f"“{url}” is not an http(s) address.")
    if getattr(settings, "MINBAR_ALLOW_PRIVATE_URLS", False):
        return url
    if parts.scheme != "https":
        raise UnsafeURL(f"“{url}” must use https://.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise TemporaryError(f"The server name {parts.hostname} cannot be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UnsafeURL(
                f"{parts.hostname} points at an internal address; Minbar will not call it."
            )
    return url


_tls_lock = threading.Lock()
_tls: ssl.SSLContext | None = None


def shared_tls_context() -> ssl.SSLContext:
    """The TLS settings every client shares (httpx's defaults: certifi, ``SSL_CERT_FILE``).

    Building them loads the whole CA bundle, about 50 ms of CPU: a client per
    connector made them once per channel per dispatcher pass. A context is safe
    to share between threads once made; the lock keeps a burst's threads from
    all building one at the same moment.
    """
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = httpx.create_ssl_context()
        return _tls


def make_client(
    base_url: str = "", timeout: float = 20.0, headers: Mapping[str, str] | None = None
) -> httpx.Client:
    if base_url:
        check_outbound_url(base_url)
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
        verify=shared_tls_context(),
    )


def retry_after_seconds(headers: Mapping[str, str], default: float = 60.0) -> float:
    """Seconds to wait, from Retry-After (seconds or HTTP date) or common reset headers."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                pass
    for name in ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        reset = headers.get(name)
        if not reset:
            continue
        try:
            number = float(reset)
        except ValueError:
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
            except ValueError:
                continue
        # Epoch seconds when large, else seconds from now.
        now = datetime.now(UTC).timestamp()
        return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)
    return default


def error_for_response(
    response: httpx.Response, *, network: str, reason: str = "", writes: bool = False
) -> ConnectorError:
    """The taxonomy error for a failed response; ``reason`` is the network's message."""
    status = response.status_code
    detail = reason or response.text[:500]
    if status == 429:
        return RateLimited(
            f"{network} asks Minbar to slow down.",
            detail=detail,
            retry_after=retry_after_seconds(response.headers),
            status=status,
        )
    if status in (401, 403) and not reason_is_permission(detail):
        return AuthExpired(
            f"{network} no longer accepts this account's sign-in. Reconnect it.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 502, 504):
            # The request reached the network; it may have been carried out.
            return OutcomeUnknown(
                f"{network} failed while handling the request; it may have gone through.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{network} is having trouble; Minbar will try again.", detail=detail, status=status
        )
    return Rejected(
        reason or f"{network} refused the request ({status}).", detail=detail, status=status
    )


def reason_is_permission(detail: str) -> bool:
    """A 403 about what the account may do, not about its sign-in."""
    lowered = detail.lower()
    return any(
        word in lowered
        for word in ("permission", "not allowed", "forbidden action", "blocked", "suspended")
    )


def error_for_transport(
    exc: httpx.TransportError, *, network: str, writes: bool = False
) -> ConnectorError:
    """Connection failures before sending are temporary; a timeout after sending is unknown."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {network} right now.", detail=str(exc))
    if writes:
        return OutcomeUnknown(
            f"{network} did not answer in time; the post may have gone out.", detail=str(exc)
        )
    return TemporaryError(f"{network} did not answer in time.", detail=str(exc))
