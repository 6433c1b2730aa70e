"""A small Graph API client: versioned paths, the access token, ``appsecret_proof``, usage.

Every call:

* goes to ``<base>/<GRAPH_VERSION>/<path>`` through :func:`minbar.connectors.http.make_client`
  (SSRF guard, timeouts, no redirects);
* carries ``access_token`` and, when the app secret is known, ``appsecret_proof`` —
  the hex HMAC-SHA256 of the token keyed with the app secret, which Meta checks
  when the app requires it ("Require App Secret" in the App Dashboard;
  https://developers.facebook.com/docs/graph-api/securing-requests);
* is refused *before* sending while the usage headers of an earlier answer said
  the token's limit is (nearly) reached (:mod:`.usage`);
* turns failures into the taxonomy (:mod:`.failures`). The token never appears in
  a message: httpx errors carry the URL, so they are reported without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.meta_graph import failures
from minbar.connectors.meta_graph.usage import BRAKE, read_usage
from minbar.connectors.meta_graph.version import GRAPH_VERSION


def appsecret_proof(access_token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return text


_HTTP: httpx.Client | None = None
_HTTP_LOCK = threading.Lock()


def _shared_http() -> httpx.Client:
    """One connection pool per process: building a client (TLS context) costs ~0.1 s.

    Base URLs are checked against SSRF when each :class:`GraphClient` is made; the
    pool follows no redirects (``make_client``).
    """
    global _HTTP
    with _HTTP_LOCK:
        if _HTTP is None:
            _HTTP = make_client()
        return _HTTP


def _scrubbed(error: ConnectorError, secrets: tuple[str, ...]) -> ConnectorError:
    """The error without the token in its message or detail (Meta sometimes echoes it)."""
    error.message = _scrub(error.message, secrets)
    error.detail = _scrub(error.detail, secrets)
    error.args = (error.message,)
    return error


class GraphClient:
    """Calls one Graph API host with one access token."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        label: str,
        app_secret: str = "",
        timeout: float = 20.0,
        versioned: bool = True,
    ) -> None:
        if not access_token:
            raise AuthExpired(f"This {label} account is not connected. Reconnect it.")
        self.base_url = check_outbound_url(base_url.rstrip("/"))
        self.access_token = access_token
        self.label = label
        self.app_secret = app_secret
        self.timeout = timeout
        self.versioned = versioned
        self._brake_key = BRAKE.key(self.base_url, access_token)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        prefix = f"/{GRAPH_VERSION}" if self.versioned else ""
        return f"{self.base_url}{prefix}/{path.lstrip('/')}"

    def _proof(self) -> dict[str, str]:
        if not self.app_secret:
            return {}
        return {"appsecret_proof": appsecret_proof(self.access_token, self.app_secret)}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        writes: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """One call; returns the decoded JSON. ``writes``: the call creates or changes something."""
        wait = BRAKE.remaining(self._brake_key)
        if wait > 0:
            raise RateLimited(
                f"{self.label} reported this account's API usage near its limit; "
                "Minbar waits before calling again.",
                retry_after=wait,
                status=None,
            )
        query = {k: _encode(v) for k, v in (params or {}).items() if v is not None}
        body = {k: _encode(v) for k, v in (data or {}).items() if v is not None}
        # The token travels in the Authorization header, never in a URL that
        # request logs would keep; appsecret_proof is derived from it, not secret.
        if method == "GET" or method == "DELETE" or not (body or files):
            query.update(self._proof())
        else:
            body.update(self._proof())
        secrets = (self.access_token,)
        limit = timeout or self.timeout
        try:
            response = _shared_http().request(
                method,
                self.url(path),
                headers={"Authorization": f"Bearer {self.access_token}"},
                params=query,
                data=body or None,
                files=files or None,
                timeout=httpx.Timeout(limit, connect=min(limit, 10.0)),
            )
        except httpx.TransportError as exc:
            raise _scrubbed(
                failures.transport_error(exc, label=self.label, writes=writes), secrets
            ) from None
        BRAKE.note(self._brake_key, read_usage(response.headers))
        if response.status_code >= 400:
            raise _scrubbed(failures.translate(response, label=self.label, writes=writes), secrets)
        try:
            return response.json()
        except ValueError:
            if writes:
                raise OutcomeUnknown(
                    f"{self.label} sent an answer Minbar could not read; it may have gone through.",
                    detail=response.text[:300],
                    status=response.status_code,
                ) from None
            raise TemporaryError(
                f"{self.label} sent an answer Minbar could not read.", detail=response.text[:300]
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, *, writes: bool = True, **data: Any) -> Any:
        return self.request("POST", path, data=data, writes=writes)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path, writes=True)

    def upload(
        self, path: str, file_field: str, file_path: str, mime_type: str, **data: Any
    ) -> Any:
        """A multipart upload (photos and videos sent as ``source``)."""
        content = Path(file_path).read_bytes()
        return self.request(
            "POST",
            path,
            data=data,
            files={file_field: (Path(file_path).name, content, mime_type)},
            writes=True,
            timeout=max(self.timeout, 120.0),
        )

    def pages(self, path: str, *, limit: int, max_pages: int = 5, **params: Any) -> list[Any]:
        """Items of a paged edge (``data`` + ``paging.cursors.after``), at most ``limit``."""
        items: list[Any] = []
        after = ""
        for _ in range(max_pages):
            answer = self.get(path, limit=min(limit, 100), after=after or None, **params)
            data = answer.get("data") if isinstance(answer, Mapping) else None
            items += list(data or [])
            cursors = (
                ((answer.get("paging") or {}).get("cursors") or {})
                if isinstance(answer, Mapping)
                else {}
            )
            after = str(cursors.get("after") or "")
            has_next = (
                bool((answer.get("paging") or {}).get("next"))
                if isinstance(answer, Mapping)
                else False
            )
            if len(items) >= limit or not after or not has_next:
                break
        return items[:limit]


def _encode(value: Any) -> str:
    """Graph parameters are strings; lists and objects go as JSON (``attached_media``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
