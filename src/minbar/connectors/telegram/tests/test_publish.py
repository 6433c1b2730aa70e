"""Publishing: text with formatting escaped, photos, videos, albums, threads, edits, deletes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.telegram.tests.conftest import World, image, video
from minbar.connectors.types import PostRequest, RemoteRef


def sent(world: World, method: str) -> dict:
    return [params for name, params in world.fake.calls if name == method][-1]


def test_text_goes_out_as_html_exactly_as_written(world: World) -> None:
    text = "Sale <50%> & more: مرحبا 😀"
    result = world.connector.publish(PostRequest(text=text))
    post = world.fake.channel_posts(world.channel)[-1]
    assert post["text"] == text  # Telegram parsed the escaped HTML back to the text
    assert sent(world, "sendmessage")["parse_mode"] == "HTML"
    assert result.remote_id == str(post["message_id"])
    assert result.url == f"https://t.me/brandnews/{post['message_id']}"
    assert result.published_at is not None


def test_a_link_gets_a_large_preview(world: World) -> None:
    world.connector.publish(PostRequest(text="Read this", link="https://shop.example/new"))
    assert sent(world, "sendmessage")["link_preview_options"] == {
        "url": "https://shop.example/new",
        "prefer_large_media": True,
    }


def test_a_photo_is_uploaded_with_its_caption(world: World, tmp_path: Path) -> None:
    result = world.connector.publish(
        PostRequest(text="New <colour>", media=(image(tmp_path),), link="https://s.example/p")
    )
    post = world.fake.channel_posts(world.channel)[-1]
    assert post["caption"] == "New <colour>\n\nhttps://s.example/p"
    assert "photo" in post
    assert result.remote_id == str(post["message_id"])


def test_a_video_is_uploaded_for_streaming(world: World, tmp_path: Path) -> None:
    world.connector.publish(PostRequest(text="Watch", media=(video(tmp_path),)))
    params = sent(world, "sendvideo")
    assert params["supports_streaming"] == "true"
    assert params["width"] == "320"
    assert "video" in world.fake.channel_posts(world.channel)[-1]


def test_an_album_has_its_caption_on_the_first_item(world: World, tmp_path: Path) -> None:
    media = (image(tmp_path, "a.png"), video(tmp_path), image(tmp_path, "b.png"))
    result = world.connector.publish(PostRequest(text="Three things", media=media))
    items = json.loads(sent(world, "sendmediagroup")["media"])
    assert [i["type"] for i in items] == ["photo", "video", "photo"]
    assert items[0]["caption"] == "Three things" and "caption" not in items[1]
    posts = world.fake.channel_posts(world.channel)[-3:]
    assert len({p["media_group_id"] for p in posts}) == 1
    ids = [str(p["message_id"]) for p in posts]
    # The album is one post of three messages: its remote id names them all.
    assert result.remote_id == ",".join(ids)
    assert result.url == f"https://t.me/brandnews/{ids[0]}"
    assert result.ref is not None and result.ref.extra["message_ids"] == ",".join(ids)


def test_too_much_is_refused_before_anything_is_sent(world: World, tmp_path: Path) -> None:
    eleven = tuple(image(tmp_path, f"{n}.png") for n in range(11))
    with pytest.raises(Rejected, match="at most 10"):
        world.connector.publish(PostRequest(text="x", media=eleven))
    with pytest.raises(Rejected, match="1026/1024"):
        world.connector.publish(PostRequest(text="😀" * 513, media=(image(tmp_path),)))
    with pytest.raises(Rejected, match="more than 20 times"):
        world.connector.publish(PostRequest(text="x", media=(image(tmp_path, size=(420, 20)),)))
    with pytest.raises(Rejected, match="Part 2: Telegram: 4097/4096"):
        world.connector.publish(PostRequest(text="ok", thread=("x" * 4097,)))
    assert world.fake.channel_posts(world.channel) == []


def test_what_telegram_cannot_do_is_refused(world: World) -> None:
    with pytest.raises(Rejected, match="first comment"):
        world.connector.publish(PostRequest(text="x", first_comment="y"))
    with pytest.raises(Rejected, match="content warning"):
        world.connector.publish(PostRequest(text="x", content_warning="spoilers"))
    with pytest.raises(NotSupported):
        world.connector.post_metrics(["1"])
    with pytest.raises(NotSupported):
        world.connector.hide(RemoteRef("1:2"))
    with pytest.raises(NotSupported):
        world.connector.search("sale")


def test_a_thread_is_a_chain_of_replies(world: World) -> None:
    result = world.connector.publish(PostRequest(text="1/3", thread=("2/3", "3/3")))
    posts = world.fake.channel_posts(world.channel)
    assert [p["text"] for p in posts] == ["1/3", "2/3", "3/3"]
    assert posts[1]["reply_to_message"]["message_id"] == posts[0]["message_id"]
    assert posts[2]["reply_to_message"]["message_id"] == posts[1]["message_id"]
    assert result.thread_ids == (str(posts[1]["message_id"]), str(posts[2]["message_id"]))


def test_a_reply_to_an_own_post_stays_in_the_channel(world: World) -> None:
    first = world.connector.publish(PostRequest(text="Launch"))
    answer = world.connector.publish(
        PostRequest(text="Update: sold out", reply_to=RemoteRef(first.remote_id))
    )
    post = world.fake.channel_posts(world.channel)[-1]
    assert post["reply_to_message"]["message_id"] == int(first.remote_id)
    assert answer.remote_id == str(post["message_id"])


def test_editing_text_and_captions(world: World, tmp_path: Path) -> None:
    text = world.connector.publish(PostRequest(text="Price: 10"))
    edited = world.connector.edit(text.remote_id, PostRequest(text="Price: <9>"))
    post = world.fake.channel_posts(world.channel)[-1]
    assert post["text"] == "Price: <9>" and edited.published_at is not None
    # The same text again: Telegram says "not modified", which is no failure.
    world.connector.edit(text.remote_id, PostRequest(text="Price: <9>"))
    photo = world.connector.publish(PostRequest(text="Old", media=(image(tmp_path),)))
    world.connector.edit(photo.remote_id, PostRequest(text="New", media=(image(tmp_path),)))
    assert world.fake.channel_posts(world.channel)[-1]["caption"] == "New"
    with pytest.raises(Rejected, match="no text in the message"):
        world.connector.edit(photo.remote_id, PostRequest(text="New"))


def test_deleting_a_post_an_album_and_one_already_gone(world: World, tmp_path: Path) -> None:
    single = world.connector.publish(PostRequest(text="oops"))
    album = world.connector.publish(
        PostRequest(text="two", media=(image(tmp_path, "a.png"), image(tmp_path, "b.png")))
    )
    world.connector.delete(single.remote_id)
    assert len(world.fake.channel_posts(world.channel)) == 2
    # What the dispatcher keeps is the remote id alone: it removes every photo.
    world.reopen().delete(album.remote_id)
    assert world.fake.channel_posts(world.channel) == []
    ids = sent(world, "deletemessages")["message_ids"]
    listed = json.loads(ids) if isinstance(ids, str) else ids
    assert listed == [int(i) for i in album.remote_id.split(",")]
    world.connector.delete(single.remote_id)  # already gone: nothing to do
    world.connector.delete(album.remote_id)


def test_an_album_is_answered_edited_and_checked_through_its_first_message(
    world: World, tmp_path: Path
) -> None:
    album = world.connector.publish(
        PostRequest(text="Two", media=(image(tmp_path, "a.png"), image(tmp_path, "b.png")))
    )
    first = int(album.remote_id.split(",")[0])
    answer = world.connector.publish(
        PostRequest(text="More soon", reply_to=RemoteRef(album.remote_id))
    )
    assert world.fake.channel_posts(world.channel)[-1]["reply_to_message"]["message_id"] == first
    world.connector.edit(album.remote_id, PostRequest(text="Two new", media=(image(tmp_path),)))
    assert world.fake.channel_posts(world.channel)[0]["caption"] == "Two new"
    found = world.connector.lookup(remote_id=album.remote_id)
    assert found is not None and found.remote_id == album.remote_id
    assert answer.remote_id == str(world.fake.channel_posts(world.channel)[-1]["message_id"])


def test_deleting_after_48_hours_explains_the_rule(world: World) -> None:
    result = world.connector.publish(PostRequest(text="old news"))
    world.fake.clock = lambda: __import__("time").time() + 49 * 3600
    with pytest.raises(Rejected, match="within 48 hours"):
        world.connector.delete(result.remote_id)


def test_a_group_upgraded_to_a_supergroup_is_followed(fake, tmp_path: Path) -> None:
    from minbar.connectors.telegram.tests.conftest import FastTelegram, connected

    bot = fake.create_bot(reads_all=True)
    group = fake.create_chat("group", "Old Club")
    fake.set_member(group, bot.id, "administrator")
    result = FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": str(group.id)})
    saved: list = []
    connector = connected(result.credentials, saved)
    superchat = fake.upgrade(group)
    published = connector.publish(PostRequest(text="Still here"))
    assert [m["text"] for m in fake.channel_posts(superchat)] == ["Still here"]
    assert connector.credentials.data["chat_id"] == superchat.id
    assert saved and saved[-1].data["chat_id"] == superchat.id
    assert published.remote_id == "1"


def test_followers_are_the_subscriber_count(world: World) -> None:
    metrics = world.connector.account_metrics()
    assert metrics.values == {"followers": 1234}


def test_a_post_sent_silently_and_protected_is_both_in_every_message(
    world: World, tmp_path: Path
) -> None:
    media = (image(tmp_path, "a.png"), image(tmp_path, "b.png"))
    world.connector.publish(
        PostRequest(
            text="Quiet news",
            media=media,
            thread=("More",),
            options={"silent": "1", "protect": "1"},
        )
    )
    posts = world.fake.channel_posts(world.channel)[-3:]
    assert all(p.get("has_protected_content") is True for p in posts)
    assert {(world.channel.id, p["message_id"]) for p in posts} <= world.fake.silent


def test_without_settings_posts_ring_and_can_be_forwarded(world: World) -> None:
    world.connector.publish(PostRequest(text="Loud news"))
    [post] = world.fake.channel_posts(world.channel)[-1:]
    assert "has_protected_content" not in post
    assert (world.channel.id, post["message_id"]) not in world.fake.silent
