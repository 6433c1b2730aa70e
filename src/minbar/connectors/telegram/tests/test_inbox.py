"""Comments from the discussion group: updates, the cursor, replies, deletes, webhooks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from minbar.connectors.errors import BadSignature, Rejected
from minbar.connectors.telegram.connector import DEFAULT_API
from minbar.connectors.telegram.mapping import UpdatesCursor
from minbar.connectors.telegram.tests.conftest import (
    FastTelegram,
    World,
    connected,
    image,
    make_world,
)
from minbar.connectors.telegram.tests.fake import FakeTelegram
from minbar.connectors.types import InteractionKind, PostRequest, RemoteRef


def post_with_comment(world: World, text: str = "Nice!") -> tuple[str, dict, dict]:
    post = world.connector.publish(PostRequest(text="Our launch"))
    copy = world.fake.copy_in_group(world.channel, int(post.remote_id))
    fan = world.fake.create_user("Layla", "layla_fan")
    comment = world.fake.comment(world.group, fan, text, reply_to=copy["message_id"])
    return post.remote_id, copy, comment


def test_a_comment_is_attached_to_its_channel_post(world: World) -> None:
    post_id, _copy, comment = post_with_comment(world, "أحببته 😍")
    page = world.connector.interactions("")
    assert len(page.items) == 1
    item = page.items[0]
    assert item.kind == InteractionKind.COMMENT
    assert item.text == "أحببته 😍"
    assert item.post is not None and item.post.remote_id == post_id
    assert item.parent is not None and item.parent.remote_id == post_id
    assert item.remote_id == f"{world.group.id}:{comment['message_id']}"
    assert item.url == f"https://t.me/brandnews/{post_id}?comment={comment['message_id']}"
    assert item.author.handle == "layla_fan" and item.author.display_name == "Layla"
    assert item.ref is not None and item.ref.remote_id == item.remote_id


def test_answers_to_comments_find_their_post_through_the_thread(world: World) -> None:
    post_id, copy, comment = post_with_comment(world)
    first = world.connector.interactions("")
    other = world.fake.create_user("Omar")
    answer = world.fake.comment(world.group, other, "Agreed", reply_to=comment["message_id"])
    # A later poll, in another process: the thread root is remembered with the channel.
    page = world.reopen().interactions(first.cursor)
    assert [i.kind for i in page.items] == [InteractionKind.REPLY]
    item = page.items[0]
    assert item.post is not None and item.post.remote_id == post_id
    assert (
        item.parent is not None
        and item.parent.remote_id == f"{world.group.id}:{comment['message_id']}"
    )
    assert item.remote_id.endswith(f":{answer['message_id']}")
    assert str(copy["message_id"]) in world.connector.credentials.data["threads"]


def test_other_chatter_and_the_brands_own_messages_are_not_comments(world: World) -> None:
    _post_id, copy, _comment = post_with_comment(world)
    chatter = world.fake.say(world.group, {"from": world.fake.create_user("A"), "text": "hi all"})
    world.fake.comment(
        world.group, world.fake.create_user("B"), "hello", reply_to=chatter["message_id"]
    )
    world.fake.say(
        world.group, {"sender_chat": world.channel.public(), "text": "Thanks!"}, reply_to=copy
    )
    page = world.connector.interactions("")
    assert [i.text for i in page.items] == ["Nice!"]


def test_an_edited_comment_comes_back_with_its_new_text(world: World) -> None:
    _post, _copy, comment = post_with_comment(world, "typo")
    first = world.connector.interactions("")
    world.fake.edit_by_person(world.group, comment["message_id"], "fixed")
    page = world.connector.interactions(first.cursor)
    assert [(i.remote_id, i.text) for i in page.items] == [(first.items[0].remote_id, "fixed")]


def test_comments_on_an_album_belong_to_its_first_message(world: World, tmp_path: Path) -> None:
    album = world.connector.publish(
        PostRequest(text="Two", media=(image(tmp_path, "a.png"), image(tmp_path, "b.png")))
    )
    ids = album.ref.extra["message_ids"].split(",") if album.ref else []
    second_copy = world.fake.copy_in_group(world.channel, int(ids[1]))
    world.fake.comment(
        world.group, world.fake.create_user("C"), "2nd!", reply_to=second_copy["message_id"]
    )
    page = world.connector.interactions("")
    # Comments name the album by its first message (the inbox finds the post by it).
    assert page.items[0].post is not None and page.items[0].post.remote_id == ids[0]
    assert album.remote_id == ",".join(ids)


def test_a_peek_does_not_take_comments_away_from_the_inbox(world: World) -> None:
    post_with_comment(world, "one")
    inbox_cursor = world.connector.interactions("").cursor  # the inbox stored this
    world.fake.comment(
        world.group,
        world.fake.create_user("D"),
        "two",
        reply_to=world.fake.copy_in_group(world.channel, 1)["message_id"],
    )
    # The channel page reads from scratch, page after page, and stores nothing.
    peek, cursor = [], ""
    for _ in range(5):
        page = world.connector.interactions(cursor)
        peek += [i.text for i in page.items]
        if not page.items:
            break
        cursor = page.cursor
    assert "two" in peek
    later = world.connector.interactions(inbox_cursor)
    assert [i.text for i in later.items] == ["two"]
    # Passing the cursor back confirms what came before it, and only that.
    after = world.connector.interactions(later.cursor)
    assert after.items == []
    assert UpdatesCursor.parse(after.cursor, time.time()).confirm > 0


def test_a_cursor_older_than_a_quiet_week_starts_over(world: World) -> None:
    old = UpdatesCursor(confirm=99999, seen=99998, at=int(time.time()) - 8 * 86400).dump()
    post_with_comment(world, "after a quiet week")
    page = world.connector.interactions(old)
    assert [i.text for i in page.items] == ["after a quiet week"]


def test_a_channel_without_comments_has_an_empty_inbox(fake: FakeTelegram) -> None:
    world = make_world(fake)
    world.channel.linked_chat_id = None
    page = world.connector.interactions("")
    assert page.items == []
    assert world.connector.credentials.data["discussion_id"] is None
    assert not any(method == "getupdates" for method, _ in fake.calls)


def test_a_bot_that_cannot_see_comments_says_what_to_do(fake: FakeTelegram) -> None:
    world = make_world(fake, admin_in_group=False)
    with pytest.raises(Rejected, match="privacy mode"):
        world.connector.interactions("")


def test_replying_to_a_comment_and_reading_the_answer_to_that(world: World) -> None:
    post_id, _copy, comment = post_with_comment(world)
    first = world.connector.interactions("")
    item, cursor = first.items[0], first.cursor
    assert item.ref is not None
    answer = world.connector.reply(item.ref, PostRequest(text="Thank you <3", idempotency_key="r1"))
    sent = world.fake.chats[world.group.id].messages[int(answer.remote_id.split(":")[1])]
    assert sent["text"] == "Thank you <3"
    assert sent["reply_to_message"]["message_id"] == comment["message_id"]
    assert answer.remote_id.startswith(f"{world.group.id}:")
    # The fan answers Minbar's reply.
    world.fake.comment(
        world.group, world.fake.create_user("Layla2"), "🙏", reply_to=sent["message_id"]
    )
    page = world.connector.interactions(cursor)
    assert [i.text for i in page.items] == ["🙏"]
    assert page.items[0].kind == InteractionKind.REPLY
    assert page.items[0].post is not None and page.items[0].post.remote_id == post_id
    assert page.items[0].parent is not None
    assert page.items[0].parent.remote_id == answer.remote_id


def test_deleting_a_comment(world: World) -> None:
    _post, _copy, comment = post_with_comment(world)
    item = world.connector.interactions("").items[0]
    world.connector.delete_interaction(RemoteRef(item.remote_id, item.url))
    assert comment["message_id"] not in world.fake.chats[world.group.id].messages


def test_group_mode_comments_are_answers_to_the_bots_posts(fake: FakeTelegram) -> None:
    bot = fake.create_bot()
    group = fake.create_chat("supergroup", "Club", "club_chat")
    fake.set_member(group, bot.id, "administrator", can_delete_messages=True)
    result = FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": "@club_chat"})
    connector = connected(result.credentials, [])
    post = connector.publish(PostRequest(text="Welcome"))
    fan = fake.create_user("Sara")
    comment = fake.comment(group, fan, "Hi!", reply_to=int(post.remote_id))
    fake.comment(group, fake.create_user("Ali"), "Hi Sara", reply_to=comment["message_id"])
    items = connector.interactions("").items
    assert [(i.kind, i.text) for i in items] == [
        (InteractionKind.COMMENT, "Hi!"),
        (InteractionKind.REPLY, "Hi Sara"),
    ]
    assert all(i.post is not None and i.post.remote_id == post.remote_id for i in items)


def test_pushes_replace_polling_once_the_webhook_is_set(world: World) -> None:
    world.connector.subscribe_push(
        "https://minbar.example.org/inbox/push/abc/", "s3cret-Token_1", "unused"
    )
    bot = world.fake.bots[world.bot.token]
    assert bot.webhook == {
        "url": "https://minbar.example.org/inbox/push/abc/",
        "secret_token": "s3cret-Token_1",
    }
    assert bot.allowed_updates == ["message", "edited_message"]
    post_with_comment(world, "pushed")
    page = world.connector.interactions("tg1:0:-1:0")  # getUpdates: 409, the webhook is ours
    assert page.items == [] and page.cursor == "tg1:0:-1:0"
    items = []
    for headers, body in world.fake.deliveries(bot):
        items += world.reopen().parse_push(headers, body, "s3cret-Token_1")
    assert [i.text for i in items] == ["pushed"]
    assert items[0].post is not None


def test_a_push_without_the_secret_is_refused(world: World) -> None:
    with pytest.raises(BadSignature):
        world.connector.parse_push({}, b"{}", "s3cret")
    with pytest.raises(BadSignature):
        world.connector.parse_push({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b"{}", "s3cret")


def test_someone_elses_webhook_is_named_not_hidden(world: World) -> None:
    world.fake.bots[world.bot.token].webhook = {"url": "https://other.example/hook"}
    with pytest.raises(Rejected, match=r"other\.example"):
        world.connector.interactions("")


def test_api_telegram_org_takes_only_https_on_its_ports(world: World) -> None:
    connector = FastTelegram(DEFAULT_API, world.connector.credentials)
    connector.server_url = DEFAULT_API  # as in production, not the fake
    with pytest.raises(Rejected, match="443, 80, 88 or"):
        connector.subscribe_push("http://192.0.2.1:8000/inbox/push/x/", "secret", "")
    with pytest.raises(Rejected, match="443, 80, 88 or"):
        connector.subscribe_push("https://minbar.example.org:8000/inbox/push/x/", "secret", "")
