"""The HTTP calls to graph.threads.net, with failures translated once, here.

Every call goes to ``<base>/v1.0/<path>`` (https://developers.facebook.com/docs/threads/reference)
except the three token endpoints, which have no version (see :mod:`.oauth`).

The access token travels in an ``Authorization: Bearer`` header rather than the
``access_token`` query parameter the examples show: Meta's Graph servers accept
both, and a header keeps the token out of URLs, which httpx logs and exceptions
quote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from minbar.connectors.errors import AuthExpired, OutcomeUnknown, Rejected, TemporaryError
from minbar.connectors.http import make_client
from minbar.connectors.threads.failures import error_for_response, error_for_transport

VERSION = "v1.0"
_SECRET_PARAM = re.compile(r"((?:access_token|client_secret|code)=)[^&\s\"]+")
Params = Mapping[str, str | int | bool]


class ThreadsAPI:
    """One account's calls; ``token`` is its long-lived Threads user access token."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        if not token:
            raise AuthExpired("This Threads account is not connected. Reconnect it.")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(
                self.base_url,
                timeout=self._timeout,
                headers={"Authorization": f"Bearer {self._token}"},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Params | None = None,
        writes: bool = False,
        versioned: bool = True,
    ) -> dict[str, Any]:
        """One request; the JSON object answered, or the taxonomy error.

        ``writes`` marks a request whose effect people see (publishing): a lost
        answer to it is an unknown outcome, not a temporary failure.
        """
        url = f"/{VERSION}/{path.lstrip('/')}" if versioned else f"/{path.lstrip('/')}"
        form = {key: _form_value(value) for key, value in (data or {}).items()}
        query = {key: _form_value(value) for key, value in (params or {}).items()}
        try:
            response = self._http().request(method, url, params=query or None, data=form or None)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, writes=writes) from None
        if response.is_redirect:
            raise Rejected(
                f"Threads answered with a redirect to {response.headers.get('location', '?')}; "
                "Minbar does not follow redirects of API calls.",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise error_for_response(response, writes=writes)
        try:
            body = response.json()
        except ValueError:
            if writes:
                raise OutcomeUnknown(
                    "Threads sent an answer Minbar could not read; the post may have gone out.",
                    detail=response.text[:500],
                    status=response.status_code,
                ) from None
            raise TemporaryError(
                "Threads sent an answer Minbar could not read.", detail=response.text[:500]
            ) from None
        if not isinstance(body, dict):
            raise TemporaryError("Threads sent an unexpected answer.", detail=str(body)[:500])
        return body

    def get(self, path: str, **params: str | int | bool) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def post(self, path: str, *, writes: bool = False, **data: str | int | bool) -> dict[str, Any]:
        return self.call("POST", path, data=data, writes=writes)


def _form_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _RedactSecrets(logging.Filter):
    """Blank token, secret and code values in URLs httpx logs (``HTTP Request: GET …``).

    Threads' token endpoints take them as query parameters (long-lived-tokens), so
    the request line would otherwise carry them into Minbar's logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                _SECRET_PARAM.sub(r"\1[hidden]", str(a)) if "=" in str(a) else a for a in args
            )
        return True


_FILTER = _RedactSecrets()


def redact_secrets_in_logs() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
