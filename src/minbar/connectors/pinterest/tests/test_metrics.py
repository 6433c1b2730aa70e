"""Pin and account analytics in Minbar's metric keys; absent is not zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from minbar.connectors.pinterest.tests.conftest import Connected, image_file, video_file
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import POST_METRIC_KEYS, PostRequest


def test_pin_analytics_map_onto_impressions_saves_clicks_and_video_views(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    image = brand.connector.publish(PostRequest(text="Image", media=(image_file(tmp_path),)))
    video = brand.connector.publish(PostRequest(text="Video", media=(video_file(tmp_path),)))
    fake.set_analytics(image.remote_id, IMPRESSION=900, SAVE=31, OUTBOUND_CLICK=12, PIN_CLICK=70)
    fake.set_analytics(video.remote_id, IMPRESSION=400, SAVE=5, OUTBOUND_CLICK=0, VIDEO_MRC_VIEW=88)
    metrics = brand.connector.post_metrics([image.remote_id, video.remote_id])
    assert metrics[image.remote_id].values == {"impressions": 900, "saves": 31, "clicks": 12}
    assert metrics[video.remote_id].values == {
        "impressions": 400,
        "saves": 5,
        "clicks": 0,
        "video_views": 88,
    }
    # Pinterest gives no likes, comments, shares or reach: absent, never 0.
    for values in (m.values for m in metrics.values()):
        assert set(values) <= set(POST_METRIC_KEYS)
        assert "likes" not in values and "comments" not in values and "reach" not in values


def test_pin_analytics_are_asked_for_the_last_90_days_with_the_documented_parameters(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    pin = brand.connector.publish(PostRequest(text="Image", media=(image_file(tmp_path),)))
    brand.connector.post_metrics([pin.remote_id])
    ((_verb, _path, query),) = fake.calls("GET", f"/v5/pins/{pin.remote_id}/analytics")
    today = datetime.now(UTC).date()
    assert query["end_date"] == today.isoformat()
    assert query["start_date"] == (today - timedelta(days=89)).isoformat()
    assert query["metric_types"] == "IMPRESSION,SAVE,OUTBOUND_CLICK,VIDEO_MRC_VIEW"


def test_a_deleted_pin_has_no_metrics_and_the_others_still_come(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    kept = brand.connector.publish(PostRequest(text="Kept", media=(image_file(tmp_path),)))
    gone = brand.connector.publish(PostRequest(text="Gone", media=(image_file(tmp_path),)))
    brand.connector.delete(gone.remote_id)
    metrics = brand.connector.post_metrics([kept.remote_id, gone.remote_id, kept.remote_id])
    assert list(metrics) == [kept.remote_id]


def test_an_account_pinterest_refuses_analytics_for_has_no_figures_rather_than_zeros(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    pin = brand.connector.publish(PostRequest(text="Image", media=(image_file(tmp_path),)))
    brand.user.analytics_allowed = False
    assert brand.connector.post_metrics([pin.remote_id]) == {}
    account = brand.connector.account_metrics()
    assert "impressions" not in account.values
    assert account.values["followers"] == 1200


def test_account_metrics_are_followers_following_pins_and_30_days_of_impressions(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    brand.user.impressions = 15_000
    brand.connector.publish(PostRequest(text="Image", media=(image_file(tmp_path),)))
    metrics = brand.connector.account_metrics()
    assert metrics.values == {
        "followers": 1200,
        "following": 80,
        "posts": 1,
        "impressions": 15_000,
    }
    ((_verb, _path, query),) = fake.calls("GET", "/v5/user_account/analytics")
    today = datetime.now(UTC).date()
    assert query["start_date"] == (today - timedelta(days=29)).isoformat()
    assert query["metric_types"] == "IMPRESSION"
