"""The inbox (comments and replies on a Page's posts), replying, deleting, and statistics."""

from __future__ import annotations

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.linkedin import connector as connector_module
from minbar.connectors.linkedin.tests.conftest import Connected
from minbar.connectors.linkedin.tests.fake import FakeLinkedIn
from minbar.connectors.types import (
    Interaction,
    InteractionKind,
    PostRequest,
    PublishResult,
    RemoteRef,
)


def ref(done: Interaction | PublishResult) -> RemoteRef:
    assert done.ref is not None
    return done.ref


def test_comments_and_replies_arrive_oldest_first_in_pages_with_a_cursor(
    page_channel: Connected, fake: FakeLinkedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connector_module, "INBOX_PAGE", 3)
    page = page_channel.connector
    post = page.publish(PostRequest(text="Ask us anything", idempotency_key="ama")).remote_id
    fan, other = fake.add_member("Fan"), fake.add_member("Other")
    first = fake.comment_as(fan.urn, post, "Which tea is best?")
    reply = fake.comment_as(other.urn, post, "The green one", parent=first)
    for number in range(3):
        fake.comment_as(fan.urn, post, f"Comment {number}")

    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        batch = page.interactions(cursor)
        seen += [i.remote_id for i in batch.items]
        if not batch.items:
            assert batch.cursor == cursor  # nothing new: the cursor stays
            break
        cursor = batch.cursor
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen[0] == first and seen[1] == reply

    items = {i.remote_id: i for i in page.interactions("").items}
    comment, answer = items[first], items[reply]
    assert comment.kind == InteractionKind.COMMENT and answer.kind == InteractionKind.REPLY
    assert comment.author.remote_id == fan.urn
    assert comment.text == "Which tea is best?"
    assert comment.post is not None and comment.post.remote_id == post
    assert answer.parent is not None and answer.parent.remote_id == first
    # New comments after the cursor, and only those.
    late = fake.comment_as(other.urn, post, "Late one")
    assert [i.remote_id for i in page.interactions(cursor).items] == [late]


def test_replying_as_the_page_nests_under_the_top_comment(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    page = page_channel.connector
    post = page.publish(PostRequest(text="New blend", idempotency_key="nb")).remote_id
    fan = fake.add_member("Fan")
    top = fake.comment_as(fan.urn, post, "Love it")
    nested = fake.comment_as(fan.urn, post, "Really", parent=top)
    by_id = {i.remote_id: i for i in page.interactions("").items}
    result = page.reply(ref(by_id[nested]), PostRequest(text="Thank you (truly)!"))
    created = fake.comments[result.remote_id]
    assert created["actor"] == page_channel.account.remote_id
    assert created["parentComment"] == top  # LinkedIn nests one level
    assert created["message"]["text"] == "Thank you (truly)!"  # comments are plain text
    # The page's own comment is not an inbox item for it, but it can delete it.
    page.delete_interaction(ref(result))
    assert result.remote_id not in fake.comments


def test_commenting_on_a_post_directly(page_channel: Connected, fake: FakeLinkedIn) -> None:
    published = page_channel.connector.publish(PostRequest(text="Hello", idempotency_key="hc"))
    result = page_channel.connector.reply(ref(published), PostRequest(text="First!"))
    assert "parentComment" not in fake.comments[result.remote_id]


def test_others_comments_cannot_be_deleted(page_channel: Connected, fake: FakeLinkedIn) -> None:
    page = page_channel.connector
    post = page.publish(PostRequest(text="Rules", idempotency_key="rules")).remote_id
    theirs = fake.comment_as(fake.add_member("Troll").urn, post, "spam")
    item = page.interactions("").items[0]
    assert item.remote_id == theirs
    with pytest.raises(Rejected) as caught:
        page.delete_interaction(ref(item))
    assert caught.value.status == 403
    assert "only its author" in caught.value.message


def test_comment_length_is_checked(page_channel: Connected) -> None:
    published = page_channel.connector.publish(PostRequest(text="Len", idempotency_key="len"))
    with pytest.raises(Rejected, match="at most 1250"):
        page_channel.connector.reply(ref(published), PostRequest(text="x" * 1251))


def test_hiding_is_not_supported(page_channel: Connected) -> None:
    assert page_channel.connector.capabilities.can_hide is False
    with pytest.raises(NotSupported):
        page_channel.connector.hide(ref(page_channel.connector.publish(PostRequest(text="h"))))


def test_members_have_no_inbox(member_channel: Connected) -> None:
    assert member_channel.connector.account_capabilities().interactions == frozenset()
    with pytest.raises(NotSupported, match="Company Pages"):
        member_channel.connector.interactions("")


def test_page_post_statistics_map_to_minbar_metrics(
    page_channel: Connected, fake: FakeLinkedIn
) -> None:
    page = page_channel.connector
    share = page.publish(PostRequest(text="Stats", idempotency_key="st")).remote_id
    quiet = page.publish(PostRequest(text="Quiet", idempotency_key="q")).remote_id
    fake.statistics[share] = {
        "impressionCount": 900,
        "uniqueImpressionsCount": 700,
        "clickCount": 40,
        "likeCount": 30,
        "commentCount": 5,
        "shareCount": 2,
    }
    found = page.post_metrics([share, quiet, "urn:li:share:1"])
    assert found[share].values == {
        "impressions": 900,
        "reach": 700,
        "clicks": 40,
        "likes": 30,
        "comments": 5,
        "shares": 2,
    }
    assert found[quiet].values["impressions"] == 0  # reported as 0 by LinkedIn
    assert "urn:li:share:1" not in found  # not the Page's: left out
    assert "video_views" not in found[share].values  # not provided: absent, not 0


def test_page_account_metrics(page_channel: Connected, fake: FakeLinkedIn) -> None:
    page = page_channel.connector
    share = page.publish(PostRequest(text="Acc", idempotency_key="acc")).remote_id
    fake.statistics[share] = {"impressionCount": 50, "uniqueImpressionsCount": 20}
    metrics = page.account_metrics()
    assert metrics.values["followers"] == 1200
    assert metrics.values["impressions"] >= 50 and metrics.values["reach"] >= 20
    assert "following" not in metrics.values and "profile_views" not in metrics.values


def test_member_post_analytics_with_the_community_scope(
    member_channel: Connected, fake: FakeLinkedIn
) -> None:
    member = member_channel.connector
    post = member.publish(PostRequest(text="My thoughts", idempotency_key="mt")).remote_id
    fake.statistics[post] = {"impressionCount": 77, "uniqueImpressionsCount": 60, "likeCount": 9}
    values = member.post_metrics([post])[post].values
    assert values == {"impressions": 77, "reach": 60, "shares": 0, "likes": 9, "comments": 0}
    assert "clicks" not in values  # members get no click counts
    assert member.account_capabilities().post_metrics == frozenset(values)
    with pytest.raises(NotSupported):
        member.account_metrics()


def test_member_without_analytics_scope_has_no_metrics(
    member_channel: Connected,
) -> None:
    member = member_channel.connector
    member.credentials.data["scopes"] = ["openid", "profile", "w_member_social"]
    assert member.account_capabilities().post_metrics == frozenset()
    with pytest.raises(NotSupported, match="r_member_postAnalytics"):
        member.post_metrics(["urn:li:share:1"])
