"""Video and account counts, and what TikTok's API does not offer at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from minbar.connectors.errors import NotSupported, OutcomeUnknown
from minbar.connectors.tiktok import TikTokConnector
from minbar.connectors.tiktok.tests.conftest import Connected, connect, video_file
from minbar.connectors.tiktok.tests.fake import FakeTikTok
from minbar.connectors.types import (
    ACCOUNT_METRIC_KEYS,
    POST_METRIC_KEYS,
    PostRequest,
    RemoteRef,
)


def test_video_counts_map_onto_minbars_keys(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    post = brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    fake.set_counts(post.remote_id, like_count=31, comment_count=4, share_count=2, view_count=900)
    metrics = brand.connector.post_metrics([post.remote_id])
    assert metrics[post.remote_id].values == {
        "likes": 31,
        "comments": 4,
        "shares": 2,
        "video_views": 900,
    }
    assert set(metrics[post.remote_id].values) <= set(POST_METRIC_KEYS)
    # TikTok gives no impressions, reach, saves or clicks: absent, never 0.
    assert "impressions" not in metrics[post.remote_id].values


def test_a_count_tiktok_leaves_out_is_absent_not_zero(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    post = brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    del fake.videos[post.remote_id]["share_count"]
    values = brand.connector.post_metrics([post.remote_id])[post.remote_id].values
    assert "shares" not in values and values["likes"] == 0


def test_a_private_post_has_no_counts_and_is_asked_about_at_most_hourly(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    post = brand.connector.publish(
        PostRequest(
            text="x", media=(video_file(tmp_path),), visibility="only_me", idempotency_key="p"
        )
    )
    assert brand.connector.post_metrics([post.remote_id]) == {}
    before = len(fake.calls("POST", "/v2/post/publish/status/fetch/"))
    assert brand.connector.post_metrics([post.remote_id]) == {}
    assert len(fake.calls("POST", "/v2/post/publish/status/fetch/")) == before


def test_a_publish_id_resolves_to_the_video_once_tiktok_gives_its_id(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.processing_polls = 10_000
    request = PostRequest(text="x", media=(video_file(tmp_path),), idempotency_key="later")
    with pytest.raises(OutcomeUnknown, match="still processing"):
        brand.connector.publish(request)
    publish_id = brand.connector._memory()["later"]["publish_id"]
    fake.processing_polls = 0
    found = brand.connector.lookup(remote_id=publish_id)
    assert found is not None and found.remote_id.isdigit()
    fake.set_counts(found.remote_id, view_count=12)
    metrics = brand.connector.post_metrics([publish_id])
    assert metrics[publish_id].values["video_views"] == 12


def test_many_videos_are_asked_for_twenty_at_a_time(brand: Connected, fake: FakeTikTok) -> None:
    ids = [str(7_000_000_000_000_000_000 + n) for n in range(45)]
    assert brand.connector.post_metrics(ids) == {}
    queries = fake.calls("POST", "/v2/video/query/")
    assert [len(c[3]["filters"]["video_ids"]) for c in queries] == [20, 20, 5]


def test_account_counts_are_followers_following_and_posts(
    brand: Connected, fake: FakeTikTok
) -> None:
    metrics = brand.connector.account_metrics()
    assert metrics.values == {"followers": 1200, "following": 80, "posts": 0}
    assert set(metrics.values) <= set(ACCOUNT_METRIC_KEYS)


def test_without_the_stats_and_list_permissions_counts_are_not_offered(
    fake: FakeTikTok, app: dict[str, str]
) -> None:
    connected = connect(
        fake, grant=("user.info.basic", "user.info.profile", "video.publish", "video.upload")
    )
    caps = connected.connector.account_capabilities()
    assert caps.account_metrics == frozenset() and caps.post_metrics == frozenset()
    with pytest.raises(NotSupported, match=r"user\.info\.stats"):
        connected.connector.account_metrics()
    with pytest.raises(NotSupported, match=r"video\.list"):
        connected.connector.post_metrics(["1"])


def test_tiktok_offers_no_comments_deleting_or_search() -> None:
    caps = TikTokConnector.capabilities
    assert caps.interactions == frozenset() and caps.can_reply_to == frozenset()
    assert not caps.can_hide and not caps.can_delete_interactions and not caps.search
    assert not caps.first_comment and not caps.threads
    connector = TikTokConnector(credentials=None)
    ref = RemoteRef("1")
    for call in (
        lambda: connector.interactions(),
        lambda: connector.reply(ref, PostRequest(text="hi")),
        lambda: connector.hide(ref),
        lambda: connector.delete_interaction(ref),
        lambda: connector.delete("1"),
        lambda: connector.search("coffee"),
    ):
        with pytest.raises(NotSupported):
            call()
