"""The queue's side of the inbox: read every channel's new interactions about once a minute."""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from minbar.inbox import ingestion

logger = logging.getLogger("minbar.inbox")


@db_task()
def poll_channel(channel_id: int) -> None:
    got = ingestion.poll_channel(channel_id)
    if got.created or got.updated:
        logger.info(
            "inbox: channel %s brought %s new and %s edited item(s)",
            channel_id,
            got.created,
            got.updated,
        )


@db_periodic_task(crontab(minute="*"))
def poll_due_channels() -> None:
    """Each channel whose turn has come is read by one worker (leases make it exclusive)."""
    from django.utils import timezone

    for channel_id in ingestion.due_channels(timezone.now()):
        poll_channel(channel_id)


def _item_and_rule(item_id: int, rule_id: int) -> tuple[Any, Any]:
    from minbar.inbox.models import Item, Rule

    item = Item.objects.select_related("channel", "contact", "workspace").filter(pk=item_id).first()
    return item, Rule.objects.filter(pk=rule_id).first()


@db_task()
def hide_by_rule(item_id: int, rule_id: int) -> None:
    from minbar.channels.actions import connector_for
    from minbar.connectors.errors import ConnectorError
    from minbar.connectors.types import RemoteRef
    from minbar.inbox.models import Item, ItemEvent

    item, rule = _item_and_rule(item_id, rule_id)
    if item is None:
        return
    connector = connector_for(item.channel)
    if not connector.account_capabilities().can_hide:
        ItemEvent.objects.create(item=item, rule=rule, kind="hide_unsupported")
        return
    try:
        connector.hide(RemoteRef(item.remote_id, item.url))
    except ConnectorError as exc:
        ItemEvent.objects.create(
            item=item, rule=rule, kind="hide_failed", data={"reason": exc.message}
        )
        return
    Item.objects.filter(pk=item.pk).update(hidden=True)
    ItemEvent.objects.create(item=item, rule=rule, kind="hidden")


@db_task()
def alert_by_rule(item_id: int, rule_id: int) -> None:
    from minbar.inbox.models import ItemEvent
    from minbar.notifications.actions import notify
    from minbar.workspaces.models import Membership

    item, rule = _item_and_rule(item_id, rule_id)
    if item is None or rule is None:
        return
    people = [
        m.user
        for m in Membership.objects.filter(
            workspace=item.workspace, user_id__in=rule.actions.get("alert") or []
        ).select_related("user")
    ]
    excerpt = item.text[:200]
    name = rule.name
    notify(
        people,
        kind="inbox.alert",
        workspace=item.workspace,
        title=lambda: _("Inbox rule “%(rule)s”: a new item needs you") % {"rule": name},
        body=lambda: excerpt,
        url=f"/w/{item.workspace.slug}/inbox/{item.pk}/",
    )
    from minbar.webhooks.events import absolute, emit

    emit(
        item.workspace,
        "inbox.alert",
        {
            "rule": {"id": rule.pk, "name": rule.name},
            "item": {
                "id": item.pk,
                "kind": item.kind,
                "text": item.text,
                "sentiment": item.sentiment,
                "channel": {"id": item.channel_id, "network": item.channel.network},
                "author": {"handle": item.contact.handle, "name": item.contact.display_name},
                "url": absolute(f"/w/{item.workspace.slug}/inbox/{item.pk}/"),
            },
        },
    )
    ItemEvent.objects.create(
        item=item, rule=rule, kind="alerted", data={"people": [u.pk for u in people]}
    )


@db_task()
def auto_reply(item_id: int, rule_id: int) -> None:
    from minbar.inbox import actions
    from minbar.inbox.models import ItemEvent, Reply, SavedReply

    item, rule = _item_and_rule(item_id, rule_id)
    if item is None or rule is None or not item.answerable:
        return
    saved = SavedReply.objects.filter(
        workspace=item.workspace, pk=rule.actions.get("auto_reply")
    ).first()
    if saved is None:
        ItemEvent.objects.create(item=item, rule=rule, kind="auto_reply_missing")
        return
    answer = Reply.objects.create(item=item, text=actions.fill(saved, item, None), by_rule=True)
    actions.send_reply(answer, item)
    ItemEvent.objects.create(
        item=item, rule=rule, kind="auto_replied", data={"reply": answer.pk, "state": answer.state}
    )


@db_periodic_task(crontab(minute="*"))
def check_response_targets() -> None:
    from minbar.inbox.actions import check_response_targets as check

    sent = check()
    if sent:
        logger.info("inbox: %s response-target warning(s) sent", sent)
