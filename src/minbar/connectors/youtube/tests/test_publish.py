"""Publishing videos and Shorts through the resumable upload protocol, against the fake.

https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol,
https://developers.google.com/youtube/v3/docs/videos/insert,
https://developers.google.com/youtube/v3/docs/thumbnails/set,
https://developers.google.com/youtube/v3/docs/playlistItems/insert.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.types import PostRequest, PostType
from minbar.connectors.youtube import VideoOptions, YouTubeConnector
from minbar.connectors.youtube.tests.conftest import CHUNK, Connected, image_file, video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube

UPLOADS = "/upload/youtube/v3/videos"


def test_a_video_post_is_uploaded_in_chunks_with_title_and_description(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    media = video_file(tmp_path, size=3 * CHUNK + 1000)
    request = PostRequest(
        text="Spring launch\nEverything new this season.\n#launch",
        media=(media,),
        link="https://acme.example/spring",
        idempotency_key="key-1",
    )
    result = brand.connector.publish(request)
    video = fake.videos[result.remote_id]
    assert video["snippet"]["title"] == "Spring launch"
    assert video["snippet"]["description"] == (
        "Everything new this season.\n#launch\n\nhttps://acme.example/spring"
    )
    assert video["snippet"]["categoryId"] == "22"
    assert video["status"]["privacyStatus"] == "public"
    assert "selfDeclaredMadeForKids" not in video["status"]  # the channel's own setting applies
    assert fake.files[result.remote_id] == Path(media.path).read_bytes()
    assert result.url == f"https://www.youtube.com/watch?v={result.remote_id}"
    assert result.published_at is not None
    # One session, four chunks (three of 256 KiB and the rest), no status query needed.
    assert len(fake.calls("POST", UPLOADS)) == 1
    puts = fake.calls("PUT", UPLOADS)
    assert len(puts) == 4
    # The quota: one call from the upload bucket, none from the units.
    assert brand.connector.quota_status().uploads_used == 1


def test_a_short_is_a_vertical_video_uploaded_the_same_way(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    assert PostType.REEL in YouTubeConnector.capabilities.post_types
    short = video_file(tmp_path, size=CHUNK // 2, name="short.mp4")
    assert short.height and short.width and short.height > short.width
    result = brand.connector.publish(
        PostRequest(text="Sixty seconds of spring", media=(short,), idempotency_key="short-1")
    )
    video = fake.videos[result.remote_id]
    # Nothing is added: YouTube classifies vertical videos up to three minutes as Shorts.
    assert video["snippet"]["title"] == "Sixty seconds of spring"
    assert "#Shorts" not in video["snippet"]["description"]
    assert len(fake.calls("PUT", UPLOADS)) == 1


def test_text_posts_are_not_supported(brand: Connected, fake: FakeYouTube) -> None:
    assert PostType.TEXT not in YouTubeConnector.capabilities.post_types
    with pytest.raises(NotSupported) as caught:
        brand.connector.publish(PostRequest(text="Just words", idempotency_key="t"))
    assert "community" in caught.value.message
    assert fake.calls("POST", UPLOADS) == []


def test_options_set_tags_category_audience_schedule_and_playlist(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    playlist = fake.create_playlist(brand.user)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    result = brand.connector.publish_video(
        PostRequest(text="Teaser\nComing soon", media=(video_file(tmp_path),), language="ar"),
        VideoOptions(
            title="Spring teaser",
            tags=("spring", "new season"),
            category_id="26",
            privacy="public",
            publish_at=when,
            made_for_kids=False,
            playlist_id=playlist,
        ),
    )
    video = fake.videos[result.remote_id]
    assert video["snippet"]["title"] == "Spring teaser"
    assert video["snippet"]["description"] == "Teaser\nComing soon"
    assert video["snippet"]["tags"] == ["spring", "new season"]
    assert video["snippet"]["categoryId"] == "26"
    assert video["snippet"]["defaultLanguage"] == "ar"
    # publishAt only with privacyStatus private: YouTube makes it public at that time.
    assert video["status"]["privacyStatus"] == "private"
    assert video["status"]["publishAt"] == when.isoformat().replace("+00:00", "Z")
    assert video["status"]["selfDeclaredMadeForKids"] is False
    assert fake.playlists[playlist]["items"] == [result.remote_id]


def test_a_schedule_in_the_past_is_refused_before_uploading(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    with pytest.raises(Rejected) as caught:
        brand.connector.publish_video(
            PostRequest(text="Late", media=(video_file(tmp_path),)),
            VideoOptions(publish_at=datetime.now(UTC) - timedelta(minutes=1)),
        )
    assert "future" in caught.value.message
    assert fake.calls("POST", UPLOADS) == []


def test_the_channel_defaults_apply_and_visibility_comes_from_the_post(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    brand.connector.set_video_defaults(privacy="private", category_id="27", tags=("acme",))
    assert brand.saved[-1].data["video_defaults"]["category_id"] == "27"
    connector = brand.reopen()
    first = connector.publish(PostRequest(text="Default", media=(video_file(tmp_path),)))
    assert fake.videos[first.remote_id]["status"]["privacyStatus"] == "private"
    assert fake.videos[first.remote_id]["snippet"]["tags"] == ["acme"]
    assert fake.videos[first.remote_id]["snippet"]["categoryId"] == "27"
    second = connector.publish(
        PostRequest(text="Unlisted", media=(video_file(tmp_path),), visibility="unlisted")
    )
    assert fake.videos[second.remote_id]["status"]["privacyStatus"] == "unlisted"
    with pytest.raises(Rejected):
        connector.set_video_defaults(privacy="friends")


def test_an_image_with_the_video_becomes_its_thumbnail_and_the_first_comment_is_posted(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    thumb = image_file(tmp_path)
    result = brand.connector.publish(
        PostRequest(
            text="With a cover",
            media=(video_file(tmp_path), thumb),
            first_comment="Links in the description 👇",
        )
    )
    assert fake.thumbnails[result.remote_id] == Path(thumb.path).read_bytes()
    comments = [c for c in fake.comments.values() if c["videoId"] == result.remote_id]
    assert [c["text"] for c in comments] == ["Links in the description 👇"]
    assert comments[0]["authorChannelId"] == brand.user.channel_id
    status = brand.connector.quota_status()
    # thumbnails.set 50 + commentThreads.insert 50 (+ channels.list at connect).
    assert status.units_used >= 100


def test_a_refused_thumbnail_leaves_the_video_published(
    brand: Connected, fake: FakeYouTube, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    brand.user.thumbnails_allowed = False  # an unverified channel
    with caplog.at_level(logging.WARNING, logger="minbar.connectors.youtube"):
        result = brand.connector.publish(
            PostRequest(text="Cover refused", media=(video_file(tmp_path), image_file(tmp_path)))
        )
    assert result.remote_id in fake.videos
    assert result.remote_id not in fake.thumbnails
    assert "thumbnail failed" in caplog.text
    assert "custom video thumbnails" in caplog.text


def test_an_unaudited_project_gets_private_videos_and_minbar_notices(
    brand: Connected, fake: FakeYouTube, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.project_audited = False
    with caplog.at_level(logging.WARNING, logger="minbar.connectors.youtube"):
        result = brand.connector.publish(
            PostRequest(text="Locked", media=(video_file(tmp_path),), first_comment="Not possible")
        )
    assert fake.videos[result.remote_id]["status"]["privacyStatus"] == "private"
    assert brand.connector.uploads_locked_private()
    assert brand.saved[-1].data["uploads_locked_private"] is True
    assert "audit" in caplog.text
    assert not [c for c in fake.comments.values() if c["videoId"] == result.remote_id]
    assert brand.connector.locked_private_videos() == [result.remote_id]
    # A video the post itself wanted private says nothing about the project.
    brand.connector.publish(
        PostRequest(text="Meant private", media=(video_file(tmp_path),), visibility="private")
    )
    assert brand.connector.locked_private_videos() == [result.remote_id]
    # Once the project has passed the audit, a public upload stays public: the warning ends,
    # and the video that was locked is still remembered for its post's page.
    fake.project_audited = True
    brand.connector.publish(PostRequest(text="Open", media=(video_file(tmp_path),)))
    assert not brand.connector.uploads_locked_private()
    assert brand.connector.locked_private_videos() == [result.remote_id]


def test_a_long_first_line_is_shortened_and_kept_whole_in_the_description(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    line = "مرحبا بكم في إطلاق الربيع الجديد " * 5 + "<جديد>"
    result = brand.connector.publish(PostRequest(text=line, media=(video_file(tmp_path),)))
    video = fake.videos[result.remote_id]
    assert len(video["snippet"]["title"]) <= 100
    assert video["snippet"]["title"].endswith("…")
    assert "\u2039جديد\u203a" in video["snippet"]["description"]
    assert "<" not in video["snippet"]["description"]


def test_what_youtube_would_refuse_is_refused_before_anything_is_sent(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    long_tags = tuple(f"tag number {n}" for n in range(60))
    with pytest.raises(Rejected) as caught:
        brand.connector.publish_video(
            PostRequest(text="Tags", media=(video_file(tmp_path),)), VideoOptions(tags=long_tags)
        )
    assert "500 characters" in caught.value.message
    too_big = "ب" * 2600 + "\n" + "ب" * 10  # 5,222 bytes in Arabic letters
    with pytest.raises(Rejected):
        brand.connector.publish(PostRequest(text="T\n" + too_big, media=(video_file(tmp_path),)))
    with pytest.raises(Rejected) as two:
        brand.connector.publish(
            PostRequest(
                text="Two", media=(video_file(tmp_path), video_file(tmp_path, name="b.mp4"))
            )
        )
    assert "one video" in two.value.message
    assert fake.calls("POST", UPLOADS) == []


def test_deleting_a_video(brand: Connected, fake: FakeYouTube, tmp_path: Path) -> None:
    result = brand.connector.publish(PostRequest(text="Bye", media=(video_file(tmp_path),)))
    brand.connector.delete(result.remote_id)
    assert result.remote_id not in fake.videos
    brand.connector.delete(result.remote_id)  # already gone: fine
    assert brand.connector.lookup(remote_id=result.remote_id) is None


def test_replying_through_publish_goes_to_the_comment(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    result = brand.connector.publish(PostRequest(text="Q&A", media=(video_file(tmp_path),)))
    question = fake.add_comment(result.remote_id, "When in stores?")
    from minbar.connectors.types import RemoteRef

    answer = brand.connector.publish(
        PostRequest(text="Next Monday!", reply_to=RemoteRef(question["id"]))
    )
    assert fake.comments[answer.remote_id]["parentId"] == question["id"]


def test_the_composers_settings_reach_the_upload(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    """The settings the composer shows (youtube.options.POST_OPTIONS) arrive as
    PostRequest.options and set the same fields as VideoOptions."""
    playlist = fake.create_playlist(brand.user)
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    result = brand.connector.publish(
        PostRequest(
            text="Teaser\nComing soon",
            media=(video_file(tmp_path),),
            visibility="unlisted",
            options={
                "title": "Spring teaser",
                "tags": "spring, new season",
                "category_id": "27",
                "made_for_kids": "no",
                "playlist_id": playlist,
                "publish_at": when.isoformat(),
                "quiet": "1",
            },
        )
    )
    video = fake.videos[result.remote_id]
    assert video["snippet"]["title"] == "Spring teaser"
    assert video["snippet"]["tags"] == ["spring", "new season"]
    assert video["snippet"]["categoryId"] == "27"
    assert video["status"]["selfDeclaredMadeForKids"] is False
    assert video["status"]["publishAt"] == when.isoformat().replace("+00:00", "Z")
    assert fake.playlists[playlist]["items"] == [result.remote_id]
    assert fake.notified[result.remote_id] is False


def test_without_settings_subscribers_are_notified_and_privacy_is_public(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    result = brand.connector.publish(PostRequest(text="Hello", media=(video_file(tmp_path),)))
    assert fake.notified[result.remote_id] is True
    assert fake.videos[result.remote_id]["status"]["privacyStatus"] == "public"


def test_a_malformed_time_setting_is_refused_before_uploading(
    brand: Connected, fake: FakeYouTube, tmp_path: Path
) -> None:
    before = len(fake.videos)
    with pytest.raises(Rejected, match="not a date and time"):
        brand.connector.publish(
            PostRequest(text="Hello", media=(video_file(tmp_path),), options={"publish_at": "soon"})
        )
    assert len(fake.videos) == before
