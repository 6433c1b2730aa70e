"""Every state change of channels: connecting, health, token refresh, removal."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.accounts.models import User
from minbar.audit.actions import record
from minbar.channels.choices import CHOICES_KEY
from minbar.channels.models import Channel, Health, OAuthAttempt, ServerApp
from minbar.connectors.apps import network_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import AuthExpired, ConnectorError, RateLimited
from minbar.connectors.registry import all_connectors, get_connector
from minbar.connectors.types import (
    AuthKind,
    Author,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
)
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.notifications.actions import notify, workspace_admins
from minbar.webhooks.events import channel_health_changed, emit_for_channel
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Workspace
from minbar.workspaces.roles import Perm

if TYPE_CHECKING:
    from collections.abc import Iterable

    from minbar.inbox.models import Contact
    from minbar.publishing.models import Target

logger = logging.getLogger(__name__)

OAUTH_MINUTES = 15
REFRESH_AHEAD = timedelta(minutes=30)


def _require_manage(access: WorkspaceAccess) -> None:
    if not access.can(Perm.MANAGE_CHANNELS):
        raise NotAllowed(_("Only owners and admins can connect and remove channels."))


def connector_class(network: str) -> type[Connector]:
    try:
        return get_connector(network)
    except LookupError:
        raise NotFound(
            _("Minbar has no connector for “%(network)s”.") % {"network": network}
        ) from None


def connector_for(channel: Channel) -> Connector:
    """A connector acting for ``channel``; refreshed tokens are saved the moment they change."""

    def save(credentials: Credentials) -> None:
        channel.set_credentials(credentials)
        Channel.objects.filter(pk=channel.pk).update(
            credentials_blob=channel.credentials_blob, token_expires_at=channel.token_expires_at
        )

    return connector_class(channel.network)(
        channel.server_url, channel.get_credentials(), on_credentials_change=save
    )


def oauth_redirect_uri() -> str:
    return settings.MINBAR_BASE_URL + reverse("channels:oauth_callback")


def _get_channel(access: WorkspaceAccess, channel_id: int) -> Channel:
    channel = Channel.objects.filter(workspace=access.workspace, pk=channel_id).first()
    if channel is None:
        raise NotFound(_("No such channel."))
    return channel


def _as_input_error(exc: ConnectorError, network_label: object) -> InvalidInput:
    message = exc.message
    if isinstance(exc, AuthExpired):
        message = _("%(network)s did not accept these details: %(reason)s") % {
            "network": network_label,
            "reason": exc.detail or exc.message,
        }
    return InvalidInput(message)


@transaction.atomic
def save_connection(
    actor: Actor, workspace: Workspace, network: str, server_url: str, result: ConnectResult
) -> Channel:
    account = result.account
    channel = (
        Channel.objects.select_for_update()
        .filter(
            workspace=workspace, network=network, server_url=server_url, remote_id=account.remote_id
        )
        .first()
    )
    reconnect = channel is not None
    if channel is None:
        channel = Channel(
            workspace=workspace,
            network=network,
            server_url=server_url,
            remote_id=account.remote_id,
            connected_by=actor.user,
        )
        credentials = result.credentials
    else:
        # Reconnecting keeps whatever the new sign-in did not return (a refresh token).
        credentials = channel.get_credentials().merged(result.credentials)
    if result.choices:
        # The other accounts this sign-in can act as, for the picker (choices.py).
        credentials.data[CHOICES_KEY] = [asdict(choice) for choice in result.choices]
    channel.handle = account.handle
    channel.name = account.display_name
    channel.avatar_url = account.avatar_url
    channel.profile_url = account.url
    channel.set_credentials(credentials)
    now = timezone.now()
    before = channel.health if reconnect else Health.CONNECTED
    channel.health, channel.health_message, channel.health_detail = Health.CONNECTED, "", ""
    channel.rate_limited_until = None
    channel.last_checked_at = channel.last_ok_at = now
    channel.save()
    record(
        actor,
        "channel.reconnected" if reconnect else "channel.connected",
        workspace=workspace,
        target=channel,
        data={"network": network},
    )
    channel_health_changed(channel, before)
    return channel


def connect_with_fields(
    actor: Actor, access: WorkspaceAccess, network: str, fields: dict[str, str]
) -> Channel:
    _require_manage(access)
    cls = connector_class(network)
    if cls.capabilities.auth not in (AuthKind.APP_PASSWORD, AuthKind.TOKEN, AuthKind.BUILT_IN):
        raise InvalidInput(
            _("%(network)s connects through its own sign-in page.")
            % {"network": cls.capabilities.label}
        )
    missing = {
        f.name: _("Required.")
        for f in cls.auth_fields
        if not fields.get(f.name, "").strip() and f.name != "server_url"
    }
    if missing:
        raise InvalidInput(_("Fill in every field."), fields=missing)
    server_url = (fields.get("server_url") or cls.capabilities.default_server_url).strip()
    connector = cls(server_url)
    try:
        result = connector.connect_with_fields({k: v.strip() for k, v in fields.items()})
    except ConnectorError as exc:
        raise _as_input_error(exc, cls.capabilities.label) from None
    return save_connection(actor, access.workspace, network, connector.server_url, result)


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@transaction.atomic
def start_oauth(actor: Actor, access: WorkspaceAccess, network: str, server_url: str = "") -> str:
    """Begin a browser sign-in; returns the network's page to send the user to."""
    _require_manage(access)
    assert actor.user is not None
    cls = connector_class(network)
    if cls.capabilities.auth != AuthKind.OAUTH2:
        raise InvalidInput(
            _("%(network)s does not use a sign-in page.") % {"network": cls.capabilities.label}
        )
    if cls.capabilities.needs_server_url and not server_url.strip():
        raise InvalidInput(
            _("Enter the server address, e.g. https://mastodon.social."),
            fields={"server_url": _("Required.")},
        )
    connector = cls(server_url.strip())
    redirect_uri = oauth_redirect_uri()
    app = ServerApp.objects.filter(
        network=network, server_url=connector.server_url, redirect_uri=redirect_uri
    ).first()
    state = secrets.token_urlsafe(32)
    try:
        start = connector.start_oauth(
            redirect_uri,
            state,
            {"client_id": app.client_id, "client_secret": app.client_secret}
            if app
            else network_app(network),
        )
    except ConnectorError as exc:
        raise _as_input_error(exc, cls.capabilities.label) from None
    if start.app and app is None:
        ServerApp.objects.create(
            network=network,
            server_url=connector.server_url,
            redirect_uri=redirect_uri,
            client_id=start.app["client_id"],
            client_secret=start.app.get("client_secret", ""),
        )
    OAuthAttempt.objects.create(
        state=_hash_state(state),
        workspace=access.workspace,
        network=network,
        server_url=connector.server_url,
        code_verifier=start.code_verifier,
        started_by=actor.user,
        expires_at=timezone.now() + timedelta(minutes=OAUTH_MINUTES),
    )
    return start.url


def finish_oauth(actor: Actor, user: User, *, state: str, code: str, error: str = "") -> Channel:
    """Complete a browser sign-in; only the person who started it can finish it."""
    with transaction.atomic():
        attempt = (
            OAuthAttempt.objects.select_for_update()
            .filter(state=_hash_state(state), started_by=user)
            .select_related("workspace")
            .first()
        )
        if attempt is None or attempt.used_at is not None:
            raise NotFound(_("This sign-in link is not valid any more. Start connecting again."))
        if attempt.expires_at < timezone.now():
            raise Conflict(_("The sign-in took too long. Start connecting again."))
        attempt.used_at = timezone.now()
        attempt.save(update_fields=["used_at"])
    cls = connector_class(attempt.network)
    if error or not code:
        raise InvalidInput(
            _("%(network)s did not give access: %(reason)s")
            % {"network": cls.capabilities.label, "reason": error or _("no code returned")}
        )
    from minbar.workspaces.access import access_for

    access = access_for(user, attempt.workspace.slug)
    _require_manage(access)
    redirect_uri = oauth_redirect_uri()
    app = ServerApp.objects.filter(
        network=attempt.network, server_url=attempt.server_url, redirect_uri=redirect_uri
    ).first()
    start = OAuthStart(
        url="",
        state=state,
        code_verifier=attempt.code_verifier,
        app={"client_id": app.client_id, "client_secret": app.client_secret}
        if app
        else network_app(attempt.network),
    )
    connector = cls(attempt.server_url)
    try:
        result = connector.finish_oauth(redirect_uri, code, start)
    except ConnectorError as exc:
        if app is not None and exc.status == 401:
            # The server forgot Minbar's registration; register afresh next time.
            app.delete()
        raise _as_input_error(exc, cls.capabilities.label) from None
    return save_connection(actor, attempt.workspace, attempt.network, connector.server_url, result)


# -- health --------------------------------------------------------------------


def note_success(channel: Channel) -> Channel:
    now = timezone.now()
    before = channel.health
    changes: dict[str, object] = {"last_checked_at": now, "last_ok_at": now}
    if channel.health != Health.CONNECTED:
        changes |= {
            "health": Health.CONNECTED,
            "health_message": "",
            "health_detail": "",
            "rate_limited_until": None,
        }
    Channel.objects.filter(pk=channel.pk).update(**changes)
    for name, value in changes.items():
        setattr(channel, name, value)
    channel_health_changed(channel, before)
    return channel


def note_failure(channel: Channel, error: ConnectorError) -> Channel:
    """Record what went wrong and tell the workspace's admins when the channel breaks."""
    was_working = channel.health in (Health.CONNECTED, Health.RATE_LIMITED)
    now = timezone.now()
    changes: dict[str, object] = {
        "last_checked_at": now,
        "health_message": error.message[:500],
        "health_detail": error.detail,
    }
    if isinstance(error, RateLimited):
        changes |= {"health": Health.RATE_LIMITED, "rate_limited_until": error.until}
    elif isinstance(error, AuthExpired):
        changes["health"] = Health.NEEDS_RECONNECT
    elif error.kind in ("rejected", "temporary", "outcome_unknown", "not_supported"):
        # One refused post or a network hiccup says nothing about the account itself.
        Channel.objects.filter(pk=channel.pk).update(last_checked_at=now)
        channel.last_checked_at = now
        return channel
    else:
        changes["health"] = Health.ERROR
    Channel.objects.filter(pk=channel.pk).update(**changes)
    for name, value in changes.items():
        setattr(channel, name, value)
    if was_working and channel.health in (Health.NEEDS_RECONNECT, Health.ERROR):
        _tell_admins_channel_broke(channel)
    return channel


def _tell_admins_channel_broke(channel: Channel) -> None:
    label = connector_class(channel.network).capabilities.label
    url = reverse("channels:detail", args=[channel.workspace.slug, channel.pk])
    notify(
        workspace_admins(channel.workspace),
        kind="channel.broken",
        workspace=channel.workspace,
        title=lambda: (
            _("%(network)s channel %(handle)s needs attention")
            % {"network": label, "handle": channel.handle}
        ),
        body=lambda: (
            _("%(reason)s Open the channel in Minbar to reconnect it.")
            % {"reason": channel.health_message}
        ),
        url=url,
    )
    record(
        Actor.system(),
        "channel.broken",
        workspace=channel.workspace,
        target=channel,
        data={"health": channel.health, "message": channel.health_message},
    )
    emit_for_channel(channel, "channel.broken")


def test_channel(actor: Actor, access: WorkspaceAccess, channel_id: int) -> Channel:
    channel = _get_channel(access, channel_id)
    return check_channel(channel)


def check_channel(channel: Channel) -> Channel:
    connector = connector_for(channel)
    try:
        refreshed = connector.refresh()
        if refreshed is not None:
            connector.save_credentials(refreshed)
        account = connector.verify()
    except ConnectorError as exc:
        return note_failure(channel, exc)
    Channel.objects.filter(pk=channel.pk).update(
        handle=account.handle,
        name=account.display_name or channel.name,
        avatar_url=account.avatar_url or channel.avatar_url,
    )
    channel.refresh_from_db()
    return note_success(channel)


@dataclass(frozen=True)
class Removed:
    """What removing a channel did about Minbar's access on the network."""

    revoked: bool = False  # the network confirmed Minbar's access has ended
    # Another channel uses the same sign-in, so its access was left alone.
    shared: bool = False
    # Revoking failed: what to tell the person, with where to end the access by hand.
    problem: str = ""


def disconnect(actor: Actor, access: WorkspaceAccess, channel_id: int) -> Removed:
    """Remove the channel, first asking the network to end Minbar's access where it can.

    A failed revocation never keeps the channel: it is logged (without secrets) and
    the person is told where to end the access themselves.
    """
    _require_manage(access)
    channel = _get_channel(access, channel_id)
    label = str(channel)
    removed = _revoke_access(channel)
    with transaction.atomic():
        channel.delete()
        record(
            actor,
            "channel.removed",
            workspace=access.workspace,
            target_label=label,
            data={"revoked": removed.revoked, "revoke_failed": bool(removed.problem)},
        )
    return removed


def revokes(cls: type[Connector]) -> bool:
    """Can Minbar ask this network to end its access (a revocation endpoint)?"""
    return cls.revoke is not Connector.revoke


def _revoke_access(channel: Channel) -> Removed:
    cls = connector_class(channel.network)
    if not revokes(cls):
        return Removed()  # nothing the network lets an app revoke
    if _sign_in_shared(channel):
        # Revoking would end the other channels' access too (one Google sign-in can
        # stand for several Business Profile locations).
        return Removed(shared=True)
    try:
        connector_for(channel).revoke()
    except Exception as exc:
        logger.warning(
            "revoking Minbar's access for %s channel %s failed: %s (HTTP %s)",
            channel.network,
            channel.pk,
            type(exc).__name__,
            getattr(exc, "status", None) or "-",
        )
        network = cls.capabilities.label
        problem = _(
            "%(network)s did not confirm that Minbar's access has ended. You can end it "
            "yourself in your %(network)s account's settings, under connected apps."
        ) % {"network": network}
        if cls.access_settings_url:
            problem += " " + cls.access_settings_url
        return Removed(problem=problem)
    return Removed(revoked=True)


def _sign_in_shared(channel: Channel) -> bool:
    """Does another channel (in any workspace) hold the same token as this one?"""
    mine = {v for k, v in channel.get_credentials().secrets.items() if k.endswith("token") and v}
    if not mine:
        return False
    for other in Channel.objects.filter(network=channel.network).exclude(pk=channel.pk):
        theirs = other.get_credentials().secrets
        if mine & {v for k, v in theirs.items() if k.endswith("token") and v}:
            return True
    return False


def refresh_expiring_tokens() -> dict[str, int]:
    """Refresh every token that expires within the next half hour (periodic task)."""
    due = (
        Channel.objects.filter(
            token_expires_at__isnull=False, token_expires_at__lte=timezone.now() + REFRESH_AHEAD
        )
        .exclude(health=Health.NEEDS_RECONNECT)
        .select_related("workspace")
    )
    counts = {"refreshed": 0, "failed": 0}
    for channel in due:
        connector = connector_for(channel)
        try:
            fresh = connector.refresh()
        except ConnectorError as exc:
            note_failure(channel, exc)
            counts["failed"] += 1
            continue
        if fresh is not None:
            connector.save_credentials(fresh)
            counts["refreshed"] += 1
    return counts


def check_all_channels() -> dict[str, int]:
    counts = {"ok": 0, "broken": 0}
    for channel in Channel.objects.exclude(health=Health.NEEDS_RECONNECT).select_related(
        "workspace"
    ):
        checked = check_channel(channel)
        counts["ok" if checked.health == Health.CONNECTED else "broken"] += 1
    return counts


@dataclass(frozen=True)
class Activity:
    metrics: dict[str, int]
    interactions: list[Interaction]
    error: str = ""
    # The interactions are what the inbox stored, not a live read (see stored_interactions).
    from_inbox: bool = False


def recent_activity(channel: Channel, limit: int = 10) -> Activity:
    """The account's counters and newest interactions, read live from the network.

    Where reading interactions would take them away from the inbox (Telegram's
    getUpdates confirms what it hands out), the panel shows what the inbox stored.
    """
    connector = connector_for(channel)
    caps = connector.capabilities
    from_inbox = bool(caps.interactions) and connector.interactions_consumed_on_read
    try:
        metrics = connector.account_metrics().values if caps.account_metrics else {}
        items: list[Interaction] = []
        if from_inbox:
            items = stored_interactions(channel, limit)
        elif caps.interactions:
            cursor, pages = "", 0
            # Read forward a few pages at most; the inbox (not this panel) keeps history.
            while pages < 5:
                page = connector.interactions(cursor)
                items.extend(page.items)
                pages += 1
                if not page.cursor or page.cursor == cursor or not page.items:
                    break
                cursor = page.cursor
    except ConnectorError as exc:
        note_failure(channel, exc)
        return Activity(metrics={}, interactions=[], error=exc.message)
    note_success(channel)
    newest = sorted(items, key=lambda i: i.created_at, reverse=True)[:limit]
    return Activity(metrics=metrics, interactions=newest, from_inbox=from_inbox)


def stored_interactions(channel: Channel, limit: int = 10) -> list[Interaction]:
    """The newest interactions the inbox stored for the channel (items and activity)."""
    from minbar.inbox.models import Activity as Reaction
    from minbar.inbox.models import Item

    found = [
        Interaction(
            remote_id=item.remote_id,
            kind=InteractionKind(item.kind),
            author=_author(item.contact),
            created_at=item.remote_created_at,
            text=item.text,
            url=item.url,
            rating=item.rating,
        )
        for item in Item.objects.filter(channel=channel, deleted_at__isnull=True)
        .select_related("contact")
        .order_by("-remote_created_at", "-id")[:limit]
    ]
    found += [
        Interaction(
            remote_id=reaction.remote_id,
            kind=InteractionKind(reaction.kind),
            author=_author(reaction.contact),
            created_at=reaction.occurred_at,
        )
        for reaction in Reaction.objects.filter(channel=channel)
        .select_related("contact")
        .order_by("-occurred_at", "-id")[:limit]
    ]
    return sorted(found, key=lambda i: i.created_at, reverse=True)[:limit]


def _author(contact: Contact) -> Author:
    return Author(
        remote_id=contact.remote_id,
        handle=contact.handle,
        display_name=contact.display_name,
        url=contact.profile_url,
    )


def kept_private(targets: Iterable[Target]) -> set[int]:
    """The published targets whose video the network kept private against the post's wish.

    YouTube locks uploads from a Google Cloud project that has not passed its API
    audit to private; the connector remembers those videos with the channel. Read from
    the stored credentials only, never from the network.
    """
    by_channel: dict[int, tuple[Channel, list[Target]]] = {}
    for target in targets:
        if target.remote_id:
            by_channel.setdefault(target.channel_id, (target.channel, []))[1].append(target)
    found: set[int] = set()
    for channel, published in by_channel.values():
        locked = getattr(connector_for(channel), "locked_private_videos", None)
        if callable(locked):
            videos = set(locked())
            found |= {t.pk for t in published if t.remote_id in videos}
    return found


def available_networks() -> list[type[Connector]]:
    return list(all_connectors().values())
