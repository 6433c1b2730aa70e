"""Interrupted uploads, lost answers, quota and rate limits: each lands where the engine expects.

Resuming: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
("Step 4 - Resume an interrupted upload"). Errors:
https://developers.google.com/youtube/v3/docs/errors. Quota and its reset at midnight
Pacific Time: https://developers.google.com/youtube/data/determine_quota_cost.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.types import Credentials, PostRequest, RemoteRef
from minbar.connectors.youtube import YouTubeConnector
from minbar.connectors.youtube.quota import seconds_until_reset
from minbar.connectors.youtube.tests.conftest import CHUNK, Connected, video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube

UPLOADS = "/upload/youtube/v3/videos"


def own_videos(fake: FakeYouTube, brand: Connected) -> list[str]:
    return [
        v["id"] for v in fake.videos.values() if v["snippet"]["channelId"] == brand.user.channel_id
    ]


def test_an_interrupted_chunk_is_resumed_from_where_google_stopped(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=4 * CHUNK + 10)
    # The second chunk: half of it arrives, then the connection drops without an answer.
    fake.fail("PUT", UPLOADS, "interrupt", skip=1)
    result = brand.connector.publish(
        PostRequest(text="Resumed", media=(media,), idempotency_key="r")
    )
    assert fake.files[result.remote_id] == Path(media.path).read_bytes()
    assert own_videos(fake, brand) == [result.remote_id]
    statuses = [c for c in fake.calls("PUT", UPLOADS)]
    assert len(fake.calls("POST", UPLOADS)) == 1  # one session only
    assert len(statuses) >= 6  # chunks + the status query + the resent part


def test_a_lost_answer_to_the_last_chunk_is_recovered_by_asking_the_session(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=2 * CHUNK + 10)
    fake.fail("PUT", UPLOADS, "drop", skip=2)  # the third (last) chunk: done, never answered
    result = brand.connector.publish(PostRequest(text="Lost answer", media=(media,)))
    assert own_videos(fake, brand) == [result.remote_id]


def test_an_unknown_end_of_upload_is_reconciled_by_lookup_without_a_second_video(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=2 * CHUNK + 10)
    fake.fail("PUT", UPLOADS, "drop", skip=2)  # the last chunk is carried out, never answered
    fake.fail("PUT", UPLOADS, "error", status=503, reason="backendError", skip=2)  # status query
    request = PostRequest(text="Unknown end", media=(media,), idempotency_key="unknown-1")
    with pytest.raises(OutcomeUnknown) as caught:
        brand.connector.publish(request)
    assert "may have been published" in caught.value.message
    # The engine's reconciliation: a fresh connector built from what was saved.
    found = brand.reopen().lookup(idempotency_key="unknown-1")
    assert found is not None
    assert own_videos(fake, brand) == [found.remote_id]
    assert found.text.startswith("Unknown end")
    # Publishing again with the same key finds that video instead of uploading twice.
    again = brand.reopen().publish(request)
    assert again.remote_id == found.remote_id
    assert own_videos(fake, brand) == [found.remote_id]
    assert len(fake.calls("POST", UPLOADS)) == 1


def test_an_upload_cut_midway_resumes_the_same_session_on_the_next_attempt(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=4 * CHUNK + 10)
    fake.fail("PUT", UPLOADS, "interrupt", skip=1)  # chunk two is cut…
    fake.fail("PUT", UPLOADS, "error", status=503, reason="backendError", skip=1)  # …no status
    request = PostRequest(text="Later", media=(media,), idempotency_key="cut-1")
    with pytest.raises(TemporaryError):
        brand.connector.publish(request)
    assert own_videos(fake, brand) == []
    # Before the retry, the engine may look it up: certainly not published.
    assert brand.reopen().lookup(idempotency_key="cut-1") is None
    result = brand.reopen().publish(request)
    assert fake.files[result.remote_id] == Path(media.path).read_bytes()
    assert len(fake.calls("POST", UPLOADS)) == 1  # the same session, resumed


def test_an_expired_session_is_matched_by_title_and_time(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=CHUNK + 10)
    fake.fail("PUT", UPLOADS, "drop", skip=1)
    fake.fail("PUT", UPLOADS, "error", status=503, reason="backendError", skip=1)
    request = PostRequest(text="Matched later\nby title", media=(media,), idempotency_key="old-1")
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    fake.expire_sessions()
    fake.add_video(brand.user, "Another title")
    found = brand.reopen().lookup(idempotency_key="old-1")
    assert found is not None
    assert fake.videos[found.remote_id]["snippet"]["title"] == "Matched later"


def test_lookup_of_an_upload_that_never_started_is_none(brand: Connected) -> None:
    assert brand.connector.lookup(idempotency_key="never-sent") is None
    assert brand.connector.lookup(remote_id="noSuchVideo") is None


def test_a_failed_upload_start_is_temporary_and_uploads_nothing(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    fake.fail("POST", UPLOADS, "error", status=500, reason="backendError")
    with pytest.raises(TemporaryError):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    fake.fail("POST", UPLOADS, "drop")  # a session made, its address never received
    with pytest.raises(TemporaryError):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert own_videos(fake, brand) == []


def test_the_daily_quota_waits_until_midnight_pacific(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    fake.uploads_limit = 0
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    wait = caught.value.retry_after
    assert seconds_until_reset() < wait <= seconds_until_reset() + 300
    assert "midnight Pacific Time" in caught.value.message
    status = brand.connector.quota_status()
    assert status.uploads_remaining == 0
    assert "uploads" in status.exhausted
    assert brand.saved[-1].data["quota"]["exhausted"] == ["uploads"]


def test_spent_units_are_counted_and_refused_when_google_says_so(
    brand: Connected, fake: FakeYouTube
) -> None:
    fake.units_limit = fake.units_used  # the project's 10,000 units are gone
    with pytest.raises(RateLimited):
        brand.connector.account_metrics()
    assert brand.connector.quota_status().units_remaining == 0


@pytest.mark.parametrize(
    ("reason", "headers", "low", "high"),
    [
        ("rateLimitExceeded", {"Retry-After": "7"}, 7, 7),
        ("userRateLimitExceeded", {}, 60, 60),
    ],
)
def test_rate_limits_give_the_wait(
    brand: Connected,
    fake: FakeYouTube,
    reason: str,
    headers: dict[str, str],
    low: float,
    high: float,
) -> None:
    fake.fail("GET", "/youtube/v3/videos", status=403, reason=reason, headers=headers)
    with pytest.raises(RateLimited) as caught:
        brand.connector.post_metrics(["abc"])
    assert low <= caught.value.retry_after <= high
    assert caught.value.status == 403


def test_a_429_is_rate_limited(brand: Connected, fake: FakeYouTube) -> None:
    fake.fail(
        "GET", "/v2/reports", status=429, reason="RESOURCE_EXHAUSTED", headers={"Retry-After": "30"}
    )
    fake.fail(
        "GET",
        "/youtube/v3/channels",
        status=429,
        reason="RESOURCE_EXHAUSTED",
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimited) as caught:
        brand.connector.verify()
    assert caught.value.retry_after == 30


def test_the_channel_upload_limit_waits_a_day(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    fake.channel_upload_limit = brand.user.uploads_today
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert caught.value.retry_after == 24 * 3600
    assert caught.value.status == 400


def test_server_errors_on_reads_are_temporary_and_on_writes_unknown(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    fake.fail("GET", "/youtube/v3/channels", status=503, reason="backendError")
    with pytest.raises(TemporaryError) as read:
        brand.connector.verify()
    assert read.value.status == 503
    video = brand.connector.publish(PostRequest(text="v", media=(video_file(tmp_path),)))
    comment = fake.add_comment(video.remote_id, "Hi!")
    fake.fail("POST", "/youtube/v3/comments", status=500, reason="backendError")
    with pytest.raises(OutcomeUnknown):
        brand.connector.reply(RemoteRef(comment["id"]), PostRequest(text="Hello"))
    fake.fail("POST", "/youtube/v3/comments", "drop")
    with pytest.raises(OutcomeUnknown):
        brand.connector.reply(RemoteRef(comment["id"]), PostRequest(text="Hello again"))


def test_refusals_carry_googles_reason(brand: Connected, fake: FakeYouTube, tmp_path: Path) -> None:
    fake.fail("POST", UPLOADS, status=400, reason="invalidCategoryId")
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert "invalidCategoryId" in caught.value.detail
    fake.fail("GET", "/youtube/v3/channels", status=403, reason="insufficientPermissions")
    with pytest.raises(Rejected) as scopes:
        brand.connector.verify()
    assert "permission" in scopes.value.message
    fake.fail("GET", "/youtube/v3/channels", status=403, reason="authenticatedUserAccountSuspended")
    with pytest.raises(AuthExpired):
        brand.connector.verify()


def test_a_session_address_on_another_host_is_never_used(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    fake.session_base = "http://127.0.0.2:9"
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert "unexpected address" in caught.value.message
    assert fake.calls("PUT", UPLOADS) == []


def test_an_unreachable_google_is_temporary(brand: Connected, settings: object) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = YouTubeConnector(
        f"http://127.0.0.1:{port}", Credentials(secrets={"access_token": "ya29.x"}), timeout=2.0
    )
    with pytest.raises(TemporaryError) as caught:
        connector.verify()
    assert "cannot reach" in caught.value.message
