"""One LinkedIn account's HTTP calls: the versioned-API headers, URNs, error mapping.

Every call carries ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` and
``X-Restli-Protocol-Version: 2.0.0``: "All APIs require the request header
LinkedIn-Version: {Version in YYYYMM format}. All APIs require the request header
X-Restli-Protocol-Version: 2.0.0"
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api).
A version stays supported for at least a year
(https://learn.microsoft.com/en-us/linkedin/marketing/versioning); moving to a newer
one is changing :data:`LINKEDIN_VERSION` and running the tests.

URNs in a path are percent-encoded (``/rest/posts/urn%3Ali%3Ashare%3A1``); in a
Rest.li 2.0 query, lists are ``List(urn%3Ali%3Ashare%3A1,…)`` with encoded items
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from minbar.connectors.errors import AuthExpired, ConnectorError, TemporaryError
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.linkedin.failures import reconnect_advice, translate, transport_error

API_URL = "https://api.linkedin.com"
LINKEDIN_VERSION = "202605"
RESTLI_PROTOCOL_VERSION = "2.0.0"


def encode(urn: str) -> str:
    """A URN as one path segment or query value (every reserved character encoded)."""
    return quote(urn, safe="")


def restli_list(urns: Iterable[str]) -> str:
    return "List(" + ",".join(encode(u) for u in urns) + ")"


def query(params: Mapping[str, str]) -> str:
    """A query string whose values are already Rest.li-encoded (``encode``/``restli_list``)."""
    return "&".join(f"{name}={value}" for name, value in params.items())


def urn_id(urn: str) -> str:
    """The last part of ``urn:li:organization:123`` (``123``)."""
    return urn.rsplit(":", 1)[-1]


class LinkedInAPI:
    """An httpx client for one access token; closes with the connector's ``with`` block."""

    def __init__(self, base_url: str, access_token: str, timeout: float) -> None:
        if not access_token:
            raise AuthExpired("This LinkedIn channel is not connected. " + reconnect_advice())
        self.base_url = check_outbound_url(base_url).rstrip("/")
        self.client = make_client(
            self.base_url,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": LINKEDIN_VERSION,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL_VERSION,
            },
        )

    def close(self) -> None:
        self.client.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        writes: bool = False,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        """One request; a failure becomes a taxonomy error (``writes``: see ``translate``)."""
        try:
            response = self.client.request(
                method, path, json=json, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, writes=writes) from exc
        if response.status_code in ok:
            return response
        if 300 <= response.status_code < 400:
            # Never followed: it could send the token to an address nobody checked.
            raise TemporaryError(
                "LinkedIn answered with a redirect Minbar does not follow.",
                detail=response.headers.get("location", ""),
                status=response.status_code,
            )
        raise translate(response, writes=writes)

    def get(self, path: str) -> dict[str, Any]:
        return self.json(self.send("GET", path))

    @staticmethod
    def json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise TemporaryError(
                "LinkedIn sent an answer Minbar could not read.", detail=response.text[:300]
            ) from exc
        if not isinstance(data, dict):
            raise TemporaryError("LinkedIn sent an unexpected answer.", detail=str(data)[:300])
        return data

    def upload(self, url: str, data: bytes, *, content_type: str) -> httpx.Response:
        """PUT bytes to an upload URL LinkedIn handed out (same token, no version headers needed,
        but harmless), checked against SSRF like any address from the network."""
        check_outbound_url(url)
        try:
            response = self.client.put(url, content=data, headers={"Content-Type": content_type})
        except httpx.TransportError as exc:
            raise transport_error(exc) from exc
        if response.status_code not in (200, 201):
            raise translate(response)
        return response


def elements(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = answer.get("elements")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


__all__ = [
    "API_URL",
    "LINKEDIN_VERSION",
    "RESTLI_PROTOCOL_VERSION",
    "ConnectorError",
    "LinkedInAPI",
    "elements",
    "encode",
    "query",
    "restli_list",
    "urn_id",
]
