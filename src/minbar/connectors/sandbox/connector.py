"""The sandbox network's connector: Minbar's own simulated network, reached over HTTP.

It speaks the sandbox server's JSON API (``/sandbox/api/v1/``, see
minbar/sandbox/views.py) exactly as other connectors speak their network's
API, and maps its answers to the contract's types and errors with the shared
helpers in :mod:`minbar.connectors.http`. The server is Minbar itself (or
``minbar sandbox serve``), so the HTTP client skips the outbound-URL guard
for the configured sandbox address — and only for it: any other address goes
through :func:`check_outbound_url` like every connector's.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from minbar.connectors.base import AuthField, Connector
from minbar.connectors.errors import BadSignature, NotSupported, Rejected
from minbar.connectors.http import (
    USER_AGENT,
    UnsafeURL,
    check_outbound_url,
    error_for_response,
    error_for_transport,
    shared_tls_context,
)
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Author,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    MediaRules,
    Metrics,
    Page,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    RemoteRef,
    TextRules,
)
from minbar.connectors.webhooks import hub_signature_valid
from minbar.sandbox.flavours import IMAGE_TYPES, SPECS, VIDEO_TYPES, Flavour, spec_for

API_PREFIX = "/sandbox/api/v1"
LABEL = "Sandbox"
MB = 1024 * 1024

POST_METRICS = frozenset({"likes", "comments", "shares", "clicks", "impressions", "reach"})
ACCOUNT_METRICS = frozenset({"followers", "following", "posts"})
KINDS = {
    "comment": InteractionKind.COMMENT,
    "reply": InteractionKind.REPLY,
    "mention": InteractionKind.MENTION,
    "message": InteractionKind.DIRECT_MESSAGE,
    "review": InteractionKind.REVIEW,
    "like": InteractionKind.LIKE,
    "share": InteractionKind.REPOST,
    "follow": InteractionKind.FOLLOW,
    # Search finds the audience's public posts: "mentions" of the words searched.
    "chatter": InteractionKind.MENTION,
}
REPLYABLE = frozenset(
    {
        InteractionKind.COMMENT,
        InteractionKind.REPLY,
        InteractionKind.MENTION,
        InteractionKind.DIRECT_MESSAGE,
        InteractionKind.REVIEW,
    }
)
ALL_INTERACTIONS = frozenset(KINDS.values())
POST_TYPES = frozenset(
    {
        PostType.TEXT,
        PostType.LINK,
        PostType.IMAGE,
        PostType.GALLERY,
        PostType.VIDEO,
        PostType.THREAD,
        PostType.REPLY,
        PostType.REEL,
    }
)
FLAVOUR_ALIASES = {
    "x": Flavour.X,
    "x-like": Flavour.X,
    "twitter": Flavour.X,
    "facebook": Flavour.FACEBOOK,
    "facebook-like": Flavour.FACEBOOK,
    "fb": Flavour.FACEBOOK,
    "instagram": Flavour.INSTAGRAM,
    "instagram-like": Flavour.INSTAGRAM,
    "ig": Flavour.INSTAGRAM,
}

# The sandbox network as a whole: the most permissive of its flavours.
CAPABILITIES = Capabilities(
    network="sandbox",
    label=LABEL,
    auth=AuthKind.BUILT_IN,
    text=TextRules(max_length=max(s.text.max_length for s in SPECS.values())),
    media=MediaRules(
        image_types=IMAGE_TYPES,
        video_types=VIDEO_TYPES,
        max_images=10,
        max_videos=10,
        max_image_bytes=10 * MB,
        max_video_bytes=10 * 1024 * MB,
        mix_images_and_video=True,
        alt_text=True,
        alt_text_max_length=1000,
    ),
    post_types=POST_TYPES,
    first_comment=True,
    threads=True,
    visibility=("public",),
    post_metrics=POST_METRICS,
    account_metrics=ACCOUNT_METRICS,
    interactions=ALL_INTERACTIONS,
    can_reply_to=REPLYABLE,
    can_hide=True,
    can_delete_interactions=True,
    search=True,
    rate_limits=(
        RateLimitRule("publish", 300, 3 * 60 * 60),
        RateLimitRule("request", 900, 15 * 60),
    ),
    setup_doc="docs/sandbox.md",
)


def capabilities_for(flavour: str) -> Capabilities:
    """What a sandbox account of one flavour allows: that network's real limits."""
    spec = spec_for(FLAVOUR_ALIASES.get(flavour.lower(), flavour))
    interactions = set(ALL_INTERACTIONS)
    if not spec.reviews:
        interactions.discard(InteractionKind.REVIEW)
    post_types = set(POST_TYPES)
    if not spec.threads:
        post_types.discard(PostType.THREAD)
    if spec.media.media_required:
        post_types -= {PostType.TEXT, PostType.LINK}
    if spec.flavour != Flavour.INSTAGRAM:
        post_types.discard(PostType.REEL)
    return Capabilities(
        network="sandbox",
        label=format_lazy("{} ({})", _("Sandbox"), Flavour(spec.flavour).label),
        auth=AuthKind.BUILT_IN,
        text=spec.text,
        media=spec.media,
        post_types=frozenset(post_types),
        first_comment=spec.first_comment,
        threads=spec.threads,
        visibility=("public",),
        post_metrics=POST_METRICS,
        account_metrics=ACCOUNT_METRICS,
        interactions=frozenset(interactions),
        can_reply_to=frozenset(REPLYABLE & interactions),
        can_hide=True,
        can_delete_interactions=True,
        search=True,
        rate_limits=(*spec.publish_limits, spec.request_limit),
        setup_doc="docs/sandbox.md",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _time(value: Any) -> datetime:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


def _media_json(item: MediaItem) -> dict[str, Any]:
    try:
        size: int | None = os.path.getsize(item.path)
    except OSError:
        size = None
    return {
        "mime_type": item.mime_type,
        "width": item.width,
        "height": item.height,
        "bytes": size,
        "alt_text": item.alt_text,
    }


def _reason(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message") or "")
    return ""


_idle: dict[tuple[int, str], list[httpx.Client]] = {}
_idle_lock = threading.Lock()
KEPT_IDLE = 64  # idle clients kept per sandbox address: more than any pass's threads


def _new_client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        follow_redirects=False,
        verify=shared_tls_context(),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=2),
        # Accounts share clients: never a cookie from one call in another.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


def _borrow(base_url: str) -> httpx.Client:
    """An idle keep-alive client for ``base_url``, made if there is none; give it back after.

    A new connection per call costs a TCP handshake and the server's connection
    set-up on both sides, for every post, so calls reuse kept-alive clients. Each
    call borrows a client of its own rather than all sharing one: httpx's pool
    looks through every connection it holds for each request, so thirty-two
    publishing threads sharing one pool spent more CPU finding a free connection
    than sending the post (bench/publishing.py). Idle clients outlive a
    dispatcher pass's threads, so the next pass starts on open connections. Keyed
    by process id too, so a forked process never uses a parent's sockets.
    """
    with _idle_lock:
        idle = _idle.get((os.getpid(), base_url))
        if idle:
            return idle.pop()
    return _new_client(base_url)


def _give_back(base_url: str, client: httpx.Client) -> None:
    with _idle_lock:
        idle = _idle.setdefault((os.getpid(), base_url), [])
        if len(idle) < KEPT_IDLE:
            idle.append(client)
            return
    client.close()


class _Session:
    """One connector's calls: its own headers and timeout, over kept-alive clients.

    Without a client of its own, each call borrows an idle shared client for
    ``base_url`` (:func:`_borrow`); a client of its own (a test's transport) is
    closed when the calls are done.
    """

    def __init__(
        self,
        client: httpx.Client | None,
        headers: dict[str, str],
        timeout: httpx.Timeout,
        *,
        base_url: str = "",
    ) -> None:
        self._client, self._headers, self._timeout = client, headers, timeout
        self._base_url = base_url

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        if self._client is not None:
            return self._send(self._client, method, path, json, params)
        client = _borrow(self._base_url)
        try:
            return self._send(client, method, path, json, params)
        finally:
            # The answer is read in full: the connection is free for the next call.
            _give_back(self._base_url, client)

    def _send(
        self,
        client: httpx.Client,
        method: str,
        path: str,
        json: dict[str, Any] | None,
        params: dict[str, str] | None,
    ) -> httpx.Response:
        return client.request(
            method, path, json=json, params=params, headers=self._headers, timeout=self._timeout
        )


class SandboxConnector(Connector):
    network = "sandbox"
    capabilities = CAPABILITIES
    # Tests may route every sandbox connector's HTTP in process (a WSGI transport)
    # when they cannot pass ``transport`` themselves (e.g. through the channels app).
    default_transport: ClassVar[Callable[[], httpx.BaseTransport] | None] = None
    auth_fields = (
        AuthField(
            name="name",
            label=_("Account name"),
            help=_("The name of the simulated account, e.g. your brand."),
            placeholder="Oasis Coffee",
        ),
        AuthField(
            name="flavour",
            label=_("Behaves like"),
            help=_("The network whose limits and audience behaviour it imitates."),
            choices=tuple(Flavour.choices),
        ),
    )

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            server_url,
            credentials,
            timeout=timeout,
            on_credentials_change=on_credentials_change,
        )
        self._transport = transport

    # -- HTTP ------------------------------------------------------------------

    @property
    def sandbox_url(self) -> str:
        """The sandbox server's root: the account's, the channel's, or Minbar's own."""
        url = str(self.credentials.data.get("server_url") or self.server_url or "")
        return (url or str(settings.MINBAR_BASE_URL)).rstrip("/")

    def _api_url(self) -> str:
        base = self.sandbox_url
        parts = urlsplit(base)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise UnsafeURL(f"“{base}” is not an http(s) address.")
        trusted = {
            _origin(str(settings.MINBAR_BASE_URL)),
            _origin(str(getattr(settings, "MINBAR_SANDBOX_URL", "") or "")),
        } - {""}
        if _origin(base) not in trusted:
            check_outbound_url(base)  # any other address is an outbound call like any other
        return base + API_PREFIX

    def _client(self, *, auth: bool = True) -> _Session:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if auth:
            token = self.credentials.secrets.get("access_token", "")
            if not token:
                raise error_for_response(
                    httpx.Response(401, text="no sandbox token"), network=LABEL
                )
            headers["Authorization"] = f"Bearer {token}"
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        factory = type(self).default_transport
        if self._transport is None and factory is None:
            return _Session(None, headers, timeout, base_url=self._api_url())
        client = httpx.Client(
            base_url=self._api_url(),
            follow_redirects=False,
            verify=shared_tls_context(),
            transport=self._transport or (factory() if factory else None),
        )
        return _Session(client, headers, timeout)

    def _call(
        self,
        client: _Session,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        writes: bool = False,
        missing_ok: bool = False,
    ) -> httpx.Response | None:
        try:
            response = client.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, network=LABEL, writes=writes) from exc
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise error_for_response(
                response, network=LABEL, reason=_reason(response), writes=writes
            )
        return response

    def _json(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        writes: bool = False,
    ) -> dict[str, Any]:
        with self._client() as client:
            response = self._call(client, method, path, json=json, params=params, writes=writes)
        assert response is not None
        return self._body(response)

    @staticmethod
    def _body(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise Rejected(
                f"{LABEL} sent an answer Minbar cannot read.", detail=response.text[:500]
            ) from None
        if not isinstance(data, dict):
            raise Rejected(f"{LABEL} sent an answer Minbar cannot read.", detail=str(data)[:500])
        return data

    # -- connecting --------------------------------------------------------------

    def connect_with_fields(self, fields: dict[str, str]) -> ConnectResult:
        raw = (fields.get("flavour") or "x").strip().lower()
        flavour = FLAVOUR_ALIASES.get(raw)
        if flavour is None:
            raise Rejected(f"“{raw}” is not a sandbox flavour: use x, facebook or instagram.")
        body: dict[str, Any] = {
            "flavour": str(flavour),
            "name": (fields.get("name") or "").strip() or "Sandbox account",
        }
        for name in ("handle", "topics"):
            if fields.get(name):
                body[name] = fields[name]
        for name, kind in (
            ("seed", int),
            ("audience_size", int),
            ("speed", float),
            ("arabic_share", float),
            ("follower_share", float),
        ):
            if fields.get(name):
                try:
                    body[name] = kind(fields[name])
                except ValueError:
                    raise Rejected(f"{name} must be a number.") from None
        with self._client(auth=False) as client:
            response = self._call(client, "POST", "/connect", json=body, writes=True)
        assert response is not None
        data = self._body(response)
        account = data["account"]
        extra = {"server_url": self.server_url} if self.server_url else {}
        credentials = Credentials(
            secrets={"access_token": str(data["access_token"])},
            data={
                "account_id": account["id"],
                "handle": account["handle"],
                "flavour": account["flavour"],
                **extra,
            },
        )
        self.credentials = credentials
        return ConnectResult(account=self._account(account), credentials=credentials)

    @staticmethod
    def _account(data: dict[str, Any]) -> AccountInfo:
        return AccountInfo(
            remote_id=str(data["id"]),
            handle=f"@{data['handle']}",
            display_name=str(data.get("name") or ""),
            url=str(data.get("url") or ""),
            followers=int(data["followers"]) if data.get("followers") is not None else None,
        )

    def verify(self) -> AccountInfo:
        return self._account(self._json("GET", "/me"))

    @property
    def flavour(self) -> str:
        return str(self.credentials.data.get("flavour") or Flavour.X)

    def account_capabilities(self) -> Capabilities:
        """The connected account's own limits (its flavour's)."""
        return capabilities_for(self.flavour)

    # -- publishing --------------------------------------------------------------

    def _create(
        self, client: _Session, body: dict[str, Any], *, path: str = "/posts"
    ) -> dict[str, Any]:
        response = self._call(client, "POST", path, json=body, writes=True)
        assert response is not None
        return self._body(response)

    @staticmethod
    def _result(post: dict[str, Any], thread_ids: tuple[str, ...] = ()) -> PublishResult:
        remote_id, url = str(post["id"]), str(post.get("url") or "")
        return PublishResult(
            remote_id=remote_id,
            url=url,
            published_at=_time(post.get("created_at")),
            thread_ids=thread_ids,
            ref=RemoteRef(remote_id=remote_id, url=url),
        )

    def publish(self, request: PostRequest) -> PublishResult:
        """The post, then its thread and its first comment, each with its own key.

        Keys derived from ``idempotency_key`` make a retry after any failure
        safe: parts already made are returned, not made twice.
        """
        if request.quote is not None:
            raise NotSupported(f"{LABEL} does not support quoting posts.")
        key = request.idempotency_key
        body: dict[str, Any] = {
            "text": request.text,
            "media": [_media_json(m) for m in request.media],
            "link": request.link,
            "language": request.language,
            "visibility": request.visibility or "public",
            "idempotency_key": key,
        }
        if request.reply_to is not None:
            body["reply_to"] = request.reply_to.remote_id
        with self._client() as client:
            first = self._create(client, body)
            thread_ids: list[str] = []
            previous = str(first["id"])
            for n, text in enumerate(request.thread, start=1):
                part = self._create(
                    client,
                    {
                        "text": text,
                        "reply_to": previous,
                        "language": request.language,
                        "idempotency_key": f"{key}:thread:{n}" if key else "",
                    },
                )
                previous = str(part["id"])
                thread_ids.append(previous)
            if request.first_comment:
                self._create(
                    client,
                    {
                        "text": request.first_comment,
                        "reply_to": str(first["id"]),
                        "language": request.language,
                        "idempotency_key": f"{key}:first-comment" if key else "",
                    },
                )
        return self._result(first, tuple(thread_ids))

    def delete(self, remote_id: str) -> None:
        with self._client() as client:
            self._call(client, "DELETE", f"/posts/{remote_id}", writes=True, missing_ok=True)

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        with self._client() as client:
            if idempotency_key:
                response = self._call(
                    client, "GET", "/posts", params={"idempotency_key": idempotency_key}
                )
                assert response is not None
                items = self._body(response).get("items") or []
                post = items[0] if items else None
            elif remote_id:
                found = self._call(client, "GET", f"/posts/{remote_id}", missing_ok=True)
                post = self._body(found) if found is not None else None
            else:
                return None
        if post is None:
            return None
        return RemotePost(
            remote_id=str(post["id"]),
            url=str(post.get("url") or ""),
            text=str(post.get("text") or ""),
            created_at=_time(post.get("created_at")),
        )

    # -- measuring -------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        results: dict[str, Metrics] = {}
        with self._client() as client:
            for start in range(0, len(remote_ids), 100):
                chunk = remote_ids[start : start + 100]
                response = self._call(
                    client, "GET", "/metrics/posts", params={"ids": ",".join(chunk)}
                )
                assert response is not None
                for remote_id, entry in (self._body(response).get("data") or {}).items():
                    results[str(remote_id)] = Metrics(
                        values={k: int(v) for k, v in entry["values"].items() if k in POST_METRICS},
                        fetched_at=_time(entry.get("fetched_at")),
                    )
        return results

    def account_metrics(self) -> Metrics:
        data = self._json("GET", "/metrics/account")
        return Metrics(
            values={k: int(v) for k, v in data["values"].items() if k in ACCOUNT_METRICS},
            fetched_at=_time(data.get("fetched_at")),
        )

    # -- engaging and listening -----------------------------------------------------

    @staticmethod
    def _interaction(item: dict[str, Any]) -> Interaction:
        kind = KINDS[str(item["kind"])]
        author = item.get("author") or {}
        post = item.get("post")
        post_ref = RemoteRef(str(post["id"]), str(post.get("url") or "")) if post else None
        remote_id = str(item["id"])
        return Interaction(
            remote_id=remote_id,
            kind=kind,
            author=Author(
                remote_id=str(author.get("id") or ""),
                handle=f"@{author['handle']}" if author.get("handle") else "",
                display_name=str(author.get("name") or ""),
                followers=author.get("followers"),
            ),
            created_at=_time(item.get("created_at")),
            text=str(item.get("text") or ""),
            url=str(item.get("url") or ""),
            post=post_ref,
            parent=post_ref,
            ref=RemoteRef(remote_id, str(item.get("url") or "")) if kind in REPLYABLE else None,
            language=str(item.get("language") or ""),
            conversation_id=str(item.get("conversation_id") or ""),
            deleted=bool(item.get("deleted")),
        )

    def _page(self, path: str, params: dict[str, str]) -> Page[Interaction]:
        data = self._json("GET", path, params=params)
        items = [self._interaction(i) for i in data.get("items") or [] if i.get("kind") in KINDS]
        return Page(items=items, cursor=str(data.get("cursor") or ""))

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """What happened after ``cursor``, oldest first; the cursor is "" when nothing new did."""
        params = {"limit": "100"}
        if cursor:
            params["cursor"] = cursor
        return self._page("/notifications", params)

    def subscribe_push(self, url: str, secret: str, verify_token: str) -> None:
        """The network verifies ``url`` (Meta's handshake) and then pushes new interactions."""
        self._json(
            "POST",
            "/webhook",
            json={"url": url, "secret": secret, "verify_token": verify_token},
            writes=True,
        )

    def parse_push(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[Interaction]:
        lowered = {k.lower(): v for k, v in headers.items()}
        if not hub_signature_valid(secret, body, lowered.get("x-hub-signature-256")):
            raise BadSignature(f"{LABEL}: the push is not signed with this channel's secret.")
        try:
            data = json.loads(body)
        except ValueError:
            raise BadSignature(f"{LABEL}: the push is not JSON.") from None
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BadSignature(f"{LABEL}: the push has no items.")
        return [
            self._interaction(i) for i in items if isinstance(i, dict) and i.get("kind") in KINDS
        ]

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        params = {"q": query}
        if cursor:
            params["cursor"] = cursor
        return self._page("/search", params)

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        if to.remote_id.startswith("e"):
            body = {
                "text": request.text,
                "media": [_media_json(m) for m in request.media],
                "language": request.language,
                "idempotency_key": request.idempotency_key,
            }
            with self._client() as client:
                post = self._create(client, body, path=f"/interactions/{to.remote_id}/reply")
            return self._result(post)
        return self.publish(
            PostRequest(
                text=request.text,
                media=request.media,
                link=request.link,
                reply_to=to,
                language=request.language,
                idempotency_key=request.idempotency_key,
            )
        )

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        self._json(
            "POST",
            f"/interactions/{interaction.remote_id}/hide",
            json={"hidden": hidden},
            writes=True,
        )

    def delete_interaction(self, interaction: RemoteRef) -> None:
        with self._client() as client:
            self._call(
                client,
                "DELETE",
                f"/interactions/{interaction.remote_id}",
                writes=True,
                missing_ok=True,
            )
