"""Publishing against the local X fake: every post type the capabilities declare.

POST /2/tweets: https://docs.x.com/x-api/posts/manage-tweets/introduction;
media: https://docs.x.com/x-api/media/quickstart/media-upload-chunked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from minbar.connectors.errors import NotSupported, Rejected, TemporaryError
from minbar.connectors.types import MediaItem, PostRequest, PostType, RemoteRef
from minbar.connectors.x import XConnector
from minbar.connectors.x.tests.conftest import Connected
from minbar.connectors.x.tests.fake import FakeX, User


def png(path: Path, size: tuple[int, int] = (8, 6)) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return path


def gif(path: Path) -> Path:
    frames = [Image.new("P", (4, 4), i) for i in range(3)]
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:])
    return path


def video(path: Path, size: int = 9 * 1024 * 1024) -> Path:
    """Bytes enough to need three 4 MB APPEND chunks (the fake does not decode video)."""
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(size - 12))
    return path


def test_capabilities_match_what_the_connector_does() -> None:
    caps = XConnector.capabilities
    assert caps.post_types == {
        PostType.TEXT,
        PostType.LINK,
        PostType.IMAGE,
        PostType.GALLERY,
        PostType.VIDEO,
        PostType.THREAD,
        PostType.REPLY,
    }
    assert caps.text.max_length == 280 and caps.text.url_length == 23
    assert caps.pkce and caps.threads and caps.first_comment and caps.can_hide and caps.search
    assert not caps.can_delete_interactions
    assert caps.setup_doc == "docs/networks/x.md"


def test_text_post(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(PostRequest(text="مرحبا من منبر 👋", idempotency_key="k1"))
    post = fake.posts[result.remote_id]
    assert post.text == "مرحبا من منبر 👋" and post.author_id == brand.user.id
    assert result.url == f"https://x.com/{brand.user.username}/status/{result.remote_id}"
    assert brand.connector.credentials.data["sent"]["k1"]["id"] == result.remote_id


def test_link_post_puts_the_link_after_the_text(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(
        PostRequest(text="Our new menu", link="https://example.com/menu", idempotency_key="l")
    )
    post = fake.posts[result.remote_id]
    assert post.text.startswith("Our new menu\n\nhttps://t.co/")
    assert post.urls[0]["expanded_url"] == "https://example.com/menu"


def test_image_with_alt_text(brand: Connected, fake: FakeX, tmp_path: Path) -> None:
    media = (MediaItem(str(png(tmp_path / "a.png")), "image/png", alt_text="A red square"),)
    result = brand.connector.publish(PostRequest(text="Photo", media=media, idempotency_key="i"))
    (media_id,) = fake.posts[result.remote_id].media_ids
    uploaded = fake.media[media_id]
    assert uploaded.category == "tweet_image" and uploaded.alt_text == "A red square"
    assert uploaded.total_bytes == (tmp_path / "a.png").stat().st_size


def test_gallery_of_four_images(brand: Connected, fake: FakeX, tmp_path: Path) -> None:
    media = tuple(
        MediaItem(str(png(tmp_path / f"{n}.png")), "image/png", alt_text=f"Image {n}")
        for n in range(4)
    )
    result = brand.connector.publish(PostRequest(text="Four", media=media, idempotency_key="g"))
    ids = fake.posts[result.remote_id].media_ids
    assert [fake.media[i].alt_text for i in ids] == [f"Image {n}" for n in range(4)]


def test_animated_gif_waits_for_processing(brand: Connected, fake: FakeX, tmp_path: Path) -> None:
    fake.media_polls = 2
    media = (MediaItem(str(gif(tmp_path / "a.gif")), "image/gif", alt_text="Blinking"),)
    result = brand.connector.publish(PostRequest(text="GIF", media=media, idempotency_key="gif"))
    (media_id,) = fake.posts[result.remote_id].media_ids
    assert fake.media[media_id].category == "tweet_gif"
    assert fake.media[media_id].alt_text == "Blinking"
    statuses = [r for r in fake.requests if r == ("GET", "/2/media/upload")]
    assert len(statuses) == 3  # in_progress, in_progress, succeeded


def test_video_is_uploaded_in_chunks_and_processed(
    brand: Connected, fake: FakeX, tmp_path: Path
) -> None:
    fake.media_polls = 1
    item = MediaItem(str(video(tmp_path / "v.mp4")), "video/mp4")
    result = brand.connector.publish(PostRequest(text="Video", media=(item,), idempotency_key="v"))
    (media_id,) = fake.posts[result.remote_id].media_ids
    uploaded = fake.media[media_id]
    assert uploaded.category == "tweet_video"
    assert sorted(uploaded.received) == [0, 1, 2]
    assert sum(uploaded.received.values()) == 9 * 1024 * 1024


def test_failed_media_processing_is_rejected_with_x_reason(
    brand: Connected, fake: FakeX, tmp_path: Path
) -> None:
    fake.media_polls = 1
    fake.media_failure = "Unsupported video format"
    item = MediaItem(str(video(tmp_path / "bad.mp4", 1024)), "video/mp4")
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Bad", media=(item,), idempotency_key="b"))
    assert "Unsupported video format" in caught.value.message
    assert fake.own_posts(brand.user) == []


def test_media_still_processing_after_the_deadline_is_temporary(
    brand: Connected, fake: FakeX, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.media_polls = 1000
    monkeypatch.setattr(XConnector, "media_processing_timeout", 0.3)
    item = MediaItem(str(video(tmp_path / "slow.mp4", 2048)), "video/mp4")
    with pytest.raises(TemporaryError):
        brand.connector.publish(PostRequest(text="Slow", media=(item,), idempotency_key="s"))
    assert fake.own_posts(brand.user) == []


def test_thread_chains_replies(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(
        PostRequest(text="1/3 A thread", thread=("2/3 more", "3/3 end"), idempotency_key="t")
    )
    first, second, third = (fake.posts[i] for i in (result.remote_id, *result.thread_ids))
    assert second.referenced == [{"type": "replied_to", "id": first.id}]
    assert third.referenced == [{"type": "replied_to", "id": second.id}]
    assert {p.conversation_id for p in (first, second, third)} == {first.id}


def test_thread_published_again_completes_only_what_is_missing(
    brand: Connected, fake: FakeX
) -> None:
    request = PostRequest(text="Part one", thread=("Part two", "Part three"), idempotency_key="h")
    fake.fail_next("POST", "/2/tweets", "status", status=503, skip=1)  # part two fails
    with pytest.raises(TemporaryError):
        brand.connector.publish(request)
    assert [p.text for p in fake.own_posts(brand.user)] == ["Part one"]
    result = brand.connector.publish(request)
    assert [p.text for p in fake.own_posts(brand.user)] == ["Part one", "Part two", "Part three"]
    assert len(result.thread_ids) == 2


def test_first_comment_is_a_reply_to_the_post(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(
        PostRequest(text="Sale!", first_comment="Details: https://example.com", idempotency_key="c")
    )
    comment = fake.own_posts(brand.user)[-1]
    assert comment.referenced == [{"type": "replied_to", "id": result.remote_id}]


def test_reply_to_someone(brand: Connected, fake: FakeX, fan: User) -> None:
    question = fake.post_as(fan, f"@{brand.user.username} open on Friday?")
    result = brand.connector.reply(
        RemoteRef(remote_id=question.id), PostRequest(text="Yes, 9 to 5!", idempotency_key="r")
    )
    answer = fake.posts[result.remote_id]
    assert answer.in_reply_to_user_id == fan.id
    assert answer.conversation_id == question.id


def test_publish_with_reply_to_is_a_reply(brand: Connected, fake: FakeX, fan: User) -> None:
    question = fake.post_as(fan, "hello")
    result = brand.connector.publish(
        PostRequest(text="Hi!", reply_to=RemoteRef(remote_id=question.id), idempotency_key="pr")
    )
    assert fake.posts[result.remote_id].in_reply_to_user_id == fan.id


def test_quote_post(brand: Connected, fake: FakeX, fan: User) -> None:
    quoted = fake.post_as(fan, "We love this café")
    result = brand.connector.publish(
        PostRequest(text="Thank you!", quote=RemoteRef(remote_id=quoted.id), idempotency_key="q")
    )
    assert fake.posts[result.remote_id].referenced == [{"type": "quoted", "id": quoted.id}]
    assert fake.posts[quoted.id].quotes == 1


def test_delete_and_delete_again(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(PostRequest(text="Oops", idempotency_key="d"))
    brand.connector.delete(result.remote_id)
    assert result.remote_id not in fake.posts
    brand.connector.delete(result.remote_id)  # already gone: fine
    assert brand.connector.lookup(remote_id=result.remote_id) is None


def test_too_long_text_is_refused_before_sending(brand: Connected, fake: FakeX) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="日本" * 71, thread=("ok",)))
    assert "284/280" in caught.value.message
    assert not [r for r in fake.requests if r == ("POST", "/2/tweets")]


def test_a_too_long_thread_part_stops_the_whole_thread(brand: Connected, fake: FakeX) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="fine", thread=("x" * 281,)))
    assert "part 2" in caught.value.message
    assert fake.own_posts(brand.user) == []


def test_media_rules_are_checked_before_uploading(
    brand: Connected, fake: FakeX, tmp_path: Path
) -> None:
    image = MediaItem(str(png(tmp_path / "a.png")), "image/png")
    clip = MediaItem(str(video(tmp_path / "v.mp4", 1024)), "video/mp4")
    with pytest.raises(Rejected, match="only media"):
        brand.connector.publish(PostRequest(text="mix", media=(image, clip)))
    with pytest.raises(Rejected, match="at most 4"):
        brand.connector.publish(PostRequest(text="five", media=(image,) * 5))
    with pytest.raises(Rejected, match="does not take"):
        brand.connector.publish(
            PostRequest(text="tiff", media=(MediaItem(str(tmp_path / "a.png"), "image/tiff"),))
        )
    long_alt = MediaItem(str(tmp_path / "a.png"), "image/png", alt_text="a" * 1001)
    with pytest.raises(Rejected, match="1001/1000"):
        brand.connector.publish(PostRequest(text="alt", media=(long_alt,)))
    assert not [r for r in fake.requests if r[1].startswith("/2/media")]


def test_content_warning_is_not_supported(brand: Connected) -> None:
    with pytest.raises(NotSupported):
        brand.connector.publish(PostRequest(text="spoiler", content_warning="cw"))


def test_who_can_reply_is_set_on_the_first_post_of_a_thread_only(
    brand: Connected, fake: FakeX
) -> None:
    result = brand.connector.publish(
        PostRequest(
            text="Ask us anything",
            thread=("Part two",),
            options={"reply_settings": "mentionedUsers"},
        )
    )
    assert fake.posts[result.remote_id].reply_settings == "mentionedUsers"
    assert fake.posts[result.thread_ids[0]].reply_settings == "everyone"


def test_an_unknown_reply_setting_is_refused_by_x(brand: Connected, fake: FakeX) -> None:
    with pytest.raises(Rejected):
        brand.connector.publish(PostRequest(text="Hi", options={"reply_settings": "friends"}))
