"""Facebook Login for Minbar's Meta app: the dialog, the code exchange, long-lived tokens.

Manual login flow (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):

1. the person approves Minbar on ``https://www.facebook.com/<ver>/dialog/oauth``
   (``client_id``, ``redirect_uri``, ``state``, ``scope``, ``response_type=code``);
   Meta's dialog also lets them choose which Pages (and linked Instagram accounts)
   Minbar may use;
2. ``GET https://graph.facebook.com/<ver>/oauth/access_token`` with ``client_id``,
   ``client_secret``, ``redirect_uri`` and ``code`` gives a short-lived user token;
3. ``GET /oauth/access_token?grant_type=fb_exchange_token`` swaps it for a long-lived
   one (about 60 days) — and Page tokens read with a long-lived user token do not
   expire (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).

Facebook documents no PKCE for this server-side flow; the client secret, sent
only from the server, protects the code exchange.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from minbar.connectors.errors import Rejected
from minbar.connectors.http import make_client
from minbar.connectors.meta_graph import failures
from minbar.connectors.meta_graph.version import (
    FACEBOOK_GRAPH,
    FACEBOOK_WWW,
    GRAPH_VERSION,
    host_for,
)


def dialog_url(
    base_url: str, *, client_id: str, redirect_uri: str, state: str, scopes: tuple[str, ...]
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "scope": ",".join(scopes),
        # Ask again for permissions the person declined last time.
        "auth_type": "rerequest",
    }
    host = host_for(base_url, FACEBOOK_WWW)
    return f"{host}/{GRAPH_VERSION}/dialog/oauth?{urlencode(params)}"


def _token_call(
    base_url: str, params: dict[str, str], *, label: str, timeout: float
) -> dict[str, Any]:
    url = f"{host_for(base_url, FACEBOOK_GRAPH)}/{GRAPH_VERSION}/oauth/access_token"
    try:
        with make_client(timeout=timeout) as http:
            response = http.get(url, params=params)
    except httpx.TransportError as exc:
        raise failures.transport_error(exc, label=label, writes=False) from None
    if response.status_code >= 400:
        error = failures.parse_error(response)
        if error.code in (100, 190, 191, 1) and response.status_code < 500:
            # The code was used, expired, or was made for another redirect URI.
            raise Rejected(
                f"{label} did not accept the sign-in ({error.words or 'no reason given'}). "
                "Start connecting again.",
                detail=error.words,
                status=response.status_code,
            )
        raise failures.translate(response, label=label)
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise Rejected(f"{label} sent no access token. Start connecting again.")
    return token


def exchange_code(
    base_url: str, app: dict[str, str], *, redirect_uri: str, code: str, label: str, timeout: float
) -> dict[str, Any]:
    return _token_call(
        base_url,
        {
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
            "redirect_uri": redirect_uri,
            "code": code,
        },
        label=label,
        timeout=timeout,
    )


def long_lived(
    base_url: str, app: dict[str, str], short_token: str, *, label: str, timeout: float
) -> dict[str, Any]:
    return _token_call(
        base_url,
        {
            "grant_type": "fb_exchange_token",
            "client_id": app["client_id"],
            "client_secret": app.get("client_secret", ""),
            "fb_exchange_token": short_token,
        },
        label=label,
        timeout=timeout,
    )
