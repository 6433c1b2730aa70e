"""Publishing each post type against the fake, and what it checks of the requests."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from minbar.connectors.errors import NotSupported, Rejected, TemporaryError
from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.linkedin.api import LINKEDIN_VERSION
from minbar.connectors.linkedin.tests.conftest import Connected
from minbar.connectors.linkedin.tests.fake import FakeLinkedIn
from minbar.connectors.types import MediaItem, PostRequest


def png(path: Path, color: str = "red") -> MediaItem:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return MediaItem(str(path), "image/png", alt_text=f"A {color} square")


def video(path: Path, size: int) -> MediaItem:
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * (size // 256))
    return MediaItem(str(path), "video/mp4")


def test_text_post_escapes_little_text_and_keeps_hashtags(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    text = "Tea (green) & *rare* leaves_2 — #Launch day! @everyone [1] <3 ~ok | done \\o/"
    result = page_channel.connector.publish(PostRequest(text=text, idempotency_key="t1"))
    post = fake.posts[result.remote_id]
    assert result.remote_id.startswith("urn:li:share:")
    assert result.url == f"https://www.linkedin.com/feed/update/{result.remote_id}/"
    # The fake, like LinkedIn, keeps a commentary only up to an unescaped reserved
    # character: the whole text arriving proves every one was escaped.
    assert "{hashtag|\\#|Launch}" in post["commentary"]
    found = page_channel.connector.lookup(remote_id=result.remote_id)
    assert found is not None and found.text == text
    assert post["author"] == page_channel.account.remote_id
    assert post["visibility"] == "PUBLIC"
    assert post["distribution"]["feedDistribution"] == "MAIN_FEED"


def test_every_call_carries_the_versioned_api_headers(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    fake.requests.clear()
    page_channel.connector.publish(
        PostRequest(text="Headers", media=(png(tmp_path / "h.png"),), idempotency_key="h")
    )
    api_calls = [r for r in fake.requests if r[1].startswith(("/rest/", "/v2/"))]
    assert len(api_calls) >= 3  # initializeUpload, image status, POST /rest/posts
    for _method, _path, headers in api_calls:
        assert headers["LinkedIn-Version"] == LINKEDIN_VERSION
        assert headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert headers["Authorization"].startswith("Bearer ")


def test_the_fake_refuses_a_call_without_the_version_header(page_channel: Connected) -> None:
    import httpx

    token = page_channel.connector.credentials.secrets["access_token"]
    answer = httpx.get(
        f"{page_channel.connector.server_url}/rest/organizationAcls?q=roleAssignee",
        headers={"Authorization": f"Bearer {token}", "X-Restli-Protocol-Version": "2.0.0"},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "VERSION_MISSING"


def test_member_post_with_connections_visibility(
    member_channel: Connected, fake: FakeLinkedIn
) -> None:
    result = member_channel.connector.publish(
        PostRequest(text="Only my network", visibility="connections", idempotency_key="m1")
    )
    post = fake.posts[result.remote_id]
    assert post["author"] == member_channel.member.urn
    assert post["visibility"] == "CONNECTIONS"


def test_a_page_cannot_post_to_connections(page_channel: Connected, fake: FakeLinkedIn) -> None:
    before = len(fake.posts)
    with pytest.raises(Rejected, match="visibility must be one of public"):
        page_channel.connector.publish(PostRequest(text="x", visibility="connections"))
    assert len(fake.posts) == before


def test_link_post_is_an_article(page_channel: Connected, fake: FakeLinkedIn) -> None:
    result = page_channel.connector.publish(
        PostRequest(text="Read this", link="https://example.org/blog/tea", idempotency_key="l1")
    )
    article = fake.posts[result.remote_id]["content"]["article"]
    assert article == {"source": "https://example.org/blog/tea", "title": "example.org"}


def test_single_image_post(page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path) -> None:
    item = png(tmp_path / "one.png")
    result = page_channel.connector.publish(
        PostRequest(text="One image", media=(item,), idempotency_key="i1")
    )
    media = fake.posts[result.remote_id]["content"]["media"]
    assert media["id"].startswith("urn:li:image:")
    assert media["altText"] == "A red square"
    assert fake.assets[media["id"]]["data"][0] == Path(item.path).read_bytes()


def test_gallery_is_a_multi_image_post_with_the_link_in_the_text(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    items = tuple(png(tmp_path / f"{c}.png", c) for c in ("red", "green", "blue"))
    result = page_channel.connector.publish(
        PostRequest(text="Three", media=items, link="https://example.org", idempotency_key="g1")
    )
    post = fake.posts[result.remote_id]
    images = post["content"]["multiImage"]["images"]
    assert [i["altText"] for i in images] == ["A red square", "A green square", "A blue square"]
    assert "https://example.org" in post["commentary"]


def test_video_is_uploaded_in_parts_finalized_and_awaited(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LinkedInConnector, "media_poll_interval", 0.01)
    fake.video_part_size = 64 * 1024  # the real parts are 4 MB; smaller keeps the test quick
    fake.processing_polls = 3
    item = video(tmp_path / "clip.mp4", 200 * 1024)
    result = page_channel.connector.publish(
        PostRequest(text="Watch", media=(item,), idempotency_key="v1")
    )
    post = fake.posts[result.remote_id]
    assert result.remote_id.startswith("urn:li:ugcPost:")
    asset = fake.assets[post["content"]["media"]["id"]]
    assert len(asset["data"]) == 4  # 200 KB in 64 KB parts
    assert b"".join(asset["data"][i] for i in range(4)) == Path(item.path).read_bytes()
    assert asset["status"] == "AVAILABLE"
    assert post["content"]["media"]["title"] == "clip"


def test_video_processing_failure_is_rejected_and_nothing_is_posted(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LinkedInConnector, "media_poll_interval", 0.01)
    fake.fail_processing = True
    before = len(fake.posts)
    with pytest.raises(Rejected, match=r"could not process clip\.mp4"):
        page_channel.connector.publish(
            PostRequest(text="Broken", media=(video(tmp_path / "clip.mp4", 80 * 1024),))
        )
    assert len(fake.posts) == before


def test_media_still_processing_after_the_bound_is_temporary(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LinkedInConnector, "media_poll_interval", 0.01)
    monkeypatch.setattr(LinkedInConnector, "media_processing_timeout", 0.2)
    fake.processing_polls = 10_000
    with pytest.raises(TemporaryError, match=r"still processing a\.png"):
        page_channel.connector.publish(PostRequest(text="Slow", media=(png(tmp_path / "a.png"),)))


def test_document_post_has_a_title(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    path = tmp_path / "Menu 2026.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * 2048)
    result = page_channel.connector.publish(
        PostRequest(
            text="Our menu",
            media=(MediaItem(str(path), "application/pdf"),),
            idempotency_key="d1",
        )
    )
    media = fake.posts[result.remote_id]["content"]["media"]
    assert media["id"].startswith("urn:li:document:")
    assert media["title"] == "Menu 2026"


def test_refused_media_is_caught_before_any_upload(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    fake.requests.clear()
    tiny = video(tmp_path / "tiny.mp4", 1024)
    with pytest.raises(Rejected) as caught:
        page_channel.connector.publish(PostRequest(text="x", media=(tiny, png(tmp_path / "p.png"))))
    assert "between 75 KB and 500 MB" in caught.value.message
    assert "only images can be several" in caught.value.message
    assert fake.requests == []


def test_duplicate_post_is_rejected_with_the_earlier_post(page_channel: Connected) -> None:
    first = page_channel.connector.publish(PostRequest(text="Same words", idempotency_key="a"))
    with pytest.raises(Rejected) as caught:
        page_channel.connector.publish(PostRequest(text="Same words", idempotency_key="b"))
    assert caught.value.status == 422
    assert first.url in caught.value.message
    assert "DUPLICATE_POST" not in caught.value.message
    assert f"Content is a duplicate of {first.remote_id}" in caught.value.detail


def test_delete_removes_the_post_and_is_idempotent(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    result = page_channel.connector.publish(PostRequest(text="Short-lived", idempotency_key="del"))
    page_channel.connector.delete(result.remote_id)
    assert result.remote_id not in fake.posts
    page_channel.connector.delete(result.remote_id)  # already gone: fine
    assert page_channel.connector.lookup(remote_id=result.remote_id) is None


def test_threads_quotes_and_first_comments_are_not_supported(page_channel: Connected) -> None:
    with pytest.raises(NotSupported):
        page_channel.connector.publish(PostRequest(text="a", thread=("b",)))
    with pytest.raises(NotSupported):
        page_channel.connector.publish(PostRequest(text="a", first_comment="b"))


def test_too_long_text_is_refused_before_sending(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    fake.requests.clear()
    with pytest.raises(Rejected, match="3001/3000"):
        page_channel.connector.publish(PostRequest(text="😀" * 1500 + "x"))
    assert fake.requests == []


def test_a_member_without_a_page_role_cannot_post_as_the_page(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    fake.admins[page_channel.account.remote_id].clear()
    with pytest.raises(Rejected) as caught:
        page_channel.connector.publish(PostRequest(text="Not mine any more"))
    assert caught.value.status == 403
    assert "administrators" in caught.value.message


def test_a_documents_title_is_the_title_minbar_hands_over(
    page_channel: Connected, fake: FakeLinkedIn, tmp_path: Path
) -> None:
    """From the library a document arrives under a stored name; its title travels as alt text."""
    path = tmp_path / "b64d0e1f.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * 2048)
    result = page_channel.connector.publish(
        PostRequest(
            text="Our menu",
            media=(MediaItem(str(path), "application/pdf", alt_text="Winter menu"),),
            idempotency_key="d2",
        )
    )
    assert fake.posts[result.remote_id]["content"]["media"]["title"] == "Winter menu"
