"""Containers and media_publish: images, carousels, reels, stories, limits and failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from minbar.connectors.errors import (
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.instagram import InstagramConnector
from minbar.connectors.instagram.tests.conftest import Connected, serve_from_fake
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import jpeg, video
from minbar.connectors.types import MediaItem, PostRequest
from minbar.publishing.validation import text_length


def posted(fake: FakeGraph, suffix: str) -> list[dict[str, str]]:
    return [p for m, path, p in fake.requests if m == "POST" and path.endswith(suffix)]


def image(tmp_path: Path, name: str = "a.jpg", size: tuple[int, int] = (1080, 1080)) -> MediaItem:
    return MediaItem(str(jpeg(tmp_path / name, size)), "image/jpeg", "A red square", *size)


def test_an_image_post_checks_the_limit_makes_a_container_and_publishes(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    result = account.connector.publish(
        PostRequest(text="صباح الخير ☕ #قهوة", media=(image(tmp_path),), idempotency_key="i1")
    )
    media = fake.nodes[result.remote_id]
    assert media["caption"] == "صباح الخير ☕ #قهوة"
    assert result.url == media["permalink"]
    container = posted(fake, "/media")[-1]
    assert container["alt_text"] == "A red square" and "image_url" in container
    paths = [path for _, path, _ in fake.requests]
    assert any(p.endswith("/content_publishing_limit") for p in paths)
    assert posted(fake, "/media_publish")[-1]["creation_id"]


def test_a_carousel_publishes_children_then_the_album(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    items = (
        image(tmp_path, "1.jpg"),
        image(tmp_path, "2.jpg"),
        MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4"),
    )
    result = account.connector.publish(PostRequest(text="Album", media=items))
    containers = posted(fake, "/media")[-4:]
    assert [c.get("is_carousel_item") for c in containers[:3]] == ["true"] * 3
    assert containers[2]["media_type"] == "VIDEO"
    assert containers[3]["media_type"] == "CAROUSEL"
    assert len(containers[3]["children"].split(",")) == 3
    assert fake.nodes[result.remote_id]["media_type"] == "CAROUSEL"


def test_a_single_video_is_a_reel_published_once_processing_finished(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    fake.video_polls = 3
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    result = account.connector.publish(PostRequest(text="Reel", media=(clip,)))
    container = posted(fake, "/media")[-1]
    assert container["media_type"] == "REELS" and container["share_to_feed"] == "true"
    assert fake.nodes[result.remote_id]["media_product_type"] == "REELS"
    status_reads = [p for m, path, p in fake.requests if p.get("fields") == "status_code,status"]
    assert len(status_reads) >= 4  # IN_PROGRESS three times, then FINISHED


def test_a_story(fake: FakeGraph, account: Connected, tmp_path: Path) -> None:
    tall = image(tmp_path, "s.jpg", (1080, 1920))  # 9:16 is fine for stories
    result = account.connector.publish(PostRequest(text="", media=(tall,), visibility="story"))
    assert posted(fake, "/media")[-1]["media_type"] == "STORIES"
    assert fake.nodes[result.remote_id]["media_product_type"] == "STORY"


def test_first_comment_goes_under_the_published_media(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    result = account.connector.publish(
        PostRequest(text="Menu", media=(image(tmp_path),), first_comment="#breakfast #coffee")
    )
    comment = fake.nodes[fake.nodes[result.remote_id]["comments"][0]]
    assert comment["text"] == "#breakfast #coffee"


def test_a_container_in_error_is_rejected_with_instagrams_reason(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    fake.container_outcome = "ERROR"
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    with pytest.raises(Rejected) as caught:
        account.connector.publish(PostRequest(text="bad", media=(clip,)))
    assert "2207026" in caught.value.detail
    assert posted(fake, "/media_publish") == [] or all(
        fake.nodes.get(p["creation_id"], {}).get("status_code") != "ERROR"
        for p in posted(fake, "/media_publish")
    )


def test_media_instagram_cannot_fetch_is_rejected(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    account.connector.media_url_for = lambda item: f"{fake.url}/_files/missing"
    with pytest.raises(Rejected, match="Media download has failed"):
        account.connector.publish(PostRequest(text="x", media=(image(tmp_path),)))


def test_processing_that_outlasts_the_wait_publishes_nothing_and_is_temporary(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    fake.video_polls = 1000
    account.connector.container_timeout = 0.3  # type: ignore[misc]
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    before = len(posted(fake, "/media_publish"))
    with pytest.raises(TemporaryError, match="still processing"):
        account.connector.publish(PostRequest(text="slow", media=(clip,)))
    assert len(posted(fake, "/media_publish")) == before


def test_the_24_hour_limit_is_rate_limited_before_any_container(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    fake.publish_quota = 1
    account.connector.publish(PostRequest(text="one", media=(image(tmp_path),)))
    containers = len(posted(fake, "/media"))
    with pytest.raises(RateLimited) as caught:
        account.connector.publish(PostRequest(text="two", media=(image(tmp_path),)))
    assert len(posted(fake, "/media")) == containers
    assert 23 * 3600 < caught.value.retry_after <= 24 * 3600


def test_publish_limit_error_from_meta_is_rate_limited(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    fake.fail("POST", r"/media_publish$", code=9, subcode=2207042, message="Limit reached")
    with pytest.raises(RateLimited):
        account.connector.publish(PostRequest(text="x", media=(image(tmp_path),)))


def test_no_answer_from_media_publish_is_unknown_and_lookup_finds_the_post(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    slow = InstagramConnector(
        account.connector.server_url, account.connector.credentials, timeout=0.5
    )
    slow.media_url_for = serve_from_fake(fake)  # type: ignore[assignment]
    fake.fail("POST", r"/media_publish$", mode="hang")
    with pytest.raises(OutcomeUnknown):
        slow.publish(
            PostRequest(text="Lost answer", media=(image(tmp_path),), idempotency_key="ig-k")
        )
    found = account.connector.lookup(idempotency_key="ig-k")
    assert found is not None and found.text == "Lost answer"
    by_id = account.connector.lookup(remote_id=found.remote_id)
    assert by_id is not None and by_id.url


def test_caption_rules_are_checked_before_sending(
    fake: FakeGraph, account: Connected, tmp_path: Path
) -> None:
    before = len(fake.requests)
    tags = " ".join(f"#t{i}" for i in range(31))
    with pytest.raises(Rejected, match="30 hashtags"):
        account.connector.publish(PostRequest(text=tags, media=(image(tmp_path),)))
    with pytest.raises(Rejected, match="at least one image"):
        account.connector.publish(PostRequest(text="text only"))
    wide = image(tmp_path, "w.jpg", (2000, 500))
    with pytest.raises(Rejected, match=r"between 4:5 and 1\.91:1"):
        account.connector.publish(PostRequest(text="wide", media=(wide,)))
    assert len(fake.requests) == before


def test_published_posts_cannot_be_deleted_through_the_api(account: Connected) -> None:
    with pytest.raises(NotSupported):
        account.connector.delete("123")


def test_arabic_and_emoji_captions_count_code_points() -> None:
    caps = InstagramConnector.capabilities
    assert text_length("قهوة ☕️", caps) == 7  # the coffee cup and its variation selector
    assert caps.text.max_length == 2200
