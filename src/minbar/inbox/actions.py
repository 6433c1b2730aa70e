"""Every change a person makes in the inbox: assign, tag, close, mark spam, note, reply, hide."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.accounts.models import User
from minbar.audit.actions import record
from minbar.connectors.errors import ConnectorError, NotSupported, OutcomeUnknown, Rejected
from minbar.connectors.types import MediaItem, PostRequest, RemoteRef
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.inbox.models import (
    Contact,
    InboxSettings,
    Item,
    Note,
    Reply,
    ReplyState,
    Rule,
    SavedReply,
    SavedView,
    SentimentCorrection,
    Status,
    Viewing,
)
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm, has_perm

MAX_TAGS = 20


def items_for(access: WorkspaceAccess) -> QuerySet[Item]:
    if not access.can(Perm.VIEW_INBOX):
        return Item.objects.none()
    return Item.objects.filter(workspace=access.workspace)


def get_item(access: WorkspaceAccess, item_id: int) -> Item:
    item = items_for(access).select_related("channel", "contact", "assignee").filter(pk=item_id)
    found = item.first()
    if found is None:
        raise NotFound(_("No such conversation item."))
    return found


def _engaging(access: WorkspaceAccess, item_id: int) -> Item:
    item = get_item(access, item_id)
    if not access.can(Perm.ENGAGE):
        raise NotAllowed(_("Your role does not allow answering the inbox."))
    return item


def assign(actor: Actor, access: WorkspaceAccess, item_ids: list[int], user_id: int | None) -> int:
    """Give items to a member (or to nobody); returns how many changed."""
    assignee = None
    if user_id is not None:
        membership = (
            Membership.objects.filter(workspace=access.workspace, user_id=user_id)
            .select_related("user")
            .first()
        )
        if membership is None or not has_perm(membership.role, Perm.ENGAGE):
            raise InvalidInput(
                _("Choose a member of this workspace."), fields={"assignee": _("Unknown.")}
            )
        assignee = membership.user
    items = [_engaging(access, pk) for pk in item_ids]
    for item in items:
        item.assignee = assignee
        item.assigned_at = timezone.now() if assignee else None
        item.save(update_fields=["assignee", "assigned_at"])
    record(
        actor,
        "inbox.assigned",
        workspace=access.workspace,
        data={"items": item_ids, "assignee": user_id},
    )
    return len(items)


def set_status(actor: Actor, access: WorkspaceAccess, item_ids: list[int], status: str) -> int:
    if status not in Status.values:
        raise InvalidInput(_("Choose open, closed or spam."), fields={"status": _("Unknown.")})
    items = [_engaging(access, pk) for pk in item_ids]
    now = timezone.now()
    for item in items:
        item.status = status
        item.closed_at = now if status != Status.OPEN else None
        item.save(update_fields=["status", "closed_at"])
    record(actor, f"inbox.{status}", workspace=access.workspace, data={"items": item_ids})
    return len(items)


def tag(
    actor: Actor, access: WorkspaceAccess, item_ids: list[int], add: list[str], remove: list[str]
) -> int:
    add = [t.strip()[:50] for t in add if t.strip()]
    items = [_engaging(access, pk) for pk in item_ids]
    for item in items:
        tags = [t for t in item.tags if t not in remove]
        tags += [t for t in add if t not in tags]
        if len(tags) > MAX_TAGS:
            raise InvalidInput(
                _("At most %(n)d tags per item.") % {"n": MAX_TAGS}, fields={"tags": _("Too many.")}
            )
        item.tags = tags
        item.save(update_fields=["tags"])
    record(actor, "inbox.tagged", workspace=access.workspace, data={"items": item_ids, "add": add})
    return len(items)


def add_note(actor: Actor, access: WorkspaceAccess, item_id: int, body: str) -> Note:
    """An internal note; @username tells that member (if they read the inbox)."""
    from minbar.notifications.actions import notify
    from minbar.publishing.approvals import mentioned_members

    item = _engaging(access, item_id)
    body = body.strip()
    if not body:
        raise InvalidInput(_("Write the note first."), fields={"body": _("Required.")})
    note = Note.objects.create(item=item, author=actor.user, body=body[:5000])
    roles = dict(
        Membership.objects.filter(workspace=access.workspace).values_list("user_id", "role")
    )
    people = [
        u
        for u in mentioned_members(access.workspace.pk, body)
        if has_perm(roles.get(u.pk, ""), Perm.VIEW_INBOX)
        and (actor.user is None or u.pk != actor.user.pk)
    ]
    who = (actor.user.get_full_name() or actor.user.username) if actor.user else ""
    excerpt = body[:300]
    notify(
        people,
        kind="inbox.mention",
        workspace=access.workspace,
        title=lambda: _("%(name)s mentioned you in the inbox") % {"name": who},
        body=lambda: excerpt,
        url=f"/w/{access.workspace.slug}/inbox/{item.pk}/",
    )
    return note


def reply(
    actor: Actor,
    access: WorkspaceAccess,
    item_id: int,
    text: str,
    media_ids: Sequence[int] = (),
) -> Reply:
    """Answer on the network, in the thread. The reply is stored first and kept whatever happens.

    ``media_ids`` are files of the workspace's media library, sent where the network
    takes media in replies (each prepared to its rules, as for posts).
    """
    from minbar.publishing.target_media import load_assets

    item = _engaging(access, item_id)
    text = text.strip()
    if not text:
        raise InvalidInput(_("Write the reply first."), fields={"text": _("Required.")})
    if not item.answerable:
        raise Conflict(
            _("This item cannot be answered on %(network)s.") % {"network": item.channel.network}
        )
    wanted = list(dict.fromkeys(int(i) for i in media_ids))
    assets = load_assets(access.workspace.pk, wanted)
    if len(assets) != len(wanted):
        raise NotFound(_("One of the media files is not in this workspace's library."))
    media = [{"asset": pk, "alt_text": assets[pk].alt_text} for pk in wanted]
    answer = Reply.objects.create(item=item, author=actor.user, text=text, media=media)
    record(actor, "inbox.replied", workspace=access.workspace, data={"item": item.pk})
    send_reply(answer, item)
    return answer


def retry_reply(actor: Actor, access: WorkspaceAccess, reply_id: int) -> Reply:
    answer = Reply.objects.filter(item__workspace=access.workspace, pk=reply_id).first()
    if answer is None:
        raise NotFound(_("No such reply."))
    item = _engaging(access, answer.item_id)
    if answer.state != ReplyState.FAILED:
        raise Conflict(_("Only a reply that failed can be sent again."))
    Reply.objects.filter(pk=answer.pk).update(state=ReplyState.SENDING)
    send_reply(answer, item)
    return answer


def _reply_media(answer: Reply, connector: Any) -> tuple[MediaItem, ...]:
    from minbar.media.processing import prepare_for
    from minbar.publishing.target_media import load_assets

    if not answer.media:
        return ()
    caps = connector.account_capabilities()
    assets = load_assets(answer.item.workspace_id, [int(m["asset"]) for m in answer.media])
    items = []
    for chosen in answer.media:
        asset = assets.get(int(chosen["asset"]))
        if asset is None:
            raise Rejected(_("A media file of this reply was deleted from the library."))
        asset.alt_text = str(chosen.get("alt_text") or asset.alt_text)
        items.append(prepare_for(asset, caps.media, network=caps.label).as_media_item())
    return tuple(items)


def send_reply(answer: Reply, item: Item) -> None:
    from minbar.channels.actions import connector_for, note_failure

    try:
        connector = connector_for(item.channel)
        try:
            media = _reply_media(answer, connector)
        except InvalidInput as exc:  # a file that cannot be made to fit this network
            raise Rejected(exc.message) from exc
        result = connector.reply(
            RemoteRef(item.reply_remote_id, item.reply_url),
            PostRequest(text=answer.text, media=media, idempotency_key=answer.idempotency_key),
        )
    except OutcomeUnknown as exc:
        answer.state, answer.error_message, answer.error_detail = (
            ReplyState.UNCONFIRMED,
            exc.message,
            exc.detail,
        )
    except ConnectorError as exc:
        answer.state, answer.error_message, answer.error_detail = (
            ReplyState.FAILED,
            exc.message,
            exc.detail,
        )
        if not isinstance(exc, NotSupported | Rejected):
            note_failure(item.channel, exc)
    else:
        answer.state, answer.remote_id, answer.url = ReplyState.SENT, result.remote_id, result.url
        answer.sent_at = timezone.now()
        answer.error_message = answer.error_detail = ""
        if not answer.by_rule:  # automatic answers are counted apart from people's
            with transaction.atomic():
                Item.objects.filter(pk=item.pk, first_response_at__isnull=True).update(
                    first_response_at=answer.sent_at, first_responder=answer.author
                )
    answer.save()


def members_who_engage(access: WorkspaceAccess) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(workspace=access.workspace, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
        if has_perm(m.role, Perm.ENGAGE)
    ]


# -- moderation --------------------------------------------------------------------------


def moderate(actor: Actor, access: WorkspaceAccess, item_id: int, what: str) -> Item:
    """Hide, show again or delete a comment on the network, where the network allows it."""
    from minbar.channels.actions import connector_for

    item = _engaging(access, item_id)
    connector = connector_for(item.channel)
    caps = connector.account_capabilities()
    ref = RemoteRef(item.remote_id, item.url)
    network = caps.label
    if what in ("hide", "unhide"):
        if not caps.can_hide:
            raise Conflict(_("%(network)s does not let apps hide comments.") % {"network": network})
        call = lambda: connector.hide(ref, hidden=what == "hide")  # noqa: E731
    elif what == "delete":
        if not caps.can_delete_interactions:
            raise Conflict(
                _("%(network)s does not let apps delete comments.") % {"network": network}
            )
        call = lambda: connector.delete_interaction(ref)  # noqa: E731
    else:
        raise InvalidInput(_("Choose hide, show or delete."), fields={"action": _("Unknown.")})
    if item.deleted_at is not None:
        raise Conflict(_("This item was already deleted on the network."))
    try:
        call()
    except ConnectorError as exc:
        raise Conflict(
            _("%(network)s refused: %(reason)s") % {"network": network, "reason": exc.message}
        ) from exc
    if what == "delete":
        item.deleted_at = timezone.now()
        item.status = Status.CLOSED
        item.closed_at = item.closed_at or item.deleted_at
    else:
        item.hidden = what == "hide"
    item.save(update_fields=["deleted_at", "status", "closed_at", "hidden"])
    record(actor, f"inbox.{what}", workspace=access.workspace, data={"item": item.pk})
    return item


# -- saved replies -----------------------------------------------------------------------

VARIABLES = ("first_name", "name", "handle", "brand", "agent")


def save_reply_template(
    actor: Actor, access: WorkspaceAccess, title: str, body: str, language: str = ""
) -> SavedReply:
    if not access.can(Perm.ENGAGE):
        raise NotAllowed(_("Your role does not allow answering the inbox."))
    fields = {}
    if not title.strip():
        fields["title"] = _("Required.")
    if not body.strip():
        fields["body"] = _("Required.")
    unknown = sorted(set(re.findall(r"\{(\w+)\}", body)) - set(VARIABLES))
    if unknown:
        fields["body"] = _("Unknown variables: %(names)s. Use %(known)s.") % {
            "names": ", ".join("{" + u + "}" for u in unknown),
            "known": ", ".join("{" + v + "}" for v in VARIABLES),
        }
    if language not in ("", "en", "ar"):
        fields["language"] = _("Choose English, Arabic or any.")
    if fields:
        raise InvalidInput(_("The saved reply needs a fix."), fields=fields)
    saved = SavedReply.objects.create(
        workspace=access.workspace,
        title=title.strip()[:120],
        body=body.strip(),
        language=language,
        created_by=actor.user,
    )
    record(actor, "inbox.saved_reply_created", workspace=access.workspace, target=saved)
    return saved


def delete_reply_template(actor: Actor, access: WorkspaceAccess, saved_id: int) -> None:
    if not access.can(Perm.ENGAGE):
        raise NotAllowed(_("Your role does not allow answering the inbox."))
    deleted, _rows = SavedReply.objects.filter(workspace=access.workspace, pk=saved_id).delete()
    if not deleted:
        raise NotFound(_("No such saved reply."))
    record(actor, "inbox.saved_reply_deleted", workspace=access.workspace)


def fill(saved: SavedReply, item: Item, agent: User | None) -> str:
    """The saved reply's text for this item: variables replaced, unknown ones left as typed."""
    contact = item.contact
    name = contact.display_name or contact.handle.lstrip("@")
    values = {
        "first_name": name.split()[0] if name.split() else name,
        "name": name,
        "handle": contact.handle,
        "brand": item.workspace.name,
        "agent": (agent.first_name or agent.username) if agent else "",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), saved.body)


# -- who is answering --------------------------------------------------------------------

# Someone who opened an item this recently may still be writing an answer.
ANSWERING_WINDOW = timedelta(minutes=5)


def note_viewing(item: Item, user: User) -> list[User]:
    """Record that ``user`` has the item open; returns the others who had it open just now."""
    now = timezone.now()
    Viewing.objects.update_or_create(item=item, user=user, defaults={"at": now})
    recent = Viewing.objects.filter(item=item, at__gte=now - ANSWERING_WINDOW).exclude(user=user)
    return [v.user for v in recent.select_related("user")]


# -- sentiment ---------------------------------------------------------------------------


def correct_sentiment(actor: Actor, access: WorkspaceAccess, item_id: int, label: str) -> Item:
    """A person's label replaces the computed one; the correction is kept and counted."""
    from minbar.sentiment.corrections import parse_label

    item = _engaging(access, item_id)
    try:
        corrected = parse_label(label)
    except ValueError:
        raise InvalidInput(
            _("Choose positive, neutral or negative."), fields={"sentiment": _("Unknown.")}
        ) from None
    if corrected == item.sentiment:
        return item
    SentimentCorrection.objects.create(
        item=item,
        user=actor.user,
        language=item.language[:2],
        predicted=item.sentiment_predicted or item.sentiment,
        corrected=corrected,
    )
    item.sentiment = corrected
    item.save(update_fields=["sentiment"])
    record(
        actor,
        "inbox.sentiment_corrected",
        workspace=access.workspace,
        data={"item": item.pk, "to": corrected},
    )
    return item


# -- rules -------------------------------------------------------------------------------


def _members_who_engage(access: WorkspaceAccess) -> set[int]:
    return {user.pk for user in members_who_engage(access)}


def _rule_admin(access: WorkspaceAccess) -> None:
    if not access.can(Perm.MANAGE_WORKSPACE):
        raise NotAllowed(_("Only owners and admins can change inbox rules."))


def save_rule(
    actor: Actor,
    access: WorkspaceAccess,
    *,
    name: str,
    conditions: dict[str, Any],
    actions_: dict[str, Any],
    stop: bool = False,
    enabled: bool = True,
    rule_id: int | None = None,
) -> Rule:
    """Create or change a rule; new rules go last."""
    from minbar.inbox import rules as rule_engine

    _rule_admin(access)
    if not name.strip():
        raise InvalidInput(_("Give the rule a name."), fields={"name": _("Required.")})
    rule_engine.validate(conditions, actions_, _members_who_engage(access))
    if (
        actions_.get("auto_reply")
        and not SavedReply.objects.filter(
            workspace=access.workspace, pk=actions_["auto_reply"]
        ).exists()
    ):
        raise InvalidInput(
            _("Choose one of this workspace's saved replies."),
            fields={"auto_reply": _("Unknown saved reply.")},
        )
    if rule_id is None:
        last = Rule.objects.filter(workspace=access.workspace).order_by("-position").first()
        rule = Rule(
            workspace=access.workspace,
            position=(last.position + 1) if last else 0,
            created_by=actor.user,
        )
    else:
        found = Rule.objects.filter(workspace=access.workspace, pk=rule_id).first()
        if found is None:
            raise NotFound(_("No such rule."))
        rule = found
    rule.name = name.strip()[:120]
    rule.conditions = {k: v for k, v in conditions.items() if v not in (None, "", [])}
    rule.actions = {k: v for k, v in actions_.items() if v not in (None, "", [], False)}
    rule.stop, rule.enabled = stop, enabled
    rule.save()
    record(actor, "inbox.rule_saved", workspace=access.workspace, data={"rule": rule.name})
    return rule


def delete_rule(actor: Actor, access: WorkspaceAccess, rule_id: int) -> None:
    _rule_admin(access)
    deleted, _rows = Rule.objects.filter(workspace=access.workspace, pk=rule_id).delete()
    if not deleted:
        raise NotFound(_("No such rule."))
    record(actor, "inbox.rule_deleted", workspace=access.workspace)


def move_rule(actor: Actor, access: WorkspaceAccess, rule_id: int, up: bool) -> None:
    """Swap a rule with its neighbour: rules run in this order."""
    _rule_admin(access)
    ordered = list(Rule.objects.filter(workspace=access.workspace).order_by("position", "id"))
    index = next((i for i, r in enumerate(ordered) if r.pk == rule_id), None)
    if index is None:
        raise NotFound(_("No such rule."))
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, rule in enumerate(ordered):
        if rule.position != position:
            Rule.objects.filter(pk=rule.pk).update(position=position)
    record(actor, "inbox.rules_reordered", workspace=access.workspace)


# -- response targets --------------------------------------------------------------------


def check_response_targets(moment: datetime | None = None, limit: int = 500) -> int:
    """Warn before and at a missed first-response target; each warning is sent once."""
    from minbar.notifications.actions import notify, workspace_admins

    moment = moment or timezone.now()
    sent = 0
    waiting = (
        Item.objects.filter(
            status=Status.OPEN,
            first_response_at__isnull=True,
            response_due_at__isnull=False,
            response_breached_at__isnull=True,
        )
        .select_related("workspace", "workspace__inbox_settings", "assignee", "contact")
        .order_by("response_due_at")[:limit]
    )
    for item in waiting:
        assert item.response_due_at is not None
        found = getattr(item.workspace, "inbox_settings", None)
        warn_before = timedelta(minutes=found.warn_before_minutes if found else 15)
        breach = item.response_due_at <= moment
        warn = not breach and item.response_warned_at is None
        if not breach and not (warn and item.response_due_at - warn_before <= moment):
            continue
        field_name = "response_breached_at" if breach else "response_warned_at"
        if not Item.objects.filter(pk=item.pk, **{f"{field_name}__isnull": True}).update(
            **{field_name: moment}
        ):
            continue  # another worker sent it
        people = [item.assignee] if item.assignee else workspace_admins(item.workspace)
        _warn_about(item, [p for p in people if p is not None], breach, notify)
        sent += 1
    return sent


def _warn_about(item: Item, people: list[User], breach: bool, notify: Any) -> None:
    who = item.contact.display_name or item.contact.handle
    excerpt = item.text[:200]

    def title() -> str:
        if breach:
            return _("No reply yet to %(who)s: the response target has passed") % {"who": who}
        return _("%(who)s is waiting for a reply: the target is close") % {"who": who}

    notify(
        people,
        kind="inbox.response_overdue" if breach else "inbox.response_due",
        workspace=item.workspace,
        title=title,
        body=lambda: excerpt,
        url=f"/w/{item.workspace.slug}/inbox/{item.pk}/",
    )


@dataclass
class HoursInput:
    time_zone: str = ""
    # weekday (Monday = 0) → [(start "HH:MM", end "HH:MM")]
    week: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    holidays: list[str] = field(default_factory=list)
    first_response_target_minutes: int = 60
    warn_before_minutes: int = 15


def update_inbox_settings(actor: Actor, access: WorkspaceAccess, data: HoursInput) -> InboxSettings:
    """Business hours, holidays and the first-response target."""
    import zoneinfo
    from datetime import date, time

    if not access.can(Perm.MANAGE_WORKSPACE):
        raise NotAllowed(_("Only owners and admins can change business hours."))
    fields: dict[str, str] = {}
    if data.time_zone:
        try:
            zoneinfo.ZoneInfo(data.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            fields["time_zone"] = _("Unknown time zone.")
    week: dict[str, list[list[str]]] = {}
    for day, spans in data.week.items():
        for start, end in spans:
            try:
                begin, finish = time.fromisoformat(start), time.fromisoformat(end)
            except ValueError:
                fields[f"day_{day}"] = _("Use times like 09:00.")
                continue
            if finish <= begin and finish != time(0):
                fields[f"day_{day}"] = _("The end must come after the start.")
                continue
            week.setdefault(str(day), []).append(
                [begin.strftime("%H:%M"), finish.strftime("%H:%M")]
            )
    holidays = []
    for raw in data.holidays:
        try:
            holidays.append(date.fromisoformat(raw.strip()).isoformat())
        except ValueError:
            fields["holidays"] = _("“%(value)s” is not a date like 2026-12-25.") % {"value": raw}
    if not 0 <= data.first_response_target_minutes <= 60 * 24 * 14:
        fields["first_response_target_minutes"] = _("Between 0 (none) and two weeks.")
    if not 0 <= data.warn_before_minutes <= 60 * 24:
        fields["warn_before_minutes"] = _("Between 0 and 24 hours.")
    if fields:
        raise InvalidInput(_("The business hours need a fix."), fields=fields)
    row, _created = InboxSettings.objects.get_or_create(workspace=access.workspace)
    row.time_zone = data.time_zone
    row.hours = week
    row.holidays = sorted(set(holidays))
    row.first_response_target_minutes = data.first_response_target_minutes
    row.warn_before_minutes = data.warn_before_minutes
    row.save()
    record(actor, "inbox.hours_updated", workspace=access.workspace)
    return row


# -- saved views -------------------------------------------------------------------------

VIEW_KEYS = (
    "status",
    "channel",
    "network",
    "kind",
    "assignee",
    "sentiment",
    "language",
    "q",
    "tag",
    "link",
    "vip",
    "since",
    "until",
)


def save_view(
    actor: Actor, access: WorkspaceAccess, name: str, query: dict[str, str], shared: bool
) -> SavedView:
    from urllib.parse import urlencode

    if not access.can(Perm.VIEW_INBOX) or actor.user is None:
        raise NotAllowed(_("Your role does not allow reading the inbox."))
    if not name.strip():
        raise InvalidInput(_("Name the view."), fields={"name": _("Required.")})
    kept = {k: v for k, v in query.items() if k in VIEW_KEYS and v}
    view = SavedView.objects.create(
        workspace=access.workspace,
        owner=actor.user,
        name=name.strip()[:80],
        query=urlencode(kept),
        shared=shared and access.can(Perm.ENGAGE),
    )
    return view


def views_for(access: WorkspaceAccess, user: User) -> QuerySet[SavedView]:
    from django.db.models import Q

    return SavedView.objects.filter(workspace=access.workspace).filter(
        Q(owner=user) | Q(shared=True)
    )


def delete_view(actor: Actor, access: WorkspaceAccess, view_id: int) -> None:
    view = SavedView.objects.filter(workspace=access.workspace, pk=view_id).first()
    if view is None:
        raise NotFound(_("No such view."))
    if actor.user is None or (
        view.owner_id != actor.user.pk and not access.can(Perm.MANAGE_WORKSPACE)
    ):
        raise NotAllowed(_("Only its owner or an admin can delete this view."))
    view.delete()


def set_vip(actor: Actor, access: WorkspaceAccess, item_id: int, vip: bool) -> Item:
    """Mark the item's author as a VIP (rules and filters can use it)."""
    item = _engaging(access, item_id)
    Contact.objects.filter(pk=item.contact_id).update(vip=vip)
    item.contact.vip = vip
    record(
        actor,
        "inbox.vip",
        workspace=access.workspace,
        data={"contact": item.contact_id, "vip": vip},
    )
    return item
