"""Several accounts from one sign-in: Facebook Pages, LinkedIn organizations, business locations.

A network may let one person's sign-in act for many accounts. The connector
connects a default one and lists the others (``ConnectResult.choices``); Minbar
keeps that list with the channel's encrypted sign-in and lets an owner or admin
connect any of them as channels of their own, at once after signing in or later
from the channel's page, without signing in again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minbar.channels.models import Channel
from minbar.connectors.errors import ConnectorError
from minbar.connectors.types import AccountChoice
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotFound
from minbar.workspaces.access import WorkspaceAccess

CHOICES_KEY = "sign_in_choices"


# What an account is, in the user's words (AccountChoice.kind).
KIND_LABELS = {
    "page": gettext_lazy("Page"),
    "organization": gettext_lazy("Organization page"),
    "location": gettext_lazy("Business location"),
    "member": gettext_lazy("Personal profile"),
    "board": gettext_lazy("Board"),
    "channel": gettext_lazy("Channel"),
    "account": gettext_lazy("Account"),
}


@dataclass(frozen=True)
class Offered:
    """One account the sign-in offers, and the channel already connected for it, if any."""

    choice: AccountChoice
    channel: Channel | None

    @property
    def kind_label(self) -> str:
        # A known kind in the user's words; a connector's own (translated) word otherwise.
        return str(KIND_LABELS.get(self.choice.kind, self.choice.kind))


def choices_of(channel: Channel) -> list[AccountChoice]:
    stored = channel.get_credentials().data.get(CHOICES_KEY) or []
    found: list[AccountChoice] = []
    for item in stored:
        if isinstance(item, dict) and item.get("remote_id"):
            found.append(
                AccountChoice(
                    remote_id=str(item["remote_id"]),
                    name=str(item.get("name") or item["remote_id"]),
                    kind=str(item.get("kind") or ""),
                    detail=str(item.get("detail") or ""),
                )
            )
    return found


def offered(channel: Channel) -> list[Offered]:
    """The other accounts, each with its channel in this workspace when already connected."""
    choices = choices_of(channel)
    connected = {
        c.remote_id: c
        for c in Channel.objects.filter(
            workspace_id=channel.workspace_id,
            network=channel.network,
            server_url=channel.server_url,
            remote_id__in=[choice.remote_id for choice in choices],
        )
    }
    return [Offered(choice, connected.get(choice.remote_id)) for choice in choices]


def connect_choices(
    actor: Actor, access: WorkspaceAccess, channel_id: int, remote_ids: list[str]
) -> list[Channel]:
    """Connect the chosen accounts as channels, with the sign-in ``channel_id`` holds."""
    from minbar.channels.actions import (
        _as_input_error,
        _require_manage,
        connector_for,
        save_connection,
    )

    _require_manage(access)
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise NotFound(_("That channel does not exist in this workspace."))
    known = {choice.remote_id for choice in choices_of(channel)}
    wanted = [rid for rid in dict.fromkeys(remote_ids) if rid]
    if not wanted:
        raise InvalidInput(
            _("Tick at least one account to connect."), fields={"accounts": _("Required.")}
        )
    unknown = [rid for rid in wanted if rid not in known]
    if unknown:
        raise InvalidInput(
            _("This sign-in does not offer that account. Sign in again to see it."),
            fields={"accounts": _("Not offered.")},
        )
    connector = connector_for(channel)
    label = type(connector).capabilities.label
    made: list[Channel] = []
    for remote_id in wanted:
        try:
            result = connector.connect_choice(remote_id)
        except ConnectorError as exc:
            raise _as_input_error(exc, label) from None
        with transaction.atomic():
            made.append(
                save_connection(
                    actor, access.workspace, channel.network, channel.server_url, result
                )
            )
    return made
