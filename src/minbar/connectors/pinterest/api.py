"""The HTTP calls to api.pinterest.com/v5, with failures translated once, here.

Every call carries ``Authorization: Bearer <access token>``
(https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/);
bodies are JSON. A 401 makes the connector refresh the token once and try again
(an access token can be revoked before its 30 days are up); a second 401 is
:class:`AuthExpired`. Uploads of video files go to the storage URL Pinterest
names (Amazon S3) with no Pinterest token, see :meth:`PinterestAPI.upload_file`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from minbar.connectors.errors import OutcomeUnknown, Rejected, TemporaryError
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.pinterest.failures import LABEL, error_for_response, error_for_transport

VERSION = "v5"
# The token to send; ``force`` asks for a refreshed one (after a 401).
TokenSource = Callable[[bool], str]


class PinterestAPI:
    """One account's calls; ``token`` supplies (and refreshes) its access token."""

    def __init__(self, base_url: str, token: TokenSource, *, timeout: float = 20.0) -> None:
        self.base_url = check_outbound_url(base_url.rstrip("/"))
        self._token = token
        self._timeout = timeout
        self._client: httpx.Client | None = None

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
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        writes: bool = False,
    ) -> Any:
        """One request; the JSON answered (None for 204), or the taxonomy error.

        ``writes`` marks a request whose effect people see (creating a Pin): a
        lost answer to it is an unknown outcome, not a temporary failure.
        """
        url = f"/{VERSION}/{path.lstrip('/')}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token(attempt == 2)}"}
            try:
                response = self._http().request(
                    method, url, params=params, json=json_body, headers=headers
                )
            except httpx.TransportError as exc:
                raise error_for_transport(exc, writes=writes) from None
            if response.status_code == 401 and attempt == 1:
                continue  # refused token: nothing was done; refresh once and retry
            if response.is_redirect:
                raise Rejected(
                    f"{LABEL} answered with a redirect; Minbar does not follow redirects "
                    "of API calls.",
                    status=response.status_code,
                )
            if response.status_code >= 400:
                raise error_for_response(response, writes=writes)
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                if writes:
                    raise OutcomeUnknown(
                        f"{LABEL} sent an answer Minbar could not read; the Pin may exist.",
                        detail=response.text[:500],
                        status=response.status_code,
                    ) from None
                raise TemporaryError(
                    f"{LABEL} sent an answer Minbar could not read.", detail=response.text[:500]
                ) from None
        raise AssertionError("unreachable")

    def get(self, path: str, **params: str | int) -> dict[str, Any]:
        body = self.call("GET", path, params=params)
        if not isinstance(body, dict):
            raise TemporaryError(f"{LABEL} sent an unexpected answer.", detail=str(body)[:300])
        return body

    def upload_file(self, url: str, fields: Mapping[str, str], path: Path, mime_type: str) -> None:
        """POST a file to the storage URL of a media upload, as an HTML form would.

        ``POST /v5/media`` answers ``upload_url`` and ``upload_parameters``: "make an
        HTTP POST request to upload_url … Send the media file's contents as the
        request's file parameter and also include all of the parameters from
        upload_parameters" (the ``media/create`` operation of
        https://developers.pinterest.com/docs/api/v5/). Amazon S3 wants the file
        last, after every policy field; httpx writes ``data`` before ``files``.
        Nothing anyone sees exists yet, so every failure here is safe to retry.
        """
        check_outbound_url(url)
        with make_client(timeout=max(self._timeout, 120.0)) as client, path.open("rb") as handle:
            try:
                response = client.post(
                    url, data=dict(fields), files={"file": (path.name, handle, mime_type)}
                )
            except httpx.TransportError as exc:
                raise TemporaryError(
                    f"Minbar could not finish sending the video to {LABEL}; it will try again.",
                    detail=str(exc),
                ) from None
        if response.status_code in (200, 201, 204):
            return
        detail = response.text[:500]
        if response.status_code >= 500 or response.status_code == 403:
            # A 403 from storage is an expired or refused upload policy: register afresh.
            raise TemporaryError(
                f"{LABEL}'s storage refused the video upload ({response.status_code}); "
                "Minbar will start the upload again.",
                detail=detail,
                status=response.status_code,
            )
        raise Rejected(
            f"{LABEL}'s storage refused the video ({response.status_code}).",
            detail=detail,
            status=response.status_code,
        )
