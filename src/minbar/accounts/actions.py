"""Every state change of users: sign-in, two-factor, profile and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minbar.accounts.models import ApiToken, LoginAttempt, RecoveryCode, User
from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound, RateLimited
from minbar.workspaces.actions import validate_language, validate_time_zone
from minbar.workspaces.models import Membership, Workspace
from minbar.workspaces.roles import ROLE_RANK

TOKEN_PREFIX = "mbr_"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- sign-in -------------------------------------------------------------------


def _window_start() -> datetime:
    return timezone.now() - timedelta(seconds=settings.MINBAR_LOGIN_WINDOW_SECONDS)


def login_blocked_for(username: str, ip: str | None) -> int:
    """Seconds until this username/address may try again, 0 when it may now."""
    since = _window_start()
    failures = LoginAttempt.objects.filter(succeeded=False, created_at__gte=since)
    by_user = failures.filter(username__iexact=username)
    checks = [(by_user, settings.MINBAR_LOGIN_MAX_FAILURES_PER_USERNAME)]
    if ip:
        checks.append((failures.filter(ip_address=ip), settings.MINBAR_LOGIN_MAX_FAILURES_PER_IP))
    wait = 0
    for rows, limit in checks:
        times = list(rows.order_by("-created_at").values_list("created_at", flat=True)[:limit])
        if len(times) >= limit:
            # Blocked until the oldest of the last ``limit`` failures leaves the window.
            release = times[-1] + timedelta(seconds=settings.MINBAR_LOGIN_WINDOW_SECONDS)
            wait = max(wait, int((release - timezone.now()).total_seconds()) + 1)
    return wait


def check_password_login(actor: Actor, username: str, password: str) -> User:
    """Verify a username and password, throttled per username and per address.

    Raises RateLimited while blocked and InvalidInput on a wrong password; the
    caller then asks for the second factor when the user has one.
    """
    username = username.strip()
    wait = login_blocked_for(username, actor.ip)
    if wait:
        record(actor, "auth.login_blocked", username=username)
        minutes = max(1, (wait + 59) // 60)
        raise RateLimited(
            ngettext(
                "Too many failed sign-ins. Try again in %(n)d minute.",
                "Too many failed sign-ins. Try again in %(n)d minutes.",
                minutes,
            )
            % {"n": minutes}
        )
    user = authenticate(username=username, password=password)
    if user is None or not isinstance(user, User):
        LoginAttempt.objects.create(username=username, ip_address=actor.ip, succeeded=False)
        record(actor, "auth.login_failed", username=username)
        raise InvalidInput(_("Wrong username or password."))
    return user


def note_login(actor: Actor, user: User, *, with_recovery_code: bool = False) -> None:
    LoginAttempt.objects.create(username=user.username, ip_address=actor.ip, succeeded=True)
    # Record as the user even though the request is not yet authenticated.
    record(
        Actor(user=user, ip=actor.ip, user_agent=actor.user_agent, via=actor.via),
        "auth.recovery_code_used" if with_recovery_code else "auth.login",
    )


def note_logout(actor: Actor) -> None:
    if actor.user is not None:
        record(actor, "auth.logout")


def purge_login_attempts(days: int = 7) -> int:
    deleted, _details = LoginAttempt.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=days)
    ).delete()
    return deleted


# -- two-factor ------------------------------------------------------------------


def start_two_factor(user: User) -> str:
    """A new unconfirmed TOTP secret; two-factor is on only once a code confirms it."""
    if user.has_two_factor:
        raise InvalidInput(_("Two-factor authentication is already on."))
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="Minbar")


def _totp_ok(user: User, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    return (
        bool(user.totp_secret)
        and len(code) == 6
        and pyotp.TOTP(user.totp_secret).verify(code, valid_window=1)
    )


@transaction.atomic
def confirm_two_factor(actor: Actor, user: User, code: str) -> list[str]:
    if not user.totp_secret or user.has_two_factor:
        raise InvalidInput(_("Start two-factor setup first."))
    if not _totp_ok(user, code):
        raise InvalidInput(
            _("That code is not right. Check the time on your phone and try the newest code."),
            fields={"code": _("Wrong code.")},
        )
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    record(actor, "auth.2fa_enabled")
    return regenerate_recovery_codes(user)


def regenerate_recovery_codes(user: User, count: int = 8) -> list[str]:
    user.recovery_codes.all().delete()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _i in range(count)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_sha256(code)) for code in codes
    )
    return codes


@transaction.atomic
def disable_two_factor(actor: Actor, user: User, password: str) -> None:
    if not user.check_password(password):
        raise InvalidInput(_("Wrong password."), fields={"password": _("Wrong password.")})
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    user.recovery_codes.all().delete()
    record(actor, "auth.2fa_disabled")


@transaction.atomic
def verify_second_factor(user: User, code: str) -> tuple[bool, bool]:
    """(accepted, used_recovery_code). A recovery code works once."""
    if _totp_ok(user, code):
        return True, False
    candidate = _sha256(code.strip().lower())
    recovery = (
        user.recovery_codes.select_for_update()
        .filter(code_hash=candidate, used_at__isnull=True)
        .first()
    )
    if recovery is None:
        return False, False
    recovery.used_at = timezone.now()
    recovery.save(update_fields=["used_at"])
    return True, True


# -- profile ---------------------------------------------------------------------


def update_profile(
    actor: Actor,
    user: User,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    if language is not None:
        user.language = validate_language(language)
    if time_zone is not None:
        user.time_zone = validate_time_zone(time_zone) if time_zone else ""
    if first_name is not None:
        user.first_name = first_name.strip()
    if last_name is not None:
        user.last_name = last_name.strip()
    if email is not None:
        user.email = email.strip()
    user.save()
    record(actor, "profile.updated")
    return user


def create_user(
    username: str,
    password: str,
    *,
    email: str = "",
    language: str = "en",
    first_name: str = "",
    last_name: str = "",
    time_zone: str = "",
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(
            _("The username “%(name)s” is taken.") % {"name": username},
            fields={"username": _("Choose another username.")},
        )
    return User.objects.create_user(
        username=username,
        password=password,
        email=email,
        language=validate_language(language),
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
    )


# -- API tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


@transaction.atomic
def create_api_token(
    actor: Actor,
    user: User,
    workspace: Workspace,
    *,
    name: str,
    role: str | None = None,
    expires_in_days: int | None = None,
) -> NewToken:
    membership = Membership.objects.filter(user=user, workspace=workspace).first()
    if membership is None:
        raise NotFound(_("No such workspace."))
    role = role or membership.role
    if role not in ROLE_RANK:
        raise InvalidInput(
            _("Unknown role “%(role)s”.") % {"role": role}, fields={"role": _("Choose a role.")}
        )
    if ROLE_RANK[role] > ROLE_RANK[membership.role]:
        raise NotAllowed(
            _("A token cannot have more rights than you: your role here is %(role)s.")
            % {"role": membership.get_role_display()}
        )
    name = name.strip()
    if not name:
        raise InvalidInput(
            _("Give the token a name so you recognise it later."), fields={"name": _("Required.")}
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput(
            _("Expiry must be between 1 and 3650 days."),
            fields={"expires_in_days": _("Between 1 and 3650.")},
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        workspace=workspace,
        role=role,
        name=name,
        prefix=prefix,
        token_hash=_sha256(secret),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    record(actor, "token.created", workspace=workspace, target=token, data={"role": role})
    return NewToken(token=token, secret=secret)


@transaction.atomic
def revoke_api_token(actor: Actor, user: User | None, prefix: str) -> ApiToken:
    """Revoke by prefix; ``user`` limits it to that user's tokens (None: any, for the CLI)."""
    tokens = ApiToken.objects.filter(prefix=prefix.removeprefix(TOKEN_PREFIX).split("_")[0])
    if user is not None:
        tokens = tokens.filter(user=user)
    token = tokens.first()
    if token is None:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "token.revoked", workspace=token.workspace, target=token)
    return token


def authenticate_api_token(secret: str) -> ApiToken | None:
    """The active token for this secret whose owner is still a member, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.active()
        .select_related("user", "workspace")
        .filter(token_hash=_sha256(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if not Membership.objects.filter(user=token.user, workspace=token.workspace).exists():
        return None
    now = timezone.now()
    # Write at most once a minute so busy clients do not hammer the database.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(user=user)
        .filter(Q(revoked_at__isnull=True))
        .select_related("workspace")
    )
