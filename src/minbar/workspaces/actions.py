"""Every state change of organizations, workspaces, members and invitations."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from minbar.accounts.models import User
from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Invitation, Membership, Organization, Workspace
from minbar.workspaces.roles import ROLE_RANK, Perm, Role


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unique_slug(model: type[Organization] | type[Workspace], name: str) -> str:
    base = slugify(name, allow_unicode=False)[:50] or "workspace"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def validate_time_zone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise InvalidInput(
            _("Unknown time zone “%(tz)s”.") % {"tz": name},
            fields={"time_zone": _("Choose a time zone from the list, e.g. Asia/Riyadh.")},
        )
    return name


def validate_language(code: str) -> str:
    if code not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("Unsupported language “%(code)s”.") % {"code": code},
            fields={"language": _("Choose English (en) or Arabic (ar).")},
        )
    return code


@transaction.atomic
def create_organization(actor: Actor, *, name: str) -> Organization:
    if not name.strip():
        raise InvalidInput(
            _("An organization needs a name."), fields={"organization": _("Required.")}
        )
    return Organization.objects.create(name=name.strip(), slug=_unique_slug(Organization, name))


def organizations_owned_by(user: User) -> list[Organization]:
    """Organizations where the user owns a workspace: there they may add workspaces."""
    return list(
        Organization.objects.filter(
            workspaces__memberships__user=user, workspaces__memberships__role=Role.OWNER
        )
        .distinct()
        .order_by("name")
    )


def setup_needed() -> bool:
    """True on a fresh installation, before anyone has an account."""
    return not User.objects.exists()


@transaction.atomic
def first_run_setup(
    actor: Actor,
    *,
    username: str,
    password: str,
    email: str,
    organization: str,
    workspace: str,
    language: str,
    time_zone: str,
) -> Workspace:
    """Create the first account, its organization and first workspace, once."""
    from minbar.accounts.actions import create_user

    # Locking the user table's absence is not possible; re-checking inside the
    # transaction makes a second, racing setup fail on the unique username or here.
    if not setup_needed():
        raise Conflict(_("Minbar is already set up. Sign in instead."))
    user = create_user(username, password, email=email, language=language)
    user.is_staff = True
    user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    org = create_organization(actor, name=organization)
    owner_actor = Actor(user=user, ip=actor.ip, user_agent=actor.user_agent, via=actor.via)
    return create_workspace(
        owner_actor,
        organization=org,
        name=workspace,
        owner=user,
        language=language,
        time_zone=time_zone,
    )


@transaction.atomic
def create_workspace(
    actor: Actor,
    *,
    organization: Organization,
    name: str,
    owner: User,
    language: str = "en",
    time_zone: str = "UTC",
    description: str = "",
    slug: str = "",
) -> Workspace:
    name = name.strip()
    if not name:
        raise InvalidInput(_("A workspace needs a name."), fields={"name": _("Required.")})
    validate_language(language)
    validate_time_zone(time_zone)
    if slug:
        if slug != slugify(slug):
            raise InvalidInput(
                _("The address may hold only lowercase letters, digits and hyphens."),
                fields={"slug": _("Use lowercase letters, digits and hyphens.")},
            )
        if Workspace.objects.filter(slug=slug).exists():
            raise Conflict(_("That address is taken."), fields={"slug": _("Choose another.")})
    workspace = Workspace.objects.create(
        organization=organization,
        name=name,
        slug=slug or _unique_slug(Workspace, name),
        language=language,
        time_zone=time_zone,
        description=description,
    )
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    record(actor, "workspace.created", workspace=workspace, target=workspace)
    return workspace


def _require(access: WorkspaceAccess, perm: Perm) -> None:
    if not access.can(perm):
        raise NotAllowed(_("Your role does not allow this."))


@transaction.atomic
def update_workspace(
    actor: Actor,
    access: WorkspaceAccess,
    *,
    name: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    description: str | None = None,
) -> Workspace:
    _require(access, Perm.MANAGE_WORKSPACE)
    workspace = access.workspace
    changes: dict[str, list[str]] = {}
    if name is not None:
        if not name.strip():
            raise InvalidInput(_("A workspace needs a name."), fields={"name": _("Required.")})
        changes["name"] = [workspace.name, name.strip()]
        workspace.name = name.strip()
    if language is not None:
        changes["language"] = [workspace.language, validate_language(language)]
        workspace.language = language
    if time_zone is not None:
        changes["time_zone"] = [workspace.time_zone, validate_time_zone(time_zone)]
        workspace.time_zone = time_zone
    if description is not None:
        workspace.description = description
        changes["description"] = ["…", "…"]
    workspace.save()
    changed = {k: v for k, v in changes.items() if v[0] != v[1] or k == "description"}
    record(actor, "workspace.updated", workspace=workspace, target=workspace, data=changed)
    return workspace


def _check_can_grant(access: WorkspaceAccess, role: str) -> None:
    if role not in ROLE_RANK:
        raise InvalidInput(
            _("Unknown role “%(role)s”.") % {"role": role},
            fields={
                "role": _("Choose one of: owner, admin, editor, contributor, analyst, client.")
            },
        )
    _require(access, Perm.MANAGE_MEMBERS)
    if role == Role.OWNER and not access.can(Perm.MANAGE_OWNERS):
        raise NotAllowed(_("Only an owner can make someone an owner."))


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str
    url: str


@transaction.atomic
def invite_member(
    actor: Actor, access: WorkspaceAccess, *, email: str, role: str, send: bool = True
) -> NewInvitation:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            _("“%(email)s” is not an email address.") % {"email": email},
            fields={"email": _("Enter an address like name@example.com.")},
        ) from None
    _check_can_grant(access, role)
    workspace = access.workspace
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise Conflict(
            _("%(email)s is already a member of this workspace.") % {"email": email},
            fields={"email": _("Already a member.")},
        )
    # A fresh invitation replaces any pending one for the same address.
    Invitation.objects.filter(
        workspace=workspace, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.MINBAR_INVITATION_DAYS),
    )
    url = settings.MINBAR_BASE_URL + reverse("workspaces:accept_invitation", args=[token])
    record(
        actor,
        "member.invited",
        workspace=workspace,
        target=invitation,
        target_label=email,
        data={"role": role},
    )
    if send:
        from minbar.workspaces.tasks import send_invitation_email

        transaction.on_commit(lambda: send_invitation_email(invitation.pk, url))
    return NewInvitation(invitation=invitation, token=token, url=url)


def deliver_invitation(invitation: Invitation, url: str) -> None:
    with translation.override(invitation.workspace.language):
        context = {"invitation": invitation, "url": url, "workspace": invitation.workspace}
        subject = _("You are invited to %(workspace)s on Minbar") % {
            "workspace": invitation.workspace.name
        }
        body = render_to_string("workspaces/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def revoke_invitation(actor: Actor, access: WorkspaceAccess, invitation_id: int) -> Invitation:
    _require(access, Perm.MANAGE_MEMBERS)
    invitation = Invitation.objects.filter(workspace=access.workspace, pk=invitation_id).first()
    if invitation is None:
        raise NotFound(_("No such invitation."))
    if invitation.accepted_at:
        raise Conflict(_("This invitation was already accepted."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(
            actor,
            "member.invitation_revoked",
            workspace=access.workspace,
            target=invitation,
            target_label=invitation.email,
        )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    return Invitation.objects.select_related("workspace").filter(token_hash=_hash(token)).first()


@transaction.atomic
def accept_invitation(actor: Actor, *, token: str, user: User) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(token_hash=_hash(token)).first()
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    status = invitation.status
    if status == "expired":
        raise Conflict(_("This invitation has expired. Ask for a new one."))
    if status != "pending":
        raise Conflict(_("This invitation can no longer be used."))
    membership, created = Membership.objects.get_or_create(
        user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if created:
        record(
            actor,
            "member.joined",
            workspace=invitation.workspace,
            target=membership,
            target_label=user.username,
            data={"role": invitation.role},
        )
    return membership


def _member(access: WorkspaceAccess, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(workspace=access.workspace, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound(_("No such member."))
    return membership


def _owners_left_after(membership: Membership) -> int:
    return (
        Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def change_role(actor: Actor, access: WorkspaceAccess, membership_id: int, role: str) -> Membership:
    _check_can_grant(access, role)
    membership = _member(access, membership_id)
    if membership.role == Role.OWNER and not access.can(Perm.MANAGE_OWNERS):
        raise NotAllowed(_("Only an owner can change another owner's role."))
    if membership.role == Role.OWNER and role != Role.OWNER and _owners_left_after(membership) == 0:
        raise Conflict(_("A workspace needs at least one owner. Make someone else owner first."))
    old = membership.role
    if old != role:
        membership.role = role
        membership.save(update_fields=["role"])
        record(
            actor,
            "member.role_changed",
            workspace=access.workspace,
            target=membership,
            target_label=membership.user.username,
            data={"from": old, "to": role},
        )
    return membership


@transaction.atomic
def remove_member(actor: Actor, access: WorkspaceAccess, membership_id: int) -> None:
    membership = _member(access, membership_id)
    leaving_self = membership.user_id == access.membership.user_id
    if not leaving_self:
        _require(access, Perm.MANAGE_MEMBERS)
        if membership.role == Role.OWNER and not access.can(Perm.MANAGE_OWNERS):
            raise NotAllowed(_("Only an owner can remove another owner."))
    if membership.role == Role.OWNER and _owners_left_after(membership) == 0:
        raise Conflict(_("A workspace needs at least one owner. Make someone else owner first."))
    username = membership.user.username
    # Tokens for this workspace die with the membership.
    membership.user.api_tokens.filter(workspace=access.workspace, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    membership.delete()
    record(
        actor,
        "member.removed",
        workspace=access.workspace,
        target_label=username,
        data={"self": leaving_self},
    )


def purge_expired_invitations(days: int = 30) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _details = Invitation.objects.filter(
        accepted_at__isnull=True, expires_at__lt=cutoff
    ).delete()
    return deleted
