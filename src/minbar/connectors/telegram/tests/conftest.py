"""Fixtures: the fake Bot API, a channel with its discussion group, and a connected bot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from minbar.connectors.telegram import TelegramConnector
from minbar.connectors.telegram.journal import JOURNAL
from minbar.connectors.telegram.tests.fake import Bot, Chat, FakeTelegram
from minbar.connectors.types import AccountInfo, Credentials, MediaItem


class FastTelegram(TelegramConnector):
    """No pauses between thread parts and short polling: tests run on loopback."""

    message_interval = 0.0
    poll_timeout = 0


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake(telegram_server: FakeTelegram, settings: Any) -> Iterator[FakeTelegram]:
    telegram_server.reset()
    JOURNAL.clear()
    settings.MINBAR_NETWORK_APPS = {"telegram": {"api_url": telegram_server.url}}
    settings.MINBAR_BASE_URL = "https://minbar.example.org"
    yield telegram_server
    telegram_server.reset()


@dataclass
class World:
    fake: FakeTelegram
    bot: Bot
    channel: Chat
    group: Chat
    connector: TelegramConnector
    account: AccountInfo
    saved: list[Credentials] = field(default_factory=list)

    def reopen(self) -> TelegramConnector:
        """A new connector with what the channel stored (another process, a later poll)."""
        return connected(self.connector.credentials, self.saved)


def connected(credentials: Credentials, saved: list[Credentials]) -> TelegramConnector:
    connector = FastTelegram("", credentials, on_credentials_change=saved.append)
    return connector


def make_world(
    fake: FakeTelegram,
    *,
    admin_in_group: bool = True,
    reads_all: bool = False,
    channel_username: str = "brandnews",
) -> World:
    bot = fake.create_bot("brand_bot", reads_all=reads_all)
    channel = fake.create_chat("channel", "Brand News", channel_username, subscribers=1234)
    group = fake.create_chat("supergroup", "Brand News Chat", "brandchat")
    fake.link(channel, group)
    fake.set_member(channel, bot.id, "administrator", can_post_messages=True)
    if admin_in_group:
        fake.set_member(group, bot.id, "administrator", can_delete_messages=True)
    else:
        fake.set_member(group, bot.id, "member")
    chat = f"@{channel_username}" if channel_username else str(channel.id)
    result = FastTelegram().connect_with_fields({"bot_token": bot.token, "chat": chat})
    saved: list[Credentials] = []
    connector = connected(result.credentials, saved)
    return World(fake, bot, channel, group, connector, result.account, saved)


@pytest.fixture
def world(fake: FakeTelegram) -> World:
    return make_world(fake)


def image(tmp_path: Path, name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> MediaItem:
    path = tmp_path / name
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return MediaItem(str(path), "image/png", width=size[0], height=size[1])


def video(tmp_path: Path, name: str = "clip.mp4", size: int = 4096) -> MediaItem:
    """A few KB standing in for an MP4 (the fake does not decode video)."""
    path = tmp_path / name
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(size))
    return MediaItem(str(path), "video/mp4", width=320, height=240)
