"""Statistics: videos.list part=statistics, channels.list, and YouTube Analytics for shares.

https://developers.google.com/youtube/v3/docs/videos#statistics,
https://developers.google.com/youtube/v3/docs/channels#statistics,
https://developers.google.com/youtube/analytics/reference/reports/query.
"""

from __future__ import annotations

from pathlib import Path

from minbar.connectors.types import ACCOUNT_METRIC_KEYS, POST_METRIC_KEYS, PostRequest
from minbar.connectors.youtube.oauth import SCOPE_FORCE_SSL, SCOPE_READONLY, SCOPE_UPLOAD
from minbar.connectors.youtube.tests.conftest import Connected, connect, video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube


def test_video_statistics_map_onto_minbars_metrics(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    one = brand.connector.publish(PostRequest(text="One", media=(video_file(tmp_path),)))
    two = brand.connector.publish(PostRequest(text="Two", media=(video_file(tmp_path),)))
    fake.set_statistics(one.remote_id, viewCount=1500, likeCount=120, commentCount=7)
    fake.set_statistics(two.remote_id, viewCount=0, likeCount=None)  # likes hidden
    fake.shares[one.remote_id] = 9
    metrics = brand.connector.post_metrics([one.remote_id, two.remote_id, "deleted00"])
    assert metrics[one.remote_id].values == {
        "video_views": 1500,
        "likes": 120,
        "comments": 7,
        "shares": 9,
    }
    # A count YouTube leaves out stays absent; a zero stays zero.
    assert metrics[two.remote_id].values == {"video_views": 0, "comments": 0, "shares": 0}
    assert "deleted00" not in metrics
    for value in metrics.values():
        assert set(value.values) <= set(POST_METRIC_KEYS)
    # viewCount is views, never impressions (the API has none for a channel's videos).
    assert "impressions" not in metrics[one.remote_id].values


def test_without_the_analytics_permission_there_are_no_shares(
    fake: FakeYouTube, app: dict[str, str], tmp_path: Path
) -> None:
    limited = connect(fake, grant=(SCOPE_UPLOAD, SCOPE_READONLY, SCOPE_FORCE_SSL))
    video = limited.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    values = limited.connector.post_metrics([video.remote_id])[video.remote_id].values
    assert "shares" not in values
    assert not fake.calls("GET", "/v2/reports")


def test_channel_statistics_give_followers_and_posts(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    values = brand.connector.account_metrics().values
    assert values == {"followers": 1200, "posts": 1}
    assert set(values) <= set(ACCOUNT_METRIC_KEYS)


def test_a_hidden_subscriber_count_is_absent_not_zero(
    fake: FakeYouTube, app: dict[str, str]
) -> None:
    shy = connect(fake, fake.add_user("shy", subscribers=99, hidden_subscribers=True))
    assert shy.account.followers is None
    values = shy.connector.account_metrics().values
    assert "followers" not in values
    assert values["posts"] == 0
