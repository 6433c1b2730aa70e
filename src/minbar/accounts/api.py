from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from minbar.accounts.actions import revoke_api_token
from minbar.accounts.models import ApiToken
from minbar.api import ErrorOut, api_actor, principal

router = Router(tags=["account"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    language: str
    time_zone: str
    two_factor: bool
    token_workspace: str | None
    token_role: str | None


class TokenOut(Schema):
    prefix: str
    name: str
    workspace: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_workspace(obj: ApiToken) -> str:
        return obj.workspace.slug


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> dict[str, object]:
    who = principal(request)
    user = who.user
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "language": user.language,
        "time_zone": user.time_zone,
        "two_factor": user.has_two_factor,
        "token_workspace": who.token.workspace.slug if who.token else None,
        "token_role": who.token.role if who.token else None,
    }


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=principal(request).user).select_related("workspace"))


@router.delete(
    "/tokens/{prefix}",
    response={200: TokenOut, 404: ErrorOut},
    summary="Revoke one of my API tokens",
)
def revoke_token(request: HttpRequest, prefix: str) -> ApiToken:
    return revoke_api_token(api_actor(request), principal(request).user, prefix)
