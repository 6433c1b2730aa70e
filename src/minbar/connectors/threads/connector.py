"""The Threads connector: one Threads profile through the Threads API (graph.threads.net).

Documentation followed (https://developers.facebook.com/docs/threads), page by page:

- sign-in and tokens: get-started/get-access-tokens-and-permissions, get-started/long-lived-tokens
  (:mod:`.oauth`);
- publishing: posts (containers, ``threads_publish``, carousels, media specifications),
  troubleshooting (container ``status`` and ``error_message``), overview (the 250 posts
  and 1,000 replies per 24 hours, ``threads_publishing_limit``), posts/delete-posts;
- replies: reply-management, retrieve-and-manage-replies/replies-and-conversations,
  threads-mentions;
- insights; keyword-search; profiles (``GET /me``).

What the connector keeps in ``Credentials``: ``secrets["access_token"]`` (the
long-lived token) and ``data`` = ``user_id``, ``username``, ``scopes`` (asked for)
and ``token_issued_at`` (ISO time: Threads refreshes only tokens a day old);
``expires_at`` is the token's expiry.

Media: Threads downloads each image or video from a public URL. Minbar gives it
a signed, expiring link to the prepared file (:mod:`minbar.media.public`), so
Minbar's address (``MINBAR_BASE_URL``) must be reachable from the internet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import UnsafeURL, check_outbound_url
from minbar.connectors.threads import oauth
from minbar.connectors.threads.api import ThreadsAPI
from minbar.connectors.threads.mapping import (
    MEDIA_FIELDS,
    POST_METRICS,
    insight_values,
    interaction,
    post_metric_values,
    ref,
    remote_post,
    when,
)
from minbar.connectors.threads.text import text_problems
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    MediaRules,
    Metrics,
    OptionKind,
    Page,
    PostOption,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    RemoteRef,
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABEL = "Threads"
DEFAULT_API = "https://graph.threads.net"
# Who may reply (reply_control, https://developers.facebook.com/docs/threads/reply-management).
REPLY_CONTROLS = (
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
)
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_CAROUSEL = 20
# The inbox reads the replies to this many of the account's latest posts, plus mentions.
RECENT_POSTS = 25
PAGE_LIMIT = 100
MAX_CONVERSATION_PAGES = 5
MAX_ITEMS_PER_PAGE = 300
# Refresh a long-lived (60-day) token once it expires within a week.
REFRESH_AHEAD = timedelta(days=7)
DAY = 86400
# Publishing/reply budgets (overview#rate-limiting); used when the answer gives no config.
POST_QUOTA = 250
REPLY_QUOTA = 1000


@dataclass
class _Attempt:
    """What one idempotency key has put on Threads so far (this process only)."""

    containers: dict[int, str] = field(default_factory=dict)
    media: dict[int, str] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    replies: set[int] = field(default_factory=set)
    started: float = field(default_factory=time.time)


class _Ledger:
    """Idempotency keys → containers and posts, for retries and lookups in this process.

    Threads has no way to attach Minbar's key to a post, so the connector
    remembers, per key, the container it made for each part and the post it
    became. A retry of the same request (a rate limit halfway through a thread)
    then completes only what is missing, and :meth:`ThreadsConnector.lookup`
    can ask Threads about the container. Entries live 24 hours — as long as a
    container — and only in the process that published.
    """

    TTL = 24 * 3600.0
    MAX = 2000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Attempt] = {}

    def get(self, key: str) -> _Attempt:
        with self._lock:
            self._prune()
            return self._entries.setdefault(key, _Attempt())

    def peek(self, key: str) -> _Attempt | None:
        with self._lock:
            self._prune()
            return self._entries.get(key)

    def _prune(self) -> None:
        cutoff = time.time() - self.TTL
        for key in [k for k, v in self._entries.items() if v.started < cutoff]:
            del self._entries[key]
        while len(self._entries) > self.MAX:
            del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


LEDGER = _Ledger()


@dataclass(frozen=True)
class _Part:
    """One post to make: the root, a part of a thread, or the first comment."""

    index: int
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str = ""
    quote: str = ""
    reply_to: str = ""


class ThreadsConnector(Connector):
    network: ClassVar[str] = "threads"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="threads",
        label="Threads",
        auth=AuthKind.OAUTH2,
        # 500 characters; the composer counts graphemes, the connector also counts
        # each emoji as its UTF-8 bytes the way Threads does (see .text).
        text=TextRules(max_length=500, counting=TextCounting.GRAPHEMES),
        # posts#media-specifications: JPEG/PNG up to 8 MB, MOV/MP4 up to 1 GB and
        # 5 minutes, aspect ratio up to 10:1; carousels of 2-20 images and videos.
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_CAROUSEL,
            max_videos=MAX_CAROUSEL,
            max_image_bytes=8 * 1024 * 1024,
            max_video_bytes=1024 * 1024 * 1024,
            mix_images_and_video=True,
            min_aspect_ratio=0.1,
            max_aspect_ratio=10.0,
            alt_text=True,
        ),
        pkce=False,
        default_server_url=DEFAULT_API,
        post_types=frozenset(
            {
                PostType.TEXT,
                PostType.LINK,
                PostType.IMAGE,
                PostType.GALLERY,
                PostType.VIDEO,
                PostType.THREAD,
                PostType.REPLY,
            }
        ),
        first_comment=True,
        threads=True,
        # Threads posts are public; the choice offered is who may reply (reply_control).
        visibility=REPLY_CONTROLS,
        post_options=(
            PostOption(
                "visibility",
                _("Who can reply"),
                OptionKind.CHOICE,
                (
                    ("everyone", _("Everyone")),
                    ("accounts_you_follow", _("Profiles you follow")),
                    ("mentioned_only", _("Profiles you mention")),
                    ("parent_post_author_only", _("Only you")),
                    ("followers_only", _("Your followers")),
                ),
                help=_("Empty: everyone."),
            ),
        ),
        post_metrics=frozenset(POST_METRICS.values()),
        account_metrics=frozenset({"followers", "profile_views"}),
        interactions=frozenset(
            {InteractionKind.COMMENT, InteractionKind.REPLY, InteractionKind.MENTION}
        ),
        can_reply_to=frozenset(
            {InteractionKind.COMMENT, InteractionKind.REPLY, InteractionKind.MENTION}
        ),
        can_hide=True,
        search=True,
        rate_limits=(
            RateLimitRule("publish", POST_QUOTA, DAY, "account"),
            RateLimitRule("reply", REPLY_QUOTA, DAY, "account"),
            RateLimitRule("delete", 100, DAY, "account"),
            RateLimitRule("search", 2200, DAY, "account"),
        ),
        docs_url="https://developers.facebook.com/docs/threads",
        setup_doc="docs/networks/threads.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens Threads: sign in with the Threads profile to connect."),
        _("Review the permissions Minbar asks for and allow them."),
        _("Threads sends you back here and the channel is connected."),
    )

    # Container status checks: the troubleshooting page recommends once a minute for
    # at most five minutes; text and image containers are usually ready at once.
    container_poll_interval: float = 60.0
    container_timeout: float = 300.0

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            server_url, credentials, timeout=timeout, on_credentials_change=on_credentials_change
        )
        self._api_client: ThreadsAPI | None = None
        # The media URL maker; tests may point it at their own file server.
        self.media_url: Callable[[MediaItem], str] = _public_media_url

    # -- plumbing -------------------------------------------------------------

    def _authorize_base(self) -> str:
        """threads.com's Authorization Window, or the fake's when the API URL is overridden."""
        if self.server_url.rstrip("/") == DEFAULT_API:
            return oauth.AUTHORIZE_URL
        return f"{self.server_url}/oauth/authorize"

    def _api(self) -> ThreadsAPI:
        if self._api_client is None:
            self._refresh_if_due()
            token = self.credentials.secrets.get("access_token", "")
            self._api_client = ThreadsAPI(
                check_outbound_url(self.server_url), token, timeout=self.timeout
            )
        return self._api_client

    def _user(self) -> str:
        """The profile's id; ``me`` works for every ``/{threads-user-id}/…`` endpoint too."""
        return str(self.credentials.data.get("user_id") or "me")

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        app = app if app and app.get("client_id") else require_app(self.network, LABEL)
        url = oauth.authorize_url(
            self._authorize_base(),
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
        )
        return OAuthStart(url=url, state=state)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Code → short-lived → long-lived token, then the profile."""
        app = require_app(self.network, LABEL)
        base = check_outbound_url(self.server_url)
        token = oauth.exchange_code(
            base, app=app, redirect_uri=redirect_uri, code=code, timeout=self.timeout
        )
        now = datetime.now(UTC)
        self.credentials = Credentials(
            secrets={"access_token": token.access_token},
            data={"user_id": token.user_id, "token_issued_at": now.isoformat()},
            expires_at=token.expires_at,
        )
        self._api_client = None
        account = self.verify()
        self.credentials = Credentials(
            secrets={"access_token": token.access_token},
            data={
                "user_id": account.remote_id,
                "username": account.handle,
                "scopes": list(oauth.SCOPES),
                "token_issued_at": now.isoformat(),
            },
            expires_at=token.expires_at,
        )
        return ConnectResult(account=account, credentials=self.credentials)

    def refresh(self) -> Credentials | None:
        """A renewed long-lived token once it expires within a week (and is a day old).

        Threads refreshes only unexpired tokens at least 24 hours old; a refused
        refresh is :class:`AuthExpired` (see :func:`.oauth.refresh_token`).
        """
        expires = self.credentials.expires_at
        token = self.credentials.secrets.get("access_token", "")
        if not token or expires is None:
            return None
        now = datetime.now(UTC)
        if expires - now > REFRESH_AHEAD:
            return None
        issued = when(self.credentials.data.get("token_issued_at"))
        if issued is not None and now - issued < oauth.REFRESH_MIN_AGE:
            return None
        fresh = oauth.refresh_token(
            check_outbound_url(self.server_url), access_token=token, timeout=self.timeout
        )
        return Credentials(
            secrets={"access_token": fresh.access_token},
            data={"token_issued_at": now.isoformat()},
            expires_at=fresh.expires_at,
        )

    def _refresh_if_due(self) -> None:
        fresh = self.refresh()
        if fresh is not None:
            self._credentials_changed(fresh)

    def verify(self) -> AccountInfo:
        """``GET /me`` (https://developers.facebook.com/docs/threads/threads-profiles)."""
        me = self._api().get(
            "me", fields="id,username,name,threads_profile_picture_url,threads_biography"
        )
        username = str(me.get("username") or "")
        return AccountInfo(
            remote_id=str(me.get("id") or ""),
            handle=username,
            display_name=str(me.get("name") or ""),
            avatar_url=str(me.get("threads_profile_picture_url") or ""),
            url=f"https://www.threads.com/@{username}" if username else "",
        )

    # -- publishing -----------------------------------------------------------

    def _parts(self, request: PostRequest, reply_to: str) -> list[_Part]:
        parts = [
            _Part(
                index=0,
                text=request.text,
                media=request.media,
                link=request.link,
                quote=request.quote.remote_id if request.quote else "",
                reply_to=reply_to,
            )
        ]
        for number, text in enumerate(request.thread, start=1):
            parts.append(_Part(index=number, text=text))
        if request.first_comment:
            parts.append(_Part(index=len(parts), text=request.first_comment))
        return parts

    def _problems(self, request: PostRequest, parts: list[_Part]) -> list[str]:
        """Everything Threads would refuse, found before anything is sent (threads whole)."""
        problems: list[str] = []
        if request.content_warning:
            problems.append("Threads: Minbar cannot add a content warning to Threads posts.")
        if request.visibility and request.visibility not in REPLY_CONTROLS:
            problems.append(
                f"Threads: who may reply must be one of {', '.join(REPLY_CONTROLS)}, "
                f"not “{request.visibility}”."
            )
        if request.link and request.media:
            problems.append("Threads: a link preview (link_attachment) is for text-only posts.")
        for part in parts:
            where = "" if part.index == 0 else f"Post {part.index + 1}"
            if not part.text.strip() and not part.media:
                problems.append(f"{where or 'Threads'}: a post needs text or media.")
            problems += text_problems(part.text, link_attachment=part.link, where=where)
        problems += _media_problems(request.media)
        return problems

    def publish(self, request: PostRequest) -> PublishResult:
        """Containers → (wait until FINISHED) → ``threads_publish``, for each part.

        The parts of a thread and the first comment are replies (``reply_to_id``)
        to the part before. With an idempotency key, parts already out (an
        earlier attempt that stopped halfway, in this process) are not posted again.
        """
        reply_to = request.reply_to.remote_id if request.reply_to else ""
        parts = self._parts(request, reply_to)
        problems = self._problems(request, parts)
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))
        media_urls = self._media_urls(request.media)
        attempt = LEDGER.get(request.idempotency_key) if request.idempotency_key else _Attempt()
        self._check_quotas(parts, attempt)
        published: list[str] = []
        first_comment = len(parts) - 1 if request.first_comment else -1
        for part in parts:
            if published:
                # Thread parts answer the part before; the first comment, the post itself.
                parent = published[0] if part.index == first_comment else published[-1]
                part = replace(part, reply_to=parent)
            published.append(
                self._publish_part(part, attempt, media_urls if part.index == 0 else [], request)
            )
        root = self._api().get(published[0], fields="id,permalink,timestamp")
        root_ref = ref(root)
        return PublishResult(
            remote_id=root_ref.remote_id,
            url=root_ref.url,
            published_at=when(root.get("timestamp")),
            thread_ids=tuple(published[1 : 1 + len(request.thread)]),
            ref=root_ref,
        )

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """A reply is a post with ``reply_to_id`` (reply-management, "Respond to replies")."""
        return self.publish(replace(request, reply_to=to))

    def _media_urls(self, media: tuple[MediaItem, ...]) -> list[str]:
        if not media:
            return []
        if not getattr(settings, "MINBAR_ALLOW_PRIVATE_URLS", False):
            base = str(getattr(settings, "MINBAR_BASE_URL", ""))
            try:
                check_outbound_url(base)
            except (UnsafeURL, TemporaryError) as exc:
                raise Rejected(
                    "Threads downloads images and videos from Minbar's own address, and "
                    f"{base or 'MINBAR_BASE_URL'} cannot be reached from the internet. Set "
                    "MINBAR_BASE_URL to a public https address of this Minbar (see "
                    "docs/networks/threads.md), or post without media.",
                    detail=str(exc),
                ) from None
        return [self.media_url(item) for item in media]

    def _publishing_limit(self) -> dict[str, Any]:
        body = self._api().get(
            f"{self._user()}/threads_publishing_limit",
            fields="quota_usage,config,reply_quota_usage,reply_config",
        )
        data = body.get("data") or [{}]
        return dict(data[0]) if isinstance(data[0], dict) else {}

    def _check_quotas(self, parts: list[_Part], attempt: _Attempt) -> None:
        """``GET /{user}/threads_publishing_limit`` before posting: RateLimited when spent.

        The root of a new post counts against the 250 posts, every reply (a
        reply, the rest of a thread, a first comment) against the 1,000 replies
        (overview#rate-limiting, retrieve-and-manage-replies#rate-limits).
        """
        todo = [p for p in parts if p.index not in attempt.media]
        if not todo:
            return
        posts = sum(1 for p in todo if p.index == 0 and not p.reply_to)
        replies = len(todo) - posts
        limit = self._publishing_limit()
        for name, usage_key, config_key, needed, default in (
            ("posts", "quota_usage", "config", posts, POST_QUOTA),
            ("replies", "reply_quota_usage", "reply_config", replies, REPLY_QUOTA),
        ):
            if not needed or usage_key not in limit:
                continue
            config = limit.get(config_key) or {}
            total = int(config["quota_total"]) if config.get("quota_total") is not None else default
            used = int(limit.get(usage_key) or 0)
            if used + needed > total:
                window = int(config.get("quota_duration") or DAY)
                raise RateLimited(
                    f"Threads allows {total} {name} in {window // 3600} hours and this "
                    f"account has used {used}; Minbar will publish when the budget allows.",
                    retry_after=self._quota_wait(name, window),
                    detail=f"{usage_key}={used} quota_total={total} quota_duration={window}",
                    status=None,
                )

    def _quota_wait(self, name: str, window: int) -> float:
        """When the oldest post (or reply) of the rolling window leaves it; an hour if unknown."""
        edge = "threads" if name == "posts" else "replies"
        since = int(time.time()) - window
        try:
            body = self._api().get(
                f"{self._user()}/{edge}", fields="id,timestamp", since=since, limit=PAGE_LIMIT
            )
        except ConnectorError:
            return 3600.0
        times = [t for t in (when(m.get("timestamp")) for m in body.get("data") or []) if t]
        if not times:
            return 3600.0
        frees = min(times).timestamp() + window - time.time()
        return max(60.0, frees)

    def _container_fields(
        self, part: _Part, urls: list[str], request: PostRequest
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if part.text:
            fields["text"] = part.text
        if part.reply_to:
            fields["reply_to_id"] = part.reply_to
        if part.quote:
            fields["quote_post_id"] = part.quote
        if request.visibility and part.index == 0:
            fields["reply_control"] = request.visibility
        if not urls:
            fields["media_type"] = "TEXT"
            if part.link:
                fields["link_attachment"] = part.link
            return fields
        if len(urls) == 1:
            fields.update(_media_fields(part.media[0], urls[0]))
            return fields
        children = [
            self._create_container({**_media_fields(item, url), "is_carousel_item": True})
            for item, url in zip(part.media, urls, strict=True)
        ]
        for child in children:
            self._wait_finished(child)
        fields["media_type"] = "CAROUSEL"
        fields["children"] = ",".join(children)
        return fields

    def _create_container(self, fields: dict[str, Any]) -> str:
        """``POST /{user}/threads``. A container is not a post: a lost answer is temporary."""
        body = self._api().post(f"{self._user()}/threads", **fields)
        container = str(body.get("id") or "")
        if not container:
            raise TemporaryError("Threads did not say which container it made.", detail=str(body))
        return container

    def _status(self, container: str) -> dict[str, Any]:
        return self._api().get(container, fields="id,status,error_message")

    def _wait_finished(self, container: str) -> str:
        """Poll the container (bounded) until FINISHED; its last status otherwise."""
        deadline = time.monotonic() + self.container_timeout
        while True:
            state = self._status(container)
            status = str(state.get("status") or "")
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if status == "ERROR":
                reason = str(state.get("error_message") or "UNKNOWN")
                raise Rejected(
                    f"Threads could not process the media ({reason}). Check it meets Threads' "
                    "media specifications, then publish again.",
                    detail=f"container {container}: {reason}",
                )
            if status == "EXPIRED":
                raise TemporaryError(
                    "The Threads container expired before it was published; Minbar will try again.",
                    detail=f"container {container}: EXPIRED",
                )
            if time.monotonic() + self.container_poll_interval > deadline:
                raise TemporaryError(
                    "Threads is still processing the media; Minbar will try again.",
                    detail=f"container {container}: {status or 'no status'} after "
                    f"{self.container_timeout:.0f} s",
                )
            time.sleep(self.container_poll_interval)

    def _publish_part(
        self, part: _Part, attempt: _Attempt, urls: list[str], request: PostRequest
    ) -> str:
        if part.index in attempt.media:
            return attempt.media[part.index]
        container = attempt.containers.get(part.index, "")
        if container:
            status = str(self._status(container).get("status") or "")
            if status == "PUBLISHED":
                found = self._find_published(
                    part.text, reply=bool(part.reply_to), since=attempt.started
                )
                if found:
                    attempt.media[part.index] = found
                    return found
                raise OutcomeUnknown(
                    "Threads published this post but Minbar cannot find it among the "
                    "account's latest posts.",
                    detail=f"container {container}: PUBLISHED",
                )
            if status not in ("FINISHED", "IN_PROGRESS"):
                container = ""  # expired or failed: make a new one
        if not container:
            container = self._create_container(self._container_fields(part, urls, request))
            attempt.containers[part.index] = container
            attempt.texts[part.index] = part.text
            if part.reply_to:
                attempt.replies.add(part.index)
        self._wait_finished(container)
        media_id = self._publish_container(container, part, attempt)
        attempt.media[part.index] = media_id
        return media_id

    def _publish_container(self, container: str, part: _Part, attempt: _Attempt) -> str:
        """``POST /{user}/threads_publish?creation_id=…``; settle a lost answer at once.

        A container is published at most once, so when the answer is lost
        Minbar asks the container: PUBLISHED → find the post; FINISHED → it
        did not go out, publish it (again, the same container); otherwise the
        outcome stays unknown for the engine to reconcile.
        """
        try:
            body = self._api().post(
                f"{self._user()}/threads_publish", writes=True, creation_id=container
            )
        except OutcomeUnknown as lost:
            try:
                status = str(self._status(container).get("status") or "")
                if status == "PUBLISHED":
                    found = self._find_published(
                        part.text, reply=bool(part.reply_to), since=attempt.started
                    )
                    if found:
                        return found
                elif status == "FINISHED":
                    body = self._api().post(
                        f"{self._user()}/threads_publish", writes=True, creation_id=container
                    )
                    return str(body["id"])
            except ConnectorError:
                pass
            raise lost from None
        media_id = str(body.get("id") or "")
        if not media_id:
            raise OutcomeUnknown("Threads did not say which post it made.", detail=str(body))
        return media_id

    def _find_published(self, text: str, *, reply: bool, since: float) -> str:
        """What a published container became: the newest own post (or reply) with this text."""
        edge = "replies" if reply else "threads"
        body = self._api().get(
            f"{self._user()}/{edge}",
            fields="id,text,timestamp",
            since=int(since) - 60,
            limit=PAGE_LIMIT,
        )
        for media in body.get("data") or []:  # newest first
            if str(media.get("text") or "") == text:
                return str(media.get("id") or "")
        return ""

    def delete(self, remote_id: str) -> None:
        """``DELETE /{threads-media-id}`` (posts/delete-posts); a post already gone counts."""
        try:
            self._api().call("DELETE", remote_id)
        except Rejected as exc:
            if exc.status != 404:
                raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did it go out? By the post's id, or by what this process remembers of the key.

        Threads cannot find a post by Minbar's key, and Minbar embeds nothing in
        posts; so the key leads to the container this process made for it
        (:class:`_Ledger`). PUBLISHED → the post with the same text among the
        account's latest; anything else → None. A key this process never saw
        gives None as well, which is why Threads lookups are not authoritative
        (the engine then asks a person; ``lookup_authoritative_seconds`` is unset).
        """
        if remote_id:
            try:
                media = self._api().get(remote_id, fields="id,text,timestamp,permalink")
            except Rejected as exc:
                if exc.status == 404:
                    return None
                raise
            return remote_post(media)
        attempt = LEDGER.peek(idempotency_key) if idempotency_key else None
        if attempt is None:
            return None
        media_id = attempt.media.get(0, "")
        container = attempt.containers.get(0, "")
        if not media_id and container:
            status = str(self._status(container).get("status") or "")
            if status != "PUBLISHED":
                return None
            media_id = self._find_published(
                attempt.texts.get(0, ""), reply=0 in attempt.replies, since=attempt.started
            )
            if not media_id:
                raise OutcomeUnknown(
                    "Threads published the post but Minbar cannot find it yet.",
                    detail=f"container {container}: PUBLISHED",
                )
            attempt.media[0] = media_id
        if not media_id:
            return None
        return self.lookup(remote_id=media_id)

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """``GET /{media}/insights?metric=views,likes,replies,reposts,quotes`` per post."""
        found: dict[str, Metrics] = {}
        for remote_id in dict.fromkeys(i for i in remote_ids if i):
            try:
                body = self._api().get(f"{remote_id}/insights", metric=",".join(POST_METRICS))
            except Rejected as exc:
                if exc.status == 404:
                    continue  # deleted since
                raise
            found[remote_id] = Metrics(
                values=post_metric_values(body), fetched_at=datetime.now(UTC)
            )
        return found

    def account_metrics(self) -> Metrics:
        """Followers (total) and profile views over the last 24 hours (``threads_insights``)."""
        now = int(time.time())
        body = self._api().get(f"{self._user()}/threads_insights", metric="followers_count")
        values: dict[str, int] = {}
        raw = insight_values(body)
        if "followers_count" in raw:
            values["followers"] = raw["followers_count"]
        # followers_count takes no since/until; views does (a day's window).
        views = insight_values(
            self._api().get(
                f"{self._user()}/threads_insights", metric="views", since=now - DAY, until=now
            )
        )
        if "views" in views:
            values["profile_views"] = views["views"]
        return Metrics(values=values, fetched_at=datetime.now(UTC))

    # -- engaging and listening ----------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """Replies to the account's latest posts, and mentions, newer than ``cursor``.

        Threads has no notifications feed: Minbar reads ``GET /{media}/conversation``
        (all depths, oldest first) of the :data:`RECENT_POSTS` latest posts that
        have replies, and ``GET /{user}/mentions``. The cursor is the newest
        reply's time and the ids seen at that second; older replies are skipped.
        Replies to older posts are not polled (a limit of this reading).
        """
        since, seen = _parse_cursor(cursor)
        api = self._api()
        posts = api.get(
            f"{self._user()}/threads",
            fields="id,permalink,timestamp,has_replies",
            limit=RECENT_POSTS,
        )
        found: dict[str, Interaction] = {}
        for post in posts.get("data") or []:
            if not post.get("has_replies"):
                continue
            post_ref = ref(post)
            for media in self._conversation(post_ref.remote_id):
                if media.get("is_reply_owned_by_me"):
                    continue
                item = interaction(media, post=post_ref)
                if item is not None:
                    found[item.remote_id] = item
        for media in self._mentions(since):
            item = interaction(media, kind=InteractionKind.MENTION)
            if item is not None and item.remote_id not in found:
                found[item.remote_id] = replace(item, post=None)
        fresh = sorted(
            (i for i in found.values() if _is_new(i, since, seen)),
            key=lambda i: (i.created_at, i.remote_id),
        )[:MAX_ITEMS_PER_PAGE]
        return Page(items=fresh, cursor=_next_cursor(fresh, cursor))

    def _conversation(self, media_id: str) -> Iterable[dict[str, Any]]:
        """Every reply under a post, oldest first, a bounded number of pages."""
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "reverse": False, "limit": PAGE_LIMIT}
        for _page in range(MAX_CONVERSATION_PAGES):
            body = self._api().get(f"{media_id}/conversation", **params)
            yield from body.get("data") or []
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                return
            params["after"] = after

    def _mentions(self, since: datetime | None) -> list[dict[str, Any]]:
        """Mentions need threads_manage_mentions; without it the inbox has replies only."""
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": PAGE_LIMIT}
        if since is not None:
            params["since"] = max(int(since.timestamp()), 1688540400)
        try:
            body = self._api().get(f"{self._user()}/mentions", **params)
        except Rejected as exc:
            if "permission" in exc.message.lower():
                return []
            raise
        return list(body.get("data") or [])

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        """``POST /{reply-id}/manage_reply`` with ``hide`` (top-level replies only)."""
        self._api().post(f"{interaction.remote_id}/manage_reply", hide=hidden)

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        """``GET /keyword_search`` (keyword-search): most recent first; ``#tag`` for topic tags.

        Needs ``threads_keyword_search``; until Meta approves it for the app,
        Threads searches only the account's own posts. The cursor is ``until``
        (a Unix time): the next page is older than the oldest result.
        """
        words = query.strip()
        params: dict[str, Any] = {
            "search_type": "RECENT",
            "fields": "id,text,media_type,permalink,timestamp,username,is_reply",
            "limit": PAGE_LIMIT,
        }
        if words.startswith("#"):
            words = words.lstrip("#").strip()
            params["search_mode"] = "TAG"
        if not words:
            raise Rejected("Enter words or a #topic to search Threads for.")
        params["q"] = words
        if cursor:
            if not cursor.isdigit():
                raise Rejected("This search page no longer exists; search again.")
            params["until"] = int(cursor)
        body = self._api().get("keyword_search", **params)
        items = [
            item
            for media in body.get("data") or []
            if (item := interaction(media, kind=InteractionKind.MENTION)) is not None
        ]
        after = ""
        if len(items) >= PAGE_LIMIT:
            oldest = min(i.created_at for i in items)
            after = str(int(oldest.timestamp()) - 1)
        return Page(items=[replace(i, post=None) for i in items], cursor=after)

    def delete_interaction(self, interaction: RemoteRef) -> None:
        raise NotSupported(
            "Threads lets an account delete only its own posts; hide a reply instead."
        )


# -- helpers ------------------------------------------------------------------


def _public_media_url(item: MediaItem) -> str:
    from minbar.media.public import NotInLibrary, public_url

    try:
        return public_url(item.path, item.mime_type)
    except NotInLibrary as exc:
        raise Rejected(f"Threads: {exc}", detail=str(exc)) from None


def _media_fields(item: MediaItem, url: str) -> dict[str, Any]:
    video = item.mime_type in VIDEO_TYPES
    fields: dict[str, Any] = {"media_type": "VIDEO" if video else "IMAGE"}
    fields["video_url" if video else "image_url"] = url
    if item.alt_text:
        fields["alt_text"] = item.alt_text
    return fields


def _media_problems(media: tuple[MediaItem, ...]) -> list[str]:
    problems: list[str] = []
    if len(media) > MAX_CAROUSEL:
        problems.append(f"Threads: at most {MAX_CAROUSEL} images and videos in a carousel.")
    for number, item in enumerate(media, start=1):
        if item.mime_type not in IMAGE_TYPES + VIDEO_TYPES:
            problems.append(
                f"Threads: attachment {number} is {item.mime_type}; Threads takes JPEG or PNG "
                "images and MP4 or MOV videos."
            )
    return problems


def _parse_cursor(cursor: str) -> tuple[datetime | None, set[str]]:
    """``<unix seconds>:<id>,<id>`` → (that time, the ids already seen at it)."""
    if not cursor:
        return None, set()
    stamp, _sep, ids = cursor.partition(":")
    try:
        moment = datetime.fromtimestamp(int(stamp), UTC)
    except ValueError:
        return None, set()
    return moment, {i for i in ids.split(",") if i}


def _is_new(item: Interaction, since: datetime | None, seen: set[str]) -> bool:
    if since is None:
        return True
    moment = item.created_at.replace(microsecond=0)
    return moment > since or (moment == since and item.remote_id not in seen)


def _next_cursor(items: list[Interaction], cursor: str) -> str:
    if not items:
        return cursor
    newest = items[-1].created_at.replace(microsecond=0)
    ids = [i.remote_id for i in items if i.created_at.replace(microsecond=0) == newest]
    since, seen = _parse_cursor(cursor)
    if since == newest:
        ids = sorted(seen | set(ids))
    return f"{int(newest.timestamp())}:{','.join(ids)}"
