"""Roles and what each may do; the single place permissions are decided."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    EDITOR = "editor", _("Editor")
    CONTRIBUTOR = "contributor", _("Contributor")
    ANALYST = "analyst", _("Analyst")
    CLIENT = "client", _("Client")


class Perm(StrEnum):
    VIEW_WORKSPACE = "workspace.view"
    MANAGE_WORKSPACE = "workspace.manage"
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"
    MANAGE_OWNERS = "members.manage_owners"
    VIEW_AUDIT = "audit.view"
    VIEW_CONTENT = "content.view"
    CREATE_CONTENT = "content.create"
    PUBLISH_WITHOUT_APPROVAL = "content.publish"
    APPROVE_CONTENT = "content.approve"
    VIEW_SHARED_CONTENT = "content.view_shared"
    MANAGE_CHANNELS = "channels.manage"
    ENGAGE = "inbox.engage"
    VIEW_INBOX = "inbox.view"
    VIEW_ANALYTICS = "analytics.view"
    VIEW_AUDIENCE = "audience.view"
    MANAGE_CAMPAIGNS = "campaigns.manage"
    VIEW_CAMPAIGNS = "campaigns.view"
    MANAGE_REPORTS = "reports.manage"


_EVERYONE = {Perm.VIEW_WORKSPACE}
_READ = _EVERYONE | {
    Perm.VIEW_MEMBERS,
    Perm.VIEW_CONTENT,
    Perm.VIEW_SHARED_CONTENT,
    Perm.VIEW_INBOX,
    Perm.VIEW_ANALYTICS,
    Perm.VIEW_AUDIENCE,
    Perm.VIEW_CAMPAIGNS,
}
_CONTRIBUTE = _READ | {Perm.CREATE_CONTENT, Perm.ENGAGE}
_EDIT = _CONTRIBUTE | {
    Perm.PUBLISH_WITHOUT_APPROVAL,
    Perm.APPROVE_CONTENT,
    Perm.MANAGE_CAMPAIGNS,
    Perm.MANAGE_REPORTS,
}
_ADMIN = _EDIT | {Perm.MANAGE_WORKSPACE, Perm.MANAGE_MEMBERS, Perm.VIEW_AUDIT, Perm.MANAGE_CHANNELS}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.OWNER: frozenset(_ADMIN | {Perm.MANAGE_OWNERS}),
    Role.ADMIN: frozenset(_ADMIN),
    Role.EDITOR: frozenset(_EDIT),
    Role.CONTRIBUTOR: frozenset(_CONTRIBUTE),
    Role.ANALYST: frozenset(_READ),
    Role.CLIENT: frozenset(_EVERYONE | {Perm.VIEW_SHARED_CONTENT, Perm.APPROVE_CONTENT}),
}

# Higher rank may do everything a lower rank may; used to cap API tokens and
# to stop admins from granting more than they hold.
ROLE_RANK: dict[str, int] = {
    Role.OWNER: 60,
    Role.ADMIN: 50,
    Role.EDITOR: 40,
    Role.CONTRIBUTOR: 30,
    Role.ANALYST: 20,
    Role.CLIENT: 10,
}

ROLE_DESCRIPTIONS: dict[str, str | Promise] = {
    Role.OWNER: _("Everything, including billing-level decisions and managing other owners."),
    Role.ADMIN: _("Manages members, channels and settings; sees the audit log."),
    Role.EDITOR: _("Creates, schedules and publishes content; approves others' posts."),
    Role.CONTRIBUTOR: _("Creates content that needs approval before it is published."),
    Role.ANALYST: _("Read-only access to content, inbox and reports."),
    Role.CLIENT: _("Views and approves only the content shared with them."),
}


def has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def lower_role(a: str, b: str) -> str:
    """The less powerful of two roles (an API token never exceeds its owner)."""
    return a if ROLE_RANK[a] <= ROLE_RANK[b] else b
