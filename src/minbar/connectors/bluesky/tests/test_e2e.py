"""The connector against a real AT Protocol network on loopback (PLC, PDS, AppView).

Accounts are made on the local PDS (com.atproto.server.createAccount) with app passwords
(com.atproto.server.createAppPassword, https://docs.bsky.app/docs/api/com-atproto-server-create-app-password);
"bob" likes, reposts, replies, quotes, follows and mentions "alice" with plain XRPC
calls, as another client would. The AppView indexes asynchronously, so counts,
notifications and search are polled with a deadline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from minbar.connectors.bluesky import BlueskyConnector
from minbar.connectors.bluesky.connector import POST, tid_for
from minbar.connectors.bluesky.tests.devnet import Network
from minbar.connectors.errors import AuthExpired, Rejected
from minbar.connectors.types import (
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    PostRequest,
    RemoteRef,
)

DEADLINE = 60.0  # seconds for the AppView to index a write (usually well under 2 s)
DEV_JWT_SECRET = b"jwt-secret"  # @atproto/dev-env's PDS signs access tokens with it (HS256)


def eventually[T](check: Callable[[], T | None], what: str, timeout: float = DEADLINE) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout:.0f} s", pytrace=False)
        time.sleep(0.25)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Account:
    """An account driven with raw XRPC, the way any other Bluesky client would."""

    pds: str
    handle: str
    password: str
    did: str = ""
    access: str = ""

    def xrpc(
        self, method: str, nsid: str, *, params: Any = None, body: Any = None, auth: bool = True
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access}"} if auth and self.access else {}
        response = httpx.request(
            method, f"{self.pds}/xrpc/{nsid}", params=params, json=body, headers=headers, timeout=20
        )
        assert response.is_success, f"{nsid}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def create_account(self) -> Account:
        answer = self.xrpc(
            "POST",
            "com.atproto.server.createAccount",
            body={
                "handle": self.handle,
                "email": f"{self.handle.split('.')[0]}@example.test",
                "password": self.password,
            },
            auth=False,
        )
        self.did, self.access = answer["did"], answer["accessJwt"]
        return self

    def app_password(self, name: str) -> str:
        return str(
            self.xrpc("POST", "com.atproto.server.createAppPassword", body={"name": name})[
                "password"
            ]
        )

    def create(self, collection: str, record: dict[str, Any]) -> dict[str, str]:
        answer = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            body={
                "repo": self.did,
                "collection": collection,
                "record": {"$type": collection, **record},
            },
        )
        return {"uri": answer["uri"], "cid": answer["cid"]}

    def record(self, uri: str) -> dict[str, Any]:
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        return self.xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
            auth=False,
        )["value"]


@dataclass
class World:
    network: Network
    alice: Account
    bob: Account
    connector: BlueskyConnector  # alice's channel
    bob_connector: BlueskyConnector
    app_password: str
    saved: list[Credentials]


def connect(
    network: Network, account: Account, app_password: str, saved: list[Credentials] | None = None
) -> BlueskyConnector:
    connector = BlueskyConnector(network.pds)
    result = connector.connect_with_fields(
        {"server_url": network.pds, "identifier": account.handle, "app_password": app_password}
    )
    return BlueskyConnector(
        connector.server_url,
        result.credentials,
        on_credentials_change=saved.append if saved is not None else None,
    )


@pytest.fixture(scope="module")
def world(atproto_network: Network) -> Iterator[World]:
    alice = Account(atproto_network.pds, "alice.test", secrets.token_urlsafe(12)).create_account()
    bob = Account(atproto_network.pds, "bob.test", secrets.token_urlsafe(12)).create_account()
    app_password = alice.app_password("Minbar")
    saved: list[Credentials] = []
    yield World(
        network=atproto_network,
        alice=alice,
        bob=bob,
        connector=connect(atproto_network, alice, app_password, saved),
        bob_connector=connect(atproto_network, bob, bob.app_password("Minbar")),
        app_password=app_password,
        saved=saved,
    )


def png(width: int, height: int) -> bytes:
    """A real PNG (solid orange), so the PDS sniffs a genuine image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def facet_texts(text: str, facets: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    data = text.encode("utf-8")
    return [
        (data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"), f["features"][0])
        for f in facets
    ]


# -- connecting ---------------------------------------------------------------------


def test_connect_and_verify(world: World) -> None:
    creds = world.connector.credentials
    assert creds.data["did"] == world.alice.did
    assert creds.data["handle"] == "alice.test"
    assert creds.secrets["app_password"] == world.app_password
    assert creds.expires_at is not None and creds.expires_at > datetime.now(UTC)
    account = world.connector.verify()
    assert (account.remote_id, account.handle) == (world.alice.did, "alice.test")
    assert account.url == "https://bsky.app/profile/alice.test"
    metrics = world.connector.account_metrics()
    assert set(metrics.values) == {"followers", "following", "posts"}


def test_the_account_password_is_refused(world: World) -> None:
    with pytest.raises(Rejected, match="app password"):
        BlueskyConnector(world.network.pds).connect_with_fields(
            {"identifier": "alice.test", "app_password": world.alice.password}
        )


def test_a_wrong_app_password_is_refused(world: World) -> None:
    with pytest.raises(AuthExpired, match="did not accept"):
        BlueskyConnector(world.network.pds).connect_with_fields(
            {"identifier": "alice.test", "app_password": "aaaa-bbbb-cccc-dddd"}
        )


# -- publishing ---------------------------------------------------------------------


def test_text_with_link_mention_and_hashtag(world: World) -> None:
    text = "Launch day with @bob.test and @nobody.test #minbar https://example.com/launch?x=1."
    result = world.connector.publish(PostRequest(text=text, language="en"))
    assert result.remote_id.startswith(f"at://{world.alice.did}/{POST}/")
    assert (
        result.url
        == f"https://bsky.app/profile/alice.test/post/{result.remote_id.rsplit('/', 1)[1]}"
    )
    assert result.ref is not None and result.ref.extra["cid"]
    record = world.alice.record(result.remote_id)
    assert record["text"] == text
    assert record["langs"] == ["en"]
    assert facet_texts(text, record["facets"]) == [
        ("@bob.test", {"$type": "app.bsky.richtext.facet#mention", "did": world.bob.did}),
        (
            "https://example.com/launch?x=1",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch?x=1"},
        ),
        ("#minbar", {"$type": "app.bsky.richtext.facet#tag", "tag": "minbar"}),
    ]  # @nobody.test does not resolve, so it stays plain text


def test_arabic_text_facets_survive_the_pds(world: World) -> None:
    text = "مرحبا @bob.test! جرّبوا #قهوة_عربية على https://example.com/ar، شكراً"
    result = world.connector.publish(PostRequest(text=text, language="ar"))
    record = world.alice.record(result.remote_id)
    assert [span for span, _ in facet_texts(text, record["facets"])] == [
        "@bob.test",
        "https://example.com/ar",
        "#قهوة_عربية",
    ]


def test_image_with_alt_text_and_aspect_ratio(world: World, tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(png(4, 3))
    second.write_bytes(png(2, 2))
    result = world.connector.publish(
        PostRequest(
            text="Two pictures",
            media=(
                MediaItem(
                    str(first), "image/png", alt_text="An orange rectangle", width=4, height=3
                ),
                MediaItem(str(second), "image/png", alt_text="صورة برتقالية"),
            ),
        )
    )
    embed = world.alice.record(result.remote_id)["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    images = embed["images"]
    assert [image["alt"] for image in images] == ["An orange rectangle", "صورة برتقالية"]
    assert images[0]["aspectRatio"] == {"width": 4, "height": 3}
    assert "aspectRatio" not in images[1]
    assert images[0]["image"]["mimeType"] == "image/png"
    view = eventually(
        lambda: world.alice.xrpc(
            "GET", "app.bsky.feed.getPosts", params={"uris": result.remote_id}
        )["posts"],
        "the image post in the AppView",
    )
    assert view[0]["embed"]["images"][0]["alt"] == "An orange rectangle"


def test_images_and_a_link_keep_the_link_in_the_text(world: World, tmp_path: Path) -> None:
    image = tmp_path / "c.png"
    image.write_bytes(png(1, 1))
    result = world.connector.publish(
        PostRequest(
            text="New menu",
            link="https://example.com/menu",
            media=(MediaItem(str(image), "image/png", alt_text="A dot"),),
        )
    )
    record = world.alice.record(result.remote_id)
    assert record["text"] == "New menu\nhttps://example.com/menu"
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert facet_texts(record["text"], record["facets"]) == [
        (
            "https://example.com/menu",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/menu"},
        )
    ]


def test_link_card(world: World) -> None:
    result = world.connector.publish(
        PostRequest(text="Read the notes", link="https://example.com/notes")
    )
    embed = world.alice.record(result.remote_id)["embed"]
    assert embed == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://example.com/notes", "title": "", "description": ""},
    }


def test_thread_reply_and_quote(world: World) -> None:
    result = world.connector.publish(
        PostRequest(
            text="1/3 A thread", thread=("2/3 goes on", "3/3 ends"), idempotency_key="thread-1"
        )
    )
    assert len(result.thread_ids) == 2
    root = {"uri": result.remote_id, "cid": result.ref.extra["cid"] if result.ref else ""}
    second = world.alice.record(result.thread_ids[0])
    third = world.alice.record(result.thread_ids[1])
    assert second["reply"] == {"root": root, "parent": root}
    assert third["reply"]["root"] == root
    assert third["reply"]["parent"]["uri"] == result.thread_ids[0]
    assert third["text"] == "3/3 ends"

    # A reply to the third post, knowing only its address: the root is looked up.
    reply = world.connector.publish(
        PostRequest(text="A late addition", reply_to=RemoteRef(remote_id=result.thread_ids[1]))
    )
    record = world.alice.record(reply.remote_id)
    assert record["reply"]["root"] == root
    assert record["reply"]["parent"]["uri"] == result.thread_ids[1]
    assert reply.ref is not None and reply.ref.extra["root_uri"] == root["uri"]

    # A quote of the thread's first post by its bsky.app address.
    quote = world.connector.publish(
        PostRequest(text="Quoting myself", quote=RemoteRef(remote_id=result.url))
    )
    embed = world.alice.record(quote.remote_id)["embed"]
    assert embed == {"$type": "app.bsky.embed.record", "record": root}

    # The same thread published again (a retry) makes nothing new.
    again = world.connector.publish(
        PostRequest(
            text="1/3 A thread", thread=("2/3 goes on", "3/3 ends"), idempotency_key="thread-1"
        )
    )
    assert (again.remote_id, again.thread_ids) == (result.remote_id, result.thread_ids)


def test_idempotency_key_lookup_and_no_duplicates(world: World) -> None:
    key = "target-42-attempt-1"
    assert world.connector.lookup(idempotency_key=key) is None
    first = world.connector.publish(PostRequest(text="Exactly once", idempotency_key=key))
    assert first.remote_id.endswith("/" + tid_for(key))
    found = world.connector.lookup(idempotency_key=key)
    assert found is not None
    assert (found.remote_id, found.text, found.url) == (first.remote_id, "Exactly once", first.url)
    assert found.created_at is not None

    second = world.connector.publish(PostRequest(text="Exactly once", idempotency_key=key))
    assert second.remote_id == first.remote_id
    assert second.ref is not None and first.ref is not None
    assert second.ref.extra["cid"] == first.ref.extra["cid"]
    listed = world.alice.xrpc(
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": world.alice.did, "collection": POST, "limit": 100},
        auth=False,
    )["records"]
    assert [r["value"]["text"] for r in listed].count("Exactly once") == 1
    assert world.connector.lookup(remote_id=first.remote_id) is not None


# -- engagement ---------------------------------------------------------------------


def test_metrics_interactions_and_replying(world: World) -> None:
    alice, bob = world.connector, world.bob
    post = alice.publish(PostRequest(text="Tell us what you think #feedback"))
    assert post.ref is not None
    subject = {"uri": post.remote_id, "cid": post.ref.extra["cid"]}
    like = bob.create("app.bsky.feed.like", {"subject": subject, "createdAt": now_iso()})
    repost = bob.create("app.bsky.feed.repost", {"subject": subject, "createdAt": now_iso()})
    reply = world.bob_connector.reply(post.ref, PostRequest(text="Love it!"))
    quote = world.bob_connector.publish(PostRequest(text="Look at this", quote=post.ref))
    follow = bob.create(
        "app.bsky.graph.follow", {"subject": world.alice.did, "createdAt": now_iso()}
    )
    mention = world.bob_connector.publish(PostRequest(text="Hello @alice.test, a question"))

    def counted() -> dict[str, int] | None:
        metrics = alice.post_metrics([post.remote_id]).get(post.remote_id)
        wanted = {"likes": 1, "shares": 1, "comments": 1, "quotes": 1}
        return metrics.values if metrics and metrics.values == wanted else None

    eventually(counted, "likes, shares (reposts), comments (replies) and quotes counted")

    seen: list[Interaction] = []
    cursor = ""
    expected = {
        like["uri"],
        repost["uri"],
        reply.remote_id,
        quote.remote_id,
        follow["uri"],
        mention.remote_id,
    }

    def collect() -> bool:
        nonlocal cursor
        page = alice.interactions(cursor)
        seen.extend(page.items)
        cursor = page.cursor or cursor
        return expected <= {i.remote_id for i in seen}

    eventually(collect, "every interaction in the inbox")
    assert len({i.remote_id for i in seen}) == len(seen), "an interaction came twice"
    by_id = {i.remote_id: i for i in seen}
    assert by_id[like["uri"]].kind == InteractionKind.LIKE
    liked = by_id[like["uri"]].post
    assert liked is not None and liked.remote_id == post.remote_id
    assert by_id[repost["uri"]].kind == InteractionKind.REPOST
    assert by_id[follow["uri"]].kind == InteractionKind.FOLLOW
    assert by_id[follow["uri"]].author.handle == "bob.test"
    got_reply = by_id[reply.remote_id]
    assert (got_reply.kind, got_reply.text) == (InteractionKind.REPLY, "Love it!")
    assert got_reply.parent is not None and got_reply.parent.remote_id == post.remote_id
    assert got_reply.post is not None and got_reply.post.remote_id == post.remote_id
    assert by_id[quote.remote_id].kind == InteractionKind.QUOTE
    assert by_id[quote.remote_id].post is not None
    assert by_id[mention.remote_id].kind == InteractionKind.MENTION
    assert by_id[mention.remote_id].author.remote_id == world.bob.did

    # Nothing new: the same cursor comes back and nothing is repeated.
    quiet = alice.interactions(cursor)
    assert quiet.items == [] and quiet.cursor == cursor

    # A second reply arrives: the next call brings it alone.
    second = world.bob_connector.reply(post.ref, PostRequest(text="One more thing"))
    later: list[Interaction] = []

    def collect_later() -> bool:
        nonlocal cursor
        page = alice.interactions(cursor)
        later.extend(page.items)
        cursor = page.cursor or cursor
        return bool(later)

    eventually(collect_later, "the second reply")
    assert [i.remote_id for i in later] == [second.remote_id]

    # Alice answers bob's first reply from the inbox.
    assert got_reply.ref is not None
    answer = alice.reply(got_reply.ref, PostRequest(text="Thank you, Bob!"))
    record = world.alice.record(answer.remote_id)
    assert record["reply"]["parent"]["uri"] == reply.remote_id
    assert record["reply"]["root"] == subject


def test_search_finds_a_post(world: World) -> None:
    word = "quokka" + secrets.token_hex(4)
    post = world.connector.publish(PostRequest(text=f"Spotted a {word} today"))
    hits = eventually(lambda: world.connector.search(word).items, f"a search for {word}")
    hit = hits[0]
    assert hit.remote_id == post.remote_id
    assert hit.author.handle == "alice.test"
    assert word in hit.text
    assert hit.ref is not None and hit.ref.extra["cid"]


def test_delete_removes_the_post(world: World) -> None:
    post = world.connector.publish(PostRequest(text="Soon gone", idempotency_key="delete-me"))
    eventually(lambda: world.connector.post_metrics([post.remote_id]), "the post in the AppView")
    world.connector.delete(post.remote_id)
    assert world.connector.lookup(remote_id=post.remote_id) is None
    assert world.connector.lookup(idempotency_key="delete-me") is None
    eventually(
        lambda: world.connector.post_metrics([post.remote_id]) == {},
        "the post gone from the AppView",
    )
    world.connector.delete(post.remote_id)  # deleting again is harmless


# -- sessions -------------------------------------------------------------------------


def expired_copy(token: str) -> str:
    """The same access token with ``exp`` in the past, signed as the dev PDS signs."""
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 60
    claims["iat"] = int(time.time()) - 3600
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    signature = hmac.new(DEV_JWT_SECRET, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def test_refresh_after_forced_expiry(world: World) -> None:
    saved: list[Credentials] = []
    connector = connect(world.network, world.alice, world.app_password, saved)
    before = dict(connector.credentials.secrets)
    assert connector.refresh() is None  # a fresh token is left alone

    connector.credentials.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    newer = connector.refresh()
    assert newer is not None and newer.secrets["refresh_jwt"] != before["refresh_jwt"]
    assert connector.verify().remote_id == world.alice.did

    # The refresh token is dead (revoked): a new session from the stored app password.
    # (signed out elsewhere: com.atproto.server.deleteSession revokes that refresh token).
    dead = connector.credentials.secrets["refresh_jwt"]
    revoke = httpx.post(
        f"{world.network.pds}/xrpc/com.atproto.server.deleteSession",
        headers={"Authorization": f"Bearer {dead}"},
    )
    assert revoke.is_success, revoke.text
    connector.credentials.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    renewed = connector.refresh()
    assert renewed is not None and renewed.secrets["app_password"] == world.app_password
    assert connector.verify().handle == "alice.test"

    # An access token that expires mid-call: refreshed once, saved at once, call retried.
    connector.credentials.secrets["access_jwt"] = expired_copy(
        connector.credentials.secrets["access_jwt"]
    )
    metrics = connector.account_metrics()
    assert "followers" in metrics.values
    assert saved and saved[-1].secrets["access_jwt"] == connector.credentials.secrets["access_jwt"]


def test_revoked_app_password_needs_a_reconnect(world: World) -> None:
    app_password = world.alice.app_password("Minbar-revoked")
    connector = connect(world.network, world.alice, app_password)
    assert connector.verify().remote_id == world.alice.did
    world.alice.xrpc(
        "POST", "com.atproto.server.revokeAppPassword", body={"name": "Minbar-revoked"}
    )
    connector.credentials.secrets["access_jwt"] = expired_copy(
        connector.credentials.secrets["access_jwt"]
    )
    with pytest.raises(AuthExpired, match="revoked") as caught:
        connector.verify()
    assert "App passwords" in caught.value.message
    connector.credentials.expires_at = datetime.now(UTC)
    with pytest.raises(AuthExpired):
        connector.refresh()
