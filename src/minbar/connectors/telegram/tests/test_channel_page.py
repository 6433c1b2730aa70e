"""A person connects a Telegram channel through Minbar's own connect page (token form)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

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


@pytest.mark.django_db
def test_opening_the_channel_page_does_not_take_comments_away_from_the_inbox(
    fake: FakeTelegram,
) -> None:
    """getUpdates confirms what an offset passes (#getupdates): only the inbox may read.

    Sixty comments wait, more than one page of updates: a panel that paged through
    them live would confirm the first page and the inbox would never see it.
    """
    from minbar.channels.actions import connector_for
    from minbar.connectors.types import PostRequest
    from minbar.inbox.ingestion import due_channels, poll_channel
    from minbar.inbox.models import Item

    owner = User.objects.create_user(username="dana", password="x" * 20, email="d@example.com")
    org = Organization.objects.create(name="Dana Inc", slug="dana-org")
    workspace = Workspace.objects.create(organization=org, name="Dana", slug="dana")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    bot = fake.create_bot()
    news = fake.create_chat("channel", "Dana News", "dananews", subscribers=321)
    group = fake.create_chat("supergroup", "Dana News Chat", "dananewschat")
    fake.link(news, group)
    fake.set_member(news, bot.id, "administrator", can_post_messages=True)
    fake.set_member(group, bot.id, "administrator", can_delete_messages=True)
    client = Client()
    client.force_login(owner)
    client.post("/w/dana/channels/connect/telegram/", {"bot_token": bot.token, "chat": "@dananews"})
    channel = Channel.objects.get(workspace=workspace, network="telegram")
    post = connector_for(channel).publish(PostRequest(text="Our launch"))
    copy = fake.copy_in_group(news, int(post.remote_id))
    fan = fake.create_user("Layla", "layla_fan")
    for n in range(60):
        fake.comment(group, fan, f"comment {n}", reply_to=copy["message_id"])

    panel = client.get(f"/w/dana/channels/{channel.pk}/activity/").content.decode()
    assert "<dd>321</dd>" in panel  # the counters are still read live
    assert "comment 0" not in panel and 'data-testid="activity-from-inbox"' in panel

    assert channel.pk in due_channels(timezone.now())
    assert poll_channel(channel.pk).created == 60
    assert Item.objects.filter(channel=channel).count() == 60

    panel = client.get(f"/w/dana/channels/{channel.pk}/activity/").content.decode()
    assert "comment 59" in panel and "comment 50" in panel and "comment 49" not in panel
    assert '<span class="badge">Comment</span>' in panel
