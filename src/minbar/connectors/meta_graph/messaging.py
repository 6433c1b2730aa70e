"""Reading conversations and answering within Meta's standard messaging window.

Messenger and Instagram messaging let a business answer a person only within the
standard messaging window: 24 hours after the person's last message
(https://developers.facebook.com/docs/messenger-platform/policy/policy-overview,
https://developers.facebook.com/docs/messenger-platform/send-messages). Outside
it, only message tags may be used; the ``HUMAN_AGENT`` tag (7 days) needs the
Human Agent permission granted through App Review, and tags must not carry
promotional content. Minbar sends ``messaging_type=RESPONSE`` only, checks the
window first, and refuses with an explanation instead of sending a message Meta
would refuse (code 10, subcode 2018278) or that breaks the policy.

Send API: ``POST /{page-id}/messages`` (Facebook Login; Instagram through a Page)
or ``POST /me/messages`` (Instagram Login) with ``recipient={"id": ...}``,
``messaging_type=RESPONSE`` and ``message={"text": ...}``
(https://developers.facebook.com/docs/messenger-platform/reference/send-api/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from minbar.connectors.errors import Rejected
from minbar.connectors.meta_graph.client import GraphClient
from minbar.connectors.meta_graph.cursor import parse_time

if TYPE_CHECKING:
    from minbar.connectors.meta_graph.cursor import Cursor
    from minbar.connectors.types import Interaction

STANDARD_WINDOW = timedelta(hours=24)
# How many recently updated conversations the inbox reads, and messages of each.
RECENT_CONVERSATIONS = 10
MESSAGES_PER_CONVERSATION = 25
# Messenger's text limit per message (Send API reference: "text must be UTF-8 and
# has a 2000 character limit"); Instagram messaging takes 1000 bytes.
MESSENGER_TEXT_LIMIT = 2000


def new_messages(
    client: GraphClient,
    owner: str,
    *,
    platform: str,
    since: Cursor,
    read: Callable[[Mapping[str, Any]], Interaction | None],
    conversation_fields: str = "id,updated_time",
) -> list[Interaction]:
    """Messages in ``owner``'s conversations updated since the cursor, as inbox items.

    ``GET /{owner}/conversations?platform=messenger|instagram`` then each recent
    conversation's ``/messages``; ``read`` turns one message into an item (None for the
    account's own). Conversations untouched since the cursor are not read again.
    """
    conversations = client.get(
        f"{owner}/conversations",
        platform=platform,
        fields=conversation_fields,
        limit=RECENT_CONVERSATIONS,
    )
    items: list[Interaction] = []
    for conversation in conversations.get("data") or []:
        updated = parse_time(conversation.get("updated_time"))
        if since.at is not None and updated is not None and updated < since.at:
            continue
        messages = client.get(
            f"{conversation['id']}/messages",
            fields="id,message,created_time,from,to",
            limit=MESSAGES_PER_CONVERSATION,
        )
        for message in messages.get("data") or []:
            item = read(message)
            if item is not None and since.is_new(item.remote_id, item.created_at):
                items.append(item)
    return items


def messages_with(
    client: GraphClient, owner: str, *, platform: str, person_id: str
) -> list[Mapping[str, Any]]:
    """The newest messages of ``owner``'s conversation with one person ([] when none)."""
    found = (
        client.get(f"{owner}/conversations", platform=platform, user_id=person_id, fields="id").get(
            "data"
        )
        or []
    )
    if not found:
        return []
    return (
        client.get(
            f"{found[0]['id']}/messages",
            fields="id,from,created_time",
            limit=MESSAGES_PER_CONVERSATION,
        ).get("data")
        or []
    )


def last_message_from(messages: Iterable[Mapping[str, Any]], sender_id: str) -> datetime | None:
    newest: datetime | None = None
    for message in messages:
        sender = message.get("from") or {}
        if str(sender.get("id", "")) != sender_id:
            continue
        moment = parse_time(message.get("created_time") or message.get("timestamp"))
        if moment is not None and (newest is None or moment > newest):
            newest = moment
    return newest


def check_window(last: datetime | None, *, label: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if last is None:
        raise Rejected(
            f"{label} lets a business message only people who wrote to it first; "
            "Minbar found no message from this person."
        )
    if now - last > STANDARD_WINDOW:
        hours = int((now - last).total_seconds() // 3600)
        raise Rejected(
            f"{label} allows answers only within 24 hours of the person's last message "
            f"(it was {hours} hours ago). Answer in {label} itself, or wait for the person "
            "to write again; Minbar does not send tagged messages outside the window."
        )


def send_text(
    client: GraphClient, path: str, *, recipient_id: str, text: str, label: str
) -> dict[str, Any]:
    if not text.strip():
        raise Rejected(f"Write a message to send on {label}.")
    if len(text) > MESSENGER_TEXT_LIMIT:
        raise Rejected(
            f"{label} messages are at most {MESSENGER_TEXT_LIMIT} characters "
            f"(this one has {len(text)})."
        )
    answer = client.post(
        path,
        recipient={"id": recipient_id},
        messaging_type="RESPONSE",
        message={"text": text},
    )
    return dict(answer) if isinstance(answer, Mapping) else {}
