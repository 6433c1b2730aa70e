"""Meta webhook deliveries: checking the signature, and the app-wide subscription.

A delivery is a POST whose body is ``{"object": "page" | "instagram", "entry":
[{"id": <Page or IG account id>, "time": ..., "changes": [{"field", "value"}] |
"messaging": [...]}]}``, signed with ``X-Hub-Signature-256: sha256=<HMAC-SHA256
of the body keyed with the app secret>``
(https://developers.facebook.com/docs/graph-api/webhooks/getting-started).

Meta keeps **one callback URL per app and object type**, set with
``POST /{app-id}/subscriptions`` and an app access token (``<app id>|<app secret>``;
https://developers.facebook.com/docs/graph-api/reference/app/subscriptions). Each
account then opts in: a Page with ``POST /{page-id}/subscribed_apps``
(https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps), an
Instagram account (Instagram Login) with ``POST /me/subscribed_apps``. Minbar gives
every channel its own hook address, so the app's callback points at the channel
subscribed last and its ``parse_push`` keeps only the entries of its own account;
the other accounts' news arrive by polling (see the network guides).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from minbar.connectors.errors import BadSignature, Rejected
from minbar.connectors.webhooks import hub_signature_valid

SIGNATURE_HEADER = "x-hub-signature-256"


def verified_body(headers: Mapping[str, str], body: bytes, app_secret: str) -> dict[str, Any]:
    """The decoded delivery, after checking Meta's signature with the app secret."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if not hub_signature_valid(app_secret, body, lowered.get(SIGNATURE_HEADER)):
        raise BadSignature("The push is not signed with Minbar's Meta app secret.")
    try:
        payload = json.loads(body)
    except ValueError:
        raise Rejected("The push is not JSON.") from None
    if not isinstance(payload, dict):
        raise Rejected("The push is not a JSON object.")
    return payload


def entries_for(payload: Mapping[str, Any], account_id: str) -> list[Mapping[str, Any]]:
    """The entries about one account (the Page or the Instagram account)."""
    return [
        entry
        for entry in payload.get("entry") or []
        if isinstance(entry, Mapping) and str(entry.get("id", "")) == account_id
    ]


def app_token(app: Mapping[str, str]) -> str:
    """An app access token (https://developers.facebook.com/docs/facebook-login/guides/access-tokens#apptokens)."""
    return f"{app['client_id']}|{app.get('client_secret', '')}"
