from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor, principal
from minbar.core.errors import NotAllowed
from minbar.workspaces import actions
from minbar.workspaces.models import Invitation, Membership, Workspace
from minbar.workspaces.roles import Perm

router = Router(tags=["workspaces"])


class WorkspaceOut(Schema):
    slug: str
    name: str
    organization: str
    language: str
    time_zone: str
    description: str
    created_at: datetime

    @staticmethod
    def resolve_organization(obj: Workspace) -> str:
        return obj.organization.slug


class WorkspaceDetailOut(Schema):
    slug: str
    name: str
    organization: str
    language: str
    time_zone: str
    description: str
    created_at: datetime
    role: str
    permissions: list[str]


class WorkspaceIn(Schema):
    name: str | None = None
    language: str | None = None
    time_zone: str | None = None
    description: str | None = None


class MemberOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    role: str
    joined_at: datetime

    @staticmethod
    def resolve_username(obj: Membership) -> str:
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj: Membership) -> str:
        return obj.user.display_name

    @staticmethod
    def resolve_email(obj: Membership) -> str:
        return obj.user.email

    @staticmethod
    def resolve_joined_at(obj: Membership) -> datetime:
        return obj.created_at


class RoleIn(Schema):
    role: str


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    status: str
    created_at: datetime
    expires_at: datetime


class InvitationIn(Schema):
    email: str
    role: str
    send_email: bool = True


class NewInvitationOut(InvitationOut):
    url: str


@router.get("", response=list[WorkspaceOut], summary="Workspaces I can use")
@paginate(Page)
def list_workspaces(request: HttpRequest) -> QuerySet[Workspace]:
    who = principal(request)
    workspaces = Workspace.objects.filter(memberships__user=who.user).select_related("organization")
    if who.token is not None:
        workspaces = workspaces.filter(pk=who.token.workspace_id)
    return workspaces.order_by("name")


@router.get("/{slug}", response={200: WorkspaceDetailOut, 404: ErrorOut})
def get_workspace(request: HttpRequest, slug: str) -> dict[str, object]:
    access = api_access(request, slug)
    workspace = access.workspace
    return {
        "slug": workspace.slug,
        "name": workspace.name,
        "organization": workspace.organization.slug,
        "language": workspace.language,
        "time_zone": workspace.time_zone,
        "description": workspace.description,
        "created_at": workspace.created_at,
        "role": access.role,
        "permissions": sorted(p.value for p in Perm if access.can(p)),
    }


@router.patch("/{slug}", response={200: WorkspaceOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def update_workspace(request: HttpRequest, slug: str, payload: WorkspaceIn) -> Workspace:
    access = api_access(request, slug)
    return actions.update_workspace(api_actor(request), access, **payload.dict(exclude_unset=True))


@router.get("/{slug}/members", response=list[MemberOut])
@paginate(Page)
def list_members(request: HttpRequest, slug: str) -> QuerySet[Membership]:
    access = api_access(request, slug)
    if not access.can(Perm.VIEW_MEMBERS):
        raise NotAllowed(_("Your role does not allow this."))
    return (
        Membership.objects.filter(workspace=access.workspace)
        .select_related("user")
        .order_by("user__username")
    )


@router.patch(
    "/{slug}/members/{member_id}",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def change_member_role(
    request: HttpRequest, slug: str, member_id: int, payload: RoleIn
) -> Membership:
    access = api_access(request, slug)
    return actions.change_role(api_actor(request), access, member_id, payload.role)


@router.delete(
    "/{slug}/members/{member_id}", response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
def remove_member(request: HttpRequest, slug: str, member_id: int) -> Status:
    access = api_access(request, slug)
    actions.remove_member(api_actor(request), access, member_id)
    return Status(204, None)


@router.get("/{slug}/invitations", response=list[InvitationOut])
@paginate(Page)
def list_invitations(request: HttpRequest, slug: str) -> QuerySet[Invitation]:
    access = api_access(request, slug)
    if not access.can(Perm.MANAGE_MEMBERS):
        raise NotAllowed(_("Your role does not allow this."))
    return Invitation.objects.filter(workspace=access.workspace)


@router.post(
    "/{slug}/invitations",
    response={201: NewInvitationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def create_invitation(request: HttpRequest, slug: str, payload: InvitationIn) -> Status:
    access = api_access(request, slug)
    created = actions.invite_member(
        api_actor(request), access, email=payload.email, role=payload.role, send=payload.send_email
    )
    data = InvitationOut.from_orm(created.invitation).dict()
    data["url"] = created.url
    return Status(201, data)


@router.delete(
    "/{slug}/invitations/{invitation_id}",
    response={200: InvitationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: int) -> Invitation:
    access = api_access(request, slug)
    return actions.revoke_invitation(api_actor(request), access, invitation_id)
