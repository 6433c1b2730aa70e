"""Connecting with a bot token: getMe, getChat, the bot's rights, where comments are."""

from __future__ import annotations

import logging

import pytest

from minbar.connectors.errors import AuthExpired, NotSupported, Rejected
from minbar.connectors.registry import get_connector
from minbar.connectors.telegram import CONNECTOR, TelegramConnector
from minbar.connectors.telegram.api import BotAPI
from minbar.connectors.telegram.chats import NOT_IN_GROUP, PRIVACY_MODE
from minbar.connectors.telegram.failures import redact
from minbar.connectors.telegram.tests.conftest import FastTelegram, World, make_world
from minbar.connectors.telegram.tests.fake import FakeTelegram
from minbar.connectors.types import AuthKind


def test_the_registry_finds_a_token_connector_with_two_fields() -> None:
    assert get_connector("telegram") is CONNECTOR is TelegramConnector
    caps = TelegramConnector.capabilities
    assert caps.auth == AuthKind.TOKEN
    assert [f.name for f in TelegramConnector.auth_fields] == ["bot_token", "chat"]
    assert TelegramConnector.auth_fields[0].secret
    assert TelegramConnector.lookup_authoritative_seconds == 0.0
    assert caps.setup_doc == "docs/networks/telegram.md"


def test_connecting_checks_the_bot_and_the_channel(world: World) -> None:
    data = world.connector.credentials.data
    assert world.account.remote_id == str(world.channel.id)
    assert world.account.handle == "@brandnews"
    assert world.account.url == "https://t.me/brandnews"
    assert data["chat_type"] == "channel"
    assert data["bot_id"] == world.bot.id
    assert data["discussion_id"] == world.group.id
    assert data["comments_problem"] == ""
    assert world.connector.credentials.secrets == {"bot_token": world.bot.token}
    assert world.bot.token not in repr(world.connector.credentials)
    called = [method for method, _ in world.fake.calls[:3]]
    assert called == ["getme", "getchat", "getchatmember"]


def test_a_malformed_token_is_refused_before_calling_telegram(fake: FakeTelegram) -> None:
    with pytest.raises(Rejected, match="does not look like a bot token"):
        FastTelegram().connect_with_fields({"bot_token": "hello", "chat": "@x_channel"})
    assert fake.calls == []


def test_a_revoked_token_is_an_expired_sign_in_without_the_token_in_it(
    fake: FakeTelegram,
) -> None:
    bot = fake.create_bot()
    bot.revoked = True
    with pytest.raises(AuthExpired) as caught:
        FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": "@brandnews"})
    assert "@BotFather" in caught.value.message
    assert caught.value.status == 401
    assert bot.token not in caught.value.message + caught.value.detail


def test_a_channel_the_bot_cannot_see_gets_a_clear_message(fake: FakeTelegram) -> None:
    bot = fake.create_bot()
    fake.create_chat("channel", "Elsewhere", "elsewhere")
    with pytest.raises(Rejected, match="add the bot to the channel as an administrator"):
        FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": "@elsewhere"})


@pytest.mark.parametrize(
    ("status", "rights", "expected"),
    [
        ("member", {}, "is not an administrator"),
        ("administrator", {"can_post_messages": False}, "may not post"),
    ],
)
def test_the_bot_needs_post_messages_rights(
    fake: FakeTelegram, status: str, rights: dict[str, bool], expected: str
) -> None:
    bot = fake.create_bot()
    channel = fake.create_chat("channel", "Brand", "brand_chan")
    fake.set_member(channel, bot.id, status, **rights)
    with pytest.raises(Rejected, match=expected):
        FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": "@brand_chan"})


def test_a_bot_in_privacy_mode_outside_the_discussion_group_is_told_why(
    fake: FakeTelegram,
) -> None:
    world = make_world(fake, admin_in_group=False)
    assert world.connector.credentials.data["comments_problem"] == PRIVACY_MODE
    world.group.members.pop(world.bot.id)
    world.connector.verify()
    assert world.connector.credentials.data["comments_problem"] == NOT_IN_GROUP
    with pytest.raises(Rejected, match="the bot is not in it"):
        world.connector.interactions("")


def test_a_group_can_be_the_channel_too(fake: FakeTelegram) -> None:
    bot = fake.create_bot(reads_all=True)
    group = fake.create_chat("supergroup", "Brand Club", "")
    fake.set_member(group, bot.id, "member")
    result = FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": str(group.id)})
    assert result.credentials.data["chat_type"] == "supergroup"
    assert result.credentials.data["discussion_id"] == group.id
    assert result.credentials.data["comments_problem"] == ""
    assert result.account.handle == "Brand Club"


def test_verify_turns_lost_rights_into_a_reconnect(world: World) -> None:
    assert world.connector.verify().remote_id == str(world.channel.id)
    world.fake.set_member(world.channel, world.bot.id, "administrator", can_post_messages=False)
    with pytest.raises(AuthExpired, match="may not post"):
        world.connector.verify()
    world.fake.set_member(world.channel, world.bot.id, "kicked")
    with pytest.raises(AuthExpired, match="Add the bot back"):
        world.connector.verify()


def test_oauth_is_not_offered(world: World) -> None:
    with pytest.raises(NotSupported):
        world.connector.start_oauth("https://m.example/cb", "state")


def test_the_token_is_kept_out_of_logs_reprs_and_messages(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.bot.token
    api = BotAPI(world.fake.url, token)
    assert token not in repr(api)
    assert redact(f"POST https://api.telegram.org/bot{token}/getMe") == (
        "POST https://api.telegram.org/bot<bot token>/getMe"
    )
    with caplog.at_level(logging.INFO, logger="httpx"):
        world.connector.account_metrics()
    assert caplog.records, "httpx logged the request"
    assert all(token not in record.getMessage() for record in caplog.records)
