"""The Instagram connector: one Instagram professional account per channel.

It follows the Instagram Platform (https://developers.facebook.com/docs/instagram-platform)
on the Graph API version pinned in :mod:`minbar.connectors.meta_graph.version`;
:mod:`.login` explains the two sign-ins. The user-facing summary is
``docs/networks/instagram.md``.

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` — a 60-day Instagram user token (Instagram Login,
  refreshed by :meth:`refresh`) or the linked Page's token (Facebook Login; it
  does not expire);
* ``data``: ``login`` (``instagram`` or ``facebook``), ``ig_user_id``,
  ``username``, ``page_id`` (Facebook Login), ``scopes`` as granted, and
  ``accounts`` (Facebook Login: every Page-linked account shared in the dialog).

Media. Instagram fetches every image and video from a public URL at publishing
time; Minbar gives it a signed, expiring link to the prepared file
(:func:`minbar.media.public.public_media_url`), so Minbar must be reachable from
the internet at ``MINBAR_BASE_URL``. ``media_url_for`` can be replaced (tests, a CDN).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

import httpx
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import network_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import make_client
from minbar.connectors.instagram.login import (
    FACEBOOK_LOGIN,
    FACEBOOK_LOGIN_SCOPES,
    INSTAGRAM_LOGIN,
    INSTAGRAM_LOGIN_SCOPES,
)
from minbar.connectors.meta_graph import failures, messaging, oauth, pushes
from minbar.connectors.meta_graph.client import GraphClient
from minbar.connectors.meta_graph.cursor import Cursor, parse_time
from minbar.connectors.meta_graph.journal import JOURNAL, Attempt, matches
from minbar.connectors.meta_graph.refs import dm_ref, parse_dm_ref
from minbar.connectors.meta_graph.version import (
    FACEBOOK_GRAPH,
    INSTAGRAM_API,
    INSTAGRAM_GRAPH,
    INSTAGRAM_WWW,
    host_for,
    is_meta_host,
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

logger = logging.getLogger("minbar.connectors.instagram")

LABEL = "Instagram"
# IG User Media: "caption ... Maximum 2200 characters, 30 hashtags, and 20 @ tags"
# (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media).
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
# Images: JPEG only, up to 8 MB, aspect ratio 4:5 to 1.91:1; reels: MP4/MOV up to
# 300 MB; carousels: 2 to 10 images and videos (same page, "Image specifications").
IMAGE_TYPES = ("image/jpeg",)
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 300 * 1024 * 1024
MIN_FEED_ASPECT = 4 / 5
MAX_FEED_ASPECT = 1.91
MAX_CAROUSEL = 10
# The 24-hour publishing limit (IG User Media Publish: "50 posts within a 24 hour
# moving period"); the live figure comes from content_publishing_limit.
DEFAULT_PUBLISH_QUOTA = 50
PUBLISH_WINDOW = timedelta(hours=24)
# Instagram Login tokens last 60 days and can be refreshed once 24 hours old; Minbar
# refreshes them a week ahead (the daily channel check calls refresh()).
REFRESH_AHEAD = timedelta(days=7)

RECENT_MEDIA = 10
COMMENTS_PER_MEDIA = 50
MEDIA_FIELDS = "id,caption,media_type,media_product_type,timestamp,permalink,comments_count"
COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},parent_id,hidden,"
    "replies{id,text,timestamp,username,from{id,username},parent_id}"
)
# Media insights (https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights):
# ``impressions`` and ``video_views`` are retired; ``views`` replaced them.
MEDIA_INSIGHTS = ("views", "reach", "likes", "comments", "shares", "saved")
MEDIA_INSIGHT_KEYS = {
    "views": "impressions",
    "reach": "reach",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saved": "saves",
}
# Account insights (https://developers.facebook.com/docs/instagram-platform/api-reference/instagram-user/insights/).
ACCOUNT_INSIGHTS = ("reach", "views", "profile_views")
ACCOUNT_INSIGHT_KEYS = {"reach": "reach", "views": "impressions", "profile_views": "profile_views"}

HASHTAG = re.compile(r"(?<![\w&])#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")


def _default_media_url(item: MediaItem) -> str:
    from minbar.media.public import public_media_url

    return public_media_url(item.path, network=LABEL)


class InstagramConnector(Connector):
    network: ClassVar[str] = "instagram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="instagram",
        label=_("Instagram"),
        auth=AuthKind.OAUTH2,
        text=TextRules(max_length=MAX_CAPTION, counting=TextCounting.CHARACTERS),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_CAROUSEL,
            max_videos=MAX_CAROUSEL,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            mix_images_and_video=True,
            alt_text=True,
            media_required=True,
        ),
        pkce=False,
        default_server_url=INSTAGRAM_GRAPH,
        post_types=frozenset(
            {PostType.IMAGE, PostType.GALLERY, PostType.VIDEO, PostType.REEL, PostType.STORY}
        ),
        first_comment=True,
        # "story" publishes to the account's story instead of its feed.
        visibility=("feed", "story"),
        post_options=(
            PostOption(
                "visibility",
                _("Publish as"),
                OptionKind.CHOICE,
                (("feed", _("Feed post (a video is a reel)")), ("story", _("Story (24 hours)"))),
                help=_("Empty: a feed post. A story is one image or one video."),
            ),
        ),
        post_metrics=frozenset(
            {"likes", "comments", "shares", "saves", "impressions", "reach", "video_views"}
        ),
        account_metrics=frozenset(
            {"followers", "following", "posts", "impressions", "reach", "profile_views"}
        ),
        interactions=frozenset(
            {
                InteractionKind.COMMENT,
                InteractionKind.REPLY,
                InteractionKind.MENTION,
                InteractionKind.DIRECT_MESSAGE,
            }
        ),
        can_reply_to=frozenset(
            {InteractionKind.COMMENT, InteractionKind.REPLY, InteractionKind.DIRECT_MESSAGE}
        ),
        can_hide=True,
        can_delete_interactions=True,
        rate_limits=(
            RateLimitRule("publish", DEFAULT_PUBLISH_QUOTA, 24 * 60 * 60, "account"),
            # Business Use Case limit: 4,800 calls per 24 hours times the account's impressions.
            RateLimitRule("request", 4800, 24 * 60 * 60, "account"),
        ),
        docs_url="https://developers.facebook.com/docs/instagram-platform",
        setup_doc="docs/networks/instagram.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Use an Instagram professional account (Business or Creator)."),
        _("Minbar opens Instagram (or Facebook): sign in there and approve Minbar."),
        _("You come back here and the account is connected."),
    )
    lookup_authoritative_seconds: ClassVar[float] = 0.0
    # How long publish() waits for Instagram to process a container, and how often it asks
    # (the guide suggests checking about once a minute for at most five minutes).
    container_timeout: ClassVar[float] = 300.0
    container_poll_interval: ClassVar[float] = 3.0

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
        self._client: GraphClient | None = None
        self.media_url_for: Callable[[MediaItem], str] = _default_media_url

    # -- plumbing -------------------------------------------------------------

    @property
    def login(self) -> str:
        return str(self.credentials.data.get("login") or INSTAGRAM_LOGIN)

    @property
    def ig_user_id(self) -> str:
        ig_id = str(self.credentials.data.get("ig_user_id") or "")
        if not ig_id:
            raise AuthExpired("This Instagram account is not connected. Reconnect it.")
        return ig_id

    def _graph(self) -> GraphClient:
        if self._client is None:
            proof = ""
            if self.login == FACEBOOK_LOGIN:
                app = network_app("facebook")
                proof = app.get("client_secret", "") if app else ""
            self._client = GraphClient(
                self._graph_host(self.login),
                self.credentials.secrets.get("access_token", ""),
                label=LABEL,
                app_secret=proof,
                timeout=self.timeout,
            )
        return self._client

    def _graph_host(self, login: str) -> str:
        return host_for(
            self.server_url, FACEBOOK_GRAPH if login == FACEBOOK_LOGIN else INSTAGRAM_GRAPH
        )

    def _messaging_owner(self) -> str:
        """Whose ``/messages`` and ``/conversations`` edges: the IG account or its Page."""
        if self.login == FACEBOOK_LOGIN:
            return str(self.credentials.data.get("page_id") or "")
        return self.ig_user_id

    @staticmethod
    def _sign_in_app(app: dict[str, str] | None) -> tuple[str, dict[str, str]]:
        """(login kind, app): Instagram Login when its app is set, else the Facebook app."""
        if app and app.get("client_id"):
            return INSTAGRAM_LOGIN, app
        facebook = network_app("facebook")
        if facebook:
            return FACEBOOK_LOGIN, facebook
        raise NotSupported(
            "Instagram is not set up on this Minbar: the administrator must set "
            "MINBAR_INSTAGRAM_CLIENT_ID and MINBAR_INSTAGRAM_CLIENT_SECRET (Instagram Login), "
            "or MINBAR_FACEBOOK_CLIENT_ID and MINBAR_FACEBOOK_CLIENT_SECRET (Facebook Login) "
            "(see docs/networks/instagram.md)."
        )

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """Instagram's authorization window, or Facebook's dialog (see :mod:`.login`)."""
        login, chosen = self._sign_in_app(app or network_app(self.network))
        if login == FACEBOOK_LOGIN:
            url = oauth.dialog_url(
                self.server_url,
                client_id=chosen["client_id"],
                redirect_uri=redirect_uri,
                state=state,
                scopes=FACEBOOK_LOGIN_SCOPES,
            )
        else:
            params = {
                "client_id": chosen["client_id"],
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join(INSTAGRAM_LOGIN_SCOPES),
                "state": state,
            }
            url = f"{host_for(self.server_url, INSTAGRAM_WWW)}/oauth/authorize?{urlencode(params)}"
        return OAuthStart(url=url, state=state)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        login, app = self._sign_in_app(start.app or network_app(self.network))
        if login == FACEBOOK_LOGIN:
            result = self._finish_facebook_login(redirect_uri, code, app)
        else:
            result = self._finish_instagram_login(redirect_uri, code, app)
        if is_meta_host(self.server_url):
            self.server_url = self._graph_host(login)
        return result

    def _finish_instagram_login(
        self, redirect_uri: str, code: str, app: dict[str, str]
    ) -> ConnectResult:
        short = self._instagram_code_exchange(redirect_uri, code, app)
        long = self._instagram_token_call(
            "access_token",
            {
                "grant_type": "ig_exchange_token",
                "client_secret": app.get("client_secret", ""),
                "access_token": str(short["access_token"]),
            },
        )
        token = str(long["access_token"])
        graph = GraphClient(
            self._graph_host(INSTAGRAM_LOGIN), token, label=LABEL, timeout=self.timeout
        )
        me = graph.get(
            "me", fields="user_id,username,name,profile_picture_url,followers_count,account_type"
        )
        ig_id = str(me.get("user_id") or me.get("id") or short.get("user_id") or "")
        granted = short.get("permissions") or []
        if isinstance(granted, str):
            granted = granted.split(",")
        self.credentials = Credentials(
            secrets={"access_token": token},
            data={
                "login": INSTAGRAM_LOGIN,
                "ig_user_id": ig_id,
                "username": str(me.get("username") or ""),
                "scopes": [str(s) for s in granted] or list(INSTAGRAM_LOGIN_SCOPES),
            },
            expires_at=_expiry(long),
        )
        self._client = None
        return ConnectResult(account=_account(me, ig_id), credentials=self.credentials)

    def _instagram_code_exchange(
        self, redirect_uri: str, code: str, app: dict[str, str]
    ) -> dict[str, Any]:
        """``POST https://api.instagram.com/oauth/access_token`` (form-encoded)."""
        url = f"{host_for(self.server_url, INSTAGRAM_API)}/oauth/access_token"
        try:
            with make_client(timeout=self.timeout) as http:
                response = http.post(
                    url,
                    data={
                        "client_id": app["client_id"],
                        "client_secret": app.get("client_secret", ""),
                        "grant_type": "authorization_code",
                        "redirect_uri": redirect_uri,
                        "code": code,
                    },
                )
        except httpx.TransportError as exc:
            raise failures.transport_error(exc, label=LABEL, writes=False) from None
        if 400 <= response.status_code < 500:
            error = failures.parse_error(response)
            reason = error.words or _oauth_reason(response)
            raise Rejected(
                f"Instagram did not accept the sign-in ({reason or 'no reason given'}). "
                "Start connecting again.",
                detail=reason,
                status=response.status_code,
            )
        if response.status_code >= 500:
            raise failures.translate(response, label=LABEL)
        body = response.json()
        # The answer is {"data": [{"access_token", "user_id", "permissions"}]} (older:
        # the same keys at the top level).
        if isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
            body = body["data"][0]
        if not isinstance(body, dict) or not body.get("access_token"):
            raise Rejected("Instagram sent no access token. Start connecting again.")
        return body

    def _instagram_token_call(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """The unversioned token endpoints of graph.instagram.com (exchange and refresh)."""
        graph = GraphClient(
            self._graph_host(INSTAGRAM_LOGIN),
            params.pop("access_token"),
            label=LABEL,
            timeout=self.timeout,
            versioned=False,
        )
        answer = graph.get(path, **params)
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise Rejected("Instagram sent no access token. Reconnect the account.")
        return answer

    def _finish_facebook_login(
        self, redirect_uri: str, code: str, app: dict[str, str]
    ) -> ConnectResult:
        base = self._graph_host(FACEBOOK_LOGIN)
        short = oauth.exchange_code(
            base, app, redirect_uri=redirect_uri, code=code, label=LABEL, timeout=self.timeout
        )
        long = oauth.long_lived(
            base, app, str(short["access_token"]), label=LABEL, timeout=self.timeout
        )
        user = GraphClient(
            base,
            str(long["access_token"]),
            label=LABEL,
            app_secret=app.get("client_secret", ""),
            timeout=self.timeout,
        )
        granted = [
            str(p.get("permission"))
            for p in user.get("me/permissions").get("data") or []
            if p.get("status") == "granted"
        ]
        pages = user.pages(
            "me/accounts",
            limit=100,
            fields=(
                "id,name,access_token,"
                "instagram_business_account{id,username,name,profile_picture_url,followers_count}"
            ),
        )
        linked = [p for p in pages if p.get("instagram_business_account") and p.get("access_token")]
        if not linked:
            raise Rejected(
                "None of the Pages you shared has an Instagram professional account linked. "
                "Link the account to a Page in Instagram's settings (or use Instagram Login), "
                "then connect again."
            )
        page = linked[0]
        account = page["instagram_business_account"]
        ig_id = str(account["id"])
        self.credentials = Credentials(
            secrets={"access_token": str(page["access_token"])},
            data={
                "login": FACEBOOK_LOGIN,
                "ig_user_id": ig_id,
                "username": str(account.get("username") or ""),
                "page_id": str(page["id"]),
                "scopes": granted,
                "accounts": [
                    {
                        "page_id": str(p["id"]),
                        "ig_user_id": str(p["instagram_business_account"]["id"]),
                        "username": str(p["instagram_business_account"].get("username") or ""),
                    }
                    for p in linked
                ],
            },
        )
        self._client = None
        return ConnectResult(account=_account(account, ig_id), credentials=self.credentials)

    def refresh(self) -> Credentials | None:
        """Instagram Login: ``GET /refresh_access_token`` a week before the 60 days end.

        Facebook Login uses the Page's token, which does not expire. A refused
        refresh (code 190) raises :class:`AuthExpired`.
        """
        if self.login != INSTAGRAM_LOGIN:
            return None
        expires = self.credentials.expires_at
        if expires is not None and expires - timezone.now() > REFRESH_AHEAD:
            return None
        answer = self._instagram_token_call(
            "refresh_access_token",
            {
                "grant_type": "ig_refresh_token",
                "access_token": self.credentials.secrets.get("access_token", ""),
            },
        )
        fresh = Credentials(
            secrets={"access_token": str(answer["access_token"])}, expires_at=_expiry(answer)
        )
        self._client = None
        return fresh

    def verify(self) -> AccountInfo:
        me = self._graph().get(
            self.ig_user_id, fields="id,username,name,profile_picture_url,followers_count"
        )
        return _account(me, self.ig_user_id)

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """Containers, then ``media_publish`` when they are FINISHED.

        https://developers.facebook.com/docs/instagram-platform/content-publishing/:

        1. the 24-hour limit (``GET /{ig-user-id}/content_publishing_limit``) — spent
           means :class:`RateLimited` until the oldest post of the window ages out;
        2. a container per image/video (``POST /{ig-user-id}/media`` with
           ``image_url``/``video_url``; ``media_type`` REELS, STORIES, or
           ``is_carousel_item`` + CAROUSEL with ``children``);
        3. ``GET /{container-id}?fields=status_code,status`` until FINISHED (ERROR →
           :class:`Rejected` with Instagram's reason; still IN_PROGRESS after
           ``container_timeout`` → :class:`TemporaryError`: nothing was published);
        4. ``POST /{ig-user-id}/media_publish`` with ``creation_id``; a first comment is
           then added to the published media.

        A single video is a reel (Instagram shares every feed video as a reel since
        July 2023). ``request.visibility == "story"`` publishes a story.
        """
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        story = request.visibility == "story"
        self._check(request, story=story)
        self._check_publishing_limit()
        JOURNAL.remember(
            request.idempotency_key, Attempt(self.ig_user_id, request.text, timezone.now())
        )
        container = self._container(request, story=story)
        self._wait_until_finished(container)
        published = self._graph().post(f"{self.ig_user_id}/media_publish", creation_id=container)
        media_id = str(published["id"])
        result = self._result(media_id)
        if request.first_comment.strip() and not story:
            try:
                self._graph().post(f"{media_id}/comments", message=request.first_comment)
            except ConnectorError as exc:
                logger.warning("Instagram first comment on %s failed: %s", media_id, exc)
        return result

    def _check(self, request: PostRequest, *, story: bool) -> None:
        problems: list[str] = []
        if not request.media:
            problems.append("Instagram posts need at least one image or video.")
        if len(request.text) > MAX_CAPTION:
            problems.append(f"Instagram captions are at most {MAX_CAPTION} characters.")
        if len(HASHTAG.findall(request.text)) > MAX_HASHTAGS:
            problems.append(f"Instagram captions take at most {MAX_HASHTAGS} hashtags.")
        if len(MENTION.findall(request.text)) > MAX_MENTIONS:
            problems.append(f"Instagram captions take at most {MAX_MENTIONS} @mentions.")
        if story and len(request.media) != 1:
            problems.append("An Instagram story is one image or one video.")
        if len(request.media) > MAX_CAROUSEL:
            problems.append(f"Instagram carousels take at most {MAX_CAROUSEL} items.")
        for item in request.media:
            name = os.path.basename(item.path)
            is_image = item.mime_type.startswith("image/")
            allowed = IMAGE_TYPES if is_image else VIDEO_TYPES
            if item.mime_type not in allowed:
                problems.append(f"Instagram does not take {item.mime_type} files ({name}).")
            try:
                size = os.path.getsize(item.path)
            except OSError:
                problems.append(f"Instagram: {name} cannot be read.")
                continue
            limit = MAX_IMAGE_BYTES if is_image else MAX_VIDEO_BYTES
            if size > limit:
                problems.append(f"Instagram: {name} is larger than {limit // 1_048_576} MB.")
            if is_image and not story and item.width and item.height:
                ratio = item.width / item.height
                if not MIN_FEED_ASPECT - 0.01 <= ratio <= MAX_FEED_ASPECT + 0.01:
                    problems.append(
                        f"Instagram feed images must be between 4:5 and 1.91:1 ({name} is "
                        f"{item.width}x{item.height})."
                    )
        if problems:
            raise Rejected(" ".join(problems))

    def _check_publishing_limit(self) -> None:
        """``GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config``."""
        answer = self._graph().get(
            f"{self.ig_user_id}/content_publishing_limit", fields="quota_usage,config"
        )
        data = (answer.get("data") or [{}])[0]
        used = int(data.get("quota_usage") or 0)
        config = data.get("config") or {}
        total = int(config.get("quota_total") or DEFAULT_PUBLISH_QUOTA)
        window = timedelta(seconds=int(config.get("quota_duration") or PUBLISH_WINDOW.seconds))
        if window.total_seconds() <= 0:
            window = PUBLISH_WINDOW
        if used < total:
            return
        raise RateLimited(
            f"Instagram allows {total} posts per {int(window.total_seconds() // 3600)} hours "
            f"through the API and this account has used them ({used}).",
            retry_after=self._quota_wait(total, window),
            status=None,
        )

    def _quota_wait(self, total: int, window: timedelta) -> float:
        """When the oldest post of the window ages out (an hour when that cannot be read)."""
        try:
            media = self._graph().get(
                f"{self.ig_user_id}/media", fields="id,timestamp", limit=min(total, 100)
            )
        except ConnectorError:
            return 3600.0
        now = timezone.now()
        times = sorted(
            t
            for t in (parse_time(m.get("timestamp")) for m in media.get("data") or [])
            if t is not None and now - t < window
        )
        if len(times) < total:
            return 3600.0  # posts made outside the API or deleted: Meta's count is what holds
        return max(60.0, (times[-total] + window - now).total_seconds())

    def _container(self, request: PostRequest, *, story: bool) -> str:
        graph = self._graph()
        path = f"{self.ig_user_id}/media"
        items = list(request.media)
        if story:
            return str(graph.post(path, media_type="STORIES", **self._media_fields(items[0]))["id"])
        if len(items) == 1:
            item = items[0]
            fields = self._media_fields(item)
            if item.mime_type.startswith("video/"):
                fields |= {"media_type": "REELS", "share_to_feed": True}
            elif item.alt_text:
                fields["alt_text"] = item.alt_text
            return str(graph.post(path, caption=request.text or None, **fields)["id"])
        children = []
        for item in items:
            fields = self._media_fields(item)
            if item.mime_type.startswith("video/"):
                fields["media_type"] = "VIDEO"
            child = str(graph.post(path, is_carousel_item=True, **fields)["id"])
            children.append(child)
        for child in children:
            self._wait_until_finished(child)
        return str(
            graph.post(
                path,
                media_type="CAROUSEL",
                children=",".join(children),
                caption=request.text or None,
            )["id"]
        )

    def _media_fields(self, item: MediaItem) -> dict[str, Any]:
        url = self.media_url_for(item)
        return {"video_url": url} if item.mime_type.startswith("video/") else {"image_url": url}

    def _wait_until_finished(self, container_id: str) -> None:
        """Poll ``status_code`` (IN_PROGRESS → FINISHED | ERROR | EXPIRED), bounded in time."""
        deadline = time.monotonic() + self.container_timeout
        while True:
            state = self._graph().get(container_id, fields="status_code,status")
            code = str(state.get("status_code") or "")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code == "ERROR":
                reason = str(state.get("status") or "no reason given")
                raise Rejected(
                    f"Instagram could not process the media: {reason}. Check the file's "
                    "format, size and proportions.",
                    detail=reason,
                )
            if code == "EXPIRED":
                raise TemporaryError(
                    "Instagram let the media container expire before publishing; "
                    "Minbar will prepare it again."
                )
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    "Instagram is still processing the media; nothing was published yet. "
                    "Minbar will try again."
                )
            time.sleep(min(self.container_poll_interval, max(0.0, deadline - time.monotonic())))

    def _result(self, media_id: str) -> PublishResult:
        permalink = ""
        published_at = timezone.now()
        try:
            media = self._graph().get(media_id, fields="id,permalink,timestamp")
            permalink = str(media.get("permalink") or "")
            published_at = parse_time(media.get("timestamp")) or published_at
        except ConnectorError as exc:
            # Published already: a failed read of its address must not fail the post.
            logger.info("Instagram permalink of %s unavailable: %s", media_id, exc.message)
        ref = RemoteRef(media_id, permalink)
        return PublishResult(media_id, url=permalink, published_at=published_at, ref=ref)

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """``POST /{ig-comment-id}/replies``, or a direct message within the 24-hour window."""
        dm = parse_dm_ref(to.remote_id)
        if dm is not None:
            return self._answer_message(dm[1], request)
        if request.media:
            raise Rejected("Minbar answers Instagram comments with text only.")
        if not request.text.strip():
            raise Rejected("Write an answer to send on Instagram.")
        answer = self._graph().post(f"{to.remote_id}/replies", message=request.text)
        comment_id = str(answer["id"])
        return PublishResult(comment_id, published_at=timezone.now(), ref=RemoteRef(comment_id))

    def _answer_message(self, recipient_id: str, request: PostRequest) -> PublishResult:
        if request.media:
            raise Rejected("Minbar answers Instagram messages with text only.")
        graph = self._graph()
        owner = self._messaging_owner()
        messages = messaging.messages_with(
            graph, owner, platform="instagram", person_id=recipient_id
        )
        messaging.check_window(messaging.last_message_from(messages, recipient_id), label=LABEL)
        sent = messaging.send_text(
            graph, f"{owner}/messages", recipient_id=recipient_id, text=request.text, label=LABEL
        )
        return PublishResult(
            str(sent.get("message_id") or ""),
            published_at=timezone.now(),
            ref=RemoteRef(dm_ref(_conversation_key(recipient_id), recipient_id)),
        )

    def delete(self, remote_id: str) -> None:
        """Instagram's API cannot delete published media (only comments); delete it in the app."""
        raise NotSupported(
            "Instagram does not let apps delete published posts; delete it in Instagram."
        )

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """By id: ``GET /{ig-media-id}``. By key: a recent post with the attempt's caption."""
        graph = self._graph()
        if remote_id:
            try:
                media = graph.get(remote_id, fields="id,caption,timestamp,permalink")
            except Rejected as exc:
                if exc.status == 404:
                    return None
                raise
            return _remote_post(media)
        attempt = JOURNAL.recall(idempotency_key, self.ig_user_id)
        if attempt is None:
            return None
        recent = graph.get(
            f"{self.ig_user_id}/media", fields="id,caption,timestamp,permalink", limit=25
        )
        for media in recent.get("data") or []:
            caption = str(media.get("caption") or "")
            if matches(attempt, caption, parse_time(media.get("timestamp"))):
                return _remote_post(media)
        return None

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Likes and comments from the media; views, reach, shares and saves from insights.

        Insights are absent (not 0) when Instagram has none (album children, too few
        viewers, a story older than 24 hours).
        """
        graph = self._graph()
        found: dict[str, Metrics] = {}
        for media_id in dict.fromkeys(i for i in remote_ids if i):
            try:
                media = graph.get(
                    media_id, fields="id,like_count,comments_count,media_type,media_product_type"
                )
            except Rejected as exc:
                if exc.status == 404:
                    continue
                raise
            values: dict[str, int] = {}
            if isinstance(media.get("like_count"), int):  # hidden when the owner hides likes
                values["likes"] = media["like_count"]
            if isinstance(media.get("comments_count"), int):
                values["comments"] = media["comments_count"]
            insights = self._insights(f"{media_id}/insights", MEDIA_INSIGHTS, MEDIA_INSIGHT_KEYS)
            values.update(insights)
            is_video = (
                media.get("media_product_type") == "REELS" or media.get("media_type") == "VIDEO"
            )
            if is_video and "impressions" in insights:
                values["video_views"] = insights["impressions"]
            found[media_id] = Metrics(values=values, fetched_at=timezone.now())
        return found

    def _insights(
        self, edge: str, metrics: tuple[str, ...], keys: Mapping[str, str], **params: Any
    ) -> dict[str, int]:
        try:
            answer = self._graph().get(edge, metric=",".join(metrics), **params)
        except Rejected as exc:
            logger.info("Instagram insights %s unavailable: %s", edge, exc.detail or exc.message)
            return {}
        values: dict[str, int] = {}
        for item in answer.get("data") or []:
            key = keys.get(str(item.get("name")))
            if key is None:
                continue
            value = (item.get("total_value") or {}).get("value")
            if value is None and item.get("values"):
                value = item["values"][-1].get("value")
            if isinstance(value, (int, float)):
                values[key] = int(value)
        return values

    def account_metrics(self) -> Metrics:
        """Followers, following and posts from the account; reach, views, profile views
        (the last day, ``metric_type=total_value``) from account insights."""
        me = self._graph().get(self.ig_user_id, fields="followers_count,follows_count,media_count")
        values: dict[str, int] = {}
        for field, key in (
            ("followers_count", "followers"),
            ("follows_count", "following"),
            ("media_count", "posts"),
        ):
            if isinstance(me.get(field), int):
                values[key] = me[field]
        values.update(
            self._insights(
                f"{self.ig_user_id}/insights",
                ACCOUNT_INSIGHTS,
                ACCOUNT_INSIGHT_KEYS,
                period="day",
                metric_type="total_value",
            )
        )
        return Metrics(values=values, fetched_at=timezone.now())

    # -- engaging -------------------------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New comments and replies on recent media, media the account is tagged in,
        and direct messages (when the messaging permission was granted).

        ``GET /{ig-user-id}/media``, ``/{ig-media-id}/comments`` (with ``replies``),
        ``/{ig-user-id}/tags``, and ``/conversations`` + ``/{conversation-id}/messages``
        (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api).
        The cursor is as in :mod:`minbar.connectors.meta_graph.cursor`.
        """
        since = Cursor.parse(cursor)
        graph = self._graph()
        ig_id = self.ig_user_id
        items: list[Interaction] = []
        media_list = graph.get(f"{ig_id}/media", fields=MEDIA_FIELDS, limit=RECENT_MEDIA)
        for media in media_list.get("data") or []:
            if not media.get("comments_count"):
                continue
            comments = graph.get(
                f"{media['id']}/comments", fields=COMMENT_FIELDS, limit=COMMENTS_PER_MEDIA
            )
            for comment in comments.get("data") or []:
                for item in self._comment_and_replies(comment, media):
                    if since.is_new(item.remote_id, item.created_at):
                        items.append(item)
        tags = graph.get(
            f"{ig_id}/tags", fields="id,caption,timestamp,permalink,username", limit=25
        )
        for media in tags.get("data") or []:
            mention = _mention(media)
            if mention is not None and since.is_new(mention.remote_id, mention.created_at):
                items.append(mention)
        if self._may_message():
            items += self._new_messages(since)
        items.sort(key=lambda i: i.created_at)
        advanced = since.advanced((i.remote_id, i.created_at) for i in items)
        return Page(items=items, cursor=advanced.dump() or cursor)

    def _may_message(self) -> bool:
        scopes = set(self.credentials.data.get("scopes") or [])
        return bool(scopes & {"instagram_business_manage_messages", "instagram_manage_messages"})

    def _comment_and_replies(
        self, comment: Mapping[str, Any], media: Mapping[str, Any]
    ) -> list[Interaction]:
        found: list[Interaction] = []
        top = self._comment(comment, media, parent_id="")
        if top is not None:
            found.append(top)
        for reply in (comment.get("replies") or {}).get("data") or []:
            item = self._comment(reply, media, parent_id=str(comment["id"]))
            if item is not None:
                found.append(item)
        return found

    def _comment(
        self, comment: Mapping[str, Any], media: Mapping[str, Any], *, parent_id: str
    ) -> Interaction | None:
        created = parse_time(comment.get("timestamp"))
        who = comment.get("from") or {}
        username = str(who.get("username") or comment.get("username") or "")
        own = str(self.credentials.data.get("username") or "")
        if (
            created is None
            or str(who.get("id", "")) == self.ig_user_id
            or (own and username == own)
        ):
            return None
        post_ref = RemoteRef(str(media["id"]), str(media.get("permalink") or ""))
        comment_id = str(comment["id"])
        return Interaction(
            remote_id=comment_id,
            kind=InteractionKind.REPLY if parent_id else InteractionKind.COMMENT,
            author=_author(who, username),
            created_at=created,
            text=str(comment.get("text") or ""),
            url=str(media.get("permalink") or ""),
            post=post_ref,
            parent=RemoteRef(parent_id) if parent_id else post_ref,
            # Instagram threads are one level deep: replies go under the top comment.
            ref=RemoteRef(parent_id or comment_id),
        )

    def _new_messages(self, since: Cursor) -> list[Interaction]:
        return messaging.new_messages(
            self._graph(),
            self._messaging_owner(),
            platform="instagram",
            since=since,
            read=lambda message: _message(message, self.ig_user_id),
        )

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        """``POST /{ig-comment-id}`` with ``hide=true|false``."""
        if parse_dm_ref(interaction.remote_id) is not None:
            raise NotSupported("Instagram does not let apps hide direct messages.")
        self._graph().post(interaction.remote_id, hide=hidden)

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """``DELETE /{ig-comment-id}``; a comment already gone counts as deleted."""
        if parse_dm_ref(interaction.remote_id) is not None:
            raise NotSupported("Instagram does not let apps delete direct messages.")
        try:
            self._graph().delete(interaction.remote_id)
        except Rejected as exc:
            if exc.status != 404:
                raise

    # -- pushes ---------------------------------------------------------------

    def _push_app(self) -> dict[str, str]:
        app = (
            network_app(self.network) if self.login == INSTAGRAM_LOGIN else network_app("facebook")
        )
        if not app:
            raise NotSupported("Instagram's developer app is not configured on this Minbar.")
        return app

    def subscribe_push(self, url: str, secret: str, verify_token: str) -> None:
        """The app's ``instagram`` webhook to ``url`` (fields comments, messages), then the account.

        Instagram Login: ``POST /{ig-user-id}/subscribed_apps?subscribed_fields=comments,messages``;
        Facebook Login: the linked Page's ``/subscribed_apps``
        (https://developers.facebook.com/docs/instagram-platform/webhooks).
        """
        app = self._push_app()
        fields = "comments,messages" if self._may_message() else "comments"
        app_graph = GraphClient(
            host_for(self.server_url, FACEBOOK_GRAPH),
            pushes.app_token(app),
            label=LABEL,
            timeout=self.timeout,
        )
        app_graph.post(
            f"{app['client_id']}/subscriptions",
            object="instagram",
            callback_url=url,
            verify_token=verify_token,
            fields=fields,
            include_values=True,
        )
        if self.login == FACEBOOK_LOGIN:
            self._graph().post(
                f"{self._messaging_owner()}/subscribed_apps", subscribed_fields="feed"
            )
        else:
            self._graph().post(f"{self.ig_user_id}/subscribed_apps", subscribed_fields=fields)

    def parse_push(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[Interaction]:
        """``comments`` changes and messaging events of this account, signed with the app secret.

        https://developers.facebook.com/docs/instagram-platform/webhooks/examples
        """
        app = self._push_app()
        payload = pushes.verified_body(headers, body, app.get("client_secret", ""))
        if payload.get("object") != "instagram":
            return []
        items: list[Interaction] = []
        for entry in pushes.entries_for(payload, self.ig_user_id):
            for change in entry.get("changes") or []:
                if change.get("field") in ("comments", "live_comments"):
                    item = self._comment_change(change.get("value") or {}, entry)
                    if item is not None:
                        items.append(item)
            for event in entry.get("messaging") or []:
                item = _messaging_event(event, self.ig_user_id)
                if item is not None:
                    items.append(item)
        return items

    def _comment_change(
        self, value: Mapping[str, Any], entry: Mapping[str, Any]
    ) -> Interaction | None:
        comment_id = str(value.get("id") or "")
        who = value.get("from") or {}
        if not comment_id or str(who.get("id", "")) == self.ig_user_id:
            return None
        media = value.get("media") or {}
        parent = str(value.get("parent_id") or "")
        post_ref = RemoteRef(str(media.get("id") or "")) if media.get("id") else None
        created = parse_time(entry.get("time")) or timezone.now()
        return Interaction(
            remote_id=comment_id,
            kind=InteractionKind.REPLY if parent else InteractionKind.COMMENT,
            author=_author(who, str(who.get("username") or "")),
            created_at=created,
            text=str(value.get("text") or ""),
            post=post_ref,
            parent=RemoteRef(parent) if parent else post_ref,
            ref=RemoteRef(parent or comment_id),
        )


# -- helpers ------------------------------------------------------------------


def _expiry(token: Mapping[str, Any]) -> datetime | None:
    try:
        seconds = int(token.get("expires_in") or 0)
    except (TypeError, ValueError):
        return None
    return datetime.now(UTC) + timedelta(seconds=seconds) if seconds > 0 else None


def _oauth_reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error_message") or body.get("error_description") or "")
    return ""


def _account(me: Mapping[str, Any], ig_id: str) -> AccountInfo:
    username = str(me.get("username") or ig_id)
    followers = me.get("followers_count")
    return AccountInfo(
        remote_id=ig_id,
        handle=username,
        display_name=str(me.get("name") or username),
        avatar_url=str(me.get("profile_picture_url") or ""),
        url=f"https://www.instagram.com/{username}/",
        followers=followers if isinstance(followers, int) else None,
    )


def _author(who: Mapping[str, Any], username: str) -> Author:
    return Author(
        remote_id=str(who.get("id") or username),
        handle=username or str(who.get("id") or ""),
        display_name=username,
        url=f"https://www.instagram.com/{username}/" if username else "",
    )


def _remote_post(media: Mapping[str, Any]) -> RemotePost:
    return RemotePost(
        remote_id=str(media["id"]),
        url=str(media.get("permalink") or ""),
        text=str(media.get("caption") or ""),
        created_at=parse_time(media.get("timestamp")),
    )


def _mention(media: Mapping[str, Any]) -> Interaction | None:
    created = parse_time(media.get("timestamp"))
    if created is None:
        return None
    username = str(media.get("username") or "")
    return Interaction(
        remote_id=str(media["id"]),
        kind=InteractionKind.MENTION,
        author=_author({}, username),
        created_at=created,
        text=str(media.get("caption") or ""),
        url=str(media.get("permalink") or ""),
    )


def _conversation_key(sender_id: str) -> str:
    """One conversation per person: the Instagram-scoped id names it (pushes carry no thread id)."""
    return f"igsid:{sender_id}"


def _message(message: Mapping[str, Any], own_id: str) -> Interaction | None:
    who = message.get("from") or {}
    sender = str(who.get("id") or "")
    created = parse_time(message.get("created_time"))
    if not sender or sender == own_id or created is None:
        return None
    username = str(who.get("username") or "")
    return Interaction(
        remote_id=str(message["id"]),
        kind=InteractionKind.DIRECT_MESSAGE,
        author=_author({"id": sender}, username),
        created_at=created,
        text=str(message.get("message") or ""),
        conversation_id=_conversation_key(sender),
        ref=RemoteRef(dm_ref(_conversation_key(sender), sender)),
    )


def _messaging_event(event: Mapping[str, Any], own_id: str) -> Interaction | None:
    message = event.get("message") or {}
    sender = str((event.get("sender") or {}).get("id") or "")
    if not message or message.get("is_echo") or not sender or sender == own_id:
        return None
    deleted = bool(message.get("is_deleted"))
    return Interaction(
        remote_id=str(message.get("mid") or ""),
        kind=InteractionKind.DIRECT_MESSAGE,
        author=_author({"id": sender}, ""),
        created_at=parse_time(event.get("timestamp")) or timezone.now(),
        text=str(message.get("text") or ""),
        conversation_id=_conversation_key(sender),
        ref=RemoteRef(dm_ref(_conversation_key(sender), sender)),
        deleted=deleted,
    )
