"""Publishing to a Page: text, links, one photo, several photos, video, first comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minbar.connectors.errors import Rejected
from minbar.connectors.facebook import FacebookConnector
from minbar.connectors.facebook.tests.conftest import Connected
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.meta_graph.tests.fixtures import jpeg, video
from minbar.connectors.types import MediaItem, PostRequest
from minbar.publishing.validation import text_length


def calls(fake: FakeGraph, method: str, suffix: str) -> list[dict[str, str]]:
    return [p for m, path, p in fake.requests if m == method and path.endswith(suffix)]


def test_text_post_goes_to_the_feed_and_can_be_looked_up_and_deleted(
    fake: FakeGraph, page: Connected
) -> None:
    result = page.connector.publish(PostRequest(text="مرحبا بالعالم 👋", idempotency_key="k1"))
    assert result.remote_id.startswith(page.page_id + "_")
    assert fake.nodes[result.remote_id]["message"] == "مرحبا بالعالم 👋"
    found = page.connector.lookup(remote_id=result.remote_id)
    assert found is not None and found.text == "مرحبا بالعالم 👋"
    page.connector.delete(result.remote_id)
    assert page.connector.lookup(remote_id=result.remote_id) is None
    page.connector.delete(result.remote_id)  # already gone counts as deleted


def test_link_post_sends_the_link_for_facebook_to_preview(fake: FakeGraph, page: Connected) -> None:
    result = page.connector.publish(PostRequest(text="Read this", link="https://example.com/a"))
    assert fake.nodes[result.remote_id]["link"] == "https://example.com/a"


def test_one_photo_is_uploaded_as_the_post(
    fake: FakeGraph, page: Connected, tmp_path: Path
) -> None:
    image = MediaItem(str(jpeg(tmp_path / "a.jpg")), "image/jpeg")
    result = page.connector.publish(PostRequest(text="A photo", media=(image,)))
    assert fake.nodes[result.remote_id]["status_type"] == "added_photos"
    assert calls(fake, "POST", "/photos")[-1]["published"] == "true"


def test_several_photos_are_unpublished_photos_attached_to_one_post(
    fake: FakeGraph, page: Connected, tmp_path: Path
) -> None:
    images = tuple(MediaItem(str(jpeg(tmp_path / f"{i}.jpg")), "image/jpeg") for i in range(3))
    result = page.connector.publish(PostRequest(text="Three", media=images))
    uploads = calls(fake, "POST", "/photos")[-3:]
    assert [u["published"] for u in uploads] == ["false"] * 3
    feed = calls(fake, "POST", "/feed")[-1]
    attached = json.loads(feed["attached_media"])
    assert len(attached) == 3 and all(fake.nodes[a["media_fbid"]]["published"] for a in attached)
    assert fake.nodes[result.remote_id]["message"] == "Three"


def test_video_is_uploaded_to_the_page_videos(
    fake: FakeGraph, page: Connected, tmp_path: Path
) -> None:
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    result = page.connector.publish(PostRequest(text="Watch", media=(clip,)))
    assert fake.nodes[result.remote_id]["type"] == "video"
    assert fake.nodes[result.remote_id]["description"] == "Watch"
    assert f"/videos/{result.remote_id}" in result.url


def test_first_comment_is_added_under_the_post(fake: FakeGraph, page: Connected) -> None:
    result = page.connector.publish(PostRequest(text="Launch", first_comment="Link in here"))
    comments = [fake.nodes[c] for c in fake.nodes[result.remote_id]["comments"]]
    assert [c["message"] for c in comments] == ["Link in here"]
    assert comments[0]["from"]["id"] == page.page_id


def test_a_failed_first_comment_leaves_the_post_published(fake: FakeGraph, page: Connected) -> None:
    fake.fail("POST", r"/comments$", code=368, message="Blocked for spam")
    result = page.connector.publish(PostRequest(text="Still out", first_comment="x"))
    assert result.remote_id in fake.nodes


def test_bad_media_is_refused_before_anything_is_sent(
    fake: FakeGraph, page: Connected, tmp_path: Path
) -> None:
    before = len(fake.requests)
    clip = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    image = MediaItem(str(jpeg(tmp_path / "a.jpg")), "image/jpeg")
    with pytest.raises(Rejected, match="only media"):
        page.connector.publish(PostRequest(text="mixed", media=(clip, image)))
    webp = MediaItem(str(tmp_path / "a.webp"), "image/webp")
    with pytest.raises(Rejected, match="does not take image/webp"):
        page.connector.publish(PostRequest(text="x", media=(webp,)))
    assert len(fake.requests) == before


def test_arabic_and_emoji_count_as_characters() -> None:
    caps = FacebookConnector.capabilities
    assert text_length("سلام 👋🏽", caps) == 7  # code points: the emoji and its skin tone
    assert caps.text.max_length == 63_206
