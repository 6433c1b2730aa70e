"""Google's OAuth 2.0 for web server applications, shared by YouTube and Google Business Profile.

https://developers.google.com/identity/protocols/oauth2/web-server
"""

from __future__ import annotations

from typing import Any

import httpx

from minbar.connectors.http import (
    check_outbound_url,
    error_for_response,
    error_for_transport,
    make_client,
)

GOOGLE_TOKEN_HOST = "https://oauth2.googleapis.com"
REVOKE_PATH = "/revoke"


def revoke(revoke_url: str, *, token: str, timeout: float, network: str) -> None:
    """End the app's access that ``token`` (a refresh or an access token) grants.

    #tokenrevoke: "make a request to https://oauth2.googleapis.com/revoke and include
    the token as a parameter"; "If the token is an access token and it has a
    corresponding refresh token, the refresh token will also be revoked." 200 means
    revoked; a 400 ``invalid_token`` means Google no longer knows the token, which
    is revoked too as far as Minbar is concerned.
    """
    if not token:
        return
    check_outbound_url(revoke_url)
    with make_client(timeout=timeout) as client:
        try:
            response = client.post(
                revoke_url,
                data={"token": token},
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.TransportError as exc:
            raise error_for_transport(exc, network=network) from exc
    if response.status_code == 200:
        return
    if response.status_code == 400 and _oauth_error(response) == "invalid_token":
        return
    raise error_for_response(response, network=network, reason=_oauth_error(response))


def _oauth_error(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else ""
