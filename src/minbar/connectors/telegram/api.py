"""The HTTP calls to the Bot API, with failures translated once, here.

"All queries to the Telegram Bot API must be served over HTTPS and need to be
presented in this form: ``https://api.telegram.org/bot<token>/METHOD_NAME``"
(https://core.telegram.org/bots/api#making-requests). The Bot API has no other
way to pass the token, so it is in every URL path; this module keeps it out of
everything else Minbar writes down:

- exceptions carry :func:`.failures.redact`-ed messages and details;
- a filter on the ``httpx`` logger blanks it in "HTTP Request: POST …" lines
  (Minbar's settings keep that logger at WARNING anyway);
- ``BotAPI.__repr__`` does not show it.

Parameters go as JSON ("application/json (except for uploading files)") or, when
a file is uploaded, as ``multipart/form-data`` with nested objects
JSON-serialized, as #sending-files describes ("Post the file using
multipart/form-data in the usual way that files are uploaded via the browser").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from minbar.connectors.errors import AuthExpired, OutcomeUnknown, TemporaryError
from minbar.connectors.http import make_client
from minbar.connectors.telegram.failures import (
    TOKEN_PATTERN,
    error_for,
    error_for_status,
    error_for_transport,
    parse_error,
    redact,
)


@dataclass(frozen=True)
class Upload:
    """A local file sent in a multipart request under ``field``."""

    field: str
    path: str
    mime_type: str


class BotAPI:
    """One bot's calls; ``token`` is the token @BotFather gave."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        if not token:
            raise AuthExpired("This Telegram channel has no bot token. Reconnect it.")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"BotAPI({self.base_url!r}, token=<hidden>)"

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.base_url, timeout=self._timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        uploads: tuple[Upload, ...] = (),
        writes: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """One method; its ``result``, or the taxonomy error.

        ``writes`` marks a request whose effect people see (a message sent or
        deleted): an answer lost after sending is an unknown outcome, not a
        temporary failure. ``timeout`` lengthens the read timeout (long polling).
        """
        url = f"/bot{self._token}/{method}"
        fields = {key: value for key, value in (params or {}).items() if value is not None}
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout + self._timeout, connect=10.0)
        try:
            with ExitStack() as stack:
                if uploads:
                    files = {
                        upload.field: (
                            Path(upload.path).name,
                            stack.enter_context(Path(upload.path).open("rb")),
                            upload.mime_type,
                        )
                        for upload in uploads
                    }
                    response = self._http().post(url, data=_form(fields), files=files, **extra)
                else:
                    response = self._http().post(url, json=fields, **extra)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, writes=writes, token=self._token) from None
        except OSError as exc:  # the prepared file went missing: nothing was sent
            raise TemporaryError(
                "Minbar could not read a media file to upload to Telegram.", detail=str(exc)
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        error = parse_error(body, response.status_code)
        if error is not None:
            raise error_for(error, writes=writes, token=self._token)
        if response.status_code >= 400 or not isinstance(body, dict):
            if response.status_code < 400 and writes:
                raise OutcomeUnknown(
                    "Telegram sent an answer Minbar could not read; the message may have "
                    "been sent.",
                    detail=redact(response.text[:500], self._token),
                    status=response.status_code,
                )
            raise error_for_status(response, writes=writes, token=self._token)
        return body.get("result")


def _form(fields: Mapping[str, Any]) -> dict[str, str]:
    """Multipart fields: strings as they are, numbers and booleans as text, objects as JSON."""
    form: dict[str, str] = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            form[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            form[key] = json.dumps(value, ensure_ascii=False)
        else:
            form[key] = str(value)
    return form


class _RedactTokens(logging.Filter):
    """Blank bot tokens in the URLs httpx logs (``HTTP Request: POST …/bot<token>/…``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                TOKEN_PATTERN.sub("<bot token>", str(a)) if TOKEN_PATTERN.search(str(a)) else a
                for a in args
            )
        return True


_FILTER = _RedactTokens()


def redact_tokens_in_logs() -> None:
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
