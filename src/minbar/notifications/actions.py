"""Tell people about events that need them: in the app, and by email."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from minbar.accounts.models import User
from minbar.notifications.models import Notification
from minbar.workspaces.models import Membership, Workspace
from minbar.workspaces.roles import Role

logger = logging.getLogger(__name__)


def notify(
    users: list[User],
    *,
    kind: str,
    workspace: Workspace | None,
    title: Callable[[], str],
    body: Callable[[], str] = lambda: "",
    url: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each user in their own language; ``title``/``body`` are called per user."""
    created = []
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, text = str(title()), str(body())
        created.append(
            Notification.objects.create(
                user=user, workspace=workspace, kind=kind, title=subject[:200], body=text, url=url
            )
        )
        if email and user.email:
            full_url = settings.MINBAR_BASE_URL + url if url.startswith("/") else url
            message = f"{text}\n\n{full_url}".strip()
            transaction.on_commit(partial(_mail, subject, message, user.email))
    return created


def _mail(subject: str, message: str, to: str) -> None:
    # A mail server being down must not undo or block what triggered the notice;
    # the in-app notification is already stored.
    try:
        send_mail(subject, message, None, [to])
    except OSError:
        logger.warning("could not email a notification to a user", exc_info=True)


def workspace_admins(workspace: Workspace) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            workspace=workspace, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True
        ).select_related("user")
    ]


def mark_read(user: User, notification_ids: list[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=notification_ids)
    return rows.update(read_at=timezone.now())
