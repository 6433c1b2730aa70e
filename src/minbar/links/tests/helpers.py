"""Links, clicks and conversions for tests, made the way the app makes them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.test import Client

from minbar.core.actor import Actor
from minbar.links import actions
from minbar.links.models import Link
from minbar.links.recorder import PendingClick
from minbar.links.rollups import write_clicks
from minbar.webhooks.signing import sign
from minbar.workspaces.access import access_for

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def make_link(
    user: Any,
    slug: str = "acme",
    destination: str = "https://shop.example.com/spring",
    **extra: Any,
) -> Link:
    utm = extra.pop("utm", {})
    return actions.create_link(
        Actor(user=user),
        access_for(user, slug),
        actions.LinkInput(destination=destination, utm=utm, **extra),
    )


def click(
    client: Client,
    link: Link,
    *,
    ua: str = BROWSER_UA,
    ip: str = "203.0.113.7",
    referrer: str = "",
    query: str = "",
) -> Any:
    headers = {"User-Agent": ua}
    if referrer:
        headers["Referer"] = referrer
    return client.get(f"/l/{link.code}{query}", headers=headers, REMOTE_ADDR=ip)


def write(
    link: Link,
    at: datetime,
    *,
    click_id: str,
    ip: str = "198.51.100.1",
    ua: str = BROWSER_UA,
    ua_class: str = "desktop",
    referrer: str = "",
) -> None:
    """Write one click at a given time through the batch writer (what the flusher calls)."""
    write_clicks(
        [
            PendingClick(
                link_id=link.pk,
                workspace_id=link.workspace_id,
                channel_id=link.channel_id,
                post_id=link.post_id,
                contact_id=link.contact_id,
                click_id=click_id,
                at=at,
                ip=ip,
                user_agent=ua,
                ua_class=ua_class,
                referrer_host=referrer,
            )
        ]
    )


def signed_post(
    client: Client,
    workspace: Any,
    body: dict[str, Any],
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    key: str | None = None,
) -> Any:
    cfg = actions.settings_for(workspace)
    raw = json.dumps(body).encode()
    signature = sign(secret or cfg.conversion_secret, raw, timestamp)
    return client.post(
        "/api/v1/conversions",
        data=raw,
        content_type="application/json",
        headers={"Minbar-Key": key or cfg.public_key, "Minbar-Signature": signature},
    )
