"""Who must approve a post, in which steps, and who may decide a step: read-only rules.

The state changes (submitting, approving, sending back) are in ``actions.py``;
this module answers the questions they ask, so views and the API ask the same.

A post is routed when it is submitted: the workspace's steps are copied onto
the post (``Post.approval_steps``), so changing the workspace's steps later does
not reroute posts already on their way. With no steps configured, one step
("Approval") that any editor, admin or owner other than the author may decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from minbar.accounts.models import User
from minbar.publishing.models import (
    ApprovalAppliesTo,
    ApprovalPolicy,
    Post,
    PostEvent,
    PostState,
)
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership, Workspace
from minbar.workspaces.roles import Perm, Role, has_perm

# Decided steps, as events in the post's history.
DECISIONS = ("approved", "changes_requested", "rejected")
# Reminders per step, so a forgotten post does not nag forever.
MAX_REMINDERS = 3
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})", re.UNICODE)


def policy_for(workspace: Workspace) -> ApprovalPolicy:
    """The workspace's policy, or the default (contributors' posts, one step) unsaved."""
    policy = ApprovalPolicy.objects.filter(workspace=workspace).first()
    return policy if policy is not None else ApprovalPolicy(workspace=workspace)


def route_for(policy: ApprovalPolicy) -> list[dict[str, Any]]:
    """The steps a post submitted now goes through (never empty)."""
    if policy.pk is None:
        return [{"name": "", "approvers": []}]
    steps = [
        {"name": step.name, "approvers": sorted(u.pk for u in step.approvers.all())}
        for step in policy.steps.prefetch_related("approvers")
    ]
    return steps or [{"name": "", "approvers": []}]


def needs_approval(access: WorkspaceAccess, policy: ApprovalPolicy, *, approved: bool) -> bool:
    """Whether what this person saves must be approved before it goes out.

    ``approved``: the post being edited had completed its approval. Contributors'
    posts always need approval; with "every post", so do everyone else's, except
    that an approved post edited by an editor keeps its approval when the
    workspace says edits do not need a new one.
    """
    if not access.can(Perm.PUBLISH_WITHOUT_APPROVAL):
        return True
    if policy.applies_to != ApprovalAppliesTo.EVERYONE:
        return False
    return not (approved and not policy.reapprove_on_edit)


def step_name(step: dict[str, Any]) -> str:
    return str(step.get("name") or _("Approval"))


def current_step(post: Post) -> dict[str, Any] | None:
    if post.state != PostState.AWAITING_APPROVAL or not post.approval_steps:
        return None
    index = min(post.approval_step, len(post.approval_steps) - 1)
    step: dict[str, Any] = post.approval_steps[index]
    return step


def _team_approver_roles() -> list[str]:
    return [
        role for role in Role.values if has_perm(role, Perm.APPROVE_CONTENT) and role != Role.CLIENT
    ]


def step_approvers(post: Post, step: dict[str, Any]) -> list[User]:
    """The people who may decide ``step``: named ones still in the workspace, else the team."""
    memberships = Membership.objects.filter(
        workspace_id=post.workspace_id, user__is_active=True
    ).select_related("user")
    named = step.get("approvers") or []
    if named:
        memberships = memberships.filter(user_id__in=named)
        people = [m.user for m in memberships if has_perm(m.role, Perm.APPROVE_CONTENT)]
        if people:
            return [u for u in people if u.pk != post.author_id] or people
    team = memberships.filter(role__in=_team_approver_roles())
    return [m.user for m in team if m.user_id != post.author_id]


@dataclass(frozen=True)
class Eligibility:
    allowed: bool
    # An admin deciding a step they are not named on (recorded as such).
    override: bool = False
    reason: str = ""


def eligibility(access: WorkspaceAccess, user: User | None, post: Post) -> Eligibility:
    """Whether ``user`` may decide the post's current step now."""
    step = current_step(post)
    if step is None:
        return Eligibility(False, reason=_("This post is not waiting for approval."))
    if user is None or not access.can(Perm.APPROVE_CONTENT):
        return Eligibility(False, reason=_("Your role does not allow approving posts."))
    if post.author_id == user.pk:
        return Eligibility(False, reason=_("You cannot approve your own post."))
    named = step.get("approvers") or []
    if named:
        if user.pk in named:
            return Eligibility(True)
    elif access.role != Role.CLIENT:
        return Eligibility(True)
    if access.can(Perm.MANAGE_WORKSPACE):
        return Eligibility(True, override=True)
    names = ", ".join(u.get_full_name() or u.username for u in step_approvers(post, step))
    return Eligibility(
        False,
        reason=_("The step “%(step)s” is for %(names)s.")
        % {"step": step_name(step), "names": names or _("the team")},
    )


def shared_with(post: Post, user: User | None) -> bool:
    """A client sees a post when they are named on one of its approval steps."""
    if user is None:
        return False
    return any(user.pk in (step.get("approvers") or []) for step in post.approval_steps)


@dataclass(frozen=True)
class StepStatus:
    name: str
    approvers: list[User]
    # done, current, pending (after the current one), sent_back (this step sent it
    # back), not_reached (the round ended before it)
    status: str
    decided_by: User | None = None
    decided_at: datetime | None = None
    override: bool = False


def route_status(post: Post) -> list[StepStatus]:
    """Each step of the post's current round: decided by whom, waiting, or still ahead."""
    if not post.approval_steps:
        return []
    decisions: dict[int, PostEvent] = {}
    for decision in post.events.filter(
        kind__in=DECISIONS, data__round=post.approval_round
    ).select_related("actor"):
        decisions[int(decision.data.get("step", 0))] = decision
    statuses = []
    for index, step in enumerate(post.approval_steps):
        event = decisions.get(index)
        if event is not None:
            status = "done" if event.kind == "approved" else "sent_back"
        elif post.state != PostState.AWAITING_APPROVAL:
            status = "not_reached"
        elif index == post.approval_step:
            status = "current"
        else:
            status = "pending"
        statuses.append(
            StepStatus(
                name=step_name(step),
                approvers=step_approvers(post, step),
                status=status,
                decided_by=event.actor if event else None,
                decided_at=event.created_at if event else None,
                override=bool(event and event.data.get("override")),
            )
        )
    return statuses


def mentioned_members(workspace_id: int, text: str) -> list[User]:
    """Active members of the workspace named as ``@username`` in ``text``."""
    names = {m.lower() for m in MENTION.findall(text)}
    if not names:
        return []
    members = Membership.objects.filter(
        workspace_id=workspace_id, user__is_active=True
    ).select_related("user")
    return [m.user for m in members if m.user.username.lower() in names]


def can_see(post: Post, user: User, role: str, *, internal: bool) -> bool:
    """Whether a member with ``role`` may read the post (and an internal comment on it)."""
    if has_perm(role, Perm.VIEW_CONTENT):
        return True
    return not internal and has_perm(role, Perm.VIEW_SHARED_CONTENT) and shared_with(post, user)
