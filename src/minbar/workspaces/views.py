from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.accounts import actions as account_actions
from minbar.accounts.forms import SignupForm
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.workspaces import actions
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.forms import (
    InviteForm,
    NewWorkspaceForm,
    RoleForm,
    SetupForm,
    WorkspaceSettingsForm,
)
from minbar.workspaces.models import Invitation, Membership
from minbar.workspaces.roles import ROLE_DESCRIPTIONS, Perm, Role


def _members_context(access: WorkspaceAccess, invite_form: InviteForm | None = None) -> dict:
    workspace = access.workspace
    return {
        "members": Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__username"),
        "invitations": Invitation.objects.filter(
            workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True
        ),
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
        "role_descriptions": ROLE_DESCRIPTIONS,
        "can_manage": access.can(Perm.MANAGE_MEMBERS),
        "can_manage_owners": access.can(Perm.MANAGE_OWNERS),
    }


@workspace_view(Perm.VIEW_MEMBERS)
def members(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return render(request, "workspaces/members.html", _members_context(access))


@workspace_view(Perm.MANAGE_MEMBERS)
@require_POST
def invite(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            created = actions.invite_member(
                Actor.from_request(request),
                access,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ActionError as exc:
            for field, text in exc.fields.items():
                if field in form.fields:
                    form.add_error(field, text)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works for 7 days: %(url)s")
                % {"email": created.invitation.email, "url": created.url},
            )
            return redirect("workspaces:members", slug=access.workspace.slug)
    return render(request, "workspaces/members.html", _members_context(access, form), status=422)


@workspace_view(Perm.MANAGE_MEMBERS)
@require_POST
def change_role(request: HttpRequest, access: WorkspaceAccess, member_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            actions.change_role(
                Actor.from_request(request), access, member_id, form.cleaned_data["role"]
            )
        except ActionError as exc:
            error = exc.message
    else:
        error = _("Choose a role from the list.")
    if request.htmx:  # type: ignore[attr-defined]
        # Answer with just the member's row, so the table updates in place.
        member = get_object_or_404(
            Membership.objects.select_related("user"), workspace=access.workspace, pk=member_id
        )
        context = _members_context(access) | {
            "m": member,
            "row_message": error or _("Role updated."),
            "row_error": bool(error),
        }
        return render(request, "workspaces/_member_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Role updated."))
    return redirect("workspaces:members", slug=access.workspace.slug)


@workspace_view()
@require_POST
def remove_member(request: HttpRequest, access: WorkspaceAccess, member_id: int) -> HttpResponse:
    leaving = access.membership.pk == member_id
    try:
        actions.remove_member(Actor.from_request(request), access, member_id)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("workspaces:members", slug=access.workspace.slug)
    if leaving:
        messages.success(request, _("You left %(workspace)s.") % {"workspace": access.workspace})
        return redirect("core:home")
    messages.success(request, _("Member removed."))
    return redirect("workspaces:members", slug=access.workspace.slug)


@workspace_view(Perm.MANAGE_MEMBERS)
@require_POST
def revoke_invitation(
    request: HttpRequest, access: WorkspaceAccess, invitation_id: int
) -> HttpResponse:
    try:
        actions.revoke_invitation(Actor.from_request(request), access, invitation_id)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation revoked."))
    return redirect("workspaces:members", slug=access.workspace.slug)


@workspace_view(Perm.MANAGE_WORKSPACE)
def workspace_settings(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    form = WorkspaceSettingsForm(
        request.POST or None,
        initial={
            "name": workspace.name,
            "language": workspace.language,
            "time_zone": workspace.time_zone,
            "description": workspace.description,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_workspace(Actor.from_request(request), access, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Workspace settings saved."))
            return redirect("workspaces:settings", slug=workspace.slug)
    return render(request, "workspaces/settings.html", {"form": form})


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = actions.find_invitation(token)
    if invitation is None or not invitation.is_usable:
        status = invitation.status if invitation else "invalid"
        return render(
            request,
            "workspaces/invitation_invalid.html",
            {"status": status},
            status=410 if invitation else 404,
        )
    signup_form = SignupForm(
        request.POST or None, initial={"username": invitation.email.split("@")[0]}
    )
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        if user is None and signup_form.is_valid():
            try:
                user = account_actions.create_user(
                    signup_form.cleaned_data["username"],
                    signup_form.cleaned_data["password"],
                    email=invitation.email,
                    first_name=signup_form.cleaned_data["first_name"],
                    language=invitation.workspace.language,
                )
            except ActionError as exc:
                if exc.fields:
                    for field, text in exc.fields.items():
                        signup_form.add_error(field, text)
                elif not signup_form.errors:
                    signup_form.add_error(None, exc.message)
                user = None
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            try:
                actions.accept_invitation(Actor.from_request(request), token=token, user=user)
            except ActionError as exc:
                messages.error(request, exc.message)
                return redirect("core:home")
            messages.success(
                request, _("Welcome to %(workspace)s.") % {"workspace": invitation.workspace}
            )
            return redirect("core:dashboard", slug=invitation.workspace.slug)
    return render(
        request,
        "workspaces/accept_invitation.html",
        {"invitation": invitation, "signup_form": signup_form},
    )


def setup(request: HttpRequest) -> HttpResponse:
    """First run: no account exists yet, so whoever opens Minbar first sets it up."""
    if not actions.setup_needed():
        return redirect("accounts:login")
    form = SetupForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        try:
            workspace = actions.first_run_setup(Actor.from_request(request), **form.cleaned_data)
        except ActionError as exc:
            for field, text in exc.fields.items():
                form.add_error(field if field in form.fields else None, text)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            owner = workspace.memberships.get().user
            login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Minbar is ready. Invite your team next."))
            return redirect("core:dashboard", slug=workspace.slug)
    return render(request, "workspaces/setup.html", {"form": form})


@login_required
def new_workspace(request: HttpRequest) -> HttpResponse:
    organizations = actions.organizations_owned_by(request.user)  # type: ignore[arg-type]
    if not organizations:
        raise PermissionDenied
    choices = [(org.slug, org.name) for org in organizations]
    form = NewWorkspaceForm(request.POST or None, organizations=choices)
    if request.method == "POST" and form.is_valid():
        org = next(o for o in organizations if o.slug == form.cleaned_data["organization"])
        try:
            workspace = actions.create_workspace(
                Actor.from_request(request),
                organization=org,
                name=form.cleaned_data["name"],
                owner=request.user,  # type: ignore[arg-type]
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Workspace created."))
            return redirect("core:dashboard", slug=workspace.slug)
    return render(request, "workspaces/new.html", {"form": form})
