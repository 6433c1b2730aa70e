"""A YouTube channel connected through Minbar's Channels pages, and its quota on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from minbar.channels import actions
from minbar.channels.models import Channel
from minbar.connectors.types import PostRequest
from minbar.connectors.youtube.tests.conftest import video_file
from minbar.connectors.youtube.tests.fake import FakeYouTube


@pytest.mark.django_db
def test_connecting_through_the_pages_then_seeing_the_quota(
    world: Any, fake: FakeYouTube, app: dict[str, str], tmp_path: Path
) -> None:
    user = fake.add_user("acme")
    client = Client()
    client.force_login(world.alice)
    # A browser always sends the CSRF token field, so the form is bound.
    start = client.post("/w/acme/channels/connect/youtube/", {"csrfmiddlewaretoken": "t"})
    assert start["Location"].startswith(fake.base_url + "/o/oauth2/v2/auth?")
    answer = fake.approve(start["Location"], user)
    back = client.get("/channels/oauth/callback/", answer)
    channel = Channel.objects.get(workspace=world.acme, network="youtube")
    assert back["Location"] == f"/w/acme/channels/{channel.pk}/"
    assert channel.handle == user.handle
    assert channel.get_credentials().secrets["refresh_token"]

    # Publishing through the channel's connector saves the quota it spent.
    connector = actions.connector_for(channel)
    connector.publish(PostRequest(text="From Minbar", media=(video_file(tmp_path),)))
    channel.refresh_from_db()
    assert channel.get_credentials().data["quota"]["uploads"] == 1

    page = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert 'data-testid="quota"' in page
    assert "Uploads: 1 of 100 today; at most 99 are left." in page
    assert "midnight Pacific Time" in page
