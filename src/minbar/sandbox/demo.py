"""Sandbox accounts for the demo brands, with posts already out and an audience reacting.

``minbar demo`` seeds before its server runs, so the accounts are made here
directly (not through HTTP) and handed back as the :class:`ConnectResult`
the sandbox connector's ``connect_with_fields`` would have returned, ready to
be saved as channels. Seeding is idempotent: accounts are found by handle and
their posts are made once; a token that still works is kept, otherwise a new
one is issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from minbar.connectors.types import AccountInfo, ConnectResult, Credentials
from minbar.sandbox import actions, queries
from minbar.sandbox.models import SandboxAccount, SandboxPost

DEMO_HEAD_START_SECONDS = 6 * 3600  # simulated hours already passed when the demo opens


@dataclass(frozen=True)
class DemoAccount:
    workspace: str  # the demo workspace's slug it belongs to
    handle: str
    name: str
    flavour: str
    seed: int
    arabic_share: float
    topics: tuple[str, ...]
    posts: tuple[dict[str, Any], ...]


PORTRAIT = {"mime_type": "image/jpeg", "width": 1080, "height": 1350, "bytes": 420_000}

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        workspace="oasis-coffee",
        handle="oasis_coffee",
        name="Oasis Coffee",
        flavour="x",
        seed=2026,
        arabic_share=0.15,
        topics=("coffee", "food"),
        posts=(
            {
                "text": "Iced spring latte is back ☀️ Single-origin espresso, oat milk, "
                "a hint of honey. https://oasis.example/menu #coffee",
            },
            {"text": "What's your go-to order on a Monday morning? ☕"},
        ),
    ),
    DemoAccount(
        workspace="oasis-coffee",
        handle="oasis_coffee_fb",
        name="Oasis Coffee",
        flavour="facebook",
        seed=2027,
        arabic_share=0.15,
        topics=("coffee", "food"),
        posts=(
            {
                "text": "Our Chicago café opens this Saturday! Free cortado for the first "
                "100 guests. https://oasis.example/chicago #coffee",
                "media": [PORTRAIT],
            },
        ),
    ),
    DemoAccount(
        workspace="waha-coffee",
        handle="waha_coffee",
        name="قهوة الواحة",
        flavour="instagram",
        seed=2028,
        arabic_share=0.85,
        topics=("coffee",),
        posts=(
            {
                "text": "لاتيه الزعفران وصل! جربوه في فروعنا بالرياض وجدة ☕️ #قهوة #قهوة_مختصة",
                "media": [PORTRAIT],
            },
            {
                "text": "قهوة باردة منعشة لأيام الصيف الحارة 🧊 #قهوة",
                "media": [PORTRAIT],
            },
        ),
    ),
    DemoAccount(
        workspace="oasis-coffee",
        handle="oasis_coffee_ig",
        name="Oasis Coffee",
        flavour="instagram",
        seed=2029,
        arabic_share=0.1,
        topics=("coffee", "food"),
        posts=(
            {
                "text": "Latte art Friday 🎨 Tag us in yours! #coffee #latteart",
                "media": [PORTRAIT],
            },
        ),
    ),
    DemoAccount(
        workspace="waha-coffee",
        handle="waha_coffee_x",
        name="قهوة الواحة",
        flavour="x",
        seed=2030,
        arabic_share=0.85,
        topics=("coffee",),
        posts=(
            {"text": "صباح الخير! وش قهوتكم المفضلة اليوم؟ ☕️ #قهوة"},
            {
                "text": "فرعنا الجديد في دبي يفتح أبوابه هذا الخميس 🎉 "
                "https://waha.example/dubai #قهوة_مختصة",
            },
        ),
    ),
    DemoAccount(
        workspace="waha-coffee",
        handle="waha_coffee_fb",
        name="قهوة الواحة",
        flavour="facebook",
        seed=2031,
        arabic_share=0.85,
        topics=("coffee", "food"),
        posts=(
            {
                "text": "عرض نهاية الأسبوع: كوب ثانٍ مجانًا مع كل حلى 🍰 https://waha.example/offers",
                "media": [PORTRAIT],
            },
        ),
    ),
)


@dataclass(frozen=True)
class DemoConnection:
    workspace: str
    result: ConnectResult
    created: bool


def _connection(account: SandboxAccount, token: str) -> ConnectResult:
    metrics = queries.account_metrics(account)
    return ConnectResult(
        account=AccountInfo(
            remote_id=f"a{account.pk}",
            handle=f"@{account.handle}",
            display_name=account.name,
            followers=metrics["followers"],
        ),
        credentials=Credentials(
            secrets={"access_token": token},
            data={
                "account_id": f"a{account.pk}",
                "handle": account.handle,
                "flavour": account.flavour,
            },
        ),
    )


@transaction.atomic
def seed_demo_sandbox(known_tokens: Mapping[str, str] | None = None) -> list[DemoConnection]:
    """The demo's sandbox accounts; ``known_tokens`` (handle → token) are reused when valid."""
    known = dict(known_tokens or {})
    connections: list[DemoConnection] = []
    for demo in DEMO_ACCOUNTS:
        account = SandboxAccount.objects.filter(handle=demo.handle).first()
        created = account is None
        if account is None:
            made = actions.create_account(
                flavour=demo.flavour,
                name=demo.name,
                handle=demo.handle,
                seed=demo.seed,
                arabic_share=demo.arabic_share,
                topics=list(demo.topics),
            )
            account, token = made.account, made.token
        else:
            token = known.get(demo.handle, "")
            if actions.authenticate(token) != account:
                token = actions.rotate_token(account)
        if not SandboxPost.objects.filter(account=account).exists():
            for post in demo.posts:
                actions.publish(
                    account,
                    text=post["text"],
                    media=actions.parse_media(post.get("media")),
                    idempotency_key=f"demo:{demo.handle}:{demo.posts.index(post)}",
                )
            actions.advance(account, DEMO_HEAD_START_SECONDS)
        connections.append(DemoConnection(demo.workspace, _connection(account, token), created))
    return connections
