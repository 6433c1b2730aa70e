"""TikTok's errors, limits and lost answers, each ending in the right part of the taxonomy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.tiktok.tests.conftest import (
    CHUNK,
    Connected,
    SmallChunks,
    photo_file,
    video_file,
)
from minbar.connectors.tiktok.tests.fake import FakeTikTok
from minbar.connectors.types import PostRequest

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"


def test_tiktoks_own_rate_limit_becomes_rate_limited(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    with pytest.raises(RateLimited) as caught:  # 20 creator_info calls a minute per token
        for _ in range(21):
            brand.connector.creator_info()
    assert len(fake.calls("POST", CREATOR_INFO)) == 21
    assert caught.value.retry_after == 60.0  # TikTok documents no header: its window is a minute
    assert "rate_limit_exceeded" in caught.value.detail


def test_a_retry_after_header_is_honoured_when_tiktok_sends_one(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail(
        "POST", CREATOR_INFO, status=429, code="rate_limit_exceeded", headers={"Retry-After": "17"}
    )
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert caught.value.retry_after == 17.0


def test_the_creators_daily_cap_waits_until_the_oldest_post_leaves_the_window(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.daily_post_cap = 1
    brand.connector.publish(
        PostRequest(text="first", media=(video_file(tmp_path),), idempotency_key="a")
    )
    with pytest.raises(RateLimited, match="as many times today") as caught:
        brand.connector.publish(
            PostRequest(text="second", media=(video_file(tmp_path),), idempotency_key="b")
        )
    assert 23.9 * 3600 < caught.value.retry_after <= 24 * 3600
    assert "b" not in brand.connector._memory()


def test_an_unaudited_app_on_a_public_account_is_told_to_post_privately(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.audited = False
    with pytest.raises(Rejected, match="Only me") as caught:
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
    assert "unaudited_client_can_only_post_to_private_accounts" in caught.value.detail
    assert brand.connector.private_only()
    assert brand.connector.account_capabilities().visibility == ("only_me", "draft")
    brand.user.private_account = True
    result = brand.connector.publish(
        PostRequest(text="x", media=(video_file(tmp_path),), visibility="only_me")
    )
    assert result.remote_id.startswith("v_pub_file~")


def test_an_unaudited_apps_daily_cap_of_posting_users_is_rate_limited(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.audited = False
    brand.user.private_account = True
    fake.active_users = {f"other-{n}": fake.now() for n in range(5)}
    with pytest.raises(RateLimited, match="five accounts a day"):
        brand.connector.publish(
            PostRequest(text="x", media=(video_file(tmp_path),), visibility="only_me")
        )


def test_a_creator_banned_from_posting_is_rejected(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.user.banned = True
    with pytest.raises(Rejected, match="does not let this account post"):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))


def test_a_missing_scope_asks_to_reconnect(brand: Connected, fake: FakeTikTok) -> None:
    grant = next(iter(fake.access.values()))
    grant["scopes"] = ("user.info.basic",)
    with pytest.raises(Rejected, match="Reconnect"):
        brand.connector.creator_info()


def test_an_init_failure_before_any_byte_is_temporary_and_forgotten(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("POST", VIDEO_INIT, status=500, code="internal_error")
    request = PostRequest(text="x", media=(video_file(tmp_path),), idempotency_key="k")
    with pytest.raises(TemporaryError):
        brand.connector.publish(request)
    assert brand.connector._memory() == {}
    fake.fail("POST", VIDEO_INIT, kind="drop")  # carried out, never answered
    with pytest.raises(TemporaryError, match="nothing was posted"):
        brand.connector.publish(request)
    assert brand.connector.lookup(idempotency_key="k") is None
    assert brand.connector.publish(request).remote_id.isdigit()


def test_a_lost_answer_to_a_photo_post_is_unknown_and_found_by_lookup(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("POST", "/v2/post/publish/content/init/", kind="drop")
    request = PostRequest(
        text="Seasonal menu", media=(photo_file(tmp_path),), idempotency_key="photo"
    )
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    found = brand.reopen().lookup(idempotency_key="photo")
    assert found is not None and found.remote_id.isdigit()
    assert "Seasonal menu" in found.text


def test_a_photo_post_tiktok_may_have_made_privately_needs_a_person(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("POST", "/v2/post/publish/content/init/", status=500, code="internal_error")
    request = PostRequest(
        text="Private", media=(photo_file(tmp_path),), idempotency_key="p", visibility="only_me"
    )
    with pytest.raises(OutcomeUnknown):
        brand.connector.publish(request)
    with pytest.raises(Rejected, match="Check the account"):
        brand.connector.lookup(idempotency_key="p")


def test_an_interrupted_chunk_is_resumed_from_what_tiktok_received(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("PUT", "/upload/", kind="interrupt", skip=1)  # the 2nd chunk's answer is lost
    video = video_file(tmp_path, size=3 * CHUNK + 500)
    result = brand.connector.publish(PostRequest(text="x", media=(video,)))
    assert result.remote_id.isdigit()
    assert len(fake.calls("PUT", "/upload/")) == 3  # nothing sent twice
    assert next(iter(fake.publishes.values()))["received"] == Path(video.path).read_bytes()


def test_a_lost_answer_to_the_last_chunk_is_checked_with_the_status(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("PUT", "/upload/", kind="interrupt", skip=2)
    result = brand.connector.publish(
        PostRequest(text="x", media=(video_file(tmp_path, size=3 * CHUNK + 500),))
    )
    assert result.remote_id.isdigit()
    assert len(fake.calls("PUT", "/upload/")) == 3


def test_an_upload_left_unfinished_is_resumed_by_the_next_attempt(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("PUT", "/upload/", kind="interrupt", skip=1)
    fake.fail("POST", "/v2/post/publish/status/fetch/", status=503, code="internal_error")
    video = video_file(tmp_path, size=3 * CHUNK + 500)
    request = PostRequest(text="x", media=(video,), idempotency_key="resume")
    with pytest.raises(TemporaryError, match="interrupted"):
        brand.connector.publish(request)
    assert brand.connector.lookup(idempotency_key="resume") is None  # not out: resumable
    result = brand.reopen().publish(request)
    assert result.remote_id.isdigit()
    assert len(inits := fake.calls("POST", VIDEO_INIT)) == 1, inits
    assert next(iter(fake.publishes.values()))["received"] == Path(video.path).read_bytes()


def test_a_refused_chunk_is_rejected(brand: Connected, fake: FakeTikTok, tmp_path: Path) -> None:
    fake.fail("PUT", "/upload/", status=400, code="invalid_file_upload")
    with pytest.raises(Rejected, match="did not accept the file"):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))


def test_no_answer_about_a_handed_over_post_is_unknown_then_looked_up(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail("POST", "/v2/post/publish/status/fetch/", kind="drop")
    request = PostRequest(text="x", media=(video_file(tmp_path),), idempotency_key="s")
    with pytest.raises(OutcomeUnknown, match="did not say"):
        brand.connector.publish(request)
    found = brand.connector.lookup(idempotency_key="s")
    assert found is not None and found.remote_id.isdigit()


def test_a_server_error_on_a_read_is_temporary(brand: Connected, fake: FakeTikTok) -> None:
    fake.fail("GET", "/v2/user/info/", status=500, code="internal_error")
    with pytest.raises(TemporaryError):
        brand.connector.verify()


def test_an_unreachable_tiktok_is_temporary(brand: Connected, settings: Any) -> None:
    settings.MINBAR_NETWORK_APPS["tiktok"]["api_url"] = "http://127.0.0.1:9"
    connector = SmallChunks(credentials=brand.connector.credentials, timeout=2.0)
    with pytest.raises(TemporaryError, match="cannot reach"):
        connector.verify()


def test_a_post_whose_access_was_removed_while_processing_needs_reconnecting(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail_next_post("auth_removed")
    with pytest.raises(AuthExpired):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))
