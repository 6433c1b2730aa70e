"""Inbox (replies and mentions), hiding replies, insights, keyword search.

Pages: https://developers.facebook.com/docs/threads/retrieve-and-manage-replies/replies-and-conversations,
https://developers.facebook.com/docs/threads/reply-management (manage_reply),
https://developers.facebook.com/docs/threads/threads-mentions,
https://developers.facebook.com/docs/threads/insights,
https://developers.facebook.com/docs/threads/keyword-search.
"""

from __future__ import annotations

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.threads.tests.conftest import Connected
from minbar.connectors.threads.tests.fake import FakeThreads, User
from minbar.connectors.types import InteractionKind, PostRequest, RemoteRef


def test_interactions_read_comments_replies_and_mentions_with_a_cursor(
    brand: Connected, fake: FakeThreads, fan: User
) -> None:
    post = brand.connector.publish(PostRequest(text="Ask us anything")).remote_id
    comment = fake.post_as(fan, "When is the sale?", reply_to=post)
    nested = fake.post_as(fan, "Also, shipping?", reply_to=comment)
    mention = fake.post_as(fan, f"Loving @{brand.user.username} today")
    page = brand.connector.interactions()
    kinds = {i.remote_id: i.kind for i in page.items}
    assert kinds == {
        comment: InteractionKind.COMMENT,
        nested: InteractionKind.REPLY,
        mention: InteractionKind.MENTION,
    }
    by_id = {i.remote_id: i for i in page.items}
    assert by_id[comment].post == RemoteRef(post, url=fake.media[post]["permalink"])
    assert by_id[nested].parent == RemoteRef(comment)
    assert by_id[comment].author.handle == fan.username
    assert by_id[comment].ref is not None and by_id[comment].url.endswith(comment)
    assert [i.created_at for i in page.items] == sorted(i.created_at for i in page.items)
    assert page.cursor

    # Nothing new: nothing again, same cursor.
    again = brand.connector.interactions(page.cursor)
    assert again.items == [] and again.cursor == page.cursor
    # Something new, including the account's own answer, which is not an interaction.
    brand.connector.reply(RemoteRef(comment), PostRequest(text="Friday!"))
    newer = fake.post_as(fan, "Thanks", reply_to=post)
    later = brand.connector.interactions(page.cursor)
    assert [i.remote_id for i in later.items] == [newer]


def test_replying_to_a_comment_and_hiding_it(
    brand: Connected, fake: FakeThreads, fan: User
) -> None:
    post = brand.connector.publish(PostRequest(text="Our news")).remote_id
    rude = fake.post_as(fan, "spam spam", reply_to=post)
    under = fake.post_as(fan, "more spam", reply_to=rude)
    brand.connector.hide(RemoteRef(rude))
    assert fake.media[rude]["hide_status"] == "HIDDEN"
    assert fake.media[under]["hide_status"] == "HIDDEN"  # nested replies follow
    brand.connector.hide(RemoteRef(rude), hidden=False)
    assert fake.media[rude]["hide_status"] == "NOT_HUSHED"
    with pytest.raises(Rejected, match="Only top-level replies"):
        brand.connector.hide(RemoteRef(under))
    with pytest.raises(NotSupported):
        brand.connector.delete_interaction(RemoteRef(rude))


def test_post_metrics_map_threads_words_to_minbar_keys(
    brand: Connected, fake: FakeThreads, fan: User
) -> None:
    post = brand.connector.publish(PostRequest(text="Count me")).remote_id
    fake.media[post].update(likes=12, views=340, reposts=3, quotes=2, shares=9)
    fake.post_as(fan, "nice", reply_to=post)
    metrics = brand.connector.post_metrics([post, post])
    assert metrics[post].values == {
        "impressions": 340,
        "likes": 12,
        "comments": 1,
        "shares": 3,  # reposts; Threads' in-development "shares" is not read
        "quotes": 2,
    }
    [call] = [r for r in fake.requests if r["path"].endswith("/insights")]
    assert call["params"]["metric"] == "views,likes,replies,reposts,quotes"


def test_a_metric_threads_leaves_out_is_absent_not_zero(
    brand: Connected, fake: FakeThreads
) -> None:
    post = brand.connector.publish(PostRequest(text="views in development")).remote_id
    fake.add_fault(
        "GET",
        f"/v1.0/{post}/insights",
        status=200,
        body={
            "data": [
                {
                    "name": "likes",
                    "period": "lifetime",
                    "values": [{"value": 0}],
                    "title": "Likes",
                    "id": "x",
                },
            ]
        },
    )
    values = brand.connector.post_metrics([post])[post].values
    assert values == {"likes": 0}
    assert "impressions" not in values


def test_deleted_posts_drop_out_of_metrics(brand: Connected, fake: FakeThreads) -> None:
    post = brand.connector.publish(PostRequest(text="gone soon")).remote_id
    brand.connector.delete(post)
    assert brand.connector.post_metrics([post]) == {}


def test_account_metrics_followers_and_profile_views(brand: Connected, fake: FakeThreads) -> None:
    brand.user.profile_views = [10, 20]
    values = brand.connector.account_metrics().values
    assert values == {"followers": 42, "profile_views": 30}
    brand.user.profile_views = []
    assert "profile_views" not in brand.connector.account_metrics().values


def test_keyword_and_topic_search(brand: Connected, fake: FakeThreads, fan: User) -> None:
    hit = fake.post_as(fan, "Minbar makes scheduling easy #socialmedia")
    fake.post_as(fan, "unrelated")
    page = brand.connector.search("minbar")
    assert [i.remote_id for i in page.items] == [hit] and page.cursor == ""
    assert page.items[0].author.handle == fan.username
    call = [r for r in fake.requests if r["path"].endswith("/keyword_search")][-1]
    assert call["params"]["search_type"] == "RECENT" and call["params"]["q"] == "minbar"
    tagged = brand.connector.search("#socialmedia")
    assert [i.remote_id for i in tagged.items] == [hit]
    call = [r for r in fake.requests if r["path"].endswith("/keyword_search")][-1]
    assert call["params"]["search_mode"] == "TAG" and call["params"]["q"] == "socialmedia"
    with pytest.raises(Rejected):
        brand.connector.search("  # ")


def test_search_pages_back_in_time(brand: Connected, fake: FakeThreads, fan: User) -> None:
    for number in range(105):
        fake.media[fake.post_as(fan, f"launch {number}")]["timestamp"] -= 1000 - number
    first = brand.connector.search("launch")
    assert len(first.items) == 100 and first.cursor.isdigit()
    second = brand.connector.search("launch", first.cursor)
    assert {i.remote_id for i in second.items}.isdisjoint({i.remote_id for i in first.items})
    assert len(second.items) == 5
