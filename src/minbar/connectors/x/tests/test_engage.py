"""Mentions, replies, hiding, search and metrics against the local X fake.

Mentions timeline: https://docs.x.com/x-api/posts/timelines/introduction; hide replies:
https://docs.x.com/x-api/posts/hide-replies/introduction; recent search:
https://docs.x.com/x-api/posts/search/introduction; metrics:
https://docs.x.com/x-api/fundamentals/metrics.
"""

from __future__ import annotations

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.types import (
    ACCOUNT_METRIC_KEYS,
    POST_METRIC_KEYS,
    InteractionKind,
    PostRequest,
    RemoteRef,
)
from minbar.connectors.x.tests.conftest import Connected
from minbar.connectors.x.tests.fake import FakeX, User


def test_mentions_and_replies_are_interactions_oldest_first(
    brand: Connected, fake: FakeX, fan: User
) -> None:
    own = brand.connector.publish(PostRequest(text="New flavour today", idempotency_key="p"))
    mention = fake.post_as(fan, f"Look @{brand.user.username} is open")
    reply = fake.post_as(fan, "Which flavour?", reply_to=own.remote_id)
    fake.post_as(fan, "unrelated")
    page = brand.connector.interactions()
    assert [i.remote_id for i in page.items] == [mention.id, reply.id]
    first, second = page.items
    assert first.kind == InteractionKind.MENTION and first.post is None
    assert second.kind == InteractionKind.REPLY
    assert second.post is not None and second.post.remote_id == own.remote_id
    assert second.parent is not None and second.parent.remote_id == own.remote_id
    assert second.author.handle == fan.username and second.author.display_name == "A Fan"
    assert second.url == f"https://x.com/{fan.username}/status/{reply.id}"
    assert page.cursor == reply.id
    # Nothing new: the same cursor, no items.
    again = brand.connector.interactions(page.cursor)
    assert again.items == [] and again.cursor == page.cursor


def test_more_than_a_page_is_read_page_by_page_without_gaps(
    brand: Connected, fake: FakeX, fan: User
) -> None:
    first = brand.connector.interactions()
    made = [fake.post_as(fan, f"@{brand.user.username} hello {n}") for n in range(130)]
    seen: list[str] = []
    cursor = first.cursor
    for _ in range(5):  # bounded
        page = brand.connector.interactions(cursor)
        seen += [i.remote_id for i in page.items]
        cursor = page.cursor
        if "|" not in cursor:
            break
    assert sorted(seen, key=int) == [p.id for p in made]
    assert cursor == made[-1].id


def test_reply_to_a_mention_and_hide_a_reply(brand: Connected, fake: FakeX, fan: User) -> None:
    own = brand.connector.publish(PostRequest(text="Ask us anything", idempotency_key="ask"))
    rude = fake.post_as(fan, "rude words", reply_to=own.remote_id)
    item = brand.connector.interactions().items[-1]
    assert item.ref is not None
    answer = brand.connector.reply(item.ref, PostRequest(text="Let's keep it kind 🙏"))
    assert fake.posts[answer.remote_id].in_reply_to_user_id == fan.id
    brand.connector.hide(item.ref)
    assert fake.posts[rude.id].hidden is True
    brand.connector.hide(item.ref, hidden=False)
    assert fake.posts[rude.id].hidden is False


def test_hiding_a_reply_in_someone_elses_conversation_is_rejected(
    brand: Connected, fake: FakeX, fan: User
) -> None:
    theirs = fake.post_as(fan, "my own post")
    other = fake.post_as(fake.add_user("third"), "a reply", reply_to=theirs.id)
    with pytest.raises(Rejected) as caught:
        brand.connector.hide(RemoteRef(remote_id=other.id))
    assert "conversations you do not own" in caught.value.message


def test_deleting_someone_elses_post_is_not_supported(brand: Connected, fan: User) -> None:
    with pytest.raises(NotSupported):
        brand.connector.delete_interaction(RemoteRef(remote_id="1"))


def test_search_finds_recent_posts_and_pages_back(brand: Connected, fake: FakeX, fan: User) -> None:
    for n in range(105):
        fake.post_as(fan, f"best coffee in town {n}")
    fake.post_as(fan, "old coffee", age=8 * 24 * 3600)  # older than a week: not found
    page = brand.connector.search("coffee")
    assert len(page.items) == 100 and page.cursor
    assert all(i.kind == InteractionKind.MENTION for i in page.items)
    rest = brand.connector.search("coffee", page.cursor)
    assert len(rest.items) == 5 and rest.cursor == ""
    with pytest.raises(Rejected):
        brand.connector.search("   ")


def test_post_metrics_map_x_names_and_include_private_ones(brand: Connected, fake: FakeX) -> None:
    result = brand.connector.publish(PostRequest(text="Measure me", idempotency_key="m"))
    post = fake.posts[result.remote_id]
    post.likes, post.reposts, post.replies, post.quotes = 10, 4, 3, 2
    post.bookmarks, post.impressions, post.link_clicks = 5, 900, 7
    metrics = brand.connector.post_metrics([result.remote_id, "404404"])
    assert set(metrics) == {result.remote_id}  # a missing post drops out
    values = metrics[result.remote_id].values
    assert values == {
        "likes": 10,
        "shares": 4,
        "comments": 3,
        "quotes": 2,
        "saves": 5,
        "impressions": 900,
        "clicks": 7,
    }
    assert set(values) <= set(POST_METRIC_KEYS)


def test_clicks_are_absent_not_zero_when_the_access_level_refuses_them(
    brand: Connected, fake: FakeX
) -> None:
    result = brand.connector.publish(PostRequest(text="Basic tier", idempotency_key="bt"))
    fake.posts[result.remote_id].link_clicks = 3
    fake.private_metrics = False
    values = brand.connector.post_metrics([result.remote_id])[result.remote_id].values
    assert "clicks" not in values and values["likes"] == 0
    assert brand.connector.credentials.data["private_metrics"] is False
    asked = len(fake.requests)
    brand.connector.post_metrics([result.remote_id])
    assert len(fake.requests) == asked + 1  # no second try for private metrics


def test_old_and_foreign_posts_get_public_metrics_only(
    brand: Connected, fake: FakeX, fan: User
) -> None:
    old = fake.post_as(brand.user, "from last year", age=40 * 24 * 3600)
    theirs = fake.post_as(fan, "someone else's")
    old.link_clicks = theirs.link_clicks = 9
    metrics = brand.connector.post_metrics([old.id, theirs.id])
    assert "clicks" not in metrics[old.id].values
    assert "clicks" not in metrics[theirs.id].values
    assert brand.connector.credentials.data.get("private_metrics", True) is True


def test_account_metrics(brand: Connected, fake: FakeX) -> None:
    brand.connector.publish(PostRequest(text="one", idempotency_key="a1"))
    values = brand.connector.account_metrics().values
    assert values == {"followers": 1200, "following": 3, "posts": 1}
    assert set(values) <= set(ACCOUNT_METRIC_KEYS)
