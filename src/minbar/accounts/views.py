from __future__ import annotations

import time
from io import BytesIO

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.accounts import actions
from minbar.accounts.forms import (
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    LoginForm,
    ProfileForm,
    SecondFactorForm,
    TokenForm,
)
from minbar.accounts.models import ApiToken, LoginAttempt, User
from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, RateLimited
from minbar.workspaces.access import memberships_of
from minbar.workspaces.actions import setup_needed
from minbar.workspaces.models import Workspace

PENDING_KEY = "minbar_pending_2fa"
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse("core:home")


def _finish_login(request: HttpRequest, user: User, *, recovery: bool = False) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # A language picked on the sign-in page is the user's latest choice on this device.
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in dict(settings.LANGUAGES) and chosen != user.language:
        actions.update_profile(Actor.from_request(request), user, language=chosen)
    actions.note_login(Actor.from_request(request), user, with_recovery_code=recovery)
    if recovery:
        messages.warning(request, _("You signed in with a recovery code. It cannot be used again."))
    return redirect(_safe_next(request))


def login_view(request: HttpRequest) -> HttpResponse:
    if setup_needed():
        return redirect("workspaces:setup")
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error = ""
    rate_limited = False
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.check_password_login(
                Actor.from_request(request),
                form.cleaned_data["username"],
                form.cleaned_data["password"],
            )
        except ActionError as exc:
            error = exc.message
            rate_limited = isinstance(exc, RateLimited)
        else:
            if user.has_two_factor:
                request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
                target = reverse("accounts:login_2fa")
                if request.POST.get("next"):
                    target += "?next=" + _safe_next(request)
                return redirect(target)
            return _finish_login(request, user)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=429 if rate_limited else 200,
    )


def login_2fa_view(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect("accounts:login")
    user = get_user_model().objects.get(pk=pending["user"])
    assert isinstance(user, User)
    form = SecondFactorForm(request.POST or None)
    error = ""
    actor = Actor.from_request(request)
    if request.method == "POST" and form.is_valid():
        if actions.login_blocked_for(user.username, actor.ip):
            error = _("Too many failed sign-ins. Try again later.")
        else:
            accepted, recovery = actions.verify_second_factor(user, form.cleaned_data["code"])
            if accepted:
                request.session.pop(PENDING_KEY, None)
                return _finish_login(request, user, recovery=recovery)
            LoginAttempt.objects.create(username=user.username, ip_address=actor.ip)
            record(actor, "auth.login_failed", username=user.username, data={"step": "2fa"})
            error = _("That code is not right.")
    return render(
        request,
        "accounts/login_2fa.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.note_logout(Actor.from_request(request))
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("accounts:login")


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": user.language,
        "time_zone": user.time_zone,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_profile(Actor.from_request(request), user, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.has_two_factor:
        return render(request, "accounts/two_factor_on.html", {"form": DisableTwoFactorForm()})
    if request.method == "POST" and "code" in request.POST:
        form = ConfirmTwoFactorForm(request.POST)
        if form.is_valid():
            try:
                codes = actions.confirm_two_factor(
                    Actor.from_request(request), user, form.cleaned_data["code"]
                )
            except ActionError as exc:
                form.add_error("code", exc.message)
            else:
                return render(request, "accounts/recovery_codes.html", {"codes": codes})
    else:
        actions.start_two_factor(user)
        form = ConfirmTwoFactorForm()
    uri = actions.provisioning_uri(user)
    buffer = BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=5,
        xmldecl=False,
        svgns=True,
        title=_("QR code for your authenticator app"),
    )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(buffer.getvalue().decode()),  # noqa: S308 - generated by segno
            "secret": user.totp_secret,
        },
    )


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = DisableTwoFactorForm(request.POST)
    if form.is_valid():
        try:
            actions.disable_two_factor(
                Actor.from_request(request), user, form.cleaned_data["password"]
            )
        except ActionError as exc:
            form.add_error("password", exc.message)
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:profile")
    return render(request, "accounts/two_factor_on.html", {"form": form}, status=400)


@login_required
def tokens_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    memberships = memberships_of(user)
    choices = [(m.workspace.slug, m.workspace.name) for m in memberships]
    form = TokenForm(request.POST or None, workspaces=choices)
    new_secret = ""
    if request.method == "POST" and form.is_valid():
        workspace = Workspace.objects.get(slug=form.cleaned_data["workspace"])
        try:
            created = actions.create_api_token(
                Actor.from_request(request),
                user,
                workspace,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            new_secret = created.secret
            form = TokenForm(workspaces=choices)
    tokens = ApiToken.objects.filter(user=user).select_related("workspace")
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_secret": new_secret}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        actions.revoke_api_token(Actor.from_request(request), request.user, prefix)  # type: ignore[arg-type]
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token revoked. Programs using it can no longer sign in."))
    return redirect("accounts:tokens")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        record(
            Actor.from_request(self.request),
            "auth.password_reset_requested",
            data={"email": form.cleaned_data["email"]},
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        actor = Actor.from_request(self.request)
        record(
            Actor(user=form.user, ip=actor.ip, user_agent=actor.user_agent), "auth.password_reset"
        )
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        record(Actor.from_request(self.request), "auth.password_changed")
        messages.success(self.request, _("Password changed."))
        return response
