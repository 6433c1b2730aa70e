"""A sandbox channel connected through the channels app, as the connect page does it."""

from __future__ import annotations

from minbar.channels import actions as channel_actions
from minbar.channels.models import Channel
from minbar.connectors.types import PostRequest
from minbar.core.actor import Actor
from minbar.sandbox.tests.helpers import route_sandbox_in_process
from minbar.workspaces.access import access_for


def test_connect_a_sandbox_channel_and_use_it(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    access = access_for(world.alice, "acme")
    channel = channel_actions.connect_with_fields(
        Actor(user=world.alice), access, "sandbox", {"name": "Acme Roasters", "flavour": "x"}
    )
    assert channel.network == "sandbox" and channel.handle == "@acme_roasters"
    assert channel.server_url == ""  # Minbar's own address, resolved when used
    checked = channel_actions.check_channel(Channel.objects.get(pk=channel.pk))
    assert checked.health == "connected"
    connector = channel_actions.connector_for(checked)
    assert connector.publish(PostRequest(text="Hello from acme")).remote_id.startswith("p")
