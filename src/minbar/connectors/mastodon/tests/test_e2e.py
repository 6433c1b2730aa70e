"""The connector end to end against a running mastodon-mock (see ``mockserver``).

Every test connects its own new account through the OAuth code flow, so the
tests share the server but never each other's data. The behaviour checked is
Mastodon's documented one: the code flow (https://docs.joinmastodon.org/client/token/),
posting with ``Idempotency-Key`` (https://docs.joinmastodon.org/methods/statuses/#create),
media (https://docs.joinmastodon.org/methods/media/), notifications
(https://docs.joinmastodon.org/methods/notifications/), search and hashtag
timelines (https://docs.joinmastodon.org/methods/search/,
https://docs.joinmastodon.org/methods/timelines/#tag).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from minbar.connectors.base import OAuthStart
from minbar.connectors.errors import Rejected
from minbar.connectors.mastodon import CONNECTOR, MastodonConnector
from minbar.connectors.mastodon.oauth import SCOPES
from minbar.connectors.mastodon.tests.conftest import REDIRECT_URI, Connected
from minbar.connectors.mastodon.tests.mockserver import (
    Account,
    MockServer,
    statuses_of,
    tiny_png,
)
from minbar.connectors.types import (
    InteractionKind,
    MediaItem,
    PostRequest,
    RemoteRef,
)


def test_package_exposes_the_connector() -> None:
    assert CONNECTOR is MastodonConnector
    assert CONNECTOR.network == "mastodon"
    assert CONNECTOR.capabilities.needs_server_url
    assert CONNECTOR.capabilities.setup_doc == "docs/networks/mastodon.md"


def test_oauth_code_flow_connects_an_account(mock: MockServer) -> None:
    username, _ = mock.create_account("brand")
    connector = MastodonConnector(mock.url)

    start = connector.start_oauth(REDIRECT_URI, "state-123")
    # A new registration for the caller to cache per instance.
    assert start.app is not None and start.app["client_id"] and start.app["client_secret"]
    assert start.state == "state-123"
    # mastodon-mock advertises S256 like Mastodon 4.3+, so PKCE is on (the mock
    # does not check the verifier; a real 4.3+ instance does).
    assert start.code_verifier and len(start.code_verifier) >= 43
    assert "code_challenge=" in start.url and "code_challenge_method=S256" in start.url
    assert "state=state-123" in start.url
    assert "scope=" + "+".join(s.replace(":", "%3A") for s in SCOPES) in start.url

    # With the app cached, nothing is registered again.
    again = connector.start_oauth(REDIRECT_URI, "state-456", start.app)
    assert again.app == start.app

    answer = mock.approve(start.url, username)
    assert answer["state"] == "state-123"
    result = connector.finish_oauth(REDIRECT_URI, answer["code"], start)

    domain = mock.domain
    assert result.account.handle == f"{username}@{domain}"
    assert result.account.display_name == username
    assert result.account.url.endswith(f"/@{username}")
    assert result.account.avatar_url
    assert result.account.followers == 0
    secrets = result.credentials.secrets
    assert set(secrets) == {"access_token", "client_secret"}
    data = result.credentials.data
    assert data["instance"] == mock.url
    assert data["domain"] == domain
    assert data["account_id"] == result.account.remote_id
    assert data["acct"] == result.account.handle
    assert data["client_id"] == start.app["client_id"]
    assert data["scopes"] == list(SCOPES)
    assert data["pkce"] is True
    assert data["version"] == "4.6.0"
    # The instance's own limits, as /api/v2/instance reports them.
    assert data["limits"]["max_characters"] == 500
    assert data["limits"]["characters_reserved_per_url"] == 23
    assert data["limits"]["max_media_attachments"] == 4
    assert "image/png" in data["limits"]["supported_mime_types"]
    assert "access_token" not in repr(result.credentials)

    channel = MastodonConnector(mock.url, result.credentials)
    assert channel.verify() == result.account
    assert channel.refresh() is None  # Mastodon tokens do not expire
    assert channel.instance_capabilities().text.max_length == 500


def test_finish_oauth_without_cached_app_asks_to_start_again(mock: MockServer) -> None:
    connector = MastodonConnector(mock.url)
    with pytest.raises(Rejected, match="Start connecting again"):
        connector.finish_oauth(REDIRECT_URI, "code", OAuthStart(url="", state="s"))


def test_server_url_is_normalized_from_what_people_type(mock: MockServer) -> None:
    port = mock.url.rsplit(":", 1)[1]
    assert MastodonConnector(f"http://127.0.0.1:{port}/@someone").server_url == mock.url
    assert MastodonConnector("@me@Mastodon.Social").server_url == "https://mastodon.social"
    assert MastodonConnector("mastodon.social/").server_url == "https://mastodon.social"


def test_publish_text_image_content_warning_and_visibility(
    brand: Connected, mock: MockServer, tmp_path: Path
) -> None:
    channel = brand.connector

    text = channel.publish(PostRequest(text="Fresh beans today ☕", idempotency_key="t-1"))
    assert text.remote_id and text.url and text.published_at is not None
    assert text.ref is not None and text.ref.remote_id == text.remote_id
    status = mock.http.get(f"/api/v1/statuses/{text.remote_id}").json()
    assert status["content"] == "<p>Fresh beans today ☕</p>"

    image = channel.publish(
        PostRequest(
            text="Our roastery",
            media=(MediaItem(str(tiny_png(tmp_path / "dot.png")), "image/png", "A red dot"),),
            idempotency_key="t-2",
        )
    )
    status = mock.http.get(f"/api/v1/statuses/{image.remote_id}").json()
    assert [(m["type"], m["description"]) for m in status["media_attachments"]] == [
        ("image", "A red dot")
    ]

    warned = channel.publish(
        PostRequest(
            text="Spoilers for the new blend",
            content_warning="Coffee spoilers",
            visibility="unlisted",
            language="en",
            idempotency_key="t-3",
        )
    )
    status = mock.http.get(f"/api/v1/statuses/{warned.remote_id}").json()
    assert status["spoiler_text"] == "Coffee spoilers"
    assert status["visibility"] == "unlisted"
    assert status["language"] == "en"

    link = channel.publish(
        PostRequest(text="Read this", link="https://example.org/story", idempotency_key="t-4")
    )
    status = mock.http.get(f"/api/v1/statuses/{link.remote_id}").json()
    assert "https://example.org/story" in status["content"]
    assert status["card"]["url"] == "https://example.org/story"


def test_a_thread_of_three_is_a_reply_chain(brand: Connected, mock: MockServer) -> None:
    result = brand.connector.publish(
        PostRequest(
            text="1/3 How we roast",
            thread=("2/3 Green beans in", "3/3 Cool and rest"),
            visibility="public",
            idempotency_key="thread-1",
        )
    )
    assert len(result.thread_ids) == 2
    second = mock.http.get(f"/api/v1/statuses/{result.thread_ids[0]}").json()
    third = mock.http.get(f"/api/v1/statuses/{result.thread_ids[1]}").json()
    assert second["in_reply_to_id"] == result.remote_id
    assert third["in_reply_to_id"] == result.thread_ids[0]
    assert "@" not in second["content"]  # a self-thread mentions nobody
    context = mock.http.get(f"/api/v1/statuses/{result.remote_id}/context").json()
    assert [s["id"] for s in context["descendants"]] == list(result.thread_ids)

    # Publishing the same request again (a retry) makes nothing new.
    again = brand.connector.publish(
        PostRequest(
            text="1/3 How we roast",
            thread=("2/3 Green beans in", "3/3 Cool and rest"),
            visibility="public",
            idempotency_key="thread-1",
        )
    )
    assert (again.remote_id, again.thread_ids) == (result.remote_id, result.thread_ids)
    assert len(statuses_of(mock, brand.account.remote_id)) == 3


def test_publish_a_reply_mentions_the_author(
    brand: Connected, fan: Account, mock: MockServer
) -> None:
    question = fan.status("Do you ship to Amman?", visibility="unlisted")
    result = brand.connector.publish(
        PostRequest(
            text="Yes, we do!",
            reply_to=RemoteRef(remote_id=question["id"]),
            idempotency_key="reply-1",
        )
    )
    status = mock.http.get(f"/api/v1/statuses/{result.remote_id}").json()
    assert status["in_reply_to_id"] == question["id"]
    assert [m["acct"] for m in status["mentions"]] == [fan.username]
    assert f"@{fan.username}" in status["content"]
    assert status["visibility"] == "unlisted"  # never more open than the question
    mentions = fan.get("/api/v1/notifications", **{"types[]": "mention"})
    assert [n["status"]["id"] for n in mentions] == [result.remote_id]


def test_idempotency_key_lookup_and_delete(brand: Connected, mock: MockServer) -> None:
    channel = brand.connector
    request = PostRequest(text="Only once, please", idempotency_key="once-1")
    first = channel.publish(request)
    second = channel.publish(request)
    # Same key → the instance hands back the status it already made.
    assert second.remote_id == first.remote_id
    assert len(statuses_of(mock, brand.account.remote_id)) == 1

    found = channel.lookup(idempotency_key="once-1")
    assert found is not None
    assert (found.remote_id, found.text) == (first.remote_id, "Only once, please")
    assert found.created_at is not None
    # An unknown key: the probe is refused (empty text) and posts nothing.
    assert channel.lookup(idempotency_key="never-used") is None
    assert len(statuses_of(mock, brand.account.remote_id)) == 1

    by_id = channel.lookup(remote_id=first.remote_id)
    assert by_id is not None and by_id.url == first.url

    channel.delete(first.remote_id)
    assert channel.lookup(remote_id=first.remote_id) is None
    assert channel.lookup(idempotency_key="once-1") is None  # its status is gone
    channel.delete(first.remote_id)  # already gone counts as deleted
    assert statuses_of(mock, brand.account.remote_id) == []


def test_metrics_after_another_account_favourites_reblogs_and_replies(
    brand: Connected, fan: Account
) -> None:
    channel = brand.connector
    post = channel.publish(PostRequest(text="Rate our espresso", idempotency_key="m-1"))
    quiet = channel.publish(PostRequest(text="Nobody saw this", idempotency_key="m-2"))
    fan.post(f"/api/v1/statuses/{post.remote_id}/favourite")
    fan.post(f"/api/v1/statuses/{post.remote_id}/reblog")
    fan.status("10/10", in_reply_to_id=post.remote_id)
    fan.post(f"/api/v1/accounts/{brand.account.remote_id}/follow")

    metrics = channel.post_metrics([post.remote_id, quiet.remote_id, "999999999999999"])
    assert set(metrics) == {post.remote_id, quiet.remote_id}  # a missing status drops out
    assert metrics[post.remote_id].values == {"likes": 1, "shares": 1, "comments": 1}
    assert metrics[quiet.remote_id].values == {"likes": 0, "shares": 0, "comments": 0}
    # mastodon-mock reports no quotes_count, so "quotes" is absent, not 0.
    assert "quotes" not in metrics[post.remote_id].values

    account = channel.account_metrics()
    assert account.values == {"followers": 1, "following": 0, "posts": 2}


def test_interactions_come_once_each_and_follow_the_cursor(
    brand: Connected, fan: Account, mock: MockServer
) -> None:
    channel = brand.connector
    handle = brand.username
    post = channel.publish(PostRequest(text="New single origin", idempotency_key="i-1"))

    assert channel.interactions().items == []

    fan.post(f"/api/v1/accounts/{brand.account.remote_id}/follow")
    fan.post(f"/api/v1/statuses/{post.remote_id}/favourite")
    first = channel.interactions()
    assert {i.kind for i in first.items} == {InteractionKind.LIKE, InteractionKind.FOLLOW}
    assert len(first.items) == 2
    assert first.cursor

    fan.post(f"/api/v1/statuses/{post.remote_id}/reblog")
    mention = fan.status(f"Everyone should try @{handle}")
    reply = fan.status(f"@{handle} where is it from?", in_reply_to_id=post.remote_id)
    dm = fan.status(f"@{handle} can I order 5 kg?", visibility="direct")
    second = channel.interactions(first.cursor)
    kinds = {i.kind: i for i in second.items}
    assert set(kinds) == {
        InteractionKind.REPOST,
        InteractionKind.MENTION,
        InteractionKind.REPLY,
        InteractionKind.DIRECT_MESSAGE,
    }
    assert len(second.items) == 4
    # Nothing new: no items, and the same cursor to keep.
    third = channel.interactions(second.cursor)
    assert (third.items, third.cursor) == ([], second.cursor)

    like = next(i for i in first.items if i.kind == InteractionKind.LIKE)
    assert like.post is not None and like.post.remote_id == post.remote_id
    assert like.author.handle == f"{fan.username}@{mock.domain}"
    follow = next(i for i in first.items if i.kind == InteractionKind.FOLLOW)
    assert follow.author.remote_id == fan.id
    assert kinds[InteractionKind.REPOST].post == like.post

    assert kinds[InteractionKind.MENTION].remote_id == mention["id"]
    assert kinds[InteractionKind.MENTION].text == f"Everyone should try @{handle}"
    replied = kinds[InteractionKind.REPLY]
    assert replied.remote_id == reply["id"]
    assert replied.post is not None and replied.post.remote_id == post.remote_id
    assert replied.ref is not None and replied.ref.remote_id == reply["id"]
    message = kinds[InteractionKind.DIRECT_MESSAGE]
    assert message.remote_id == dm["id"]
    assert message.conversation_id == dm["id"]  # it starts the conversation

    # Answer the DM: it stays direct; the fan's answer is the same conversation.
    answer = channel.reply(message.ref or RemoteRef(dm["id"]), PostRequest(text="Yes! Email us."))
    status = mock.http.get(f"/api/v1/statuses/{answer.remote_id}", headers=fan.headers).json()
    assert status["visibility"] == "direct"
    assert status["in_reply_to_id"] == dm["id"]
    fan.status(f"@{handle} thanks", visibility="direct", in_reply_to_id=answer.remote_id)
    fourth = channel.interactions(third.cursor)
    assert [(i.kind, i.conversation_id) for i in fourth.items] == [
        (InteractionKind.DIRECT_MESSAGE, dm["id"])
    ]

    everything = first.items + second.items + fourth.items
    assert len({i.remote_id for i in everything}) == len(everything)


def test_reply_to_a_mention_adds_the_mention(
    brand: Connected, fan: Account, mock: MockServer
) -> None:
    fan.status(f"Hey @{brand.username}, open on Fridays?")
    mention = brand.connector.interactions().items[0]
    assert mention.kind == InteractionKind.MENTION and mention.ref is not None

    sent = brand.connector.reply(mention.ref, PostRequest(text="Until 8 pm!"))
    status = mock.http.get(f"/api/v1/statuses/{sent.remote_id}").json()
    assert status["in_reply_to_id"] == mention.remote_id
    assert [m["acct"] for m in status["mentions"]] == [fan.username]
    notes = fan.get("/api/v1/notifications", **{"types[]": "mention"})
    assert [n["status"]["id"] for n in notes] == [sent.remote_id]


def test_search_words_and_hashtag(brand: Connected, fan: Account) -> None:
    tag = f"roast{brand.username[-6:]}"
    public = fan.status(f"Loving the #{tag} single origin")
    fan.status(f"@{brand.username} secret #{tag} single origin", visibility="direct")
    mine = brand.connector.publish(PostRequest(text=f"Our #{tag} is back", idempotency_key="s"))

    by_tag = brand.connector.search(f"#{tag}")
    assert {i.remote_id for i in by_tag.items} == {public["id"], mine.remote_id}
    assert by_tag.cursor == ""  # one page

    words = brand.connector.search(f"{tag} single origin")
    assert [i.remote_id for i in words.items] == [public["id"]]  # the DM is never listed
    found = words.items[0]
    assert found.kind == InteractionKind.MENTION
    assert found.author.remote_id == fan.id
    assert found.text == f"Loving the #{tag} single origin"
    assert found.ref is not None and found.ref.url == public["url"]


def test_media_and_visibility_problems_are_caught_before_sending(
    brand: Connected, mock: MockServer, tmp_path: Path
) -> None:
    png = str(tiny_png(tmp_path / "dot.png"))
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    cases = {
        "Mastodon: at most 4 images per post.": PostRequest(
            text="Five", media=tuple(MediaItem(png, "image/png", "dot") for _ in range(5))
        ),
        "Mastodon: a video must be the only attachment of its post.": PostRequest(
            text="Mix",
            media=(MediaItem(png, "image/png", "dot"), MediaItem(str(video), "video/mp4", "v")),
        ),
        "Mastodon: the description of dot.png is 1501/1500 characters.": PostRequest(
            text="Alt", media=(MediaItem(png, "image/png", "a" * 1501),)
        ),
        "Mastodon: dot.png is image/tiff, which this instance does not take.": PostRequest(
            text="Tiff", media=(MediaItem(png, "image/tiff", "dot"),)
        ),
        "Mastodon: visibility must be one of public, unlisted, private, direct, not “friends”.": (
            PostRequest(text="Hi", visibility="friends")
        ),
        "Mastodon: a post needs text or media.": PostRequest(text="  "),
    }
    for message, request in cases.items():
        with pytest.raises(Rejected) as caught:
            brand.connector.publish(request)
        assert caught.value.message == message
    with pytest.raises(Rejected, match="#hashtag"):
        brand.connector.search("#")
    assert statuses_of(mock, brand.account.remote_id) == []
