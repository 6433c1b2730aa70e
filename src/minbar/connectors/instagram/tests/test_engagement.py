"""Comments, tags, messages, insights and webhook deliveries on Instagram."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minbar.connectors.errors import BadSignature, Rejected
from minbar.connectors.instagram.tests.conftest import Connected
from minbar.connectors.meta_graph.tests.fake_graph import IG_APP_ID, IG_APP_SECRET, FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import jpeg
from minbar.connectors.types import InteractionKind, MediaItem, PostRequest, RemoteRef
from minbar.connectors.webhooks import hub_signature


def publish(account: Connected, tmp_path: Path, text: str = "Post") -> str:
    item = MediaItem(str(jpeg(tmp_path / "a.jpg")), "image/jpeg", "", 1080, 1080)
    return account.connector.publish(PostRequest(text=text, media=(item,))).remote_id


def test_comments_replies_tags_and_messages(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    media = publish(account, tmp_path)
    comment = fake.comment_as(media, "جميل 😍")
    reply = fake.comment_as(comment, "Yes!", who=("9002", "Omar"))
    fake.tag_instagram(account.ig_id, "Breakfast with @minbar.cafe")
    fake.message_as(account.ig_id, "igsid-1", "Do you deliver?")

    page = account.connector.interactions()
    kinds = sorted(i.kind.value for i in page.items)
    assert kinds == ["comment", "direct_message", "mention", "reply"]
    by_id = {i.remote_id: i for i in page.items}
    assert by_id[comment].author.handle == "sara"
    reply_ref = by_id[reply].ref
    assert reply_ref is not None and reply_ref.remote_id == comment  # one level of replies

    assert account.connector.interactions(page.cursor).items == []
    newer = fake.comment_as(media, "Price?")
    assert [i.remote_id for i in account.connector.interactions(page.cursor).items] == [newer]


def test_reply_hide_delete_a_comment(fake: FakeGraph, account: Connected, tmp_path: Path) -> None:
    media = publish(account, tmp_path)
    comment = fake.comment_as(media, "Hours?")
    answer = account.connector.reply(RemoteRef(comment), PostRequest(text="8 to 8"))
    assert fake.nodes[answer.remote_id]["parent_id"] == comment
    account.connector.hide(RemoteRef(comment))
    assert fake.nodes[comment]["hidden"] is True
    account.connector.delete_interaction(RemoteRef(comment))
    assert comment not in fake.nodes
    account.connector.delete_interaction(RemoteRef(comment))


def test_messages_are_answered_only_within_24_hours(fake: FakeGraph, account: Connected) -> None:
    fake.message_as(account.ig_id, "igsid-2", "Hi")
    fake.message_as(account.ig_id, "igsid-3", "Old", at=datetime.now(UTC) - timedelta(days=2))
    items = {i.author.remote_id: i for i in account.connector.interactions().items}
    fresh, old = items["igsid-2"].ref, items["igsid-3"].ref
    assert fresh is not None and old is not None
    sent = account.connector.reply(fresh, PostRequest(text="Hello!"))
    assert sent.remote_id
    with pytest.raises(Rejected, match="24 hours"):
        account.connector.reply(old, PostRequest(text="Sorry"))


def test_media_metrics_map_views_and_saves_and_leave_missing_ones_out(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    media = publish(account, tmp_path)
    values = account.connector.post_metrics([media])[media].values
    assert values == {
        "likes": 7,
        "comments": 0,
        "impressions": 100,
        "reach": 80,
        "shares": 2,
        "saves": 3,
    }
    fake.fail("GET", r"/insights$", code=10, message="(#10) Not enough viewers for the media")
    assert set(account.connector.post_metrics([media])[media].values) == {"likes", "comments"}


def test_account_metrics(account: Connected) -> None:
    assert account.connector.account_metrics().values == {
        "followers": 340,
        "following": 12,
        "impressions": 400,
        "reach": 50,
        "profile_views": 9,
    }


def test_subscribing_and_parsing_a_signed_delivery(fake: FakeGraph, account: Connected) -> None:
    account.connector.subscribe_push("https://minbar.example/inbox/push/t/", "s", "vt")
    assert fake.subscriptions[-1]["object"] == "instagram"
    assert fake.nodes[account.ig_id]["subscribed_fields"] == ["comments", "messages"]
    assert any(path.endswith(f"{IG_APP_ID}/subscriptions") for _, path, _ in fake.requests)

    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": account.ig_id,
                    "time": 1767225600,
                    "changes": [
                        {
                            "field": "comments",
                            "value": {
                                "id": "c9",
                                "text": "Love it",
                                "from": {"id": "u1", "username": "sara"},
                                "media": {"id": "m1", "media_product_type": "FEED"},
                            },
                        }
                    ],
                    "messaging": [
                        {
                            "sender": {"id": "igsid-5"},
                            "recipient": {"id": account.ig_id},
                            "timestamp": 1767225601000,
                            "message": {"mid": "mid.1", "text": "Hi"},
                        }
                    ],
                },
                {"id": "someone-else", "changes": [{"field": "comments", "value": {"id": "x"}}]},
            ],
        }
    ).encode()
    items = account.connector.parse_push(
        {"X-Hub-Signature-256": hub_signature(IG_APP_SECRET, body)}, body, "hook-secret"
    )
    assert [(i.remote_id, i.kind) for i in items] == [
        ("c9", InteractionKind.COMMENT),
        ("mid.1", InteractionKind.DIRECT_MESSAGE),
    ]
    with pytest.raises(BadSignature):
        account.connector.parse_push({"X-Hub-Signature-256": "sha256=00"}, body, "")
