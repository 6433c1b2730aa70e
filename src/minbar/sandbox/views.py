"""The sandbox network's HTTP JSON API (``/sandbox/api/v1/``), modelled on real networks.

Every endpoint except ``connect``, ``health`` and public pages takes
``Authorization: Bearer <token>``. Every answer to an authenticated request
carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (epoch seconds); a 429 adds ``Retry-After`` (seconds).
Errors look like ``{"error": {"code", "message", "fields"}}``.

Views stay thin: the request pipeline (authentication, limits, injected
faults, lazy release of due events) is :func:`endpoint`; state changes are in
actions.py and reads in queries.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt

from minbar.core.errors import ActionError, InvalidInput, NotFound
from minbar.core.writes import grouped_write
from minbar.sandbox import actions, queries
from minbar.sandbox.models import SandboxAccount, SandboxPost

API_PREFIX = "/sandbox/api/v1"


def sandbox_enabled() -> bool:
    return bool(getattr(settings, "MINBAR_SANDBOX_ENABLED", True))


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(
        data,
        status=status,
        safe=False,
        headers=headers,
        json_dumps_params={"ensure_ascii": False},
    )


def error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> JsonResponse:
    return json_response(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


class BadRequest(ActionError):
    code = "bad_request"
    status = 400


def _action_error(exc: ActionError) -> JsonResponse:
    return error(exc.status, exc.code, exc.message, exc.fields)


@dataclass
class Call:
    """One authenticated API request."""

    request: HttpRequest
    account: SandboxAccount
    body: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, str] = field(default_factory=dict)
    # The account is locked in the request's write transaction (publishing endpoints),
    # and ``replay`` is the post its idempotency key already made, if any.
    locked: bool = False
    replay: SandboxPost | None = None

    def post_url(self, post: SandboxPost) -> str:
        path = reverse(
            "sandbox:post_page", kwargs={"handle": self.account.handle, "post_id": post.remote_id}
        )
        return self.request.build_absolute_uri(path)

    def profile_url(self) -> str:
        return _profile_url(self.request, self.account)

    def param(self, name: str) -> str:
        return str(self.request.GET.get(name, "") or "")


Handler = Callable[[Call], HttpResponse]


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.method not in {"POST", "PUT", "PATCH"} or not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized() -> JsonResponse:
    response = error(401, "unauthorized", "Missing or invalid access token.")
    response["WWW-Authenticate"] = 'Bearer realm="minbar-sandbox"'
    return response


def _idempotency_key(request: HttpRequest, body: dict[str, Any]) -> str:
    return str(body.get("idempotency_key") or request.headers.get("Idempotency-Key") or "")


def endpoint(
    *, publish: bool = False, control: bool = False, release_first: bool = True
) -> Callable[[Handler], Handler]:
    """Authenticate, count against limits, inject faults, release due events, answer.

    ``control`` endpoints (faults, clock) are never limited or faulted, so a
    test can always turn faults off. ``publish`` endpoints count against the
    flavour's posting limits (an idempotent replay does not). ``release_first``
    False: the handler releases due events itself, in its own transaction (one
    write transaction less per call on the busiest endpoint).
    """

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def run(call: Call) -> HttpResponse:
            account = call.account
            response: HttpResponse
            if control:
                actions.release(account)
                try:
                    response = handler(call)
                except ActionError as exc:
                    response = _action_error(exc)
                for name, value in actions.current_limits(account).headers().items():
                    response[name] = value
                return response
            if publish:
                return _publish_call(call, handler, release_first=release_first)
            decision = actions.consume_request(account)
            if decision.latency:
                time.sleep(decision.latency)
            outcome = decision.outcome
            if outcome == "rate_limited":
                response = error(429, "rate_limited", decision.reason or "Too many requests.")
            elif outcome == "server_error":
                response = error(503, "unavailable", "The service is temporarily unavailable.")
            elif outcome == "timeout":
                time.sleep(decision.stall)
                response = error(504, "timeout", "The request timed out.")
            else:
                if release_first:
                    actions.release(account)
                try:
                    response = handler(call)
                except ActionError as exc:
                    response = _action_error(exc)
                if response.status_code < 400 and outcome == "ambiguous":
                    response = error(500, "internal_error", "Something went wrong.")
                elif response.status_code < 400 and outcome == "ambiguous_timeout":
                    time.sleep(decision.stall)
                    response = error(504, "timeout", "The request timed out.")
            for name, value in decision.headers().items():
                response[name] = value
            return response

        return run

    return decorate


_FAILED_OUTCOMES = ("rate_limited", "server_error", "timeout")


def _publish_call(call: Call, handler: Handler, *, release_first: bool) -> HttpResponse:
    """A publishing request: wait the latency, then count, decide and publish in one transaction.

    One write transaction instead of two (count the request, then create the
    post) halves the time the account — and on SQLite the whole database — is
    locked per post. The handler runs with ``call.locked`` set and the account
    locked; an ActionError (a post the flavour refuses) still counts the request.
    On SQLite the requests that arrive together share that transaction
    (:func:`~minbar.core.writes.grouped_write`): each still counts, decides and
    publishes as if alone, in its own savepoint, and is answered after the commit.
    """
    latency = actions.request_latency(call.account)
    if latency:
        time.sleep(latency)
    key = _idempotency_key(call.request, call.body)

    def count_and_publish() -> tuple[actions.Decision, HttpResponse | None, SandboxAccount]:
        account = actions.lock(call.account)
        replay = actions.post_by_key(account, key)
        decision = actions.count_request_locked(account, publish=replay is None)
        response: HttpResponse | None = None
        if decision.outcome not in _FAILED_OUTCOMES:
            if release_first:
                actions.release_locked(account)
            locked = Call(
                request=call.request,
                account=account,
                body=call.body,
                kwargs=call.kwargs,
                locked=True,
                replay=replay,
            )
            try:
                response = handler(locked)
            except ActionError as exc:
                response = _action_error(exc)
        actions.save_locked(account)
        return decision, response, account

    decision, response, account = grouped_write(
        count_and_publish, hint=actions.PublishHint(call.account.pk, key)
    )
    call.account.faults = account.faults
    outcome = decision.outcome
    if outcome == "rate_limited":
        response = error(429, "rate_limited", decision.reason or "Too many requests.")
    elif outcome == "server_error":
        response = error(503, "unavailable", "The service is temporarily unavailable.")
    elif outcome == "timeout":
        time.sleep(decision.stall)
        response = error(504, "timeout", "The request timed out.")
    assert response is not None
    if response.status_code < 400 and outcome == "ambiguous":
        response = error(500, "internal_error", "Something went wrong.")
    elif response.status_code < 400 and outcome == "ambiguous_timeout":
        time.sleep(decision.stall)
        response = error(504, "timeout", "The request timed out.")
    for name, value in decision.headers().items():
        response[name] = value
    return response


def _dispatch(
    request: HttpRequest, handlers: dict[str, Callable[..., HttpResponse]]
) -> Callable[..., HttpResponse] | HttpResponse:
    if not sandbox_enabled():
        return error(404, "not_found", "The sandbox network is turned off on this server.")
    handler = handlers.get(request.method or "GET")
    if handler is None:
        response = error(405, "method_not_allowed", f"{request.method} is not allowed here.")
        response["Allow"] = ", ".join(sorted(handlers))
        return response
    return handler


def methods(**handlers: Handler) -> Callable[..., HttpResponse]:
    """One authenticated URL, a handler per HTTP method."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        handler = _dispatch(request, handlers)
        if isinstance(handler, HttpResponse):
            return handler
        try:
            body = _body(request)
        except ActionError as exc:
            return _action_error(exc)
        account = actions.authenticate(_bearer(request))
        if account is None:
            return _unauthorized()
        try:
            return handler(Call(request=request, account=account, body=body, kwargs=kwargs))
        except ActionError as exc:
            return _action_error(exc)

    return view


PublicHandler = Callable[[HttpRequest, dict[str, Any], dict[str, str]], HttpResponse]


def public(**handlers: PublicHandler) -> Callable[..., HttpResponse]:
    """One URL that needs no token, a handler per HTTP method."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        handler = _dispatch(request, handlers)
        if isinstance(handler, HttpResponse):
            return handler
        try:
            return handler(request, _body(request), kwargs)
        except ActionError as exc:
            return _action_error(exc)

    return view


def _profile_url(request: HttpRequest, account: SandboxAccount) -> str:
    return request.build_absolute_uri(
        reverse("sandbox:profile_page", kwargs={"handle": account.handle})
    )


# -- public --------------------------------------------------------------------------


def _health(request: HttpRequest, body: dict[str, Any], kwargs: dict[str, str]) -> HttpResponse:
    return json_response({"ok": True, "service": "minbar-sandbox", "api": API_PREFIX})


def _connect(request: HttpRequest, body: dict[str, Any], kwargs: dict[str, str]) -> HttpResponse:
    decision = actions.connect_decision()
    response: HttpResponse
    if decision.outcome == "rate_limited":
        response = error(429, "rate_limited", decision.reason)
    else:
        created = actions.create_account(
            flavour=str(body.get("flavour") or "x"),
            name=str(body.get("name") or ""),
            handle=str(body.get("handle") or ""),
            seed=body.get("seed"),
            audience_size=body.get("audience_size", actions.DEFAULT_SIZE),
            arabic_share=body.get("arabic_share", actions.DEFAULT_ARABIC_SHARE),
            follower_share=body.get("follower_share", actions.DEFAULT_FOLLOWER_SHARE),
            topics=body.get("topics") or [],
            speed=body.get("speed", actions.DEFAULT_SPEED),
        )
        response = json_response(
            {
                "account": queries.account_json(
                    created.account, profile_url=_profile_url(request, created.account)
                ),
                "access_token": created.token,
                "token_type": "bearer",
            },
            status=201,
        )
    for name, value in decision.headers().items():
        response[name] = value
    return response


def _public_account(handle: str) -> SandboxAccount:
    account = SandboxAccount.objects.filter(handle=handle.lower()).first()
    if account is None:
        raise NotFound(f"No sandbox account @{handle}.")
    return account


def _profile(request: HttpRequest, body: dict[str, Any], kwargs: dict[str, str]) -> HttpResponse:
    account = _public_account(kwargs["handle"])
    actions.release(account)
    metrics = queries.account_metrics(account)
    return json_response(
        {
            "id": f"a{account.pk}",
            "handle": account.handle,
            "name": account.name,
            "flavour": account.flavour,
            **metrics,
        }
    )


# -- the account ------------------------------------------------------------------------


@endpoint()
def _me(call: Call) -> HttpResponse:
    return json_response(queries.account_json(call.account, profile_url=call.profile_url()))


@endpoint()
def _audience(call: Call) -> HttpResponse:
    return json_response(
        queries.audience_page(call.account, cursor=call.param("cursor"), limit=call.param("limit"))
    )


@endpoint()
def _audience_summary(call: Call) -> HttpResponse:
    return json_response(queries.audience_summary(call.account))


# -- posts --------------------------------------------------------------------------------


@endpoint(publish=True, release_first=False)
def _create_post(call: Call) -> HttpResponse:
    body = call.body
    published = actions.publish(
        call.account,
        text=str(body.get("text") or ""),
        media=actions.parse_media(body.get("media")),
        link=str(body.get("link") or ""),
        reply_to=str(body.get("reply_to") or ""),
        idempotency_key=_idempotency_key(call.request, body),
        visibility=str(body.get("visibility") or "public"),
        language=str(body.get("language") or ""),
        locked=call.locked,
        replay=call.replay,
    )
    response = json_response(
        queries.post_json(published.post, call.post_url),
        status=201 if published.created else 200,
    )
    if not published.created:
        response["Idempotent-Replayed"] = "true"
    return response


@endpoint()
def _list_posts(call: Call) -> HttpResponse:
    posts = SandboxPost.objects.filter(account=call.account, deleted_at__isnull=True)
    key = call.param("idempotency_key")
    if key:
        posts = posts.filter(idempotency_key=key)
    cursor = call.param("cursor")
    if cursor:
        if not cursor.isdigit():
            raise InvalidInput("That cursor is not one this server gave.")
        posts = posts.filter(pk__lt=int(cursor))
    try:
        limit = max(1, min(100, int(call.param("limit") or 20)))
    except ValueError:
        raise InvalidInput("limit must be a whole number.") from None
    items = list(posts.order_by("-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return json_response(
        {
            "items": [queries.post_json(p, call.post_url) for p in items],
            "cursor": str(items[-1].pk) if more and items else "",
        }
    )


@endpoint()
def _get_post(call: Call) -> HttpResponse:
    post = actions.find_post(call.account, call.kwargs["post_id"])
    return json_response(queries.post_json(post, call.post_url))


@endpoint()
def _delete_post(call: Call) -> HttpResponse:
    post = actions.find_post(call.account, call.kwargs["post_id"])
    actions.delete_post(call.account, post)
    return HttpResponse(status=204)


def _metrics_json(values: dict[str, int]) -> dict[str, Any]:
    return {"values": values, "fetched_at": timezone.now().isoformat().replace("+00:00", "Z")}


@endpoint()
def _post_metrics(call: Call) -> HttpResponse:
    post = actions.find_post(call.account, call.kwargs["post_id"])
    values = queries.post_metrics(call.account, [post])[post.pk]
    return json_response({"id": post.remote_id, **_metrics_json(values)})


@endpoint()
def _many_post_metrics(call: Call) -> HttpResponse:
    wanted = [i.strip() for i in call.param("ids").split(",") if i.strip()][:100]
    found: list[SandboxPost] = []
    missing: list[str] = []
    for remote_id in wanted:
        try:
            found.append(actions.find_post(call.account, remote_id))
        except NotFound:
            missing.append(remote_id)
    metrics = queries.post_metrics(call.account, found)
    return json_response(
        {
            "data": {p.remote_id: _metrics_json(metrics[p.pk]) for p in found},
            "missing": missing,
        }
    )


@endpoint()
def _account_metrics(call: Call) -> HttpResponse:
    return json_response(_metrics_json(queries.account_metrics(call.account)))


# -- interactions ------------------------------------------------------------------------


def _page_json(call: Call, page: queries.EventPage) -> dict[str, Any]:
    audience = actions.audience_for(call.account)
    return {
        "items": [queries.event_json(e, audience, call.post_url) for e in page.items],
        "cursor": page.cursor,
        "has_more": page.has_more,
    }


@endpoint()
def _notifications(call: Call) -> HttpResponse:
    page = queries.notifications(
        call.account,
        cursor=call.param("cursor"),
        limit=call.param("limit"),
        kinds=call.param("kinds"),
    )
    return json_response(_page_json(call, page))


@endpoint()
def _search(call: Call) -> HttpResponse:
    page = queries.search(
        call.account, call.param("q"), cursor=call.param("cursor"), limit=call.param("limit")
    )
    return json_response(_page_json(call, page))


@endpoint()
def _get_interaction(call: Call) -> HttpResponse:
    event = actions.find_event(call.account, call.kwargs["event_id"])
    audience = actions.audience_for(call.account)
    return json_response(queries.event_json(event, audience, call.post_url))


@endpoint()
def _delete_interaction(call: Call) -> HttpResponse:
    event = actions.find_event(call.account, call.kwargs["event_id"])
    actions.delete_interaction(call.account, event)
    return HttpResponse(status=204)


@endpoint(publish=True)
def _reply(call: Call) -> HttpResponse:
    event = actions.find_event(call.account, call.kwargs["event_id"])
    published = actions.publish(
        call.account,
        text=str(call.body.get("text") or ""),
        media=actions.parse_media(call.body.get("media")),
        reply_to=event.remote_id,
        idempotency_key=_idempotency_key(call.request, call.body),
        language=str(call.body.get("language") or ""),
        locked=call.locked,
        replay=call.replay,
    )
    return json_response(
        queries.post_json(published.post, call.post_url),
        status=201 if published.created else 200,
    )


@endpoint()
def _hide(call: Call) -> HttpResponse:
    event = actions.find_event(call.account, call.kwargs["event_id"])
    actions.hide_interaction(call.account, event, bool(call.body.get("hidden", True)))
    audience = actions.audience_for(call.account)
    return json_response(queries.event_json(event, audience, call.post_url))


# -- control: faults and the clock ---------------------------------------------------------


@endpoint(control=True)
def _get_faults(call: Call) -> HttpResponse:
    return json_response(queries.faults_json(call.account))


@endpoint(control=True)
def _put_faults(call: Call) -> HttpResponse:
    merge = call.request.method == "PATCH"
    return json_response(actions.set_faults(call.account, call.body, merge=merge))


@endpoint(control=True)
def _get_clock(call: Call) -> HttpResponse:
    return json_response(queries.clock_json(call.account))


@endpoint(control=True)
def _set_clock(call: Call) -> HttpResponse:
    if "speed" not in call.body:
        raise InvalidInput("Send the new speed.", fields={"speed": "Required."})
    actions.set_speed(call.account, call.body["speed"])
    return json_response(queries.clock_json(call.account))


@endpoint(control=True)
def _advance(call: Call) -> HttpResponse:
    released = actions.advance(call.account, call.body.get("seconds", 0))
    return json_response({**queries.clock_json(call.account), "released": released})


@endpoint()
def _subscribe(call: Call) -> HttpResponse:
    from minbar.sandbox import push

    push.subscribe(
        call.account,
        str(call.body.get("url", "")),
        str(call.body.get("secret", "")),
        str(call.body.get("verify_token", "")),
        base=call.request.build_absolute_uri("/"),
    )
    return json_response({"subscribed": True, "url": call.body.get("url", "")})


@endpoint()
def _unsubscribe(call: Call) -> HttpResponse:
    from minbar.sandbox import push

    push.unsubscribe(call.account)
    return json_response({"subscribed": False})


# -- the URLs' views ----------------------------------------------------------------------

health = public(GET=_health)
connect = public(POST=_connect)
profile = public(GET=_profile)
me = methods(GET=_me)
audience = methods(GET=_audience)
audience_summary = methods(GET=_audience_summary)
posts = methods(GET=_list_posts, POST=_create_post)
post = methods(GET=_get_post, DELETE=_delete_post)
post_metrics = methods(GET=_post_metrics)
many_post_metrics = methods(GET=_many_post_metrics)
account_metrics = methods(GET=_account_metrics)
notifications = methods(GET=_notifications)
search = methods(GET=_search)
interaction = methods(GET=_get_interaction, DELETE=_delete_interaction)
reply = methods(POST=_reply)
hide = methods(POST=_hide)
faults = methods(GET=_get_faults, PUT=_put_faults, PATCH=_put_faults)
clock = methods(GET=_get_clock, POST=_set_clock, PUT=_set_clock)
advance = methods(POST=_advance)
webhook = methods(POST=_subscribe, DELETE=_unsubscribe)


# -- public pages: where a post's URL leads ----------------------------------------------


def post_page(request: HttpRequest, handle: str, post_id: str) -> HttpResponse:
    if not sandbox_enabled():
        return HttpResponse(status=404)
    try:
        account = _public_account(handle)
        actions.release(account)
        post_obj = actions.find_post(account, post_id)
    except NotFound:
        return HttpResponse("Not found", status=404, content_type="text/plain; charset=utf-8")
    values = queries.post_metrics(account, [post_obj])[post_obj.pk]
    direction = "rtl" if post_obj.language == "ar" else "ltr"
    return HttpResponse(
        format_html(
            '<!doctype html><html lang="{}" dir="{}"><head><meta charset="utf-8">'
            "<title>@{}</title></head><body><article><header>{} · @{}</header>"
            "<p>{}</p><footer>♥ {} · 💬 {} · 🔁 {} · 👁 {}</footer></article></body></html>",
            post_obj.language,
            direction,
            account.handle,
            account.name,
            account.handle,
            post_obj.text,
            values["likes"],
            values["comments"],
            values["shares"],
            values["impressions"],
        )
    )


def profile_page(request: HttpRequest, handle: str) -> HttpResponse:
    if not sandbox_enabled():
        return HttpResponse(status=404)
    try:
        account = _public_account(handle)
    except NotFound:
        return HttpResponse("Not found", status=404, content_type="text/plain; charset=utf-8")
    return HttpResponse(
        format_html(
            '<!doctype html><html><head><meta charset="utf-8"><title>@{}</title></head>'
            "<body><h1>{}</h1><p>@{}</p></body></html>",
            account.handle,
            account.name,
            account.handle,
        )
    )


# -- error pages of the standalone server (server_urls.py) ---------------------------------


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error(404, "not_found", "No such endpoint on the sandbox network.")


def server_error(request: HttpRequest) -> HttpResponse:
    return error(500, "internal_error", "Something went wrong.")
