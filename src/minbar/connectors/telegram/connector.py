"""The Telegram connector: one channel (or group) through a bot of the Bot API.

Documentation followed: https://core.telegram.org/bots/api (methods and types, cited
by anchor next to each use), https://core.telegram.org/bots/features (@BotFather,
privacy mode) and https://core.telegram.org/bots/faq (limits).

What the connector keeps in ``Credentials``: ``secrets["bot_token"]`` and ``data`` =
``chat_id`` (the channel or group, a number), ``chat_type``, ``chat_username``,
``chat_title``, ``bot_id``, ``bot_username``, ``reads_all`` (privacy mode off),
``discussion_id``/``discussion_username``/``discussion_title`` (where comments are),
``comments_problem`` (why the bot cannot read them: a code of :mod:`.chats`, "" when it
can) and
``threads`` — the discussion group's thread roots → posts (:class:`.mapping.ThreadMap`),
learnt from updates and kept here so polls and pushes share them.

What Telegram gives bots and what it does not:

* publishing text, photos, videos and albums (2 to 10), threads as replies, editing
  (:meth:`TelegramConnector.edit`, outside the contract) and deleting within 48 hours;
* comments from the channel's discussion group through updates, replies to them
  and deleting them where the bot is an administrator;
* the number of subscribers (``getChatMemberCount``);
* no reading of a chat's history, no search, no view counts: the Message object
  has no ``views`` field for bots (#message), so post metrics are not offered.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import api_url
from minbar.connectors.base import AuthField, Connector
from minbar.connectors.errors import (
    AuthExpired,
    BadSignature,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import check_outbound_url
from minbar.connectors.telegram.api import BotAPI, Upload, redact_tokens_in_logs
from minbar.connectors.telegram.chats import (
    chat_reference,
    comments_problem,
    describe_comments_problem,
    member_problem,
)
from minbar.connectors.telegram.failures import TOKEN_PATTERN, ChatMigrated
from minbar.connectors.telegram.journal import JOURNAL, Attempt
from minbar.connectors.telegram.mapping import (
    ChatContext,
    ThreadMap,
    UpdatesCursor,
    chat_url,
    interaction,
    interaction_id,
    message_url,
    parse_interaction_id,
    when,
)
from minbar.connectors.telegram.text import escape_html, text_problems, with_link
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    MediaRules,
    Metrics,
    OptionKind,
    Page,
    PostOption,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    RemoteRef,
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABEL = "Telegram"
DEFAULT_API = "https://api.telegram.org"
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4",)
# sendPhoto: "The photo must be at most 10 MB in size. The photo's width and height
# must not exceed 10000 in total. Width and height ratio must be at most 20."
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_SIDES = 10000
MAX_PHOTO_RATIO = 20.0
# sendVideo: "Bots can currently send video files of up to 50 MB in size".
MAX_VIDEO_BYTES = 50 * 1024 * 1024
# sendMediaGroup: "must include 2-10 items".
MAX_ALBUM = 10
# The updates Minbar reads: comments and their edits in the discussion group.
ALLOWED_UPDATES = ("message", "edited_message")
# Updates handed out per page; getUpdates returns up to 100, so a page of the
# already-seen (not yet confirmed) ones never crowds out new ones.
PAGE_UPDATES = 50
# setWebhook: "Ports currently supported for webhooks: 443, 80, 88, 8443."
WEBHOOK_PORTS = (443, 80, 88, 8443)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class _Part:
    index: int
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str = ""
    # The post's delivery settings, for every message of it (thread parts too).
    delivery: tuple[tuple[str, bool], ...] = ()


class TelegramConnector(Connector):
    network: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="telegram",
        label="Telegram",
        auth=AuthKind.TOKEN,
        # 4096 for a text message; a caption (a post with media) has 1024 (see .text).
        text=TextRules(max_length=4096, counting=TextCounting.UTF16, required=False),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_ALBUM,
            max_videos=MAX_ALBUM,
            max_image_bytes=MAX_PHOTO_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            mix_images_and_video=True,
            min_aspect_ratio=1 / MAX_PHOTO_RATIO,
            max_aspect_ratio=MAX_PHOTO_RATIO,
            alt_text=False,
        ),
        default_server_url=DEFAULT_API,
        post_types=frozenset(
            {
                PostType.TEXT,
                PostType.LINK,
                PostType.IMAGE,
                PostType.GALLERY,
                PostType.VIDEO,
                PostType.THREAD,
                PostType.REPLY,
            }
        ),
        threads=True,
        # https://core.telegram.org/bots/api#sendmessage: disable_notification, protect_content.
        post_options=(
            PostOption(
                "silent",
                _("Send silently"),
                OptionKind.FLAG,
                help=_("Subscribers get the post without a sound."),
            ),
            PostOption(
                "protect",
                _("Protect from forwarding and saving"),
                OptionKind.FLAG,
            ),
        ),
        account_metrics=frozenset({"followers"}),
        interactions=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),
        can_reply_to=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),
        can_delete_interactions=True,
        rate_limits=(
            # https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
            # "your bot will not be able to send more than 20 messages per minute to the
            # same group" and "the API will not allow more than 30 messages per second".
            RateLimitRule("publish", 20, 60, "account"),
            RateLimitRule("publish", 30, 1, "app"),
            RateLimitRule("reply", 20, 60, "account"),
        ),
        docs_url="https://core.telegram.org/bots/api",
        setup_doc="docs/networks/telegram.md",
    )
    auth_fields: ClassVar[tuple[AuthField, ...]] = (
        AuthField(
            name="bot_token",
            label=_("Bot token"),
            help=_("From @BotFather: /newbot creates a bot and shows its token."),
            secret=True,
            placeholder="123456789:AAE…",
        ),
        AuthField(
            name="chat",
            label=_("Channel or group"),
            help=_(
                "The channel's @username or t.me link; for a private channel, its "
                "numeric id (it starts with -100)."
            ),
            placeholder="@yourchannel",
        ),
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("In Telegram, open @BotFather, send /newbot and copy the token it gives you."),
        _(
            "Add the bot to your channel as an administrator with “Post messages” "
            "(and “Delete messages” to delete from Minbar)."
        ),
        _("For comments: add the bot as an administrator to the channel's discussion group too."),
        _("Enter the token and the channel here."),
    )
    # A "not found" from lookup never proves a post did not go out (see .journal).
    lookup_authoritative_seconds: ClassVar[float] = 0.0
    # getUpdates: "An update is considered confirmed as soon as getUpdates is called
    # with an offset higher than its update_id" (#getupdates), and only one caller may
    # poll at a time. The inbox reads; the channel page shows what the inbox stored.
    interactions_consumed_on_read: ClassVar[bool] = True

    # Seconds between the messages of a thread: "avoid sending more than one message
    # per second" in a chat (bots/faq). Tests set 0.
    message_interval: float = 1.0
    # The longest flood wait Minbar sits out inside one call (later parts of a thread).
    max_inline_wait: float = 30.0
    # getUpdates long polling: "Should be positive, short polling should be used for
    # testing purposes only" (#getupdates). Short, because the inbox polls on a schedule.
    poll_timeout: int = 2

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            server_url, credentials, timeout=timeout, on_credentials_change=on_credentials_change
        )
        if self.server_url == DEFAULT_API:
            # The channels app passes the default; MINBAR_TELEGRAM_API_URL may point elsewhere
            # (a local Bot API server, or a fake in tests).
            self.server_url = api_url(self.network, DEFAULT_API)
        self._api_client: BotAPI | None = None
        redact_tokens_in_logs()

    # -- plumbing -------------------------------------------------------------

    def _api(self) -> BotAPI:
        if self._api_client is None:
            self._api_client = BotAPI(
                check_outbound_url(self.server_url),
                self.credentials.secrets.get("bot_token", ""),
                timeout=self.timeout,
            )
        return self._api_client

    def _chat_id(self) -> int:
        chat = self.credentials.data.get("chat_id")
        if chat is None:
            raise AuthExpired("This Telegram channel is not connected. Reconnect it.")
        return int(chat)

    def _is_channel(self) -> bool:
        return self.credentials.data.get("chat_type", "channel") == "channel"

    def _post_url(self, message_id: int | str) -> str:
        return message_url(
            self._chat_id(), str(self.credentials.data.get("chat_username") or ""), message_id
        )

    def _context(self) -> ChatContext:
        data = self.credentials.data
        discussion = data.get("discussion_id")
        return ChatContext(
            chat_id=self._chat_id(),
            username=str(data.get("chat_username") or ""),
            is_channel=self._is_channel(),
            discussion_id=int(discussion) if discussion is not None else None,
            discussion_username=str(data.get("discussion_username") or ""),
            bot_id=int(data.get("bot_id") or 0),
        )

    def _save_data(self, **changes: Any) -> None:
        """Store changed non-secret data (a migrated chat, learnt threads) with the channel."""
        if all(self.credentials.data.get(k) == v for k, v in changes.items()):
            return
        self.save_credentials(Credentials(data=changes))

    def _migrated(self, exc: ChatMigrated) -> None:
        """#responseparameters ``migrate_to_chat_id``: the group is a supergroup now."""
        old = self._chat_id()
        self._save_data(chat_id=exc.new_chat_id, chat_type="supergroup")
        if self.credentials.data.get("discussion_id") == old:  # a group is its own discussion
            self._save_data(discussion_id=exc.new_chat_id)

    # -- connecting -----------------------------------------------------------

    def connect_with_fields(self, fields: dict[str, str]) -> ConnectResult:
        """Check the token (getMe), the chat (getChat) and the bot's rights (getChatMember)."""
        token = (fields.get("bot_token") or "").strip()
        if not TOKEN_PATTERN.fullmatch(token):
            raise Rejected(
                "That does not look like a bot token. @BotFather shows it as two parts "
                "joined by a colon, such as 123456789:AAE…; copy all of it."
            )
        reference = chat_reference(fields.get("chat") or "")
        self.credentials = Credentials(secrets={"bot_token": token})
        self._api_client = None
        data = self._inspect(reference)
        self.credentials = Credentials(secrets={"bot_token": token}, data=data)
        return ConnectResult(account=self._account(data), credentials=self.credentials)

    def _inspect(self, reference: str | int) -> dict[str, Any]:
        """Everything Minbar keeps about the bot and the chat, checked afresh."""
        api = self._api()
        me = api.call("getMe")  # #getme: "A simple method for testing your bot's token"
        try:
            chat = api.call("getChat", {"chat_id": reference})  # #getchat → ChatFullInfo
        except Rejected as exc:
            if "not found" in exc.detail.lower():
                raise Rejected(
                    f"Telegram does not show {reference} to this bot: check the name, and "
                    "add the bot to the channel as an administrator first.",
                    detail=exc.detail,
                    status=exc.status,
                ) from None
            raise
        kind = str(chat.get("type") or "")
        title = str(chat.get("title") or chat.get("username") or reference)
        if kind not in ("channel", "supergroup", "group"):
            raise Rejected(
                f"{reference} is a private chat with a person; Minbar publishes to channels "
                "and groups."
            )
        chat_id = int(chat["id"])
        member = api.call("getChatMember", {"chat_id": chat_id, "user_id": int(me["id"])})
        problem = member_problem(member, is_channel=kind == "channel", title=title)
        if problem:
            raise Rejected(problem, detail=f"status {member.get('status')}")
        data: dict[str, Any] = {
            "chat_id": chat_id,
            "chat_type": kind,
            "chat_username": str(chat.get("username") or ""),
            "chat_title": title,
            "bot_id": int(me["id"]),
            "bot_username": str(me.get("username") or ""),
            "reads_all": bool(me.get("can_read_all_group_messages")),
        }
        data.update(self._discussion(chat, data, member))
        return data

    def _discussion(
        self,
        chat: Mapping[str, Any],
        data: Mapping[str, Any],
        member: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Where comments are (#chatfullinfo ``linked_chat_id``) and whether the bot sees them.

        ``member`` is the bot's membership of the chat itself, for a group.
        """
        if data["chat_type"] != "channel":
            return {
                "discussion_id": data["chat_id"],
                "discussion_username": data["chat_username"],
                "discussion_title": data["chat_title"],
                "comments_problem": comments_problem(member, reads_all=bool(data["reads_all"])),
            }
        linked = chat.get("linked_chat_id")
        if linked is None:
            return {
                "discussion_id": None,
                "discussion_username": "",
                "discussion_title": "",
                "comments_problem": "",
            }
        group: Mapping[str, Any] = {}
        in_group: Mapping[str, Any] | None = None
        try:
            group = self._api().call("getChat", {"chat_id": int(linked)})
            in_group = self._api().call(
                "getChatMember", {"chat_id": int(linked), "user_id": data["bot_id"]}
            )
        except (Rejected, AuthExpired):
            in_group = None  # the bot is not in the discussion group
        title = str(group.get("title") or linked)
        return {
            "discussion_id": int(linked),
            "discussion_username": str(group.get("username") or ""),
            "discussion_title": title,
            "comments_problem": comments_problem(in_group, reads_all=bool(data["reads_all"])),
        }

    def _account(self, data: Mapping[str, Any]) -> AccountInfo:
        username = str(data.get("chat_username") or "")
        return AccountInfo(
            remote_id=str(data["chat_id"]),
            handle=f"@{username}" if username else str(data.get("chat_title") or ""),
            display_name=str(data.get("chat_title") or username),
            url=chat_url(username),
        )

    def verify(self) -> AccountInfo:
        """The token, the chat and the bot's rights still hold; refreshes what Minbar keeps."""
        try:
            data = self._inspect(self._chat_id())
        except Rejected as exc:
            # The bot lost its rights or the chat: only a person can fix that.
            raise AuthExpired(exc.message, detail=exc.detail, status=exc.status) from None
        self._save_data(**data)
        return self._account(data)

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """The post (text, photo, video or album), then each thread part as a reply to the last.

        With an idempotency key, parts already sent by an earlier attempt in this
        process (one stopped by flood control) are not sent again.
        """
        self._refuse_unsupported(request)
        reply_to: tuple[int, int] | None = None
        if request.reply_to is not None:
            reply_to = self._reply_target(request.reply_to)
        chat_id = reply_to[0] if reply_to else self._chat_id()
        delivery = tuple(
            (name, True)
            for key, name in (("silent", "disable_notification"), ("protect", "protect_content"))
            if request.options.get(key)
        )
        parts = [_Part(0, request.text, request.media, request.link, delivery)]
        parts += [
            _Part(i, text, delivery=delivery) for i, text in enumerate(request.thread, start=1)
        ]
        problems = [p for part in parts for p in self._part_problems(part, len(parts) > 1)]
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))
        attempt = (
            JOURNAL.get(request.idempotency_key, chat_id)
            if request.idempotency_key
            else Attempt(chat_id=chat_id)
        )
        previous = reply_to[1] if reply_to else None
        for part in parts:
            if part.index not in attempt.parts:
                if part.index > 0 and self.message_interval:
                    time.sleep(self.message_interval)
                messages = self._send_part(attempt.chat_id, part, previous, patient=part.index > 0)
                attempt.parts[part.index] = [int(m.get("message_id") or 0) for m in messages]
                attempt.dates[part.index] = int(messages[0].get("date") or 0)
                chat_id = attempt.chat_id = int(messages[0]["chat"]["id"])
            ids = attempt.parts[part.index]
            # A video Telegram scheduled until it is re-encoded has id 0 (#message):
            # the next part then goes out as a plain message.
            previous = ids[0] or None
        return self._result(attempt, chat_id)

    def _result(self, attempt: Attempt, chat_id: int) -> PublishResult:
        ids = attempt.parts[0]
        root = ids[0]
        if chat_id == self._chat_id():
            # An album is several messages: its remote id lists them all ("5,6,7"), so
            # deleting the post removes every photo (#deletemessages), and Minbar still
            # knows it by the first (its caption, link and comments).
            remote_id = ",".join(str(i) for i in ids if i) if root else ""
            url = self._post_url(root) if root else chat_url(self._username())
            thread = tuple(str(attempt.parts[i][0]) for i in sorted(attempt.parts) if i > 0)
        else:
            remote_id = interaction_id(chat_id, root)
            url = self._message_link(chat_id, root)
            thread = tuple(
                interaction_id(chat_id, attempt.parts[i][0]) for i in sorted(attempt.parts) if i
            )
        extra = {"chat_id": str(chat_id), "message_ids": ",".join(str(i) for i in ids)}
        return PublishResult(
            remote_id=remote_id,
            url=url,
            published_at=when(attempt.dates[0]) if attempt.dates.get(0) else None,
            thread_ids=thread,
            ref=RemoteRef(remote_id, url=url, extra=extra),
        )

    def _username(self) -> str:
        return str(self.credentials.data.get("chat_username") or "")

    def _message_link(self, chat_id: int, message_id: int) -> str:
        data = self.credentials.data
        if chat_id == self._chat_id():
            return self._post_url(message_id)
        if data.get("discussion_id") is not None and chat_id == int(data["discussion_id"]):
            return message_url(chat_id, str(data.get("discussion_username") or ""), message_id)
        return message_url(chat_id, "", message_id)

    def _refuse_unsupported(self, request: PostRequest) -> None:
        if request.content_warning:
            raise Rejected("Telegram: Minbar cannot add a content warning to Telegram posts.")
        if request.quote is not None:
            raise Rejected("Telegram: Minbar cannot quote posts on Telegram.")
        if request.first_comment:
            raise Rejected(
                "Telegram: a bot cannot add a first comment: the post's copy in the "
                "discussion group appears only after it is published."
            )
        if request.visibility:
            raise Rejected("Telegram: channel posts have no visibility to choose.")

    def _part_problems(self, part: _Part, threaded: bool) -> list[str]:
        where = f"Part {part.index + 1}" if threaded else ""
        text = with_link(part.text, part.link) if part.media else part.text
        problems = text_problems(text, caption=bool(part.media), where=where)
        if not part.media:
            return problems
        if len(part.media) > MAX_ALBUM:
            problems.append(f"Telegram: at most {MAX_ALBUM} photos and videos in an album.")
        for number, item in enumerate(part.media, start=1):
            problems.extend(_media_problems(number, item))
        return problems

    def _reply_target(self, ref: RemoteRef) -> tuple[int, int]:
        """(chat, message) to answer: a comment ("chat:message") or a post of the chat.

        An album's post ("5,6,7") is answered, edited and probed through its first message.
        """
        try:
            if ":" in ref.remote_id:
                return parse_interaction_id(ref.remote_id)
            return self._chat_id(), int(ref.remote_id.split(",")[0])
        except ValueError:
            raise Rejected(
                f"Telegram: “{ref.remote_id}” is not a Telegram message Minbar can answer."
            ) from None

    def _send_part(
        self, chat_id: int, part: _Part, reply_to: int | None, *, patient: bool
    ) -> list[dict[str, Any]]:
        """One message (or album); a migrated group is followed once, flood waits sat out."""
        tries = 0
        while True:
            tries += 1
            try:
                return self._send(chat_id, part, reply_to)
            except ChatMigrated as exc:
                if tries > 1:
                    raise
                if chat_id == self._chat_id():
                    self._migrated(exc)
                chat_id = exc.new_chat_id
            except RateLimited as exc:
                # Nothing was sent. Later parts of a thread wait here (briefly) rather
                # than leave a thread half-published for another process to double.
                if not patient or exc.retry_after > self.max_inline_wait or tries > 3:
                    raise
                time.sleep(exc.retry_after)

    def _send(self, chat_id: int, part: _Part, reply_to: int | None) -> list[dict[str, Any]]:
        common: dict[str, Any] = {"chat_id": chat_id, **dict(part.delivery)}
        if reply_to:
            # #replyparameters; a reply to a message that vanished still goes out.
            common["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        api = self._api()
        if not part.media:
            params = {**common, "text": escape_html(part.text), "parse_mode": "HTML"}
            if part.link:
                # #linkpreviewoptions: "URL to use for the link preview".
                params["link_preview_options"] = {"url": part.link, "prefer_large_media": True}
            return [api.call("sendMessage", params, writes=True)]
        caption = escape_html(with_link(part.text, part.link))
        if len(part.media) == 1:
            item = part.media[0]
            video = item.mime_type in VIDEO_TYPES
            field = "video" if video else "photo"
            params = {**common, "parse_mode": "HTML"}
            if caption:
                params["caption"] = caption
            if video:
                params["supports_streaming"] = True
                params.update(_dimensions(item))
            # #sending-files: "upload a new photo using multipart/form-data" — the file
            # itself is the ``photo`` (``video``) field.
            return [
                api.call(
                    "sendVideo" if video else "sendPhoto",
                    params,
                    uploads=(Upload(field, item.path, item.mime_type),),
                    writes=True,
                )
            ]
        media: list[dict[str, Any]] = []
        uploads: list[Upload] = []
        for number, item in enumerate(part.media):
            video = item.mime_type in VIDEO_TYPES
            entry: dict[str, Any] = {
                "type": "video" if video else "photo",
                "media": f"attach://file{number}",  # #inputmediaphoto "attach://<name>"
            }
            if number == 0 and caption:
                # An album shows the first item's caption as its own.
                entry.update(caption=caption, parse_mode="HTML")
            if video:
                entry["supports_streaming"] = True
                entry.update(_dimensions(item))
            media.append(entry)
            uploads.append(Upload(f"file{number}", item.path, item.mime_type))
        result = api.call(
            "sendMediaGroup", {**common, "media": media}, uploads=tuple(uploads), writes=True
        )
        if not isinstance(result, list) or not result:
            raise OutcomeUnknown("Telegram did not say which messages it made.", detail=str(result))
        return [dict(m) for m in result]

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """An answer in the comments: a message replying to the comment (#replyparameters)."""
        return self.publish(replace(request, reply_to=to))

    def edit(self, remote_id: str, request: PostRequest) -> PublishResult:
        """Change a published message's text or caption (not part of the connector contract).

        ``editMessageText`` for a text post, ``editMessageCaption`` when the post has
        media (``request.media`` non-empty says which; the media stay as they are).
        Telegram answering "message is not modified" counts as done.
        """
        chat_id, message_id = self._reply_target(RemoteRef(remote_id))
        part = _Part(0, request.text, request.media, request.link)
        problems = text_problems(
            with_link(part.text, part.link) if part.media else part.text, caption=bool(part.media)
        )
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
        if part.media:
            method = "editMessageCaption"
            params.update(caption=escape_html(with_link(part.text, part.link)), parse_mode="HTML")
        else:
            method = "editMessageText"
            params.update(text=escape_html(part.text), parse_mode="HTML")
            if part.link:
                params["link_preview_options"] = {"url": part.link, "prefer_large_media": True}
        try:
            message = self._api().call(method, params, writes=True)
        except Rejected as exc:
            if "not modified" not in exc.detail.lower():
                raise
            message = {"message_id": message_id}
        url = self._message_link(chat_id, message_id)
        stamp = message.get("edit_date") if isinstance(message, Mapping) else None
        return PublishResult(
            remote_id=remote_id, url=url, published_at=when(stamp) if stamp else None
        )

    def delete(self, remote_id: str) -> None:
        """``deleteMessage`` (or ``deleteMessages`` for "id,id,…" — an album's messages).

        #deletemessage: "A message can only be deleted if it was sent less than 48
        hours ago"; "Bots granted can_post_messages permissions can delete outgoing
        messages in channels". A message already gone counts as deleted.
        """
        if ":" in remote_id:
            chat_id, message_id = self._reply_target(RemoteRef(remote_id))
            self._delete(chat_id, [message_id])
            return
        try:
            ids = [int(part) for part in remote_id.split(",") if part.strip()]
        except ValueError:
            raise Rejected(f"Telegram: “{remote_id}” is not a Telegram message id.") from None
        if not ids:
            raise Rejected("Telegram: no message to delete.")
        self._delete(self._chat_id(), ids)

    def _delete(self, chat_id: int, ids: list[int]) -> None:
        try:
            if len(ids) == 1:
                self._api().call(
                    "deleteMessage", {"chat_id": chat_id, "message_id": ids[0]}, writes=True
                )
            else:
                # #deletemessages: 1-100 ids; "If some of the specified messages can't be
                # found, they are skipped."
                self._api().call(
                    "deleteMessages", {"chat_id": chat_id, "message_ids": ids[:100]}, writes=True
                )
        except Rejected as exc:
            said = exc.detail.lower()
            if "not found" in said:
                return
            if "can't be deleted" in said:
                raise Rejected(
                    "Telegram lets a bot delete a message only within 48 hours of sending it "
                    "(and, for other people's messages, only with “Delete messages” rights). "
                    "Delete it in the Telegram app instead.",
                    detail=exc.detail,
                    status=exc.status,
                ) from None
            raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did it go out? By the message id, or by what this process remembers of the key.

        Bots cannot read a chat's history or search it. For a known id Minbar
        asks Telegram to set the message's inline keyboard to what it already is
        (``editMessageReplyMarkup`` without ``reply_markup``; Minbar never adds
        keyboards to its posts): "message is not modified" means the message is
        there, "message to edit not found" that it is not. Nothing is copied or
        changed. By key only this process's journal can answer, so a None is not
        proof (``lookup_authoritative_seconds = 0``).
        """
        if remote_id:
            return self._probe(remote_id)
        if not idempotency_key:
            return None
        attempt = JOURNAL.peek(idempotency_key, self._chat_id())
        if attempt is None or 0 not in attempt.parts:
            return None
        root = attempt.parts[0][0]
        if not root:
            return None
        return RemotePost(
            remote_id=str(root),
            url=self._post_url(root),
            created_at=when(attempt.dates[0]) if attempt.dates.get(0) else None,
        )

    def _probe(self, remote_id: str) -> RemotePost | None:
        chat_id, message_id = self._reply_target(RemoteRef(remote_id))
        try:
            self._api().call(
                "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id}
            )
        except Rejected as exc:
            said = exc.detail.lower()
            if "message to edit not found" in said or "message_id_invalid" in said:
                return None
            if "not modified" not in said and "can't be edited" not in said:
                raise
        return RemotePost(remote_id=remote_id, url=self._message_link(chat_id, message_id))

    # -- measuring ------------------------------------------------------------

    def account_metrics(self) -> Metrics:
        """#getchatmembercount: a channel's subscribers (a group's members) → followers."""
        count = self._api().call("getChatMemberCount", {"chat_id": self._chat_id()})
        return Metrics(values={"followers": int(count)}, fetched_at=datetime.now(UTC))

    # -- engaging -------------------------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """Comments and replies in the discussion group, from ``getUpdates``.

        The cursor holds the ``offset`` (#getupdates: "An update is considered
        confirmed as soon as getUpdates is called with an offset higher than its
        update_id"), confirmed one call late (see :class:`.mapping.UpdatesCursor`).
        Telegram keeps updates for 24 hours at most ("Getting updates"), so a
        channel not polled for a day loses what came meanwhile. While Minbar's
        webhook is set, updates arrive as pushes and this returns nothing.
        """
        now = time.time()
        position = UpdatesCursor.parse(cursor, now)
        ctx = self._refresh_discussion()
        if ctx.discussion_id is None:
            return Page(items=[], cursor=cursor)
        problem = str(self.credentials.data.get("comments_problem") or "")
        if problem:
            title = str(self.credentials.data.get("discussion_title") or "")
            raise Rejected(describe_comments_problem(problem, title), detail=problem)
        params: dict[str, Any] = {
            "limit": 100,
            "timeout": self.poll_timeout,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        if position.confirm:
            params["offset"] = position.confirm
        try:
            updates = self._api().call("getUpdates", params, timeout=self.poll_timeout)
        except Rejected as exc:
            if exc.status == 409:
                return self._webhook_instead(cursor, exc)
            raise
        fresh = sorted(
            (u for u in updates or [] if int(u.get("update_id", -1)) > position.seen),
            key=lambda u: int(u["update_id"]),
        )[:PAGE_UPDATES]
        threads = ThreadMap.load(self.credentials.data.get("threads"))
        items = self._from_updates(fresh, ctx, threads)
        if threads.changed:
            self._save_data(threads=threads.dump())
        seen = int(fresh[-1]["update_id"]) if fresh else position.seen
        after = UpdatesCursor(
            confirm=position.seen + 1 if position.seen >= 0 else position.confirm,
            seen=seen,
            at=int(now) if fresh else position.at,
        )
        return Page(items=items, cursor=after.dump())

    def _from_updates(
        self, updates: list[Mapping[str, Any]], ctx: ChatContext, threads: ThreadMap
    ) -> list[Interaction]:
        found: dict[str, Interaction] = {}
        for update in updates:
            message = update.get("message") or update.get("edited_message")
            if not isinstance(message, Mapping):
                continue
            item = interaction(message, ctx, threads)
            if item is not None:
                found[item.remote_id] = item  # an edit replaces the text seen before
        return list(found.values())

    def _refresh_discussion(self) -> ChatContext:
        """Follow the channel's discussion group as it is now (it can be changed or removed)."""
        if not self._is_channel():
            return self._context()
        chat = self._api().call("getChat", {"chat_id": self._chat_id()})
        linked = chat.get("linked_chat_id")
        known = self.credentials.data.get("discussion_id")
        if (int(linked) if linked is not None else None) != known:
            data = {**self.credentials.data}
            self._save_data(**self._discussion(chat, data))
        return self._context()

    def _webhook_instead(self, cursor: str, exc: Rejected) -> Page[Interaction]:
        """getUpdates refused (409): a webhook is set (#getupdates note 1). Whose?"""
        info = self._api().call("getWebhookInfo")
        url = str(info.get("url") or "")
        base = str(getattr(settings, "MINBAR_BASE_URL", "")).rstrip("/")
        if url and base and url.startswith(base + "/"):
            return Page(items=[], cursor=cursor)  # Minbar's own: pushes bring the comments
        host = urlsplit(url).hostname or "another address"
        raise Rejected(
            f"Another program receives this bot's updates (a webhook to {host}), so Minbar "
            "cannot read comments. Use a bot only for Minbar, or remove that webhook.",
            detail=exc.detail,
            status=409,
        )

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """``deleteMessage`` in the discussion group; the bot needs “Delete messages” there."""
        chat_id, message_id = self._reply_target(interaction)
        self._delete(chat_id, [message_id])

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        raise NotSupported("Telegram has no way to hide a comment; delete it instead.")

    # -- pushes ---------------------------------------------------------------

    def subscribe_push(self, url: str, secret: str, verify_token: str) -> None:
        """#setwebhook with ``secret_token``; only these updates (``allowed_updates``)."""
        parts = urlsplit(url)
        if self.server_url.rstrip("/") == DEFAULT_API:
            # A local Bot API server may use "an HTTP URL" and "any port"
            # (#using-a-local-bot-api-server); api.telegram.org may not.
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if parts.scheme != "https" or port not in WEBHOOK_PORTS:
                raise Rejected(
                    "Telegram sends updates only to https addresses on port 443, 80, 88 or "
                    f"8443, and Minbar's push address is {parts.scheme}://{parts.netloc}. "
                    "Minbar keeps reading comments by polling.",
                )
        if not _SECRET_TOKEN.fullmatch(secret):
            raise Rejected("Telegram's webhook secret may use only A-Z, a-z, 0-9, _ and -.")
        self._api().call(
            "setWebhook",
            {"url": url, "secret_token": secret, "allowed_updates": list(ALLOWED_UPDATES)},
        )

    def parse_push(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[Interaction]:
        """One Update per POST, with "X-Telegram-Bot-Api-Secret-Token" (#setwebhook)."""
        lowered = {key.lower(): value for key, value in headers.items()}
        sent = lowered.get("x-telegram-bot-api-secret-token", "")
        if not secret or not hmac.compare_digest(sent.encode(), secret.encode()):
            raise BadSignature("The push does not carry Minbar's webhook secret.")
        try:
            update = json.loads(body)
        except ValueError:
            raise BadSignature("The push is not JSON.") from None
        if not isinstance(update, Mapping):
            return []
        threads = ThreadMap.load(self.credentials.data.get("threads"))
        items = self._from_updates([update], self._context(), threads)
        if threads.changed:
            self._save_data(threads=threads.dump())
        return items


# -- helpers ------------------------------------------------------------------


def _dimensions(item: MediaItem) -> dict[str, int]:
    sizes: dict[str, int] = {}
    if item.width:
        sizes["width"] = item.width
    if item.height:
        sizes["height"] = item.height
    return sizes


def _media_problems(number: int, item: MediaItem) -> list[str]:
    problems: list[str] = []
    if item.mime_type not in IMAGE_TYPES + VIDEO_TYPES:
        return [
            f"Telegram: attachment {number} is {item.mime_type}; Minbar sends JPEG or PNG "
            "photos and MP4 videos."
        ]
    try:
        size = os.path.getsize(item.path)
    except OSError:
        raise TemporaryError(
            f"Minbar could not read attachment {number} to send it to Telegram."
        ) from None
    video = item.mime_type in VIDEO_TYPES
    limit = MAX_VIDEO_BYTES if video else MAX_PHOTO_BYTES
    if size > limit:
        problems.append(
            f"Telegram: attachment {number} is {size / 1048576:.1f} MB; bots may send "
            f"{'videos' if video else 'photos'} of up to {limit // 1048576} MB."
        )
    if not video and item.width and item.height:
        if item.width + item.height > MAX_PHOTO_SIDES:
            problems.append(
                f"Telegram: photo {number} is {item.width}x{item.height}; width and height "
                f"together may be at most {MAX_PHOTO_SIDES}."
            )
        ratio = max(item.width, item.height) / min(item.width, item.height)
        if ratio > MAX_PHOTO_RATIO:
            problems.append(
                f"Telegram: photo {number} is more than {MAX_PHOTO_RATIO:g} times as long as "
                "it is wide."
            )
    return problems
