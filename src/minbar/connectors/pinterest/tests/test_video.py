"""Video Pins: register the upload, send the file to storage, wait for processing, pin."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from minbar.connectors.errors import Rejected, TemporaryError
from minbar.connectors.pinterest.tests.conftest import Connected, image_file, video_file
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import PostRequest


def test_a_video_is_uploaded_to_storage_processed_and_pinned_with_its_cover(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    video, cover = video_file(tmp_path), image_file(tmp_path, "cover.png")
    fake.processing_polls = 3
    result = brand.connector.publish(
        PostRequest(text="How to fold a napkin", media=(video, cover), idempotency_key="k-video")
    )
    (registered,) = fake.sent("POST", "/v5/media")
    assert registered == {"media_type": "video"}
    (sent,) = fake.sent("POST", "/v5/pins")
    source = sent["media_source"]
    media_id = source["media_id"]
    assert source["source_type"] == "video_id"
    assert source["cover_image_content_type"] == "image/png"
    assert base64.b64decode(source["cover_image_data"]) == Path(cover.path).read_bytes()
    assert fake.uploads[media_id] == Path(video.path).read_bytes()
    assert len(fake.calls("GET", f"/v5/media/{media_id}")) == 4  # 3 processing, 1 succeeded
    assert fake.pins[result.remote_id]["media"]["media_type"] == "video"


def test_a_video_without_an_image_uses_a_frame_as_cover(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    brand.connector.publish(PostRequest(text="Clip", media=(video_file(tmp_path),)))
    (sent,) = fake.sent("POST", "/v5/pins")
    assert sent["media_source"]["cover_image_key_frame_time"] == 1
    assert "cover_image_data" not in sent["media_source"]


def test_a_video_pinterest_cannot_process_is_rejected_and_uploaded_afresh_next_time(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.failing_videos = True
    request = PostRequest(text="Broken clip", media=(video_file(tmp_path),), idempotency_key="k-f")
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(request)
    assert "could not process the video" in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []
    fake.failing_videos = False
    brand.reopen().publish(request)
    assert len(fake.sent("POST", "/v5/media")) == 2


def test_slow_processing_is_temporary_and_the_retry_reuses_the_upload(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.processing_polls = 10_000
    brand.connector.media_timeout = 0.05
    request = PostRequest(text="Long clip", media=(video_file(tmp_path),), idempotency_key="k-s")
    with pytest.raises(TemporaryError) as caught:
        brand.connector.publish(request)
    assert "still processing" in caught.value.message
    fake.processing_polls = 0
    retry = brand.reopen()
    result = retry.publish(request)
    assert len(fake.sent("POST", "/v5/media")) == 1  # the same upload, not a second one
    assert result.remote_id in fake.pins


def test_storage_refusing_the_upload_is_temporary_and_nothing_is_pinned(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", "/fake-s3/", status=403, message="AccessDenied")
    with pytest.raises(TemporaryError) as caught:
        brand.connector.publish(PostRequest(text="Clip", media=(video_file(tmp_path),)))
    assert "start the upload again" in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []
