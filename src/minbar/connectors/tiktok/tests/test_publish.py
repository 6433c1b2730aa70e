"""Posting videos, photos and drafts against the fake, and the choices TikTok requires."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import signing

from minbar.connectors.errors import NotSupported, OutcomeUnknown, Rejected, TemporaryError
from minbar.connectors.tiktok import PostSettings
from minbar.connectors.tiktok.tests.conftest import (
    CHUNK,
    Connected,
    connect,
    photo_file,
    video_file,
)
from minbar.connectors.tiktok.tests.fake import FakeTikTok
from minbar.connectors.types import PostRequest
from minbar.media.public import SALT


def inits(fake: FakeTikTok) -> list[tuple[str, str, dict[str, str], object]]:
    return [c for c in fake.calls("POST", "/v2/post/publish/") if c[1].endswith("/init/")]


def test_a_video_goes_out_after_creator_info_in_ordered_chunks(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    video = video_file(tmp_path, size=3 * CHUNK + 1000)
    result = brand.connector.publish(
        PostRequest(text="New roast ☕ #coffee", media=(video,), idempotency_key="k-1")
    )

    paths = [c[1] for c in fake.calls()]
    creator = paths.index("/v2/post/publish/creator_info/query/")
    assert creator < paths.index("/v2/post/publish/video/init/")
    body = inits(fake)[0][3]
    assert isinstance(body, dict)
    assert body["post_info"] == {
        "title": "New roast ☕ #coffee",
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "is_aigc": False,
    }
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 3 * CHUNK + 1000,
        "chunk_size": CHUNK,
        "total_chunk_count": 3,
    }
    assert len(fake.calls("PUT", "/upload/")) == 3  # the last chunk takes the trailing bytes
    publish = next(iter(fake.publishes.values()))
    assert publish["received"] == Path(video.path).read_bytes()
    assert result.remote_id.isdigit()
    assert result.url == f"https://www.tiktok.com/@acme.coffee/video/{result.remote_id}"
    assert fake.calls("POST", "/v2/post/publish/status/fetch/")


def test_a_video_under_the_smallest_chunk_goes_whole(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.connector.publish(
        PostRequest(text="Short", media=(video_file(tmp_path, size=CHUNK - 10),))
    )
    body = inits(fake)[0][3]
    assert isinstance(body, dict)
    assert body["source_info"]["chunk_size"] == CHUNK - 10
    assert body["source_info"]["total_chunk_count"] == 1
    assert len(fake.calls("PUT", "/upload/")) == 1


def test_a_private_post_keeps_its_publish_id_because_tiktok_gives_no_post_id(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    result = brand.connector.publish(
        PostRequest(text="Behind the scenes", media=(video_file(tmp_path),), visibility="only_me")
    )
    assert result.remote_id.startswith("v_pub_file~")
    assert result.url == "https://www.tiktok.com/@acme.coffee"
    assert inits(fake)[0][3]["post_info"]["privacy_level"] == "SELF_ONLY"  # type: ignore[index]


def test_nothing_is_posted_until_a_person_chooses_the_privacy(
    fake: FakeTikTok, app: dict[str, str], tmp_path: Path
) -> None:
    connected = connect(fake)
    with pytest.raises(Rejected, match="Choose who can see"):
        connected.connector.publish(PostRequest(text="Hi", media=(video_file(tmp_path),)))
    assert not inits(fake)


def test_a_posts_visibility_overrides_the_channel_choice(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.connector.publish(
        PostRequest(text="Friends only", media=(video_file(tmp_path),), visibility="friends")
    )
    assert inits(fake)[0][3]["post_info"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"  # type: ignore[index]
    with pytest.raises(Rejected, match="unknown privacy"):
        brand.connector.publish(
            PostRequest(text="x", media=(video_file(tmp_path),), visibility="unlisted")
        )


def test_a_privacy_tiktok_no_longer_offers_is_refused_before_sending(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.user.private_account = True  # a private account has no PUBLIC_TO_EVERYONE
    with pytest.raises(Rejected, match="does not offer the privacy “public”"):
        brand.connector.publish(PostRequest(text="Hi", media=(video_file(tmp_path),)))
    assert not inits(fake)
    assert brand.connector.account_capabilities().visibility == (
        "followers",
        "friends",
        "only_me",
        "draft",
    )


def test_switches_the_creator_turned_off_stay_off(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.connector.set_post_settings(
        PostSettings(privacy="public", allow_comment=True, allow_duet=True, allow_stitch=True)
    )
    brand.user.comment_disabled = True
    brand.connector.publish(PostRequest(text="Hi", media=(video_file(tmp_path),)))
    info = inits(fake)[0][3]["post_info"]  # type: ignore[index]
    assert info["disable_comment"] is True
    assert info["disable_duet"] is False and info["disable_stitch"] is False


def test_a_video_longer_than_the_creator_may_post_is_refused(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.user.max_duration = 60
    with pytest.raises(Rejected, match="at most 60 seconds"):
        brand.connector.publish(
            PostRequest(text="Long", media=(video_file(tmp_path, seconds=95.0),))
        )
    assert not inits(fake)


def test_photos_are_pulled_from_signed_public_links(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    photos = (photo_file(tmp_path, "a.jpg"), photo_file(tmp_path, "b.jpg"))
    result = brand.connector.publish(
        PostRequest(
            text="Autumn menu\nPumpkin latte and more 🎃",
            media=photos,
            idempotency_key="photo-1",
        )
    )
    body = inits(fake)[0][3]
    assert isinstance(body, dict)
    assert inits(fake)[0][1] == "/v2/post/publish/content/init/"
    assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
    assert body["post_info"]["title"] == "Autumn menu"
    assert body["post_info"]["description"] == "Pumpkin latte and more 🎃"
    assert body["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    urls = body["source_info"]["photo_images"]
    assert body["source_info"]["source"] == "PULL_FROM_URL"
    assert all(u.startswith("https://minbar.example.com/") for u in urls)
    token = urls[0].split("/")[-2]
    assert signing.loads(token, salt=SALT)["m"] == "image/jpeg"
    assert result.remote_id.isdigit()


def test_photos_from_an_unverified_domain_are_refused_with_what_to_do(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.verified_domains = set()
    with pytest.raises(Rejected, match="verified"):
        brand.connector.publish(PostRequest(text="Hi", media=(photo_file(tmp_path),)))
    assert brand.connector._memory() == {}


def test_a_draft_video_goes_to_the_inbox_without_a_caption(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.log.clear()
    result = brand.connector.publish(
        PostRequest(text="Edit me in TikTok", media=(video_file(tmp_path),), visibility="draft")
    )
    assert inits(fake)[0][1] == "/v2/post/publish/inbox/video/init/"
    body = inits(fake)[0][3]
    assert isinstance(body, dict) and "post_info" not in body
    assert not fake.calls("POST", "/v2/post/publish/creator_info/query/")
    assert result.remote_id.startswith("v_inbox_file~")
    assert next(iter(fake.publishes.values()))["status"] == "SEND_TO_USER_INBOX"


def test_draft_photos_are_a_media_upload(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    brand.connector.set_post_settings(PostSettings(privacy="draft"))
    brand.connector.publish(PostRequest(text="Caption", media=(photo_file(tmp_path),)))
    body = inits(fake)[0][3]
    assert isinstance(body, dict)
    assert body["post_mode"] == "MEDIA_UPLOAD"
    assert body["post_info"] == {"title": "", "description": "Caption"}


def test_choices_are_checked_against_creator_info_when_saved(
    brand: Connected, fake: FakeTikTok
) -> None:
    brand.user.private_account = True
    with pytest.raises(Rejected, match="does not offer"):
        brand.connector.set_post_settings(PostSettings(privacy="public"))
    with pytest.raises(Rejected, match="branded content"):
        brand.connector.set_post_settings(PostSettings(privacy="only_me", branded_content=True))
    saved = brand.connector.set_post_settings(PostSettings(privacy="FOLLOWER_OF_CREATOR"))
    assert saved.privacy == "followers"
    assert brand.connector.credentials.data["post_settings"]["privacy"] == "followers"
    assert brand.saved[-1].data["creator"]["privacy_level_options"][0] == "FOLLOWER_OF_CREATOR"


def test_media_tiktok_cannot_take_is_refused(brand: Connected, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="cannot post text alone"):
        brand.connector.publish(PostRequest(text="Just words"))
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG")
    from minbar.connectors.types import MediaItem

    with pytest.raises(Rejected, match="JPEG or WebP"):
        brand.connector.publish(PostRequest(text="x", media=(MediaItem(str(png), "image/png"),)))
    with pytest.raises(Rejected, match="not both"):
        brand.connector.publish(
            PostRequest(text="x", media=(video_file(tmp_path), photo_file(tmp_path)))
        )
    with pytest.raises(NotSupported):
        brand.connector.publish(
            PostRequest(text="x", media=(video_file(tmp_path),), first_comment="First!")
        )


def test_a_caption_over_2200_utf16_units_is_refused(brand: Connected, tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="2,200"):
        brand.connector.publish(PostRequest(text="😀" * 1101, media=(video_file(tmp_path),)))


def test_a_post_tiktok_could_not_process_fails_with_its_reason(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.fail_next_post("frame_rate_check_failed")
    with pytest.raises(Rejected, match="23 to 60 frames") as caught:
        brand.connector.publish(
            PostRequest(text="x", media=(video_file(tmp_path),), idempotency_key="bad")
        )
    assert "frame_rate_check_failed" in caught.value.detail
    assert "bad" not in brand.connector._memory()
    fake.fail_next_post("internal")
    with pytest.raises(TemporaryError):
        brand.connector.publish(PostRequest(text="x", media=(video_file(tmp_path),)))


def test_a_post_still_processing_is_settled_by_lookup_without_posting_twice(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    fake.processing_polls = 10_000
    request = PostRequest(text="Slow one", media=(video_file(tmp_path),), idempotency_key="slow")
    with pytest.raises(OutcomeUnknown, match="still processing"):
        brand.connector.publish(request)
    worker = brand.reopen()
    with pytest.raises(TemporaryError, match="still processing"):
        worker.lookup(idempotency_key="slow")
    fake.processing_polls = 0
    found = worker.lookup(idempotency_key="slow")
    assert found is not None and found.remote_id.isdigit()
    again = worker.publish(request)
    assert again.remote_id == found.remote_id
    assert len(inits(fake)) == 1


def test_lookup_of_a_key_never_sent_is_certainly_nothing(brand: Connected) -> None:
    assert brand.connector.lookup(idempotency_key="never") is None


def test_publishing_again_with_the_same_key_returns_the_same_post(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    request = PostRequest(text="Once", media=(video_file(tmp_path),), idempotency_key="once")
    first = brand.connector.publish(request)
    second = brand.reopen().publish(request)
    assert second.remote_id == first.remote_id
    assert len(inits(fake)) == 1
    assert brand.connector.lookup(remote_id=first.remote_id) is not None


def test_a_posts_own_switches_replace_the_channels(
    brand: Connected, fake: FakeTikTok, tmp_path: Path
) -> None:
    """The composer sends the privacy and the switches the person turned on; the others
    are off even when the channel's saved choices had them on."""
    brand.connector.set_post_settings(
        PostSettings(privacy="public", allow_comment=True, allow_duet=True, allow_stitch=True)
    )
    brand.connector.publish(
        PostRequest(
            text="Hi",
            media=(video_file(tmp_path),),
            visibility="friends",
            options={"allow_comment": "1", "ai_generated": "1"},
        )
    )
    info = inits(fake)[0][3]["post_info"]  # type: ignore[index]
    assert info["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert info["disable_comment"] is False
    assert info["disable_duet"] is True and info["disable_stitch"] is True
    assert info["is_aigc"] is True


def test_the_composer_offers_only_the_switches_the_creator_may_use(
    brand: Connected, fake: FakeTikTok
) -> None:
    from minbar.connectors.options import options_for

    brand.user.duet_disabled = True
    brand.connector.creator_info()  # what the composer knows comes from the last answer
    keys = [o.key for o in options_for(brand.connector.account_capabilities())]
    assert keys[0] == "visibility"
    assert "allow_comment" in keys and "allow_stitch" in keys
    assert "allow_duet" not in keys
    privacy = options_for(brand.connector.account_capabilities())[0]
    assert privacy.required and not privacy.default
