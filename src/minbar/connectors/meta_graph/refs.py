"""How a Meta direct message is addressed in an inbox reply reference.

The inbox keeps only a reference's ``remote_id`` (and URL) to answer an item, so a
message's reply reference carries what the Send API needs in that one string:
``dm:<conversation id>:<sender id>`` (the sender id is the Page-scoped or
Instagram-scoped id the Send API takes as ``recipient.id``).
"""

from __future__ import annotations

PREFIX = "dm:"


def dm_ref(conversation_id: str, sender_id: str) -> str:
    return f"{PREFIX}{conversation_id}:{sender_id}"


def parse_dm_ref(remote_id: str) -> tuple[str, str] | None:
    """(conversation id, sender id) of a direct-message reference, or None for a comment."""
    if not remote_id.startswith(PREFIX):
        return None
    conversation, _, sender = remote_id[len(PREFIX) :].rpartition(":")
    if not conversation or not sender:
        return None
    return conversation, sender
