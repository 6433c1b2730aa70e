"""A Pinterest account connected through Minbar's Channels pages, then publishing from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from minbar.channels import actions
from minbar.channels.models import Channel
from minbar.connectors.pinterest.tests.conftest import image_file
from minbar.connectors.pinterest.tests.fake import FakePinterest
from minbar.connectors.types import PostRequest


@pytest.mark.django_db
def test_connecting_through_the_pages_then_publishing_to_the_first_board(
    world: Any, fake: FakePinterest, tmp_path: Path
) -> None:
    user = fake.add_user("acme", follower_count=10)
    board = fake.add_board(user, "Spring")
    client = Client()
    client.force_login(world.alice)
    start = client.post("/w/acme/channels/connect/pinterest/", {"csrfmiddlewaretoken": "t"})
    assert start["Location"].startswith(fake.url + "/oauth/?")
    answer = fake.approve(start["Location"], user)
    back = client.get("/channels/oauth/callback/", answer)
    channel = Channel.objects.get(workspace=world.acme, network="pinterest")
    # Every board is offered as a channel of its own, right after signing in.
    assert back["Location"] == f"/w/acme/channels/{channel.pk}/accounts/"
    assert channel.remote_id == board["id"]
    assert channel.get_credentials().data["user_id"] == user.id
    assert channel.name == f"{user.business_name} · Spring"
    stored = channel.get_credentials()
    assert stored.secrets["refresh_token"].startswith("pinr_")
    assert channel.token_expires_at is not None

    result = actions.connector_for(channel).publish(
        PostRequest(text="From Minbar", media=(image_file(tmp_path),), idempotency_key="t-1")
    )
    assert fake.pins[result.remote_id]["board_id"] == board["id"]
    # What lookup needs was saved with the channel at once.
    channel.refresh_from_db()
    assert channel.get_credentials().data["attempts"]["t-1"]["pin_id"] == result.remote_id
