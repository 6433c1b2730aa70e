"""Insights mapped to Minbar's metric keys, and webhook deliveries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minbar.connectors.errors import BadSignature
from minbar.connectors.facebook.tests.conftest import Connected
from minbar.connectors.meta_graph.tests.fake_graph import APP_ID, APP_SECRET, FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import video
from minbar.connectors.types import InteractionKind, MediaItem, PostRequest
from minbar.connectors.webhooks import hub_signature


def test_post_metrics_map_meta_words_onto_minbar_keys(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="Measure me")).remote_id
    fake.nodes[post]["reactions"] = 12
    fake.nodes[post]["shares"] = 3
    fake.comment_as(post, "nice")
    values = page.connector.post_metrics([post])[post].values
    assert values == {
        "likes": 12,
        "comments": 1,
        "shares": 3,
        "impressions": 40,
        "reach": 30,
        "clicks": 4,
    }
    asked = [p for m, path, p in fake.requests if path.endswith(f"{post}/insights")][-1]
    assert "post_impressions" not in asked["metric"].split(",")  # retired by Meta


def test_unavailable_insights_are_absent_not_zero(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="Small page")).remote_id
    fake.fail(
        "GET", r"/insights$", code=100, message="(#100) The value must be a valid insights metric"
    )
    values = page.connector.post_metrics([post])[post].values
    assert set(values) == {"likes", "comments", "shares"}


def test_video_metrics_come_from_video_insights(
    fake: FakeGraph, page: Connected, tmp_path: Path
) -> None:
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    video_id = page.connector.publish(PostRequest(text="clip", media=(clip,))).remote_id
    values = page.connector.post_metrics([video_id])[video_id].values
    assert values["video_views"] == 55 and values["impressions"] == 90 and values["reach"] == 70
    assert "shares" not in values


def test_deleted_posts_drop_out_of_metrics(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="gone")).remote_id
    page.connector.delete(post)
    assert page.connector.post_metrics([post]) == {}


def test_account_metrics(page: Connected) -> None:
    values = page.connector.account_metrics().values
    assert values == {"followers": 120, "impressions": 500, "reach": 300}


def test_subscribing_points_the_app_webhook_and_subscribes_the_page(
    fake: FakeGraph, page: Connected
) -> None:
    page.connector.subscribe_push("https://minbar.example/inbox/push/abc/", "s", "verify-1")
    subscription = fake.subscriptions[-1]
    assert subscription["object"] == "page"
    assert subscription["callback_url"] == "https://minbar.example/inbox/push/abc/"
    assert subscription["verify_token"] == "verify-1"
    assert fake.nodes[page.page_id]["subscribed_fields"] == ["feed", "messages"]
    app_call = [
        (m, path) for m, path, _ in fake.requests if path.endswith(f"{APP_ID}/subscriptions")
    ]
    assert app_call


def _delivery(page_id: str) -> bytes:
    return json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": 1767225600,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": "c1",
                                "post_id": f"{page_id}_p1",
                                "parent_id": f"{page_id}_p1",
                                "from": {"id": "u1", "name": "Sara"},
                                "message": "Hi there",
                                "created_time": 1767225600,
                            },
                        },
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "remove",
                                "comment_id": "c0",
                                "post_id": f"{page_id}_p1",
                                "parent_id": f"{page_id}_p1",
                                "from": {"id": "u2", "name": "Ali"},
                                "created_time": 1767225601,
                            },
                        },
                        {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
                    ],
                    "messaging": [
                        {
                            "sender": {"id": "psid-9"},
                            "recipient": {"id": page_id},
                            "timestamp": 1767225602000,
                            "message": {"mid": "m.1", "text": "سؤال"},
                        },
                        {
                            "sender": {"id": page_id},
                            "recipient": {"id": "psid-9"},
                            "timestamp": 1767225603000,
                            "message": {"mid": "m.2", "text": "echo", "is_echo": True},
                        },
                    ],
                },
                {
                    "id": "another-page",
                    "time": 1,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {"item": "comment", "verb": "add", "comment_id": "x"},
                        }
                    ],
                },
            ],
        }
    ).encode()


def test_a_signed_delivery_becomes_interactions(page: Connected) -> None:
    body = _delivery(page.page_id)
    headers = {"X-Hub-Signature-256": hub_signature(APP_SECRET, body)}
    items = page.connector.parse_push(headers, body, secret="hook-secret-not-used-by-meta")
    by_id = {i.remote_id: i for i in items}
    assert set(by_id) == {"c1", "c0", "m.1"}
    assert by_id["c1"].kind == InteractionKind.COMMENT and not by_id["c1"].deleted
    assert by_id["c0"].deleted is True
    assert by_id["m.1"].kind == InteractionKind.DIRECT_MESSAGE
    assert by_id["m.1"].conversation_id == "psid:psid-9"


def test_a_delivery_with_a_wrong_signature_is_refused(page: Connected) -> None:
    body = _delivery(page.page_id)
    with pytest.raises(BadSignature):
        page.connector.parse_push({"X-Hub-Signature-256": hub_signature("wrong", body)}, body, "")
    with pytest.raises(BadSignature):
        page.connector.parse_push({}, body, "")
