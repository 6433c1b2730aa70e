"""The Mastodon connector: one account on any Mastodon (API-compatible) instance.

It follows Mastodon's REST API (https://docs.joinmastodon.org/methods/) through
Mastodon.py, except for the three sign-in calls in :mod:`.oauth`.
How each contract method maps to the API is in its docstring; the user-facing
summary is ``docs/networks/mastodon.md``.

What the connector keeps in ``Credentials`` (set by :meth:`finish_oauth`):

* ``secrets``: ``access_token`` (never expires, see :meth:`refresh`) and
  ``client_secret`` (the per-instance app's, needed to revoke the token);
* ``data``: ``instance`` (base URL), ``domain`` (the instance's own domain, the
  part after the second @ in handles), ``account_id``, ``acct``
  (``name@domain``), ``client_id``, ``scopes`` (as granted), ``pkce``,
  ``version`` (as reported) and ``limits`` (see :func:`.text.limits_from_instance`:
  ``max_characters``, ``characters_reserved_per_url``, ``max_media_attachments``,
  ``description_limit``, ``supported_mime_types``, ``image_size_limit``,
  ``video_size_limit``…). :meth:`verify` refreshes ``limits`` when the
  instance's change.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext_lazy as _
from mastodon import Mastodon, MastodonError

from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import USER_AGENT, check_outbound_url
from minbar.connectors.mastodon import oauth
from minbar.connectors.mastodon.failures import Redirected, translate
from minbar.connectors.mastodon.mapping import (
    NOTIFICATION_TYPES,
    VISIBILITIES,
    author,
    html_to_text,
    interaction_from_notification,
    interaction_from_status,
    narrowest_visibility,
    status_ref,
    when,
)
from minbar.connectors.mastodon.text import (
    DEFAULT_LIMITS,
    limits_from_instance,
    media_rules,
    text_rules,
    validate_text,
)
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
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
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

T = TypeVar("T")

# Notifications and timelines: Mastodon's default page is 40 (notifications allow 80).
PAGE_SIZE = 40
# GET /api/v1/statuses?id[]= takes at most 20 ids (Mastodon 4.3+).
STATUS_BATCH = 20


def normalize_server_url(raw: str) -> str:
    """``https://host[:port]`` from what a person types.

    Accepts ``mastodon.social``, ``https://mastodon.social/@me``, ``@me@mastodon.social``:
    the API always lives at the root of the instance, so any path is dropped.
    """
    value = (raw or "").strip()
    if not value:
        return ""
    if "://" not in value:
        if "@" in value:  # a handle: the instance is after the last @
            value = value.rsplit("@", 1)[1]
        value = "https://" + value
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if not host:
        return value.rstrip("/")
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return f"{parts.scheme.lower()}://{netloc}"


class _GuardedSession(requests.Session):
    """A requests session that never follows redirects and remembers the last headers."""

    def __init__(self, remember: Callable[[requests.Response], None]) -> None:
        super().__init__()
        self._remember = remember
        self.hooks["response"].append(self._on_response)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._remember(response)
        if response.is_redirect:
            # Raised inside requests, so Mastodon.py reports MastodonNetworkError
            # with this as its context; failures.translate explains it.
            raise Redirected(response.status_code, response.headers.get("location", ""))


class MastodonConnector(Connector):
    network: ClassVar[str] = "mastodon"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="mastodon",
        label="Mastodon",
        auth=AuthKind.OAUTH2,
        # Mastodon counts grapheme clusters, links as 23, content warning included
        # (see .text); these are the defaults, each instance's own limits are in
        # credentials.data["limits"] (MastodonConnector.instance_capabilities()).
        text=text_rules(),
        media=media_rules(),
        pkce=True,  # when the instance supports it (Mastodon 4.3+), see .oauth
        needs_server_url=True,
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
        threads=True,
        content_warning=True,
        visibility=VISIBILITIES,
        post_options=(
            PostOption(
                "visibility",
                _("Visibility"),
                OptionKind.CHOICE,
                (
                    ("public", _("Public")),
                    ("unlisted", _("Quiet public (not in public timelines)")),
                    ("private", _("Followers only")),
                    ("direct", _("Mentioned people only")),
                ),
                help=_("Empty: the account's default visibility."),
            ),
        ),
        # "quotes" only where the instance reports quotes_count (Mastodon 4.5+).
        post_metrics=frozenset({"likes", "shares", "comments", "quotes"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
        interactions=frozenset(
            {
                InteractionKind.MENTION,
                InteractionKind.REPLY,
                InteractionKind.QUOTE,
                InteractionKind.DIRECT_MESSAGE,
                InteractionKind.LIKE,
                InteractionKind.REPOST,
                InteractionKind.FOLLOW,
            }
        ),
        can_reply_to=frozenset(
            {InteractionKind.MENTION, InteractionKind.REPLY, InteractionKind.DIRECT_MESSAGE}
        ),
        search=True,
        # Mastodon's defaults (https://docs.joinmastodon.org/api/rate-limits/ and
        # app/lib/rate_limiter.rb); instances may change them, the X-RateLimit-*
        # headers are what Minbar obeys.
        rate_limits=(
            RateLimitRule("request", 300, 5 * 60, "account"),
            RateLimitRule("request", 300, 5 * 60, "ip"),
            RateLimitRule("media", 30, 30 * 60, "account"),
            RateLimitRule("delete", 30, 30 * 60, "account"),
            RateLimitRule("publish", 300, 3 * 60 * 60, "account"),
        ),
        docs_url="https://docs.joinmastodon.org/methods/",
        setup_doc="docs/networks/mastodon.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Enter the address of your Mastodon server, e.g. https://mastodon.social."),
        _("Minbar opens your server's page: sign in there if asked, and approve Minbar."),
        _("Your server sends you back here and the channel is connected."),
    )

    # How long publish() waits for the instance to finish processing an upload
    # (video is transcoded after the upload returns), and how often it asks.
    media_processing_timeout: ClassVar[float] = 120.0
    media_poll_interval: ClassVar[float] = 2.0

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            normalize_server_url(server_url),
            credentials,
            timeout=timeout,
            on_credentials_change=on_credentials_change,
        )
        self._client: Mastodon | None = None
        self._account_id: str = str(self.credentials.data.get("account_id") or "")
        # The last HTTP response Mastodon.py received: its headers and body
        # explain a failure better than Mastodon.py's exception does.
        self._last_response: requests.Response | None = None

    # -- plumbing -------------------------------------------------------------

    def _base_url(self) -> str:
        if not self.server_url:
            raise Rejected("Enter your Mastodon instance's address, e.g. https://mastodon.social.")
        return check_outbound_url(self.server_url)

    def _domain(self) -> str:
        return str(self.credentials.data.get("domain") or urlsplit(self.server_url).netloc)

    def _label(self) -> str:
        return f"Mastodon ({self._domain()})"

    def _remember(self, response: requests.Response) -> None:
        self._last_response = response

    def _api(self) -> Mastodon:
        """Mastodon.py for this account: no sleeping on 429, a timeout, no redirects."""
        if self._client is None:
            token = self.credentials.secrets.get("access_token", "")
            if not token:
                raise AuthExpired("This Mastodon account is not connected. Reconnect it.")
            self._client = Mastodon(
                access_token=token,
                api_base_url=self._base_url(),
                ratelimit_method="throw",
                request_timeout=self.timeout,
                session=_GuardedSession(self._remember),
                user_agent=USER_AGENT,
                version_check_mode="none",
            )
        return self._client

    def _call(self, request: Callable[[], T], *, creates: bool = False) -> T:
        """Run one Mastodon.py call and translate its failure into the taxonomy."""
        self._last_response = None  # never explain a failure with an older response
        try:
            return request()
        except MastodonError as exc:
            raise translate(
                exc, label=self._label(), creates=creates, response=self._last_response
            ) from exc

    def _limits(self) -> Mapping[str, Any]:
        limits = self.credentials.data.get("limits")
        return limits if isinstance(limits, Mapping) else DEFAULT_LIMITS

    def account_capabilities(self) -> Capabilities:
        return self.instance_capabilities()

    def instance_capabilities(self) -> Capabilities:
        """The capabilities with this account's instance limits (character limit, media)."""
        limits = self._limits()
        return replace(self.capabilities, text=text_rules(limits), media=media_rules(limits))

    def _instance_document(self) -> Mapping[str, Any]:
        """``/api/v2/instance`` (Mastodon 4.0+), else ``/api/v1/instance``."""
        api = self._api()
        try:
            return self._call(api.instance_v2)
        except Rejected as exc:
            if exc.status != 404:
                raise
        return self._call(api.instance_v1)

    def _account_info(self, account: Mapping[str, Any], domain: str) -> AccountInfo:
        who = author(account, domain)
        return AccountInfo(
            remote_id=who.remote_id,
            handle=who.handle,
            display_name=who.display_name,
            avatar_url=who.avatar_url,
            url=who.url,
            followers=who.followers,
        )

    def _own_account_id(self) -> str:
        if not self._account_id:
            me = self._call(self._api().account_verify_credentials)
            self._account_id = str(me["id"])
        return self._account_id

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """Register Minbar on the instance when ``app`` is None, then build the approval URL.

        The returned ``app`` (``client_id``, ``client_secret``) is for the caller
        to cache per instance and redirect URI; PKCE is used when the instance
        advertises it (``code_verifier`` is then non-empty and must come back in
        :meth:`finish_oauth`).
        """
        base = self._base_url()
        with oauth.open_client(base, self.timeout) as client:
            info = oauth.discover(client, base)
            if not app or not app.get("client_id"):
                app = oauth.register_app(client, base, redirect_uri)
        verifier, challenge = oauth.pkce_pair() if info.pkce else ("", "")
        url = oauth.authorize_url(
            info,
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge,
        )
        return OAuthStart(url=url, state=state, code_verifier=verifier, app=dict(app))

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Exchange the code, then read the account and the instance's limits."""
        app = start.app or {}
        if not app.get("client_id"):
            raise Rejected(
                "Minbar lost its registration with this Mastodon instance. Start connecting again."
            )
        base = self._base_url()
        with oauth.open_client(base, self.timeout) as client:
            info = oauth.discover(client, base)
        token = oauth.exchange_code(
            base,
            info,
            app=app,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=start.code_verifier,
            timeout=self.timeout,
        )
        self.credentials = Credentials(secrets={"access_token": str(token["access_token"])})
        self._client = None
        me = self._call(self._api().account_verify_credentials)
        instance = self._instance_document()
        domain = str(instance.get("domain") or instance.get("uri") or urlsplit(base).netloc)
        account = self._account_info(me, domain)
        self._account_id = account.remote_id
        granted = str(token.get("scope") or " ".join(oauth.SCOPES)).split()
        self.credentials = Credentials(
            secrets={
                "access_token": str(token["access_token"]),
                "client_secret": app.get("client_secret", ""),
            },
            data={
                "instance": base,
                "domain": domain,
                "account_id": account.remote_id,
                "acct": account.handle,
                "client_id": app["client_id"],
                "scopes": granted,
                "pkce": bool(start.code_verifier),
                "version": str(instance.get("version") or ""),
                "limits": limits_from_instance(instance),
            },
        )
        return ConnectResult(account=account, credentials=self.credentials)

    def refresh(self) -> Credentials | None:
        """Mastodon access tokens do not expire (no ``expires_in``, no refresh token).

        A revoked token shows up as a 401 on the next call, raised as
        :class:`AuthExpired` so a person reconnects the account.
        """
        return None

    def verify(self) -> AccountInfo:
        """``GET /api/v1/accounts/verify_credentials``; also picks up changed instance limits."""
        me = self._call(self._api().account_verify_credentials)
        self._account_id = str(me["id"])
        try:
            limits = limits_from_instance(self._instance_document())
        except ConnectorError:
            # The account check is the answer; limits are refreshed next time.
            limits = None
        if limits is not None and limits != self.credentials.data.get("limits"):
            self._credentials_changed(Credentials(data={"limits": limits}))
        return self._account_info(me, self._domain())

    # -- publishing -----------------------------------------------------------

    def _problems(self, request: PostRequest) -> list[str]:
        """Everything Minbar can tell is wrong before anything is sent.

        A thread is checked whole, so that part 3 being too long does not leave
        parts 1 and 2 published on their own.
        """
        limits = self._limits()
        problems: list[str] = []
        if request.visibility and request.visibility not in VISIBILITIES:
            problems.append(
                f"Mastodon: visibility must be one of {', '.join(VISIBILITIES)}, "
                f"not “{request.visibility}”."
            )
        first = _text_with_link(request)
        if not first.strip() and not request.media:
            problems.append("Mastodon: a post needs text or media.")
        problems += validate_text(first, limits, content_warning=request.content_warning)
        for number, part in enumerate(request.thread, start=2):
            if not part.strip():
                problems.append(f"Post {number} of the thread is empty.")
            for problem in validate_text(part, limits, content_warning=request.content_warning):
                problems.append(f"Post {number} of the thread: {problem}")
        problems += _media_problems(request.media, limits)
        return problems

    def _check(self, request: PostRequest) -> None:
        if request.quote is not None:
            raise self._unsupported("quoting posts through Minbar")
        if request.first_comment:
            raise self._unsupported("a first comment (publish a thread instead)")
        problems = self._problems(request)
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))

    def _upload(self, item: MediaItem) -> str:
        """``POST /api/v2/media`` with the alt text, then wait (bounded) until processed.

        Mastodon answers 202 with ``url: null`` while it still converts the file
        and refuses a status with unprocessed media, so publishing waits here
        (https://docs.joinmastodon.org/methods/media/#v2).
        """
        api = self._api()
        media = self._call(
            lambda: api.media_post(
                item.path, mime_type=item.mime_type, description=item.alt_text or None
            )
        )
        media_id = media["id"]
        deadline = time.monotonic() + self.media_processing_timeout
        while not media.get("url"):
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    f"{self._label()} is still processing {os.path.basename(item.path)}; "
                    "Minbar will try again.",
                    detail=f"media {media_id} not processed after "
                    f"{self.media_processing_timeout:.0f} s",
                )
            time.sleep(self.media_poll_interval)
            media = self._call(lambda: api.media(media_id))
        return str(media_id)

    def _post_status(
        self, text: str, request: PostRequest, *, in_reply_to: str, media_ids: list[str], key: str
    ) -> Mapping[str, Any]:
        """``POST /api/v1/statuses`` with the ``Idempotency-Key`` header.

        Mastodon remembers the key per account for one hour and answers a repeat
        with the status it already made, without posting again
        (https://docs.joinmastodon.org/methods/statuses/#create). mastodon-mock
        does the same (it keeps keys for its lifetime).
        """
        api = self._api()
        return self._call(
            lambda: api.status_post(
                text,
                in_reply_to_id=in_reply_to or None,
                media_ids=list(media_ids) or None,
                visibility=request.visibility or None,
                spoiler_text=request.content_warning or None,
                language=request.language or None,
                idempotency_key=key or None,
            ),
            creates=True,
        )

    def _publish(self, request: PostRequest, *, in_reply_to: str = "") -> PublishResult:
        self._check(request)
        media_ids = [self._upload(item) for item in request.media]
        key = request.idempotency_key
        first = self._post_status(
            _text_with_link(request),
            request,
            in_reply_to=in_reply_to,
            media_ids=media_ids,
            key=key,
        )
        # The rest of a thread answers the post before it. Each part has its
        # own key derived from the request's, so publishing the same request
        # again after a failure halfway picks up the parts already out.
        chain: list[str] = []
        previous = str(first["id"])
        for number, part in enumerate(request.thread, start=2):
            status = self._post_status(
                part,
                request,
                in_reply_to=previous,
                media_ids=[],
                key=f"{key}:{number}" if key else "",
            )
            previous = str(status["id"])
            chain.append(previous)
        ref = status_ref(first)
        return PublishResult(
            remote_id=ref.remote_id,
            url=ref.url,
            published_at=when(first.get("created_at")),
            thread_ids=tuple(chain),
            ref=ref,
        )

    def publish(self, request: PostRequest) -> PublishResult:
        """Upload media, post the status (and the rest of a thread).

        A request with ``reply_to`` is a reply, with :meth:`reply`'s mentions
        and visibility rules.
        """
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        return self._publish(request)

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """Answer a status the way Mastodon's own apps do (Mastodon.py's ``status_reply``).

        The author and the other people mentioned (not the channel itself) are
        @mentioned at the start — without that a reply notifies nobody; the
        reply is never more open than the status it answers (a reply to a direct
        message stays direct) and keeps its content warning unless the request
        sets its own.
        """
        target = self._call(lambda: self._api().status(to.remote_id))
        own = self._own_account_id()
        target_visibility = str(target.get("visibility") or "")
        answer = replace(
            request,
            text=_with_mentions(request.text, _mention_accts(target, own)),
            visibility=narrowest_visibility(
                request.visibility or target_visibility, target_visibility
            ),
            content_warning=request.content_warning or str(target.get("spoiler_text") or ""),
            reply_to=None,
        )
        return self._publish(answer, in_reply_to=str(target["id"]))

    def delete(self, remote_id: str) -> None:
        """``DELETE /api/v1/statuses/:id``; a status already gone counts as deleted."""
        api = self._api()
        try:
            self._call(lambda: api.status_delete(remote_id))
        except Rejected as exc:
            if exc.status not in (404, 410):
                raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did it go out? By the status id, or by the ``Idempotency-Key`` it was sent with.

        Mastodon cannot list statuses by key, but it checks the key *before*
        anything else when a status is posted (``PostStatusService#call``:
        ``return idempotency_duplicate if idempotency_given? &&
        idempotency_duplicate?``, then validation). So Minbar posts an *empty*
        direct status with the key:

        * the key is known → Mastodon answers with the status made with it;
        * it is not → the empty text fails validation (422, "Text can't be
          blank") and nothing is posted.

        Limits, honestly: Mastodon forgets keys after one hour, so after that
        ``None`` means "not found", not "never posted"; an instance that ignores
        the header also answers 422 here. The probe uses the general request
        budget, not the status-creation one.
        """
        api = self._api()
        if remote_id:
            try:
                status = self._call(lambda: api.status(remote_id))
            except Rejected as exc:
                if exc.status in (404, 410):
                    return None
                raise
            return _remote_post(status)
        if not idempotency_key:
            return None
        try:
            status = self._call(
                lambda: api.status_post("", visibility="direct", idempotency_key=idempotency_key)
            )
        except Rejected as exc:
            # 422: the key is unknown; 404: its status has been deleted since.
            if exc.status in (404, 410, 422):
                return None
            raise
        return _remote_post(status)

    # -- measuring ------------------------------------------------------------

    def _statuses(self, ids: list[str]) -> list[Mapping[str, Any]]:
        """Statuses by id: 20 at a time (Mastodon 4.3+), else one by one; deleted ones drop out."""
        api = self._api()
        found: list[Mapping[str, Any]] = []
        batch_works = True
        for start in range(0, len(ids), STATUS_BATCH):
            chunk = ids[start : start + STATUS_BATCH]
            if batch_works:
                try:
                    found += self._call(partial(api.statuses, chunk))
                    continue
                except Rejected as exc:
                    if exc.status not in (404, 405):
                        raise
                    batch_works = False  # an instance older than 4.3
            for status_id in chunk:
                try:
                    found.append(self._call(partial(api.status, status_id)))
                except Rejected as exc:
                    if exc.status not in (404, 410):
                        raise
        return found

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Favourites, boosts, replies (and quotes where reported) of the channel's statuses."""
        ids = [i for i in dict.fromkeys(remote_ids) if i]
        now = datetime.now(UTC)
        metrics: dict[str, Metrics] = {}
        for status in self._statuses(ids):
            values = {
                "likes": int(status.get("favourites_count") or 0),
                "shares": int(status.get("reblogs_count") or 0),  # boosts
                "comments": int(status.get("replies_count") or 0),  # replies
            }
            if status.get("quotes_count") is not None:
                values["quotes"] = int(status["quotes_count"])
            metrics[str(status["id"])] = Metrics(values=values, fetched_at=now)
        return metrics

    def account_metrics(self) -> Metrics:
        """Followers, following and statuses from ``GET /api/v1/accounts/:id``."""
        own = self._own_account_id()
        account = self._call(lambda: self._api().account(own))
        return Metrics(
            values={
                "followers": int(account.get("followers_count") or 0),
                "following": int(account.get("following_count") or 0),
                "posts": int(account.get("statuses_count") or 0),
            },
            fetched_at=datetime.now(UTC),
        )

    # -- engaging and listening ----------------------------------------------

    def _conversation_root(self, status: Mapping[str, Any], cache: dict[str, str]) -> str:
        """The first status of a direct-message thread, as the conversation's id.

        Mastodon's Status has no conversation id, and /api/v1/conversations
        only shows each conversation's latest status; the root of the reply
        chain is stable and shared by every message of the thread.
        """
        status_id = str(status.get("id", ""))
        in_reply_to = status.get("in_reply_to_id")
        if in_reply_to is None:
            return status_id
        if status_id not in cache:
            context = self._call(lambda: self._api().status_context(status_id))
            ancestors = context.get("ancestors") or []
            cache[status_id] = str(ancestors[0]["id"]) if ancestors else str(in_reply_to)
        return cache[status_id]

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New notifications since ``cursor``, oldest first.

        ``GET /api/v1/notifications`` with ``types[]`` = mention, favourite,
        reblog, follow, quote (https://docs.joinmastodon.org/methods/notifications/).
        Without a cursor: the latest page. With one: ``min_id=cursor``, the
        page right after it, so nothing is skipped when more than a page came
        in. The returned cursor is the newest notification id seen — the same
        cursor when nothing is new, so it can always be stored; a full page
        means more may be waiting right away.
        """
        api = self._api()
        notifications = self._call(
            lambda: api.notifications(
                min_id=cursor or None, limit=PAGE_SIZE, types=list(NOTIFICATION_TYPES)
            )
        )
        own = self._own_account_id()
        domain = self._domain()
        roots: dict[str, str] = {}
        items: list[Interaction] = []
        for notification in notifications:
            status = notification.get("status")
            conversation = ""
            direct = status and status.get("visibility") == "direct"
            if direct and notification.get("type") == "mention":
                conversation = self._conversation_root(status, roots)
            item = interaction_from_notification(
                notification, own_account_id=own, domain=domain, conversation_id=conversation
            )
            if item is not None:
                items.append(item)
        items.sort(key=lambda i: i.created_at)
        return Page(items=items, cursor=_newest_id(notifications) or cursor)

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        """Public posts matching ``query``; ``#tag`` reads the hashtag's timeline.

        Words use ``GET /api/v2/search?type=statuses``
        (https://docs.joinmastodon.org/methods/search/#v2): full-text search only
        exists where the instance runs Elasticsearch/OpenSearch, and finds only
        posts whose authors allow being searched. ``#tag`` uses
        ``GET /api/v1/timelines/tag/:hashtag``
        (https://docs.joinmastodon.org/methods/timelines/#tag), which every
        instance has. Only public and unlisted posts are returned, never boosts.
        The cursor pages back in time; "" when there is nothing older.
        """
        words = query.strip()
        # A hashtag is letters, digits and underscores (Mastodon's Tag::HASHTAG_RE);
        # anything else would end up in the URL path.
        tag_match = re.match(r"#+(\w+)", words)
        if not words.lstrip("#") or (words.startswith("#") and tag_match is None):
            raise Rejected("Enter words or a #hashtag to search Mastodon for.")
        api = self._api()
        statuses: list[Mapping[str, Any]]
        if tag_match is not None:
            tag = tag_match.group(1)
            statuses = list(
                self._call(
                    lambda: api.timeline_hashtag(tag, max_id=cursor or None, limit=PAGE_SIZE)
                )
            )
            after = str(statuses[-1]["id"]) if len(statuses) >= PAGE_SIZE else ""
        else:
            offset = int(cursor) if cursor.isdigit() else 0
            found = self._call(
                lambda: api.search_v2(
                    words,
                    resolve=False,
                    result_type="statuses",
                    offset=offset or None,
                    limit=PAGE_SIZE,
                )
            )
            statuses = list(found.get("statuses") or [])
            after = str(offset + len(statuses)) if len(statuses) >= PAGE_SIZE else ""
        domain = self._domain()
        items = [
            interaction_from_status(status, domain=domain)
            for status in statuses
            if status.get("visibility") in ("public", "unlisted") and not status.get("reblog")
        ]
        return Page(items=items, cursor=after)


# -- helpers ------------------------------------------------------------------


def _text_with_link(request: PostRequest) -> str:
    """A link post is its text plus the link (Mastodon previews the first link)."""
    if request.link and request.link not in request.text:
        return f"{request.text.rstrip()}\n\n{request.link}".strip()
    return request.text


def _media_problems(media: Iterable[MediaItem], limits: Mapping[str, Any]) -> list[str]:
    items = list(media)
    if not items:
        return []
    problems: list[str] = []
    rules = media_rules(limits)
    videos = [m for m in items if m.mime_type.startswith(("video/", "audio/"))]
    images = [m for m in items if m.mime_type.startswith("image/")]
    if videos and len(items) > 1:
        problems.append("Mastodon: a video must be the only attachment of its post.")
    elif len(images) > rules.max_images:
        problems.append(f"Mastodon: at most {rules.max_images} images per post.")
    supported = set(rules.image_types) | set(rules.video_types)
    supported |= {t for t in limits.get("supported_mime_types") or [] if t.startswith("audio/")}
    for number, item in enumerate(items, start=1):
        name = os.path.basename(item.path) or f"attachment {number}"
        if item.mime_type not in supported:
            problems.append(
                f"Mastodon: {name} is {item.mime_type}, which this instance does not take."
            )
        limit = rules.max_video_bytes if item in videos else rules.max_image_bytes
        try:
            size = os.path.getsize(item.path)
        except OSError:
            problems.append(f"Mastodon: {name} cannot be read.")
            continue
        if limit and size > limit:
            problems.append(
                f"Mastodon: {name} is {size / 1_048_576:.1f} MB; "
                f"this instance takes up to {limit / 1_048_576:.0f} MB."
            )
        alt_limit = rules.alt_text_max_length or 0
        if alt_limit and len(item.alt_text) > alt_limit:
            problems.append(
                f"Mastodon: the description of {name} is "
                f"{len(item.alt_text)}/{alt_limit} characters."
            )
    return problems


def _mention_accts(status: Mapping[str, Any], own_account_id: str) -> list[str]:
    """Who a reply to ``status`` mentions: its author, then the people it mentions, never us."""
    accounts = [status.get("account") or {}, *(status.get("mentions") or [])]
    seen: set[str] = set()
    accts: list[str] = []
    for account in accounts:
        account_id = str(account.get("id", ""))
        acct = str(account.get("acct") or "")
        if not acct or account_id == own_account_id or account_id in seen:
            continue
        seen.add(account_id)
        accts.append(acct)
    return accts


def _with_mentions(text: str, accts: list[str]) -> str:
    missing = [
        acct
        for acct in accts
        if not re.search(rf"(?<![\w@])@{re.escape(acct)}(?![\w@])", text, re.IGNORECASE)
    ]
    if not missing:
        return text
    return " ".join(f"@{acct}" for acct in missing) + " " + text.lstrip()


def _remote_post(status: Mapping[str, Any]) -> RemotePost:
    ref = status_ref(status)
    return RemotePost(
        remote_id=ref.remote_id,
        url=ref.url,
        text=html_to_text(str(status.get("content") or "")),
        created_at=when(status.get("created_at")),
    )


def _newest_id(items: Iterable[Mapping[str, Any]]) -> str:
    """The newest id in a page: numerically when ids are numbers (Mastodon), else the first."""
    ids = [str(item.get("id", "")) for item in items]
    ids = [i for i in ids if i]
    if not ids:
        return ""
    if all(i.isdigit() for i in ids):
        return max(ids, key=int)
    return ids[0]  # pages come newest first
