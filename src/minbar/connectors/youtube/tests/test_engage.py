"""Comments on the channel's videos: reading them page by page, replying, hiding, deleting.

https://developers.google.com/youtube/v3/docs/commentThreads/list,
https://developers.google.com/youtube/v3/docs/comments/insert,
https://developers.google.com/youtube/v3/docs/comments/setModerationStatus,
https://developers.google.com/youtube/v3/docs/comments/delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minbar.connectors.errors import Rejected
from minbar.connectors.types import InteractionKind, PostRequest, RemoteRef
from minbar.connectors.youtube.tests.conftest import Connected, video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube

THREADS = "/youtube/v3/commentThreads"


@pytest.fixture
def video_id(brand: Connected, fake: FakeYouTube, tmp_path: Path) -> str:
    brand.connector.interactions_min_interval = 0.0
    return brand.connector.publish(
        PostRequest(text="Ask me", media=(video_file(tmp_path),))
    ).remote_id


def test_comments_and_replies_arrive_oldest_first_without_the_channels_own(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    base = datetime.now(UTC) - timedelta(hours=1)
    first = fake.add_comment(video_id, "رائع! 🔥", author="Fan One", at=base)
    fake.add_comment(
        video_id,
        "Thanks!",
        author=brand.user.handle,
        author_channel=brand.user.channel_id,
        parent_id=first["id"],
        at=base + timedelta(minutes=1),
    )
    reply = fake.add_comment(
        video_id, "Agreed", author="Fan Two", parent_id=first["id"], at=base + timedelta(minutes=2)
    )
    page = brand.connector.interactions()
    assert [i.remote_id for i in page.items] == [first["id"], reply["id"]]
    comment, answer = page.items
    assert comment.kind == InteractionKind.COMMENT and answer.kind == InteractionKind.REPLY
    assert comment.text == "رائع! 🔥"
    assert comment.author.handle == "@Fan One"
    assert comment.post is not None and comment.post.remote_id == video_id
    assert comment.url == f"https://www.youtube.com/watch?v={video_id}&lc={first['id']}"
    assert answer.parent is not None and answer.parent.remote_id == first["id"]
    assert answer.ref is not None and answer.ref.extra["parent_id"] == first["id"]
    assert page.cursor


def test_the_cursor_brings_only_what_is_new_and_spares_the_quota(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    old = fake.add_comment(video_id, "Old", at=datetime.now(UTC) - timedelta(hours=2))
    cursor = brand.connector.interactions().cursor
    new = fake.add_comment(video_id, "New")
    page = brand.connector.interactions(cursor)
    ids = [i.remote_id for i in page.items]
    assert new["id"] in ids and old["id"] not in ids
    # Within the interval nothing is asked of Google and the cursor stays.
    brand.connector.interactions_min_interval = 600.0
    before = len(fake.calls("GET", THREADS))
    quiet = brand.connector.interactions(page.cursor)
    assert quiet.items == [] and quiet.cursor == page.cursor
    assert len(fake.calls("GET", THREADS)) == before


def test_a_busy_channel_is_read_page_by_page(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    fake.add_comment(video_id, "seed", at=start)
    cursor = brand.connector.interactions().cursor
    for n in range(150):
        fake.add_comment(video_id, f"comment {n}", at=start + timedelta(seconds=n + 1))
    seen: list[str] = []
    for _ in range(5):  # bounded, as the inbox's poll is
        page = brand.connector.interactions(cursor)
        seen += [i.text for i in page.items]
        cursor = page.cursor
        if not page.items:
            break
    assert sorted(set(seen) - {"seed"}) == sorted(f"comment {n}" for n in range(150))
    assert len(fake.calls("GET", THREADS)) >= 3  # two pages, then nothing newer


def test_replies_beyond_those_included_are_fetched_when_a_thread_grows(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    top = fake.add_comment(video_id, "Question", at=start)
    for n in range(6):
        fake.add_comment(
            video_id, f"r{n}", parent_id=top["id"], at=start + timedelta(minutes=n + 1)
        )
    cursor = brand.connector.interactions().cursor
    late = fake.add_comment(video_id, "late reply", parent_id=top["id"])
    page = brand.connector.interactions(cursor)
    assert late["id"] in [i.remote_id for i in page.items]
    assert fake.calls("GET", "/youtube/v3/comments")  # comments.list?parentId=…


def test_replying_goes_under_the_top_level_comment(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    top = fake.add_comment(video_id, "Question?")
    nested = fake.add_comment(video_id, "Me too", parent_id=top["id"])
    items = {i.remote_id: i for i in brand.connector.interactions().items}
    ref = items[nested["id"]].ref
    assert ref is not None
    result = brand.connector.reply(ref, PostRequest(text="شكراً لكم 🙏"))
    made = fake.comments[result.remote_id]
    assert made["parentId"] == top["id"]
    assert made["text"] == "شكراً لكم 🙏"
    assert made["authorChannelId"] == brand.user.channel_id
    assert result.url.endswith(f"&lc={result.remote_id}")
    with pytest.raises(Rejected):
        brand.connector.reply(RemoteRef(top["id"]), PostRequest(text="  "))


def test_hiding_holds_a_comment_for_review_and_unhiding_publishes_it(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    comment = fake.add_comment(video_id, "spam spam")
    brand.connector.hide(RemoteRef(comment["id"]))
    assert fake.comments[comment["id"]]["moderationStatus"] == "heldForReview"
    assert comment["id"] not in [i.remote_id for i in brand.connector.interactions().items]
    brand.connector.hide(RemoteRef(comment["id"]), hidden=False)
    assert fake.comments[comment["id"]]["moderationStatus"] == "published"


def test_deleting_the_channels_own_reply_and_removing_someone_elses_comment(
    brand: Connected, fake: FakeYouTube, video_id: str
) -> None:
    comment = fake.add_comment(video_id, "Rude words")
    own = brand.connector.reply(RemoteRef(comment["id"]), PostRequest(text="Please be kind"))
    assert own.ref is not None
    brand.connector.delete_interaction(RemoteRef(own.remote_id))  # author looked up first
    assert own.remote_id not in fake.comments
    items = {i.remote_id: i for i in brand.connector.interactions().items}
    brand.connector.delete_interaction(items[comment["id"]].ref)  # type: ignore[arg-type]
    # comments.delete is for authors only: someone else's comment is rejected instead.
    assert fake.comments[comment["id"]]["moderationStatus"] == "rejected"
    brand.connector.delete_interaction(RemoteRef("gone-already"))
