"""The X connector: one account through the X API v2 (https://docs.x.com/x-api/introduction).

Minbar talks to ``https://api.x.com`` (``MINBAR_X_API_URL`` points it elsewhere,
e.g. at the local fake in ``tests/fake.py``) with the account's OAuth 2.0 user
token. How each contract method maps to the API is in its docstring; the user
guide is ``docs/networks/x.md``.

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` (two hours) and ``refresh_token`` (rotated by X
  on every refresh, so the new one is saved at once);
* ``data``: ``user_id``, ``username``, ``scopes`` (as granted),
  ``private_metrics`` (False once X refused non-public metrics to this app) and
  ``sent`` — Minbar's idempotency key of each recent post with its text, the
  time it was sent and, once known, its id. X has no idempotency key, so this is
  how :meth:`lookup` finds a post whose answer was lost.
"""

from __future__ import annotations

import os
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import regex
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import make_client
from minbar.connectors.pkce import pkce_pair
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
from minbar.connectors.x import failures, oauth
from minbar.connectors.x.failures import RateWindow
from minbar.connectors.x.mapping import (
    EXPANSIONS,
    POST_FIELDS,
    USER_FIELDS,
    author,
    expanded_text,
    interaction_from_post,
    post_metric_values,
    post_url,
    remote_post,
    users_by_id,
    when,
)
from minbar.connectors.x.text import MAX_WEIGHTED_LENGTH, URL_LENGTH, parse_tweet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LABEL = "X"
API_URL = "https://api.x.com"

# https://docs.x.com/x-api/media/quickstart/media-best-practices
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
GIF_TYPE = "image/gif"
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
MAX_VIDEO_BYTES = 512 * 1024 * 1024
ALT_TEXT_MAX = 1000
CHUNK_BYTES = 4 * 1024 * 1024  # APPEND segments; X takes up to 5 MB each

LOOKUP_BATCH = 100  # GET /2/tweets?ids= takes at most 100 ids
PAGE_SIZE = 100  # mentions, timelines and recent search: max_results up to 100
PRIVATE_METRICS_DAYS = 30
SENT_KEEP = 200  # recent posts remembered for lookup
SENT_DAYS = 7
# Reconciling a lost answer: the post is looked for among the account's posts
# from a little before it was sent.
LOOKUP_SLACK = timedelta(minutes=2)

_SPACE = regex.compile(r"\s+")
_LINK = regex.compile(r"https?://\S+", regex.IGNORECASE)


def _comparable(text: str) -> str:
    """Text as X gives it back, reduced to what survives posting (links become t.co)."""
    text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", _LINK.sub("", text)).strip()


class _Windows:
    """Rate-limit windows seen in this process, shared by every connector instance.

    X's limits are per user and endpoint: when an answer says ``remaining: 0``,
    the next call to that endpoint before ``reset`` would only earn a 429, so it
    is refused here first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed: dict[tuple[str, str], float] = {}

    def note(self, key: tuple[str, str], window: RateWindow) -> None:
        with self._lock:
            if window.remaining == 0 and window.reset is not None:
                self._closed[key] = window.reset
            elif window.remaining:
                self._closed.pop(key, None)

    def wait(self, key: tuple[str, str]) -> float:
        with self._lock:
            reset = self._closed.get(key)
            if reset is None:
                return 0.0
            left = reset - time.time()
            if left <= 0:
                del self._closed[key]
                return 0.0
            return left

    def clear(self) -> None:
        with self._lock:
            self._closed.clear()


WINDOWS = _Windows()


class XConnector(Connector):
    network: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="x",
        label=_("X"),
        auth=AuthKind.OAUTH2,
        # twitter-text v3: weighted length, links count 23 (see .text).
        text=TextRules(
            max_length=MAX_WEIGHTED_LENGTH, counting=TextCounting.WEIGHTED, url_length=URL_LENGTH
        ),
        media=MediaRules(
            image_types=(*IMAGE_TYPES, GIF_TYPE),
            video_types=VIDEO_TYPES,
            max_images=4,
            max_videos=1,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            mix_images_and_video=False,
            alt_text=True,
            alt_text_max_length=ALT_TEXT_MAX,
        ),
        pkce=True,
        default_server_url=API_URL,
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
        first_comment=True,  # a reply of the account to its own post
        threads=True,
        # POST /2/tweets reply_settings (https://docs.x.com/x-api/posts/create-post):
        # absent, everyone may reply. Only for the first post of a thread, not replies.
        post_options=(
            PostOption(
                "reply_settings",
                _("Who can reply"),
                OptionKind.CHOICE,
                (
                    ("following", _("Accounts you follow")),
                    ("mentionedUsers", _("Accounts you mention")),
                    ("subscribers", _("Your subscribers")),
                    ("verified", _("Verified accounts")),
                ),
                help=_("Empty: everyone."),
            ),
        ),
        # clicks (url_link_clicks) only for the account's posts of the last 30 days and
        # where the app's access level allows non-public metrics; absent otherwise.
        post_metrics=frozenset(
            {"likes", "comments", "shares", "quotes", "saves", "impressions", "clicks"}
        ),
        account_metrics=frozenset({"followers", "following", "posts"}),
        interactions=frozenset({InteractionKind.MENTION, InteractionKind.REPLY}),
        can_reply_to=frozenset({InteractionKind.MENTION, InteractionKind.REPLY}),
        can_hide=True,
        search=True,
        # Per user unless noted (https://docs.x.com/x-api/fundamentals/rate-limits and
        # each endpoint's reference); the access level's monthly caps come on top
        # (docs/networks/x.md). The x-rate-limit-* headers are what Minbar obeys.
        rate_limits=(
            RateLimitRule("publish", 100, 15 * 60, "account"),
            RateLimitRule("publish", 10_000, 24 * 60 * 60, "app"),
            RateLimitRule("delete", 50, 15 * 60, "account"),
            RateLimitRule("hide", 50, 15 * 60, "account"),
            RateLimitRule("mentions", 300, 15 * 60, "account"),
            RateLimitRule("search", 300, 15 * 60, "account"),
            RateLimitRule("lookup", 900, 15 * 60, "account"),
            RateLimitRule("timeline", 900, 15 * 60, "account"),
        ),
        docs_url="https://docs.x.com/x-api/introduction",
        setup_doc="docs/networks/x.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens X: sign in to the account you want to connect, if asked."),
        _("Approve Minbar: it asks to read and write posts, upload media and hide replies."),
        _("X sends you back here and the channel is connected."),
    )

    # How long publish() waits for X to process a video or GIF, and the longest
    # pause between two status checks (X suggests one with check_after_secs).
    media_processing_timeout: ClassVar[float] = 300.0
    media_poll_max: ClassVar[float] = 10.0

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
        self._client: httpx.Client | None = None

    # -- plumbing -------------------------------------------------------------

    def _app(self) -> dict[str, str]:
        return require_app(self.network, LABEL)

    def _user_id(self) -> str:
        user_id = str(self.credentials.data.get("user_id") or "")
        if not user_id:
            me = self._me()
            user_id = str(me["id"])
            self._credentials_changed(
                Credentials(data={"user_id": user_id, "username": str(me.get("username") or "")})
            )
        return user_id

    def _username(self) -> str:
        return str(self.credentials.data.get("username") or "")

    def _token(self) -> str:
        token = self.credentials.secrets.get("access_token", "")
        if not token:
            raise AuthExpired("This X account is not connected. Reconnect it.")
        return token

    def _expired(self) -> bool:
        expires = self.credentials.expires_at
        return expires is not None and expires <= datetime.now(UTC) + timedelta(seconds=30)

    def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str = "",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        writes: bool = False,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        """One API call: rate-limit check, token refresh when due, errors translated.

        ``endpoint`` names the rate-limit window ("POST /2/tweets"); it defaults
        to the method and path.
        """
        key = (str(self.credentials.data.get("user_id") or ""), endpoint or f"{method} {path}")
        wait = WINDOWS.wait(key)
        if wait > 0:
            raise RateLimited(
                "X's limit for this kind of request is used up until its window resets; "
                "Minbar waits instead of asking.",
                retry_after=wait,
                detail=f"x-rate-limit-remaining: 0 for {key[1]}",
                status=None,
            )
        if self._expired() and self.credentials.secrets.get("refresh_token"):
            self._refresh_now()
        response = self._send(
            method, path, params=params, json=json, data=data, files=files, writes=writes
        )
        if response.status_code == 401 and self.credentials.secrets.get("refresh_token"):
            # An access token revoked early or expired without expires_at: one refresh,
            # then the same request again (a 401 means X did nothing with it).
            self._refresh_now()
            response = self._send(
                method, path, params=params, json=json, data=data, files=files, writes=writes
            )
        WINDOWS.note(key, RateWindow.from_headers(response.headers))
        if response.status_code not in ok:
            raise failures.translate(response, writes=writes)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            if writes:
                raise failures.OutcomeUnknown(
                    "X sent an answer Minbar could not read; the post may have gone out.",
                    detail=response.text[:500],
                ) from None
            raise TemporaryError("X sent an answer Minbar could not read.") from None
        return body if isinstance(body, dict) else {}

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
        writes: bool,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token()}"}
        if self._client is None:
            # One client (and its connection pool) per connector: publishing with
            # media makes a dozen calls in a row.
            self._client = make_client(self.server_url, timeout=self.timeout)
        try:
            return self._client.request(
                method, path, params=params, json=json, data=data, files=files, headers=headers
            )
        except httpx.TransportError as exc:
            raise failures.transport(exc, writes=writes) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _me(self) -> dict[str, Any]:
        answer = self._call(
            "GET", "/2/users/me", params={"user.fields": USER_FIELDS}, endpoint="GET /2/users/me"
        )
        me = answer.get("data")
        if not isinstance(me, dict) or not me.get("id"):
            raise TemporaryError("X did not say which account this is.", detail=str(answer)[:500])
        return me

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """X's approval page, with a PKCE challenge (S256) and Minbar's scopes."""
        app = app if app and app.get("client_id") else self._app()
        verifier, challenge = pkce_pair()
        base = "" if self.server_url == API_URL else self.server_url
        url = oauth.authorize_url(
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge,
            base=base,
        )
        return OAuthStart(url=url, state=state, code_verifier=verifier)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Exchange the code (with the verifier), then read who connected."""
        if not start.code_verifier:
            raise Rejected("Minbar lost the sign-in's PKCE verifier. Start connecting again.")
        token = oauth.exchange_code(
            self.server_url,
            self._app(),
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=start.code_verifier,
            timeout=self.timeout,
        )
        self.credentials = oauth.credentials_from_token(token)
        granted = set(self.credentials.data.get("scopes") or oauth.SCOPES)
        missing = [s for s in ("tweet.read", "tweet.write", "users.read") if s not in granted]
        if missing:
            raise Rejected(
                f"X did not grant Minbar {', '.join(missing)}; without it Minbar cannot "
                "publish for this account. Connect again and approve every permission.",
                detail=" ".join(sorted(granted)),
            )
        me = self._me()
        account = _account(me)
        self.credentials = self.credentials.merged(
            Credentials(data={"user_id": account.remote_id, "username": account.handle})
        )
        return ConnectResult(account=account, credentials=self.credentials)

    def _refresh_now(self) -> Credentials:
        refresh_token = self.credentials.secrets.get("refresh_token", "")
        if not refresh_token:
            raise AuthExpired("X's sign-in for this account has expired. Reconnect the account.")
        token = oauth.refresh_tokens(
            self.server_url, self._app(), refresh_token=refresh_token, timeout=self.timeout
        )
        fresh = oauth.credentials_from_token(token)
        # Saved at once: X has already invalidated the refresh token just used.
        self._credentials_changed(fresh)
        return fresh

    def refresh(self) -> Credentials | None:
        """New tokens when the access token expires within 30 minutes.

        ``POST /2/oauth2/token`` with ``grant_type=refresh_token``; X answers with
        a new refresh token too (rotation), which is saved before returning. A
        revoked refresh token raises :class:`AuthExpired`.
        """
        expires = self.credentials.expires_at
        if expires is None or expires > datetime.now(UTC) + timedelta(minutes=30):
            return None
        return self._refresh_now()

    def verify(self) -> AccountInfo:
        """``GET /2/users/me``."""
        me = self._me()
        account = _account(me)
        if account.handle != self._username() or account.remote_id != str(
            self.credentials.data.get("user_id") or ""
        ):
            self._credentials_changed(
                Credentials(data={"user_id": account.remote_id, "username": account.handle})
            )
        return account

    # -- publishing -----------------------------------------------------------

    def _problems(self, request: PostRequest) -> list[str]:
        """What Minbar can tell is wrong before anything is sent; a thread is checked whole."""
        problems: list[str] = []
        first = _text_with_link(request)
        if not first.strip() and not request.media:
            problems.append("X: a post needs text or media.")
        parts = [first, *request.thread]
        if request.first_comment:
            parts.append(request.first_comment)
        for number, part in enumerate(parts, start=1):
            result = parse_tweet(part)
            where = "" if number == 1 else f" (part {number})"
            if number > 1 and not part.strip():
                problems.append(f"X{where}: this part is empty.")
            if result.weighted_length > MAX_WEIGHTED_LENGTH:
                problems.append(
                    f"X{where}: {result.weighted_length}/{MAX_WEIGHTED_LENGTH} characters "
                    f"(links count as {URL_LENGTH}, emoji and CJK as 2)."
                )
        problems += _media_problems(request.media)
        if request.visibility:
            problems.append("X: posts are public; there is no visibility to choose.")
        return problems

    def _check(self, request: PostRequest) -> None:
        if request.content_warning:
            raise self._unsupported("content warnings")
        problems = self._problems(request)
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))

    def _upload(self, item: MediaItem) -> str:
        """The chunked upload of X API v2, then alt text.

        ``POST /2/media/upload/initialize`` (JSON ``media_type``, ``total_bytes``,
        ``media_category``) → ``POST /2/media/upload/:id/append`` (multipart
        ``segment_index`` + ``media``) per chunk → ``POST /2/media/upload/:id/finalize``;
        when the answer has ``processing_info``, ``GET /2/media/upload?command=STATUS``
        until ``succeeded`` (``failed`` is a :class:`Rejected` with X's reason).
        Alt text goes with ``POST /2/media/metadata`` (images and GIFs).
        https://docs.x.com/x-api/media/quickstart/media-upload-chunked
        """
        name = os.path.basename(item.path)
        try:
            size = os.path.getsize(item.path)
        except OSError:
            raise Rejected(f"Minbar cannot read the media file {name}.") from None
        category = _media_category(item.mime_type)
        started = self._call(
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": item.mime_type, "total_bytes": size, "media_category": category},
            endpoint="POST /2/media/upload/initialize",
        )
        media_id = str((started.get("data") or {}).get("id") or "")
        if not media_id:
            raise TemporaryError("X did not start the upload.", detail=str(started)[:500])
        with open(item.path, "rb") as handle:
            segment = 0
            while chunk := handle.read(CHUNK_BYTES):
                self._call(
                    "POST",
                    f"/2/media/upload/{media_id}/append",
                    data={"segment_index": str(segment)},
                    files={"media": (name, chunk, "application/octet-stream")},
                    endpoint="POST /2/media/upload/append",
                    ok=(200, 201, 204),
                )
                segment += 1
        finished = self._call(
            "POST", f"/2/media/upload/{media_id}/finalize", endpoint="POST /2/media/upload/finalize"
        )
        self._wait_for_processing(media_id, finished.get("data") or {}, name)
        if item.alt_text and category != "tweet_video":
            self._call(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
                endpoint="POST /2/media/metadata",
            )
        return media_id

    def _wait_for_processing(self, media_id: str, media: Mapping[str, Any], name: str) -> None:
        deadline = time.monotonic() + self.media_processing_timeout
        info = media.get("processing_info")
        while isinstance(info, Mapping):
            state = info.get("state")
            if state == "succeeded":
                return
            if state == "failed":
                error = info.get("error") or {}
                raise Rejected(
                    f"X could not process {name}: {error.get('message') or 'no reason given'}.",
                    detail=str(info)[:500],
                )
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    f"X is still processing {name}; Minbar will try again.",
                    detail=f"media {media_id} not processed after "
                    f"{self.media_processing_timeout:.0f} s",
                )
            pause = float(info.get("check_after_secs", 1) or 0)
            time.sleep(min(max(pause, 0.0), self.media_poll_max))
            status = self._call(
                "GET",
                "/2/media/upload",
                params={"command": "STATUS", "media_id": media_id},
                endpoint="GET /2/media/upload",
            )
            info = (status.get("data") or {}).get("processing_info")

    def _sent(self) -> dict[str, dict[str, Any]]:
        sent = self.credentials.data.get("sent")
        return dict(sent) if isinstance(sent, Mapping) else {}

    def _remember(self, key: str, entry: dict[str, Any]) -> None:
        """Note a post in ``credentials.data["sent"]`` (saved through the channel)."""
        sent = self._sent()
        sent[key] = entry
        cutoff = (datetime.now(UTC) - timedelta(days=SENT_DAYS)).isoformat()
        kept = sorted(
            ((k, v) for k, v in sent.items() if str(v.get("at") or "") >= cutoff),
            key=lambda kv: str(kv[1].get("at") or ""),
        )[-SENT_KEEP:]
        self._credentials_changed(Credentials(data={"sent": dict(kept)}))

    def _create(
        self,
        text: str,
        *,
        key: str,
        media_ids: list[str] | None = None,
        reply_to: str = "",
        quote: str = "",
        reply_settings: str = "",
    ) -> tuple[str, str]:
        """``POST /2/tweets``; returns (id, text). A part already out (same key) is reused."""
        if key:
            known = self._sent().get(key) or {}
            if known.get("id"):
                return str(known["id"]), text
            # The first attempt's time stays: lookup reads the account's posts from then.
            first_at = known.get("at") or datetime.now(UTC).isoformat()
            self._remember(key, {"text": text, "at": first_at})
        body: dict[str, Any] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if quote:
            body["quote_tweet_id"] = quote
        if reply_settings:
            body["reply_settings"] = reply_settings
        try:
            answer = self._call(
                "POST", "/2/tweets", json=body, writes=True, endpoint="POST /2/tweets"
            )
        except Rejected as exc:
            if key and failures.DUPLICATE in exc.detail.lower():
                # The same text is already out: when it is this very post (an
                # earlier attempt whose answer was lost), it counts as published.
                found = self.lookup(idempotency_key=key)
                if found is not None:
                    return found.remote_id, found.text
            raise
        data = answer.get("data") or {}
        post_id = str(data.get("id") or "")
        if not post_id:
            raise failures.OutcomeUnknown(
                "X accepted the post but did not say its id.", detail=str(answer)[:500]
            )
        if key:
            note = self._sent().get(key) or {}
            self._remember(
                key,
                {
                    "text": text,
                    "at": note.get("at") or datetime.now(UTC).isoformat(),
                    "id": post_id,
                },
            )
        return post_id, str(data.get("text") or text)

    def _publish(self, request: PostRequest, *, reply_to: str = "") -> PublishResult:
        self._check(request)
        quote = request.quote.remote_id if request.quote is not None else ""
        key = request.idempotency_key
        known = self._sent().get(key) if key else None
        media_ids: list[str] = []
        if not (known and known.get("id")):  # uploads only when the first post is not out yet
            media_ids = [self._upload(item) for item in request.media]
        first_id, _text = self._create(
            _text_with_link(request),
            key=key,
            media_ids=media_ids,
            reply_to=reply_to,
            quote=quote,
            # Who may answer is the conversation's setting: the first post's alone.
            reply_settings="" if reply_to else request.options.get("reply_settings", ""),
        )
        # The rest of a thread answers the post before it. Each part has its own key
        # derived from the request's, so publishing the same request again after a
        # failure halfway picks up the parts already out.
        chain: list[str] = []
        previous = first_id
        for number, part in enumerate(request.thread, start=2):
            previous, _text = self._create(
                part, key=f"{key}:{number}" if key else "", reply_to=previous
            )
            chain.append(previous)
        if request.first_comment:
            self._create(
                request.first_comment, key=f"{key}:comment" if key else "", reply_to=first_id
            )
        url = post_url(first_id, self._username())
        return PublishResult(
            remote_id=first_id,
            url=url,
            published_at=datetime.now(UTC),
            thread_ids=tuple(chain),
            ref=RemoteRef(remote_id=first_id, url=url),
        )

    def publish(self, request: PostRequest) -> PublishResult:
        """Upload media, create the post (a quote with ``quote``), then the thread's replies."""
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        return self._publish(request)

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``: X adds the @mentions itself."""
        return self._publish(replace(request, reply_to=None), reply_to=to.remote_id)

    def delete(self, remote_id: str) -> None:
        """``DELETE /2/tweets/:id``; a post already gone counts as deleted."""
        try:
            self._call("DELETE", f"/2/tweets/{remote_id}", endpoint="DELETE /2/tweets/:id")
        except Rejected as exc:
            if exc.status not in (404, 410):
                raise

    def _post(self, post_id: str) -> dict[str, Any] | None:
        answer = self._call(
            "GET",
            f"/2/tweets/{post_id}",
            params={"tweet.fields": POST_FIELDS},
            endpoint="GET /2/tweets/:id",
        )
        data = answer.get("data")
        return data if isinstance(data, dict) else None  # deleted: only "errors" come back

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did it go out? By id (``GET /2/tweets/:id``), or by Minbar's key.

        X has no idempotency key. Before each post Minbar notes its key, text and
        time in the channel's credentials; here it reads the account's posts from
        just before that time (``GET /2/users/:id/tweets?start_time=``) and
        matches the text (links compared without their address, since X turns
        them into t.co links). Limits, honestly: after 7 days (or 200 newer
        posts) the note is gone and None means "not found"; two identical texts
        cannot both be out, since X refuses duplicate content.
        """
        if remote_id:
            try:
                found = self._post(remote_id)
            except Rejected as exc:
                if exc.status in (404, 410):
                    return None
                raise
            return remote_post(found, self._username()) if found else None
        if not idempotency_key:
            return None
        note = self._sent().get(idempotency_key)
        if not note:
            return None
        if note.get("id"):
            return self.lookup(remote_id=str(note["id"]))
        sent_at = when(note.get("at"))
        if sent_at is None:
            return None
        wanted = _comparable(str(note.get("text") or ""))
        answer = self._call(
            "GET",
            f"/2/users/{self._user_id()}/tweets",
            params={
                "start_time": _iso(sent_at - LOOKUP_SLACK),
                "max_results": PAGE_SIZE,
                "tweet.fields": POST_FIELDS,
                "exclude": "retweets",
            },
            endpoint="GET /2/users/:id/tweets",
        )
        # A post another key already owns is not this one (the same words posted twice
        # a while apart are two posts, and X refuses the second as a duplicate).
        claimed = {
            str(other["id"])
            for key, other in self._sent().items()
            if key != idempotency_key and other.get("id")
        }
        for post in answer.get("data") or []:
            if str(post.get("id")) in claimed:
                continue
            if _comparable(expanded_text(post)) == wanted:
                self._remember(idempotency_key, {**note, "id": str(post["id"])})
                return remote_post(post, self._username())
        return None

    # -- measuring ------------------------------------------------------------

    def _posts(self, ids: list[str], fields: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), LOOKUP_BATCH):
            chunk = ids[start : start + LOOKUP_BATCH]
            answer = self._call(
                "GET",
                "/2/tweets",
                params={"ids": ",".join(chunk), "tweet.fields": fields},
                endpoint="GET /2/tweets",
            )
            found += [p for p in answer.get("data") or [] if isinstance(p, dict)]
        return found

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """``public_metrics`` for every post; impressions and link clicks where X allows.

        ``GET /2/tweets?ids=`` with ``public_metrics`` first; then, for the
        account's posts of the last 30 days, ``non_public_metrics`` and
        ``organic_metrics`` (https://docs.x.com/x-api/fundamentals/metrics). When
        X refuses those to this app (its access level), Minbar stops asking and
        clicks stay absent. Deleted posts drop out of the answer.
        """
        ids = [i for i in dict.fromkeys(remote_ids) if i]
        posts = self._posts(ids, "public_metrics,created_at,author_id")
        by_id = {str(p["id"]): p for p in posts if p.get("id")}
        recent_cutoff = datetime.now(UTC) - timedelta(days=PRIVATE_METRICS_DAYS - 1)
        own = str(self.credentials.data.get("user_id") or "")
        recent = [
            post_id
            for post_id, post in by_id.items()
            if (when(post.get("created_at")) or recent_cutoff) > recent_cutoff
            and (not own or str(post.get("author_id") or "") == own)
        ]
        if recent and self.credentials.data.get("private_metrics", True) is not False:
            try:
                for post in self._posts(recent, "non_public_metrics,organic_metrics"):
                    merged = {**by_id.get(str(post.get("id")), {}), **post}
                    by_id[str(post.get("id"))] = merged
            except (NotSupported, Rejected) as exc:
                if exc.status in (401, 403):
                    self._credentials_changed(Credentials(data={"private_metrics": False}))
                elif not isinstance(exc, NotSupported):
                    raise
        now = datetime.now(UTC)
        return {
            post_id: Metrics(values=post_metric_values(post), fetched_at=now)
            for post_id, post in by_id.items()
        }

    def account_metrics(self) -> Metrics:
        """Followers, following and posts from ``GET /2/users/me`` (``public_metrics``)."""
        counts = self._me().get("public_metrics") or {}
        values = {
            key: int(counts[name])
            for name, key in (
                ("followers_count", "followers"),
                ("following_count", "following"),
                ("tweet_count", "posts"),
            )
            if isinstance(counts.get(name), int)
        }
        return Metrics(values=values, fetched_at=datetime.now(UTC))

    # -- engaging and listening ----------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """Mentions and replies from ``GET /2/users/:id/mentions``, oldest first.

        Without a cursor: the latest mentions X keeps; with one (``since_id``), the
        posts after it. Either way X answers newest first, a page at a time
        (``pagination_token``): the cursor carries the next page's token and the
        newest id seen until every page is read, then it becomes that newest id —
        nothing is skipped when more than a page came in.
        https://docs.x.com/x-api/posts/timelines/introduction
        """
        since, token, newest = _split_cursor(cursor)
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet.fields": POST_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        if since:
            params["since_id"] = since
        if token:
            params["pagination_token"] = token
        answer = self._call(
            "GET",
            f"/2/users/{self._user_id()}/mentions",
            params=params,
            endpoint="GET /2/users/:id/mentions",
        )
        posts = [p for p in answer.get("data") or [] if isinstance(p, dict)]
        users = users_by_id(answer.get("includes"))
        own = self._user_id()
        items = [
            item
            for post in posts
            if (item := interaction_from_post(post, users, own_user_id=own)) is not None
        ]
        items.sort(key=lambda i: (i.created_at, _numeric(i.remote_id)))
        meta = answer.get("meta") or {}
        page_newest = str(meta.get("newest_id") or (posts[0]["id"] if posts else ""))
        newest = _max_id(newest, page_newest)
        next_token = str(meta.get("next_token") or "")
        # More pages after this one (older posts, down to since_id or, on a first
        # read, as far back as X keeps): come back for them before moving on.
        more = bool(next_token)
        return Page(
            items=items, cursor=f"{since}|{next_token}|{newest}" if more else newest or since
        )

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        """``PUT /2/tweets/:id/hidden``: only replies to the account's own posts.

        https://docs.x.com/x-api/posts/hide-replies (needs ``tweet.moderate.write``).
        """
        answer = self._call(
            "PUT",
            f"/2/tweets/{interaction.remote_id}/hidden",
            json={"hidden": hidden},
            endpoint="PUT /2/tweets/:id/hidden",
        )
        if (answer.get("data") or {}).get("hidden") is not hidden:
            raise TemporaryError("X did not confirm hiding the reply.", detail=str(answer)[:500])

    def search(self, query: str, cursor: str = "") -> Page[Interaction]:
        """Posts of the last 7 days matching ``query`` (``GET /2/tweets/search/recent``).

        The query uses X's operators (``"exact words"``, ``#tag``, ``from:``,
        ``-is:retweet``; at most 512 characters). The cursor is X's
        ``next_token`` and pages back in time; "" when there is nothing older.
        https://docs.x.com/x-api/posts/search/introduction
        """
        words = query.strip()
        if not words:
            raise Rejected("Enter words or a #hashtag to search X for.")
        if len(words) > 512:
            raise Rejected("X search queries are limited to 512 characters.")
        params: dict[str, Any] = {
            "query": words,
            "max_results": PAGE_SIZE,
            "tweet.fields": POST_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        if cursor:
            params["next_token"] = cursor
        answer = self._call(
            "GET", "/2/tweets/search/recent", params=params, endpoint="GET /2/tweets/search/recent"
        )
        users = users_by_id(answer.get("includes"))
        own = str(self.credentials.data.get("user_id") or "")
        items: list[Interaction] = []
        for post in answer.get("data") or []:
            item = interaction_from_post(post, users, own_user_id=own)
            if item is not None:
                items.append(replace(item, kind=InteractionKind.MENTION, post=None))
        return Page(items=items, cursor=str((answer.get("meta") or {}).get("next_token") or ""))


# -- helpers ------------------------------------------------------------------


def _account(me: Mapping[str, Any]) -> AccountInfo:
    who = author(me)
    return AccountInfo(
        remote_id=who.remote_id,
        handle=who.handle,
        display_name=who.display_name,
        avatar_url=who.avatar_url,
        url=who.url,
        followers=who.followers,
    )


def _text_with_link(request: PostRequest) -> str:
    """A link post is its text plus the link (X shows a card for the last link)."""
    if request.link and request.link not in request.text:
        return f"{request.text.rstrip()}\n\n{request.link}".strip()
    return request.text


def _media_category(mime_type: str) -> str:
    if mime_type == GIF_TYPE:
        return "tweet_gif"
    if mime_type.startswith("video/"):
        return "tweet_video"
    return "tweet_image"


def _media_problems(media: tuple[MediaItem, ...]) -> list[str]:
    """X's media rules: up to 4 images, or 1 GIF, or 1 video, never mixed."""
    if not media:
        return []
    problems: list[str] = []
    categories = [_media_category(m.mime_type) for m in media]
    if len(media) > 1 and any(c != "tweet_image" for c in categories):
        problems.append("X: a GIF or a video must be the only media of its post.")
    elif len(media) > 4:
        problems.append("X: at most 4 images per post.")
    for number, item in enumerate(media, start=1):
        name = os.path.basename(item.path) or f"media {number}"
        supported = (*IMAGE_TYPES, GIF_TYPE, *VIDEO_TYPES)
        if item.mime_type not in supported:
            problems.append(f"X: {name} is {item.mime_type}, which X does not take.")
            continue
        limit = {
            "tweet_image": MAX_IMAGE_BYTES,
            "tweet_gif": MAX_GIF_BYTES,
            "tweet_video": MAX_VIDEO_BYTES,
        }[_media_category(item.mime_type)]
        try:
            size = os.path.getsize(item.path)
        except OSError:
            problems.append(f"X: {name} cannot be read.")
            continue
        if size > limit:
            problems.append(
                f"X: {name} is {size / 1_048_576:.1f} MB; X takes up to "
                f"{limit / 1_048_576:.0f} MB for this kind of media."
            )
        if len(item.alt_text) > ALT_TEXT_MAX:
            problems.append(
                f"X: the description of {name} is {len(item.alt_text)}/{ALT_TEXT_MAX} characters."
            )
    return problems


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split_cursor(cursor: str) -> tuple[str, str, str]:
    """(since_id, pagination_token, newest id seen) from a cursor."""
    parts = (cursor or "").split("|")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return cursor or "", "", ""


def _numeric(post_id: str) -> int:
    return int(post_id) if post_id.isdigit() else 0


def _max_id(a: str, b: str) -> str:
    """The newer of two post ids (snowflakes grow with time)."""
    if not a:
        return b
    if not b:
        return a
    if a.isdigit() and b.isdigit():
        return a if int(a) >= int(b) else b
    return a
