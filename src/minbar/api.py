"""The REST API at /api/v1/: one error format, bearer tokens or the browser session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer, SessionAuth

from minbar.accounts.actions import authenticate_api_token
from minbar.accounts.models import ApiToken, User
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.workspaces.access import WorkspaceAccess, access_for


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, and the token when they came with one."""

    user: User
    token: ApiToken | None = None


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        api_token = authenticate_api_token(token)
        if api_token is None:
            return None
        request.user = api_token.user
        return Principal(user=api_token.user, token=api_token)


class BrowserSession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        if request.user.is_authenticated and isinstance(request.user, User):
            return Principal(user=request.user)
        return None


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorOut(Schema):
    error: ErrorDetail


api = NinjaAPI(
    title="Minbar API",
    version="1",
    description=(
        "Minbar's REST API. Authenticate with `Authorization: Bearer <token>` "
        "(create tokens under Profile → API tokens, or with `minbar token create`). "
        'Every error has the shape `{"error": {"code", "message", "fields"}}`.'
    ),
    urls_namespace="api",
    auth=[BearerToken(), BrowserSession()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "fields": fields or {}}},
        status=status,
    )


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        fields[".".join(loc) or "request"] = str(err.get("msg", "invalid"))
    return error_response(request, 422, "invalid", _("Some fields are not valid."), fields)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request,
        401,
        "unauthorized",
        _("Send a valid API token in the Authorization header: Bearer <token>."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="minbar"'
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        429: "rate_limited",
    }
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if settings.DEBUG:
        raise exc
    import logging

    logging.getLogger("minbar.api").exception("unhandled API error")
    return error_response(request, 500, "server_error", _("Something went wrong on our side."))


def principal(request: HttpRequest) -> Principal:
    auth = request.auth  # type: ignore[attr-defined]
    assert isinstance(auth, Principal)
    return auth


def api_access(request: HttpRequest, slug: str) -> WorkspaceAccess:
    """The caller's access to ``slug``: 404 when not a member or the token is for another one."""
    who = principal(request)
    if who.token is not None:
        if who.token.workspace.slug != slug:
            raise Http404
        return access_for(who.user, slug, role_cap=who.token.role)
    return access_for(who.user, slug)


def api_actor(request: HttpRequest) -> Actor:
    actor = Actor.from_request(request, via="api")
    return Actor(user=principal(request).user, ip=actor.ip, user_agent=actor.user_agent, via="api")


class Page(PaginationBase):
    """``?page=N&per_page=M`` (at most 200); answers with items, count, page, pages."""

    class Input(Schema):
        page: int = 1
        per_page: int = 50

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        pages: int

    def paginate_queryset(
        self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        if pagination.page < 1 or not 1 <= pagination.per_page <= 200:
            raise ActionErrorInvalidPage()
        count = self._items_count(queryset)
        per_page = pagination.per_page
        offset = (pagination.page - 1) * per_page
        return {
            "items": list(queryset[offset : offset + per_page]),
            "count": count,
            "page": pagination.page,
            "pages": max(1, -(-count // per_page)),
        }


class ActionErrorInvalidPage(ActionError):
    code = "invalid"
    status = 422

    def __init__(self) -> None:
        super().__init__(
            _("page must be 1 or more and per_page between 1 and 200."),
            fields={"page": _("1 or more."), "per_page": _("Between 1 and 200.")},
        )


def register_routers() -> None:
    from minbar.accounts.api import router as accounts_router
    from minbar.analytics.api import router as analytics_router
    from minbar.analytics.goals_api import router as goals_router
    from minbar.audit.api import router as audit_router
    from minbar.channels.api import router as channels_router
    from minbar.inbox.api import router as inbox_router
    from minbar.links.api import collect_router as conversions_router
    from minbar.links.api import router as links_router
    from minbar.media.api import router as media_router
    from minbar.publishing.api import router as publishing_router
    from minbar.reports.api import router as reports_router
    from minbar.webhooks.api import router as webhooks_router
    from minbar.workspaces.api import router as workspaces_router

    api.add_router("", accounts_router)
    api.add_router("/workspaces", workspaces_router)
    api.add_router("/workspaces", audit_router)
    api.add_router("", channels_router)
    api.add_router("/workspaces", publishing_router)
    api.add_router("", media_router)
    api.add_router("/workspaces", inbox_router)

    api.add_router("/workspaces", webhooks_router)
    api.add_router("/workspaces", links_router)
    api.add_router("/conversions", conversions_router)
    api.add_router("/workspaces", analytics_router)
    api.add_router("/workspaces", goals_router)
    api.add_router("/workspaces", reports_router)


register_routers()
