"""The demo's links: its sandbox posts carry tracked short links, and visitors have clicked.

Called by ``minbar.core.demo.seed_demo`` after the sandbox channels exist. For each
demo sandbox post with an address in it, a short link is made for its channel
(tagged like publishing tags them) and the post's text points at it. Then a bounded
crowd of simulated visitors clicks over the demo's head start — through the batch
writer the redirect's flusher uses — and some of them buy, sent as conversions
attributed the way a shop's server would send them. Idempotent: links are found by
their key, and visitors are simulated only for links without clicks.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from minbar.links import actions, urls_util
from minbar.links.models import Click, Link
from minbar.links.recorder import PendingClick
from minbar.links.rollups import write_clicks

VISITORS_PER_LINK = 60  # bounded: a demo, not a load test
BUYER_SHARE = 0.15
HOURS = 6  # the sandbox demo's head start
_URL = re.compile(r"https?://[^\s<>\"']+")

AGENTS = [
    (
        "mobile",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    (
        "mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Mobile Safari/537.36",
    ),
    (
        "desktop",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36",
    ),
    (
        "tablet",
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ),
]
REFERRERS = {
    "x": ["t.co", "x.com", ""],
    "facebook": ["l.facebook.com", "m.facebook.com", ""],
    "instagram": ["l.instagram.com", ""],
}
CURRENCY = {"oasis-coffee": ("USD", (4, 38)), "waha-coffee": ("SAR", (15, 140))}


def seed_demo_links() -> int:
    """Make the demo's links and visitors; returns how many clicks were simulated."""
    from minbar.channels.models import Channel
    from minbar.sandbox.models import SandboxPost

    simulated = 0
    for channel in Channel.objects.filter(network="sandbox").select_related("workspace"):
        data = channel.get_credentials().data
        flavour = str(data.get("flavour") or "sandbox")
        posts = SandboxPost.objects.filter(
            account__handle=data.get("handle", ""), deleted_at__isnull=True
        ).order_by("number")
        own = (
            urls_util.short_base(actions.settings_for(channel.workspace).short_domain),
            urls_util.short_base(),
        )
        for post in posts:
            found = [u for u in _URL.findall(post.text) if not u.startswith(own)]
            links = [_tracked(channel, flavour, post, url) for url in found]
            if not links:
                continue
            for link in links:
                short = urls_util.short_url(
                    link.code, actions.settings_for(channel.workspace).short_domain
                )
                post.text = post.text.replace(link.destination, short)
                post.urls = [short if u == link.destination else u for u in post.urls]
                post.save(update_fields=["text", "urls"])
                if not Click.objects.filter(link=link).exists():
                    simulated += _visitors(link, flavour, seed=post.pk)
    return simulated


def _tracked(channel: object, flavour: str, post: object, url: str) -> Link:
    from minbar.channels.models import Channel
    from minbar.sandbox.models import SandboxPost

    assert isinstance(channel, Channel) and isinstance(post, SandboxPost)
    key = hashlib.sha256(f"demo:{channel.pk}:{post.pk}:{url}".encode()).hexdigest()
    found = Link.objects.filter(dedupe_key=key).first()
    if found is not None:
        return found
    return actions._create(
        channel.workspace,
        destination=url,
        title=post.text[:80],
        channel=channel,
        auto=True,
        dedupe_key=key,
        utm_source=flavour,
        utm_medium="social",
        utm_campaign="spring-menu" if channel.workspace.language == "en" else "قائمة-الربيع",
        utm_content=f"sandbox-{post.number}",
    )


def _visitors(link: Link, flavour: str, seed: int) -> int:
    rng = random.Random(seed)
    now = timezone.now()
    batch: list[PendingClick] = []
    for n in range(VISITORS_PER_LINK):
        ua_class, agent = rng.choice(AGENTS)
        # Some people click twice: the unique-visitor estimate counts them once.
        person = n if rng.random() > 0.2 else max(0, n - 1)
        batch.append(
            PendingClick(
                link_id=link.pk,
                workspace_id=link.workspace_id,
                channel_id=link.channel_id,
                post_id=None,
                contact_id=None,
                click_id=f"demo{link.pk}x{n}",
                at=now - timedelta(seconds=rng.randint(60, HOURS * 3600)),
                ip=f"198.51.100.{person % 250}",
                user_agent=agent,
                ua_class=ua_class,
                referrer_host=rng.choice(REFERRERS.get(flavour, [""])),
            )
        )
    # A few link-preview bots, filtered out as the redirect would.
    for _bot in range(3):
        batch.append(
            PendingClick(
                link.pk,
                link.workspace_id,
                link.channel_id,
                None,
                None,
                "",
                now - timedelta(hours=HOURS),
                "",
                "facebookexternalhit/1.1",
                "bot",
                "",
            )
        )
    write_clicks(batch)
    currency, (low, high) = CURRENCY.get(link.workspace.slug, ("USD", (5, 50)))
    for pending in batch:
        if pending.click_id and rng.random() < BUYER_SHARE:
            actions.record_conversion(
                link.workspace,
                actions.ConversionInput(
                    event="purchase",
                    value=Decimal(rng.randint(low * 100, high * 100)) / 100,
                    currency=currency,
                    order_id=f"demo-{pending.click_id}",
                    click_ids=(pending.click_id,),
                    occurred_at=min(now, pending.at + timedelta(minutes=rng.randint(2, 90))),
                ),
                source="server",
            )
    return VISITORS_PER_LINK
