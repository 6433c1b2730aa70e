from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.workspaces.models import Workspace

ACTION_LABELS = {
    "auth.login": _("Signed in"),
    "auth.login_failed": _("Failed sign-in"),
    "auth.login_blocked": _("Sign-in blocked after too many failures"),
    "auth.logout": _("Signed out"),
    "auth.password_changed": _("Changed password"),
    "auth.password_reset_requested": _("Requested a password reset"),
    "auth.password_reset": _("Reset password"),
    "auth.2fa_enabled": _("Turned on two-factor authentication"),
    "auth.2fa_disabled": _("Turned off two-factor authentication"),
    "auth.recovery_code_used": _("Signed in with a recovery code"),
    "profile.updated": _("Updated profile"),
    "token.created": _("Created an API token"),
    "token.revoked": _("Revoked an API token"),
    "workspace.created": _("Created workspace"),
    "workspace.updated": _("Updated workspace settings"),
    "member.invited": _("Invited a member"),
    "member.invitation_revoked": _("Revoked an invitation"),
    "member.joined": _("Joined the workspace"),
    "member.role_changed": _("Changed a member's role"),
    "member.removed": _("Removed a member"),
    "audit.exported": _("Exported the audit log"),
    "media.uploaded": _("Uploaded a media file"),
    "media.updated": _("Changed a media file's details"),
    "media.deleted": _("Deleted a media file"),
    "post.created": _("Wrote a post"),
    "post.updated": _("Changed a post"),
    "post.approved": _("Approved a post"),
    "post.changes_requested": _("Asked for changes to a post"),
    "post.rejected": _("Rejected a post"),
    "post.commented": _("Commented on a post"),
    "post.restored": _("Restored an earlier version of a post"),
    "approvals.updated": _("Changed how posts are approved"),
    "post.cancelled": _("Cancelled a post"),
    "post.retried": _("Retried a post"),
    "post.rescheduled": _("Moved a post to another day"),
    "post.target_rescheduled": _("Gave a post that did not go out a new time"),
    "channel.connected": _("Connected a channel"),
    "channel.reconnected": _("Reconnected a channel"),
    "channel.removed": _("Removed a channel"),
    "channel.broken": _("A channel stopped working"),
    "webhook.created": _("Added a webhook"),
    "webhook.updated": _("Changed a webhook"),
    "webhook.deleted": _("Deleted a webhook"),
    "webhook.secret_rotated": _("Rotated a webhook's signing secret"),
    "webhook.enabled": _("Turned a webhook on"),
    "webhook.disabled": _("Turned a webhook off"),
    "webhook.redelivered": _("Sent a webhook delivery again"),
    "backup.created": _("Created a backup"),
    "backup.restored": _("Restored a backup"),
    "report_schedule.created": _("Scheduled an email report"),
    "report_schedule.updated": _("Changed a scheduled report"),
    "report_schedule.deleted": _("Deleted a scheduled report"),
    "report_schedule.sent": _("Sent a scheduled report now"),
}


def label_for(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def record(
    actor: Actor,
    action: str,
    *,
    workspace: Workspace | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    data: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one event. ``username`` names the actor when no user is known (failed logins)."""
    user = actor.user
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=user,
        actor_name=(user.username if user else username)[:150],
        action=action,
        target_type=target._meta.model_name or "" if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        ip_address=actor.ip,
        user_agent=actor.user_agent[:300],
        via=actor.via,
        data=data or {},
    )
