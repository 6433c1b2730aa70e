"""The sandbox network's pushes (webhooks), shaped like Meta's Graph API webhooks.

- Subscribing: the network first verifies the callback the way Meta does — a GET
  with ``hub.mode=subscribe``, ``hub.challenge`` and the ``hub.verify_token`` the
  subscriber chose; the callback must answer 200 with the challenge as its body.
- Each push is a POST of ``{"object": "sandbox", "account": ..., "items": [...]}``
  (items exactly as ``GET /notifications`` returns them) signed like Meta's
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``.
- Delivery is at least once and in order: the account keeps the notifications
  cursor up to which a push was acknowledged (2xx); a failed push is sent again
  on the next pass. Subscribers must dedupe (Minbar stores each item once).

See https://developers.facebook.com/docs/graph-api/webhooks/getting-started
("Verification Requests" and "Validating Payloads").
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable

import httpx
from django.db import transaction

from minbar.connectors.http import shared_tls_context
from minbar.connectors.webhooks import hub_signature
from minbar.core.errors import InvalidInput
from minbar.sandbox import queries
from minbar.sandbox.actions import audience_for
from minbar.sandbox.models import SandboxAccount, SandboxEvent, SandboxPost

logger = logging.getLogger("minbar.sandbox")

# Tests route pushes into Django in process (no sockets), like the connector's HTTP.
transport_factory: Callable[[], httpx.BaseTransport] | None = None
TIMEOUT = 10.0
BATCH = 100


def _client() -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT,
        transport=transport_factory() if transport_factory else None,
        verify=shared_tls_context(),
    )


def subscribe(account: SandboxAccount, url: str, secret: str, verify_token: str, base: str) -> None:
    """Verify the callback (Meta's handshake), then push new interactions to it."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput("The callback must be an http(s) URL.", fields={"url": "Invalid."})
    if len(secret) < 16:
        raise InvalidInput(
            "Use an app secret of at least 16 characters.", fields={"secret": "Short."}
        )
    challenge = secrets.token_urlsafe(16)
    try:
        with _client() as client:
            answer = client.get(
                url,
                params={
                    "hub.mode": "subscribe",
                    "hub.challenge": challenge,
                    "hub.verify_token": verify_token,
                },
            )
    except httpx.HTTPError as exc:
        raise InvalidInput(
            f"The callback could not be reached: {type(exc).__name__}.",
            fields={"url": "Unreachable."},
        ) from None
    if answer.status_code != 200 or answer.text != challenge:
        raise InvalidInput(
            "The callback did not answer the verification request with the challenge.",
            fields={"url": f"Answered {answer.status_code}."},
        )
    latest = (
        SandboxEvent.objects.filter(account=account, due_ms__lte=account.released_until_ms)
        .order_by("-due_ms", "-id")
        .first()
    )
    account.webhook_url, account.webhook_secret, account.webhook_base = url, secret, base
    # Only what happens from now on is pushed; history is there to poll.
    account.webhook_cursor = f"{latest.due_ms}.{latest.pk}" if latest else ""
    SandboxAccount.objects.filter(pk=account.pk).update(
        webhook_url=url,
        webhook_secret=secret,
        webhook_cursor=account.webhook_cursor,
        webhook_base=base,
    )


def unsubscribe(account: SandboxAccount) -> None:
    SandboxAccount.objects.filter(pk=account.pk).update(
        webhook_url="", webhook_secret="", webhook_cursor=""
    )


def _post_url(account: SandboxAccount) -> queries.PostURL:
    from django.urls import reverse

    def url(post: SandboxPost) -> str:
        path = reverse(
            "sandbox:post_page", kwargs={"handle": account.handle, "post_id": post.remote_id}
        )
        return account.webhook_base.rstrip("/") + path

    return url


def push(account: SandboxAccount) -> int:
    """Deliver what happened since the last acknowledged push; the number delivered."""
    if not account.webhook_url:
        return 0
    post_url = _post_url(account)
    page = queries.notifications(account, cursor=account.webhook_cursor, limit=BATCH)
    if not page.items:
        return 0
    audience = audience_for(account)
    body = json.dumps(
        {
            "object": "sandbox",
            "account": account.handle,
            "items": [queries.event_json(e, audience, post_url) for e in page.items],
        },
        ensure_ascii=False,
    ).encode()
    try:
        with _client() as client:
            answer = client.post(
                account.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": hub_signature(account.webhook_secret, body),
                },
            )
    except httpx.HTTPError:
        logger.info("sandbox push to %s failed; it is sent again next time", account.handle)
        return 0
    if not 200 <= answer.status_code < 300:
        return 0
    with transaction.atomic():
        # Only move forward: a slower pass must not move the cursor back.
        SandboxAccount.objects.filter(pk=account.pk, webhook_cursor=account.webhook_cursor).update(
            webhook_cursor=page.cursor
        )
    account.webhook_cursor = page.cursor
    return len(page.items)


def push_pending(account_ids: list[int] | None = None, rounds: int = 5) -> int:
    """Push to every subscribed account (or those given), a few batches each; bounded."""
    accounts = SandboxAccount.objects.exclude(webhook_url="")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    total = 0
    for account in accounts:
        for _round in range(rounds):
            sent = push(account)
            total += sent
            if sent < BATCH:
                break
    return total
