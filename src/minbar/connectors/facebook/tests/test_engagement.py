"""Comments, mentions and Messenger: reading with a cursor, answering, hiding, deleting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.facebook.tests.conftest import Connected
from minbar.connectors.meta_graph.tests.fake_graph import FakeGraph
from minbar.connectors.types import InteractionKind, PostRequest, RemoteRef


def test_comments_replies_mentions_and_messages_arrive_once(
    fake: FakeGraph, page: Connected
) -> None:
    post = page.connector.publish(PostRequest(text="Our menu")).remote_id
    comment = fake.comment_as(post, "Lovely! 😍")
    reply = fake.comment_as(comment, "Agreed", who=("9002", "Omar"))
    fake.post_as_fan(page.page_id, "Great coffee at @Minbar Café")
    fake.message_as(page.page_id, "psid-1", "Are you open today?")

    first = page.connector.interactions()
    kinds = {i.kind for i in first.items}
    assert kinds == {
        InteractionKind.COMMENT,
        InteractionKind.REPLY,
        InteractionKind.MENTION,
        InteractionKind.DIRECT_MESSAGE,
    }
    by_id = {i.remote_id: i for i in first.items}
    assert by_id[comment].text == "Lovely! 😍" and by_id[comment].post is not None
    parent, ref = by_id[reply].parent, by_id[reply].ref
    assert parent is not None and parent.remote_id == comment
    assert ref is not None and ref.remote_id == comment  # answers join the top comment's thread
    dm = next(i for i in first.items if i.kind == InteractionKind.DIRECT_MESSAGE)
    assert dm.conversation_id == "psid:psid-1"
    assert [i.created_at for i in first.items] == sorted(i.created_at for i in first.items)

    again = page.connector.interactions(first.cursor)
    assert again.items == [] and again.cursor == first.cursor

    newer = fake.comment_as(post, "One more question")
    later = page.connector.interactions(first.cursor)
    assert [i.remote_id for i in later.items] == [newer]


def test_two_comments_in_the_same_second_are_both_read(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="Same second")).remote_id
    moment = datetime.now(UTC).replace(microsecond=0)
    first_id = fake.comment_as(post, "first", at=moment)
    cursor = page.connector.interactions().cursor
    second_id = fake.comment_as(post, "second", at=moment)
    later = page.connector.interactions(cursor)
    assert [i.remote_id for i in later.items] == [second_id]
    assert first_id in cursor


def test_the_pages_own_comments_are_not_inbox_items(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="x", first_comment="our own")).remote_id
    assert post
    assert page.connector.interactions().items == []


def test_reply_hide_and_delete_a_comment(fake: FakeGraph, page: Connected) -> None:
    post = page.connector.publish(PostRequest(text="Ask us")).remote_id
    comment = fake.comment_as(post, "Price?")
    answer = page.connector.reply(RemoteRef(comment), PostRequest(text="Five dinars"))
    assert fake.nodes[answer.remote_id]["message"] == "Five dinars"
    assert fake.nodes[answer.remote_id]["parent"]["id"] == comment

    page.connector.hide(RemoteRef(comment))
    assert fake.nodes[comment]["is_hidden"] is True
    page.connector.hide(RemoteRef(comment), hidden=False)
    assert fake.nodes[comment]["is_hidden"] is False

    page.connector.delete_interaction(RemoteRef(comment))
    assert comment not in fake.nodes
    page.connector.delete_interaction(RemoteRef(comment))  # already gone


def test_answering_a_message_within_24_hours(fake: FakeGraph, page: Connected) -> None:
    fake.message_as(page.page_id, "psid-2", "Hello?")
    dm = next(
        i for i in page.connector.interactions().items if i.kind == InteractionKind.DIRECT_MESSAGE
    )
    assert dm.ref is not None
    sent = page.connector.reply(dm.ref, PostRequest(text="Hi! How can we help?"))
    assert sent.remote_id.startswith("m_")
    posted = [p for m, path, p in fake.requests if m == "POST" and path.endswith("/messages")][-1]
    assert posted["messaging_type"] == "RESPONSE"


def test_answering_outside_the_window_is_refused_with_an_explanation(
    fake: FakeGraph, page: Connected
) -> None:
    fake.message_as(
        page.page_id, "psid-3", "Old question", at=datetime.now(UTC) - timedelta(hours=30)
    )
    dm = next(
        i for i in page.connector.interactions().items if i.kind == InteractionKind.DIRECT_MESSAGE
    )
    assert dm.ref is not None
    before = len(fake.requests)
    with pytest.raises(Rejected) as caught:
        page.connector.reply(dm.ref, PostRequest(text="Sorry for the delay"))
    assert "24 hours" in caught.value.message
    assert not any(
        path.endswith("/messages") and m == "POST" for m, path, _ in fake.requests[before:]
    )


def test_meta_refusing_a_message_outside_the_window_is_rejected(
    fake: FakeGraph, page: Connected
) -> None:
    fake.message_as(page.page_id, "psid-4", "Hi")
    dm = next(
        i for i in page.connector.interactions().items if i.kind == InteractionKind.DIRECT_MESSAGE
    )
    assert dm.ref is not None
    fake.fail(
        "POST",
        r"/messages$",
        code=10,
        subcode=2018278,
        message="(#10) This message is sent outside of allowed window.",
    )
    with pytest.raises(Rejected, match="24 hours"):
        page.connector.reply(dm.ref, PostRequest(text="late"))


def test_messages_cannot_be_hidden_or_deleted(page: Connected) -> None:
    with pytest.raises(NotSupported):
        page.connector.hide(RemoteRef("dm:psid:psid-1:psid-1"))
    with pytest.raises(NotSupported):
        page.connector.delete_interaction(RemoteRef("dm:psid:psid-1:psid-1"))
