"""Publishing through containers: text, link, image, video, carousel, threads, replies, quotas.

Pages: https://developers.facebook.com/docs/threads/posts (containers, threads_publish,
carousels), https://developers.facebook.com/docs/threads/troubleshooting (container
status), https://developers.facebook.com/docs/threads/overview (250 posts / 24 h),
https://developers.facebook.com/docs/threads/reply-management (reply_control, replies).
"""

from __future__ import annotations

from typing import Any

import pytest

from minbar.connectors.errors import RateLimited, Rejected, TemporaryError
from minbar.connectors.threads.tests.conftest import Connected, library_image, library_video
from minbar.connectors.threads.tests.fake import FakeThreads, User
from minbar.connectors.types import PostRequest, RemoteRef


def calls(fake: FakeThreads, suffix: str, method: str = "POST") -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["method"] == method and r["path"].endswith(suffix)]


def test_text_post_is_a_container_then_threads_publish(brand: Connected, fake: FakeThreads) -> None:
    result = brand.connector.publish(PostRequest(text="مرحبا Threads 👋", idempotency_key="k1"))
    [post] = fake.posts_of(brand.user)
    assert post["id"] == result.remote_id and post["text"] == "مرحبا Threads 👋"
    assert result.url == post["permalink"] and result.published_at is not None
    [create] = calls(fake, "/threads")
    assert create["params"]["media_type"] == "TEXT"
    assert create["headers"]["Authorization"].startswith("Bearer ")
    assert "access_token" not in create["params"]  # the token stays out of URLs
    [publish] = calls(fake, "/threads_publish")
    assert fake.containers[publish["params"]["creation_id"]]["status"] == "PUBLISHED"
    # The publishing limit was read before publishing.
    assert calls(fake, "/threads_publishing_limit", "GET")


def test_link_post_uses_link_attachment_and_reply_control(
    brand: Connected, fake: FakeThreads
) -> None:
    brand.connector.publish(
        PostRequest(
            text="Read this", link="https://example.org/a", visibility="accounts_you_follow"
        )
    )
    [create] = calls(fake, "/threads")
    assert create["params"]["link_attachment"] == "https://example.org/a"
    assert create["params"]["reply_control"] == "accounts_you_follow"
    [post] = fake.posts_of(brand.user)
    assert post["reply_control"] == "accounts_you_follow"


def test_image_post_lets_threads_download_a_signed_minbar_link(
    brand: Connected, fake: FakeThreads, minbar_site: str, settings: Any
) -> None:
    image = library_image(settings)
    result = brand.connector.publish(PostRequest(text="Photo", media=(image,)))
    [create] = calls(fake, "/threads")
    assert create["params"]["media_type"] == "IMAGE"
    assert create["params"]["image_url"].startswith(minbar_site + "/media/public/")
    assert create["params"]["alt_text"] == "A red square"
    [post] = fake.posts_of(brand.user)
    assert post["id"] == result.remote_id and post["media_type"] == "IMAGE"


def test_video_waits_for_the_container_to_finish(
    brand: Connected, fake: FakeThreads, minbar_site: str, settings: Any
) -> None:
    fake.video_polls = 2  # IN_PROGRESS twice, then FINISHED
    brand.connector.publish(PostRequest(text="Clip", media=(library_video(settings),)))
    statuses = [
        r
        for r in fake.requests
        if r["method"] == "GET" and "status" in r["params"].get("fields", "")
    ]
    assert len(statuses) >= 3
    assert [p["media_type"] for p in fake.posts_of(brand.user)] == ["VIDEO"]


def test_a_video_container_that_fails_is_rejected_with_threads_reason(
    brand: Connected, fake: FakeThreads, minbar_site: str, settings: Any
) -> None:
    fake.video_error = "INVALID_DURATION"
    with pytest.raises(Rejected, match="INVALID_DURATION"):
        brand.connector.publish(PostRequest(text="Too long", media=(library_video(settings),)))
    assert fake.posts_of(brand.user) == []
    assert calls(fake, "/threads_publish") == []


def test_media_threads_cannot_download_fails_in_the_container(
    brand: Connected, fake: FakeThreads, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    image = library_image(settings)
    brand.connector.media_url = lambda item: "http://127.0.0.1:9/gone.png"  # nobody listens
    with pytest.raises(Rejected, match="could not process the media"):
        brand.connector.publish(PostRequest(text="Photo", media=(image,)))
    assert fake.posts_of(brand.user) == []


def test_a_private_minbar_address_is_refused_before_anything_is_sent(
    brand: Connected, fake: FakeThreads, settings: Any
) -> None:
    settings.MINBAR_ALLOW_PRIVATE_URLS = False
    settings.MINBAR_BASE_URL = "http://127.0.0.1:8000"
    with pytest.raises(Rejected, match="cannot be reached from the internet"):
        brand.connector.publish(PostRequest(text="Photo", media=(library_image(settings),)))
    assert calls(fake, "/threads") == []


def test_carousel_makes_item_containers_then_a_carousel(
    brand: Connected, fake: FakeThreads, minbar_site: str, settings: Any
) -> None:
    media = (
        library_image(settings, "a.png"),
        library_image(settings, "b.png"),
        library_video(settings),
    )
    brand.connector.publish(PostRequest(text="Three things", media=media))
    creates = calls(fake, "/threads")
    assert [c["params"].get("is_carousel_item") for c in creates[:3]] == ["true"] * 3
    assert creates[3]["params"]["media_type"] == "CAROUSEL"
    assert len(creates[3]["params"]["children"].split(",")) == 3
    [post] = fake.posts_of(brand.user)
    assert post["media_type"] == "CAROUSEL_ALBUM" and len(post["children"]) == 3


def test_thread_parts_and_first_comment_are_replies(brand: Connected, fake: FakeThreads) -> None:
    result = brand.connector.publish(
        PostRequest(
            text="1/3", thread=("2/3", "3/3"), first_comment="Links below", idempotency_key="t"
        )
    )
    replies = {m["text"]: m for m in fake.replies_of(brand.user)}
    assert replies["2/3"]["replied_to"] == result.remote_id
    assert replies["3/3"]["replied_to"] == replies["2/3"]["id"]
    assert replies["Links below"]["replied_to"] == result.remote_id
    assert result.thread_ids == (replies["2/3"]["id"], replies["3/3"]["id"])


def test_reply_and_quote(brand: Connected, fake: FakeThreads, fan: User) -> None:
    theirs = fake.post_as(fan, "What do you think?")
    answer = brand.connector.reply(RemoteRef(theirs), PostRequest(text="We agree!"))
    assert fake.media[answer.remote_id]["replied_to"] == theirs
    quoted = brand.connector.publish(PostRequest(text="Worth reading", quote=RemoteRef(theirs)))
    assert fake.media[quoted.remote_id]["quote_post_id"] == theirs


def test_too_long_text_is_rejected_before_sending(brand: Connected, fake: FakeThreads) -> None:
    with pytest.raises(Rejected, match="501/500"):
        brand.connector.publish(PostRequest(text="x" * 497 + "😀"))  # 497 + 4 bytes
    with pytest.raises(Rejected, match="Post 2"):
        brand.connector.publish(PostRequest(text="ok", thread=("y" * 501,)))
    with pytest.raises(Rejected, match="6 links"):
        brand.connector.publish(PostRequest(text=" ".join(f"https://e.org/{i}" for i in range(6))))
    assert calls(fake, "/threads") == []


def test_threads_own_text_check_agrees(brand: Connected, fake: FakeThreads) -> None:
    """At exactly 500 (496 letters + one 4-byte emoji) both sides accept it."""
    result = brand.connector.publish(PostRequest(text="ب" * 496 + "😀"))
    assert fake.media[result.remote_id]["text"].endswith("😀")


def test_spent_publishing_quota_is_rate_limited_before_publishing(
    brand: Connected, fake: FakeThreads
) -> None:
    brand.connector.publish(PostRequest(text="first of the day"))
    fake.quota_total = 1
    with pytest.raises(RateLimited) as caught:
        brand.connector.publish(PostRequest(text="one too many"))
    assert 60 <= caught.value.retry_after <= 86400
    assert "250" not in caught.value.message and "1 posts" in caught.value.message
    assert [p["text"] for p in fake.posts_of(brand.user)] == ["first of the day"]


def test_spent_reply_quota_limits_replies_only(
    brand: Connected, fake: FakeThreads, fan: User
) -> None:
    theirs = fake.post_as(fan, "hello")
    fake.reply_quota_total = 0
    with pytest.raises(RateLimited, match="replies"):
        brand.connector.reply(RemoteRef(theirs), PostRequest(text="hi"))
    brand.connector.publish(PostRequest(text="a post still goes out"))


def test_a_container_that_never_finishes_is_temporary(
    brand: Connected, fake: FakeThreads, minbar_site: str, settings: Any
) -> None:
    fake.video_polls = 1000
    brand.connector.container_timeout = 0.2
    with pytest.raises(TemporaryError, match="still processing"):
        brand.connector.publish(PostRequest(text="slow", media=(library_video(settings),)))
    assert fake.posts_of(brand.user) == []


def test_delete_and_lookup_by_id(brand: Connected, fake: FakeThreads) -> None:
    result = brand.connector.publish(PostRequest(text="short-lived"))
    found = brand.connector.lookup(remote_id=result.remote_id)
    assert found is not None and found.text == "short-lived" and found.created_at is not None
    brand.connector.delete(result.remote_id)
    assert fake.media[result.remote_id]["deleted"]
    brand.connector.delete(result.remote_id)  # already gone: fine
    assert brand.connector.lookup(remote_id=result.remote_id) is None
