"""A person connects a Telegram channel through Minbar's own connect page (token form)."""

from __future__ import annotations

import pytest
from django.test import Client

from minbar.accounts.models import User
from minbar.channels.models import Channel
from minbar.connectors.telegram.tests.fake import FakeTelegram
from minbar.workspaces.models import Membership, Organization, Workspace
from minbar.workspaces.roles import Role


@pytest.mark.django_db
def test_owner_connects_a_channel_with_the_token_form(fake: FakeTelegram) -> None:
    owner = User.objects.create_user(username="dana", password="x" * 20, email="d@example.com")
    org = Organization.objects.create(name="Dana Inc", slug="dana-org")
    workspace = Workspace.objects.create(organization=org, name="Dana", slug="dana")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    bot = fake.create_bot()
    channel = fake.create_chat("channel", "Dana News", "dananews")
    fake.set_member(channel, bot.id, "administrator", can_post_messages=True)
    client = Client()
    client.force_login(owner)

    page = client.get("/w/dana/channels/connect/telegram/").content.decode()
    assert "Bot token" in page and "@BotFather" in page

    refused = client.post(
        "/w/dana/channels/connect/telegram/", {"bot_token": bot.token, "chat": "@nowhere_x"}
    ).content.decode()
    assert "does not show @nowhere_x to this bot" in refused
    assert bot.token not in refused

    done = client.post(
        "/w/dana/channels/connect/telegram/", {"bot_token": bot.token, "chat": "t.me/dananews"}
    )
    saved = Channel.objects.get(workspace=workspace, network="telegram")
    assert done["Location"] == f"/w/dana/channels/{saved.pk}/"
    assert saved.remote_id == str(channel.id) and saved.handle == "@dananews"
    # MINBAR_TELEGRAM_API_URL wins over the default address the page passes.
    assert saved.server_url == fake.url
    assert saved.get_credentials().secrets["bot_token"] == bot.token
