"""Image and carousel Pins: what Minbar sends, what it refuses before sending, deleting."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from minbar.connectors.errors import Rejected
from minbar.connectors.pinterest.tests.conftest import Connected, image_file, video_file
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import MediaItem, PostRequest, RemoteRef


def test_an_image_pin_gets_title_description_link_and_alt_text(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    image = image_file(tmp_path)
    result = brand.connector.publish(
        PostRequest(
            text="Lemon tart\nA bright, simple tart for spring.",
            media=(image,),
            link="https://example.test/recipes/lemon-tart",
            idempotency_key="k-image",
        )
    )
    (sent,) = fake.sent("POST", "/v5/pins")
    assert sent["board_id"] == brand.boards["recipes"]["id"]
    assert "board_section_id" not in sent
    assert sent["title"] == "Lemon tart"
    assert sent["description"] == "A bright, simple tart for spring."
    assert sent["link"] == "https://example.test/recipes/lemon-tart"
    assert sent["alt_text"] == "A red square"
    source = sent["media_source"]
    assert source["source_type"] == "image_base64"
    assert source["content_type"] == "image/png"
    assert base64.b64decode(source["data"]) == Path(image.path).read_bytes()
    pin = fake.pins[result.remote_id]
    assert pin["media"]["media_type"] == "image"
    assert result.url == f"https://www.pinterest.com/pin/{result.remote_id}/"
    assert result.published_at is not None


def test_a_one_line_text_is_the_description_and_the_pin_has_no_title(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    brand.connector.publish(PostRequest(text="Just a description", media=(image_file(tmp_path),)))
    (sent,) = fake.sent("POST", "/v5/pins")
    assert "title" not in sent
    assert sent["description"] == "Just a description"


def test_two_to_five_images_make_a_carousel(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    images = (
        image_file(tmp_path, "a.png", alt="First"),
        image_file(tmp_path, "b.jpg", alt="", kind="JPEG"),
        image_file(tmp_path, "c.png"),
    )
    result = brand.connector.publish(PostRequest(text="Three looks", media=images))
    (sent,) = fake.sent("POST", "/v5/pins")
    source = sent["media_source"]
    assert source["source_type"] == "multiple_image_base64"
    assert [i["content_type"] for i in source["items"]] == ["image/png", "image/jpeg", "image/png"]
    assert sent["alt_text"] == "First"  # one alt text per Pin
    assert fake.pins[result.remote_id]["media"]["media_type"] == "multiple_images"


def test_six_images_are_refused_before_anything_is_sent(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    images = tuple(image_file(tmp_path, f"{n}.png") for n in range(6))
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Too many", media=images))
    assert "5 images at most" in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []


@pytest.mark.parametrize(
    ("request_kwargs", "words"),
    [
        ({"text": "x" * 501}, "description is 501 characters"),
        ({"text": "Hi", "link": "javascript:alert(1)"}, "must be a web address"),
        ({"text": "Hi", "thread": ("more",)}, "no threads"),
        ({"text": "Hi", "first_comment": "first!"}, "no first comments"),
        ({"text": "Hi", "reply_to": RemoteRef("1")}, "no replies"),
        ({"text": "Hi", "visibility": "private"}, "secret board"),
    ],
)
def test_what_pinterest_cannot_take_is_refused_with_a_reason(
    fake: FakePinterest,
    brand: Connected,
    tmp_path: Path,
    request_kwargs: dict[str, object],
    words: str,
) -> None:
    request = PostRequest(media=(image_file(tmp_path),), **request_kwargs)  # type: ignore[arg-type]
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(request)
    assert words in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []


def test_a_pin_needs_media_of_a_type_pinterest_takes(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="No picture"))
    assert "needs an image or a video" in caught.value.message
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Gif", media=(MediaItem(str(gif), "image/gif"),)))
    assert "JPEG or PNG" in caught.value.message
    assert fake.calls("POST", "/v5/pins") == []


def test_two_videos_or_a_video_with_two_images_are_refused(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    video = video_file(tmp_path)
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(
            PostRequest(text="Two", media=(video, video_file(tmp_path, "b.mp4")))
        )
    assert "one video at most" in caught.value.message
    images = (image_file(tmp_path, "a.png"), image_file(tmp_path, "b.png"))
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Mixed", media=(video, *images)))
    assert "becomes the video's cover" in caught.value.message
    assert fake.calls("POST", "/v5/media") == []


def test_pinterest_judging_the_image_broken_is_rejected_with_its_words(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake_png = tmp_path / "fake.png"
    fake_png.write_bytes(b"not really a png" * 10)
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(
            PostRequest(text="Broken", media=(MediaItem(str(fake_png), "image/png"),))
        )
    assert "refused the image" in caught.value.message
    assert "code 235" in caught.value.detail


def test_a_trial_app_is_told_to_request_standard_access(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    fake.trial = True
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Hello", media=(image_file(tmp_path),)))
    assert "Trial access" in caught.value.message
    assert "Standard access" in caught.value.message
    assert "code 29" in caught.value.detail


def test_a_board_deleted_on_pinterest_is_rejected_naming_the_board(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    del fake.boards[brand.boards["recipes"]["id"]]
    with pytest.raises(Rejected) as caught:
        brand.connector.publish(PostRequest(text="Hello", media=(image_file(tmp_path),)))
    assert "cannot find the board" in caught.value.message
    assert caught.value.status == 404


def test_delete_removes_the_pin_and_a_pin_already_gone_counts_as_deleted(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    result = brand.connector.publish(PostRequest(text="Bye", media=(image_file(tmp_path),)))
    brand.connector.delete(result.remote_id)
    assert result.remote_id not in fake.pins
    brand.connector.delete(result.remote_id)  # no error the second time
    assert brand.connector.lookup(remote_id=result.remote_id) is None


def test_lookup_by_id_reads_the_pin_back(brand: Connected, tmp_path: Path) -> None:
    result = brand.connector.publish(
        PostRequest(text="Title\nBody text", media=(image_file(tmp_path),))
    )
    found = brand.connector.lookup(remote_id=result.remote_id)
    assert found is not None
    assert found.text == "Title\nBody text"
    assert found.url == result.url
    assert found.created_at is not None and found.created_at.tzinfo is not None


def test_publishing_the_same_key_again_after_success_returns_the_same_pin(
    fake: FakePinterest, brand: Connected, tmp_path: Path
) -> None:
    request = PostRequest(text="Once", media=(image_file(tmp_path),), idempotency_key="k-once")
    first = brand.connector.publish(request)
    second = brand.reopen().publish(request)
    assert second.remote_id == first.remote_id
    assert len(fake.sent("POST", "/v5/pins")) == 1
