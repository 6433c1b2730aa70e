"""The inbox against real peers: a local AT Protocol network (Bluesky) and mastodon-mock.

Interactions are read through each connector by the inbox's own poll, stored once,
and answered with the inbox's reply action; the answer is checked on the network.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from minbar.channels import actions as channel_actions
from minbar.channels.models import Channel
from minbar.connectors.bluesky.tests.devnet import Network
from minbar.connectors.bluesky.tests.test_e2e import Account
from minbar.connectors.mastodon.tests.conftest import connect
from minbar.connectors.mastodon.tests.mockserver import MockServer
from minbar.connectors.types import PostRequest
from minbar.core.actor import Actor
from minbar.inbox import actions, ingestion
from minbar.inbox.models import Item, ReplyState
from minbar.workspaces.access import access_for


def _poll(channel: Channel) -> ingestion.Ingested:
    ingestion.due_channels(datetime.now(UTC))
    from minbar.inbox.models import Cursor

    Cursor.objects.filter(channel=channel).update(next_poll_at=datetime.now(UTC), lease_until=None)
    return ingestion.poll_channel(channel.pk)


def test_mastodon_reply_and_direct_message_are_answered_in_their_threads(
    world, mock: MockServer, fan
):
    connected = connect(mock)
    channel = Channel(
        workspace=world.acme,
        network="mastodon",
        server_url=mock.url,
        remote_id=connected.account.remote_id,
        handle=connected.account.handle,
    )
    channel.set_credentials(connected.connector.credentials)
    channel.save()
    post = connected.connector.publish(PostRequest(text="New single origin"))
    handle = connected.username
    asked = fan.status(f"@{handle} where is it from?", in_reply_to_id=post.remote_id)
    fan.status(f"@{handle} can I order 5 kg?", visibility="direct")
    got = _poll(channel)
    assert got.created == 2
    question = Item.objects.get(channel=channel, remote_id=asked["id"])
    assert question.kind == "reply" and question.answerable
    assert Item.objects.get(channel=channel, kind="direct_message").conversation is not None

    answer = actions.reply(
        Actor(user=world.bob), access_for(world.bob, "acme"), question.pk, "From Ethiopia"
    )
    assert answer.state == ReplyState.SENT
    status = mock.http.get(f"/api/v1/statuses/{answer.remote_id}").json()
    assert status["in_reply_to_id"] == asked["id"]
    # Our own reply comes back in the next poll as our status, never as an inbox item.
    _poll(channel)
    assert Item.objects.filter(channel=channel).count() == 2


def test_bluesky_replies_are_read_and_answered_on_a_real_network(
    world,
    atproto_network: Network,
):
    pds = atproto_network.pds
    brand = Account(pds, f"brand{secrets.token_hex(3)}.test", secrets.token_urlsafe(12))
    brand.create_account()
    fan_account = Account(pds, f"fan{secrets.token_hex(3)}.test", secrets.token_urlsafe(12))
    fan_account.create_account()
    channel = channel_actions.connect_with_fields(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        "bluesky",
        {"server_url": pds, "identifier": brand.handle, "app_password": brand.app_password("m")},
    )
    connector = channel_actions.connector_for(channel)
    post = connector.publish(PostRequest(text="What should we roast next?"))
    assert post.ref is not None
    from minbar.connectors.bluesky import BlueskyConnector

    fan_connector = BlueskyConnector(pds)
    fan_connector = BlueskyConnector(
        pds,
        fan_connector.connect_with_fields(
            {
                "server_url": pds,
                "identifier": fan_account.handle,
                "app_password": fan_account.app_password("m"),
            }
        ).credentials,
    )
    said = fan_connector.reply(post.ref, PostRequest(text="Something from Yemen please"))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _poll(channel)
        if Item.objects.filter(channel=channel, remote_id=said.remote_id).exists():
            break
        time.sleep(0.5)
    item = Item.objects.get(channel=channel, remote_id=said.remote_id)
    assert item.kind == "reply" and item.contact.handle == fan_account.handle
    assert item.sentiment in ("positive", "neutral", "negative")

    answer = actions.reply(
        Actor(user=world.bob), access_for(world.bob, "acme"), item.pk, "Noted, thank you!"
    )
    assert answer.state == ReplyState.SENT and answer.remote_id.startswith("at://")
    reply_record = brand.record(answer.remote_id)
    assert reply_record["reply"]["parent"]["uri"] == said.remote_id
    assert reply_record["reply"]["root"]["uri"] == post.remote_id
