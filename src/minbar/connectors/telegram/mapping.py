"""Telegram messages and updates as Minbar's plain data.

Where comments live (https://core.telegram.org/bots/api#message): a channel post
is copied into the channel's discussion group by Telegram itself — a message with
``is_automatic_forward`` ("a channel post that was automatically forwarded to the
connected discussion group") whose ``forward_origin`` is a MessageOriginChannel
(``chat`` = the channel, ``message_id`` = the post, #messageoriginchannel). People's
comments are replies to that copy: their ``reply_to_message`` is the copy (a top-level
comment) and their ``message_thread_id`` ("Unique identifier of a message thread …
to which the message belongs; for supergroups") is the copy's id in the group, also
for answers to other comments. ``reply_to_message`` "will not contain further
reply_to_message fields even if it itself is a reply", so an answer to a comment
names its post only through the thread: Minbar keeps a small map of thread roots
(the copy's id in the group → the post's id in the channel), learnt from the
copies and the top-level comments it sees (:class:`ThreadMap`).

When Minbar publishes to a group rather than a channel, the bot's own messages
are the posts and the group is where comments are; a root is then a message of
the bot that is in no thread.

Only messages that belong to a post's thread (or answer the bot) become
interactions: a discussion group is also a chat, and its other conversations are
not comments on the brand's posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from minbar.connectors.types import Author, Interaction, InteractionKind, RemoteRef

# Thread roots remembered per channel (a post a day is a year and a half of posts).
MAX_THREADS = 500


def when(unix: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(unix), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def internal_id(chat_id: int) -> str:
    """The id in ``t.me/c/<id>/<message>`` links: a supergroup's or channel's id without -100."""
    text = str(chat_id)
    return text[4:] if text.startswith("-100") else ""


def message_url(chat_id: int, username: str, message_id: int | str) -> str:
    """A link to a message: public chats by username, private ones by internal id."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    inner = internal_id(chat_id)
    return f"https://t.me/c/{inner}/{message_id}" if inner else ""


def chat_url(username: str) -> str:
    return f"https://t.me/{username}" if username else ""


def interaction_id(chat_id: int, message_id: int | str) -> str:
    """An interaction's remote id names its chat too: message ids are per chat."""
    return f"{chat_id}:{message_id}"


def parse_interaction_id(remote_id: str) -> tuple[int, int]:
    """``"<chat id>:<message id>"`` → the two numbers; ValueError when it is not one."""
    chat, sep, message = remote_id.rpartition(":")
    if not sep:
        raise ValueError(remote_id)
    return int(chat), int(message)


@dataclass
class ThreadMap:
    """Discussion-group thread roots → the posts they stand for, newest kept.

    Keys are the root's message id in the discussion group; albums also keep
    ``"mg:<media_group_id>"`` → their first post, because Telegram copies each
    photo of an album on its own and comments may hang under any of them, while
    Minbar knows the album by its first message.
    """

    roots: dict[str, str] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, raw: Any) -> ThreadMap:
        if not isinstance(raw, Mapping):
            return cls()
        return cls({str(k): str(v) for k, v in raw.items() if str(v).isdigit()})

    def dump(self) -> dict[str, str]:
        return dict(self.roots)

    def get(self, root: Any) -> str:
        return self.roots.get(str(root), "") if root is not None else ""

    def learn(self, root: int, post: int, media_group: str = "") -> str:
        """Remember a root; the post it maps to (an album's first message)."""
        post_id = str(post)
        if media_group:
            key = f"mg:{media_group}"
            known = self.roots.get(key)
            if known is None or int(known) > post:
                self._set(key, post_id)
                # Roots seen before for a later photo of the album follow the first.
                for other, value in list(self.roots.items()):
                    if value == known and not other.startswith("mg:"):
                        self._set(other, post_id)
            else:
                post_id = known
        self._set(str(root), post_id)
        return post_id

    def _set(self, key: str, value: str) -> None:
        if self.roots.get(key) == value:
            return
        self.roots.pop(key, None)
        self.roots[key] = value  # newest last
        self.changed = True
        while len(self.roots) > MAX_THREADS:
            del self.roots[next(iter(self.roots))]


@dataclass(frozen=True)
class ChatContext:
    """What mapping needs to know about the connected chat."""

    chat_id: int  # where Minbar publishes (a channel, or a group)
    username: str  # the chat's public @username, "" when private
    is_channel: bool
    discussion_id: int | None  # where comments are: the linked group, or the group itself
    discussion_username: str
    bot_id: int


def _sender(message: Mapping[str, Any]) -> Author:
    chat = message.get("sender_chat")
    if isinstance(chat, Mapping):
        username = str(chat.get("username") or "")
        return Author(
            remote_id=str(chat.get("id") or ""),
            handle=username,
            display_name=str(chat.get("title") or username),
            url=chat_url(username),
        )
    sent_by = message.get("from")
    user: Mapping[str, Any] = sent_by if isinstance(sent_by, Mapping) else {}
    username = str(user.get("username") or "")
    name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
    return Author(
        remote_id=str(user.get("id") or ""),
        handle=username,
        display_name=name or username,
        url=chat_url(username),
    )


def _text(message: Mapping[str, Any]) -> str:
    text = message.get("text") or message.get("caption")
    if text:
        return str(text)
    sticker = message.get("sticker")
    if isinstance(sticker, Mapping) and sticker.get("emoji"):
        return str(sticker["emoji"])
    return ""


def _from_id(message: Mapping[str, Any]) -> int | None:
    user = message.get("from")
    return int(user["id"]) if isinstance(user, Mapping) and "id" in user else None


def _chat_id(message: Mapping[str, Any]) -> int | None:
    chat = message.get("chat")
    return int(chat["id"]) if isinstance(chat, Mapping) and "id" in chat else None


def root_post(message: Mapping[str, Any], ctx: ChatContext, threads: ThreadMap) -> str:
    """The post id when ``message`` is a thread root in the discussion chat; else ""."""
    if _chat_id(message) != ctx.discussion_id:
        return ""
    message_id = int(message.get("message_id") or 0)
    if ctx.is_channel:
        origin = message.get("forward_origin")
        if not message.get("is_automatic_forward") or not isinstance(origin, Mapping):
            return ""
        origin_chat = origin.get("chat")
        if not isinstance(origin_chat, Mapping):
            return ""
        if origin.get("type") != "channel" or origin_chat.get("id") != ctx.chat_id:
            return ""
        post = int(origin.get("message_id") or 0)
        if not post:
            return ""
        return threads.learn(message_id, post, str(message.get("media_group_id") or ""))
    if _from_id(message) == ctx.bot_id and "message_thread_id" not in message:
        return threads.learn(message_id, message_id)
    return ""


def comment_url(ctx: ChatContext, post: str, message_id: int) -> str:
    """A comment's link: under the post on a public channel, else in the group."""
    if ctx.is_channel and ctx.username and post:
        return f"https://t.me/{ctx.username}/{post}?comment={message_id}"
    if ctx.discussion_id is None:
        return ""
    return message_url(ctx.discussion_id, ctx.discussion_username, message_id)


def interaction(
    message: Mapping[str, Any], ctx: ChatContext, threads: ThreadMap
) -> Interaction | None:
    """The comment or reply ``message`` is, or None when it is not one of the channel's."""
    if ctx.discussion_id is None or _chat_id(message) != ctx.discussion_id:
        return None
    if root_post(message, ctx, threads):
        return None  # a post's own copy, not a comment
    sender_chat = message.get("sender_chat")
    if _from_id(message) == ctx.bot_id or message.get("is_automatic_forward"):
        return None
    if isinstance(sender_chat, Mapping) and sender_chat.get("id") == ctx.chat_id:
        return None  # the brand itself, writing as the channel (or the group's admins)
    message_id = int(message.get("message_id") or 0)
    parent = message.get("reply_to_message")
    parent = parent if isinstance(parent, Mapping) else None
    thread = message.get("message_thread_id")
    post = root_post(parent, ctx, threads) if parent else ""
    parent_ref: RemoteRef | None
    if post:
        kind = InteractionKind.COMMENT
        parent_ref = RemoteRef(post, url=message_url(ctx.chat_id, ctx.username, post))
    elif threads.get(thread):
        post = threads.get(thread)
        kind = InteractionKind.REPLY
        parent_ref = _message_ref(parent, ctx, post) if parent else None
    elif parent is not None and _from_id(parent) == ctx.bot_id:
        kind = InteractionKind.REPLY
        parent_ref = _message_ref(parent, ctx, "")
    else:
        return None
    remote_id = interaction_id(ctx.discussion_id, message_id)
    url = comment_url(ctx, post, message_id)
    return Interaction(
        remote_id=remote_id,
        kind=kind,
        author=_sender(message),
        created_at=when(message.get("date")),
        text=_text(message),
        url=url,
        post=RemoteRef(post, url=message_url(ctx.chat_id, ctx.username, post)) if post else None,
        parent=parent_ref,
        ref=RemoteRef(remote_id, url=url),
    )


def _message_ref(message: Mapping[str, Any], ctx: ChatContext, post: str) -> RemoteRef:
    message_id = int(message.get("message_id") or 0)
    chat = _chat_id(message) or ctx.discussion_id or 0
    return RemoteRef(interaction_id(chat, message_id), url=comment_url(ctx, post, message_id))


# -- the getUpdates cursor -----------------------------------------------------

# After a week without updates, Telegram picks the next update_id at random
# (#update), so an old cursor's numbers mean nothing any more.
QUIET_RESET_SECONDS = 6 * 24 * 3600


@dataclass(frozen=True)
class UpdatesCursor:
    """Where reading updates stands.

    ``confirm`` is the ``offset`` to pass: updates below it are confirmed (gone
    from Telegram). ``seen`` is the highest update already handed out. Minbar
    confirms an update only on the call *after* the one following its hand-out
    — a caller passing a cursor back proves it stored the previous page, but a
    caller peeking (the channel page's "recent activity") would otherwise take
    the inbox's updates away. ``at`` is when the last update arrived.
    """

    confirm: int = 0
    seen: int = -1
    at: int = 0

    @classmethod
    def parse(cls, raw: str, now: float) -> UpdatesCursor:
        parts = raw.split(":")
        if len(parts) != 4 or parts[0] != "tg1":
            return cls()
        try:
            cursor = cls(int(parts[1]), int(parts[2]), int(parts[3]))
        except ValueError:
            return cls()
        if cursor.at and now - cursor.at > QUIET_RESET_SECONDS:
            return cls()  # update ids may start anywhere now; duplicates are harmless
        return cursor

    def dump(self) -> str:
        return f"tg1:{self.confirm}:{self.seen}:{self.at}"
