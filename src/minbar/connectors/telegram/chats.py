"""Reading what people type into the connect form, and checking the bot's rights.

The form asks for the bot token and the chat. A chat is named by "Unique
identifier for the target chat or username of the target channel (in the format
@channelusername)" (https://core.telegram.org/bots/api#sendmessage, ``chat_id``).
People paste all sorts: ``@brand``, ``brand``, ``https://t.me/brand``,
``t.me/brand/42`` or ``-1001234567890``. Invite links (``t.me/+…``,
``t.me/joinchat/…``) name no chat a bot can use.

Rights (https://core.telegram.org/bots/api#chatmemberadministrator):
``can_post_messages`` — "True, if the administrator can post messages in the
channel, approve suggested posts, or access channel statistics; for channels
only"; ``can_delete_messages`` — "True, if the administrator can delete messages
of other users". In groups a bot needs only to be a member allowed to send
(#chatmemberrestricted ``can_send_messages``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from minbar.connectors.errors import Rejected

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_LINK = re.compile(r"(?i)^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/(.+)$")


def chat_reference(raw: str) -> str | int:
    """The ``chat_id`` for what was typed: ``@username`` or a number."""
    text = raw.strip()
    if not text:
        raise Rejected("Enter the channel's @username, its t.me link or its numeric id.")
    link = _LINK.match(text)
    if link:
        path = link.group(1).split("?")[0].strip("/")
        first = path.split("/")[0]
        if first.startswith("+") or first.lower() == "joinchat":
            raise Rejected(
                "That is an invite link, which a bot cannot use. Enter the channel's "
                "@username, or for a private channel its numeric id (it starts with -100; "
                "see docs/networks/telegram.md)."
            )
        if first.lower() == "c":
            parts = path.split("/")
            if len(parts) >= 2 and parts[1].isdigit():
                return int(f"-100{parts[1]}")
        text = first
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    name = text.lstrip("@")
    if not _USERNAME.fullmatch(name):
        raise Rejected(
            f"“{raw.strip()}” is not a Telegram @username (5 to 32 letters, digits or _) "
            "nor a numeric chat id."
        )
    return f"@{name}"


def member_problem(member: Mapping[str, Any], *, is_channel: bool, title: str) -> str:
    """Why the bot cannot publish in the chat with these rights; "" when it can."""
    status = str(member.get("status") or "")
    if is_channel:
        if status == "creator":
            return ""
        if status != "administrator":
            return _(
                "The bot is not an administrator of “%(title)s”. In Telegram, open the "
                "channel → Administrators → Add Admin, choose the bot and allow “Post "
                "messages”, then connect again."
            ) % {"title": title}
        if not member.get("can_post_messages"):
            return _(
                "The bot is an administrator of “%(title)s” but may not post. In the "
                "channel's Administrators, open the bot and turn on “Post messages”."
            ) % {"title": title}
        return ""
    if status in ("creator", "administrator", "member"):
        return ""
    if status == "restricted" and member.get("is_member") and member.get("can_send_messages"):
        return ""
    return _(
        "The bot cannot write in “%(title)s”. Add it to the group (as an administrator, so "
        "that it also reads the comments) and connect again."
    ) % {"title": title}


# Why the bot would miss comments, as stored with the channel (rendered when shown).
PRIVACY_MODE = "privacy_mode"
NOT_IN_GROUP = "not_in_group"


def comments_problem(member: Mapping[str, Any] | None, *, reads_all: bool) -> str:
    """Why the bot would miss comments in the discussion group; "" when it sees them.

    "Bot admins and bots with privacy mode disabled will receive all messages"
    (https://core.telegram.org/bots/features#privacy-mode); a member in privacy
    mode sees only replies to its own messages.
    """
    status = str((member or {}).get("status") or "")
    if status in ("creator", "administrator") or (status == "member" and reads_all):
        return ""
    if status in ("member", "restricted"):
        return PRIVACY_MODE
    return NOT_IN_GROUP


def describe_comments_problem(problem: str, group_title: str) -> str:
    """The stored problem in the reader's language."""
    if problem == PRIVACY_MODE:
        return _(
            "The bot is in “%(group)s” but in privacy mode, so it sees only answers to its "
            "own messages. Make it an administrator of the group (or turn privacy mode off "
            "in @BotFather and add it again) to see every comment."
        ) % {"group": group_title}
    if problem == NOT_IN_GROUP:
        return _(
            "Comments on this channel are in the group “%(group)s”, and the bot is not in "
            "it. Add the bot to that group as an administrator to see comments in Minbar."
        ) % {"group": group_title}
    return ""
