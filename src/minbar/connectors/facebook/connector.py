"""The Facebook Pages connector: one Facebook Page per channel.

It follows the Pages API (https://developers.facebook.com/docs/pages-api) on the
Graph API version pinned in :mod:`minbar.connectors.meta_graph.version`. How
each contract method maps to the API is in its docstring; the user-facing
summary is ``docs/networks/facebook.md``.

What the connector keeps in ``Credentials`` (set by :meth:`finish_oauth`):

* ``secrets``: ``page_access_token`` (a Page token read with a long-lived user
  token: it does not expire) and ``user_access_token`` (the long-lived user
  token, about 60 days, used only by :meth:`switch_page`);
* ``data``: ``page_id``, ``page_name``, ``user_id``, ``scopes`` (as granted),
  ``tasks`` (what the person may do on the Page) and ``pages`` — every Page the
  person shared with Minbar in Meta's dialog (``id``, ``name``; no tokens).

Choosing the Page. Meta's dialog asks the person which Pages Minbar may use. The
connector connects the first of them that the person may publish on (Meta's
order) and lists all of them in ``data["pages"]``; :meth:`switch_page` moves the
channel to another of those Pages with the stored user token. Minbar's connect
flow has no picking step for sign-in networks yet, so today a person who wants
one particular Page shares only that Page in Meta's dialog.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import network_app, require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    Rejected,
)
from minbar.connectors.facebook.scopes import SCOPES
from minbar.connectors.meta_graph import messaging, oauth, pushes
from minbar.connectors.meta_graph.client import GraphClient
from minbar.connectors.meta_graph.cursor import Cursor, parse_time
from minbar.connectors.meta_graph.journal import JOURNAL, Attempt, matches
from minbar.connectors.meta_graph.refs import dm_ref, parse_dm_ref
from minbar.connectors.meta_graph.version import (
    FACEBOOK_GRAPH,
    FACEBOOK_VIDEO_GRAPH,
    host_for,
)
from minbar.connectors.types import (
    AccountChoice,
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
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger("minbar.connectors.facebook")

LABEL = "Facebook"
# Facebook's post composer stops at 63,206 characters; the API refuses longer messages.
MAX_MESSAGE = 63_206
# Minbar's own cap for photos in one post (attached_media takes a list; Meta documents no maximum).
MAX_PHOTOS = 10
# Pages API photos: JPEG, BMP, PNG, GIF, TIFF up to 10 MB
# (https://developers.facebook.com/docs/graph-api/reference/page/photos/#upload).
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# Non-resumable video upload: up to 1 GB and 20 minutes
# (https://developers.facebook.com/docs/video-api/guides/publishing).
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_VIDEO_BYTES = 1024 * 1024 * 1024

# How many recent posts the inbox reads comments from, and comments per post.
RECENT_POSTS = 10
COMMENTS_PER_POST = 50

POST_FIELDS = "id,message,created_time,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url,is_hidden"
# Post insights (https://developers.facebook.com/docs/graph-api/reference/insights/):
# post_impressions and post_impressions_unique were replaced by post_media_view and
# post_total_media_view_unique (Pages API changelog, November 15, 2025).
POST_INSIGHTS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
VIDEO_POST_INSIGHTS = ("post_video_views",)
# Video nodes (a video published with /{page-id}/videos) have their own insights
# (https://developers.facebook.com/docs/graph-api/reference/video/video_insights/).
VIDEO_INSIGHTS = ("total_video_impressions", "total_video_impressions_unique", "total_video_views")
PAGE_INSIGHTS = ("page_media_view", "page_total_media_view_unique")
INSIGHT_KEYS = {
    "post_media_view": "impressions",
    "post_impressions": "impressions",
    "post_total_media_view_unique": "reach",
    "post_impressions_unique": "reach",
    "post_clicks": "clicks",
    "post_video_views": "video_views",
    "total_video_impressions": "impressions",
    "total_video_impressions_unique": "reach",
    "total_video_views": "video_views",
    "page_media_view": "impressions",
    "page_impressions": "impressions",
    "page_total_media_view_unique": "reach",
    "page_impressions_unique": "reach",
}
# Page tasks that allow publishing (https://developers.facebook.com/docs/pages-api/overview#tasks).
PUBLISHING_TASKS = frozenset({"CREATE_CONTENT", "MANAGE"})


class FacebookConnector(Connector):
    network: ClassVar[str] = "facebook"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="facebook",
        label=_("Facebook Pages"),
        auth=AuthKind.OAUTH2,
        text=TextRules(max_length=MAX_MESSAGE, counting=TextCounting.CHARACTERS),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_PHOTOS,
            max_videos=1,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            mix_images_and_video=False,
        ),
        pkce=False,
        default_server_url=FACEBOOK_GRAPH,
        post_types=frozenset(
            {
                PostType.TEXT,
                PostType.LINK,
                PostType.IMAGE,
                PostType.GALLERY,
                PostType.VIDEO,
                PostType.REPLY,
            }
        ),
        first_comment=True,
        post_metrics=frozenset(
            {"likes", "comments", "shares", "clicks", "impressions", "reach", "video_views"}
        ),
        account_metrics=frozenset({"followers", "impressions", "reach"}),
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
        # https://developers.facebook.com/docs/graph-api/overview/rate-limiting: Page tokens
        # get 4,800 calls per 24 hours times the Page's engaged users (at least one);
        # app and user tokens 200 calls per hour times the app's users. The usage
        # headers are what Minbar obeys (meta_graph.usage).
        rate_limits=(
            RateLimitRule("request", 4800, 24 * 60 * 60, "account"),
            RateLimitRule("request", 200, 60 * 60, "app"),
        ),
        docs_url="https://developers.facebook.com/docs/pages-api",
        setup_doc="docs/networks/facebook.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens Facebook: sign in there if asked."),
        _(
            "Choose the Page to connect (share only that Page if you manage several) "
            "and approve every permission Minbar asks for."
        ),
        _("Facebook sends you back here and the Page is connected."),
    )
    # A "not found" from lookup never proves a post did not go out (meta_graph.journal).
    lookup_authoritative_seconds: ClassVar[float] = 0.0

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

    # -- plumbing -------------------------------------------------------------

    @property
    def page_id(self) -> str:
        page_id = str(self.credentials.data.get("page_id") or "")
        if not page_id:
            raise AuthExpired("This Facebook Page is not connected. Reconnect it.")
        return page_id

    def _app_secret(self) -> str:
        app = network_app(self.network)
        return app.get("client_secret", "") if app else ""

    def _graph(self) -> GraphClient:
        if self._client is None:
            self._client = GraphClient(
                self.server_url,
                self.credentials.secrets.get("page_access_token", ""),
                label=LABEL,
                app_secret=self._app_secret(),
                timeout=self.timeout,
            )
        return self._client

    def _video_graph(self) -> GraphClient:
        return GraphClient(
            host_for(self.server_url, FACEBOOK_VIDEO_GRAPH),
            self.credentials.secrets.get("page_access_token", ""),
            label=LABEL,
            app_secret=self._app_secret(),
            timeout=self.timeout,
        )

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """Meta's Facebook Login dialog with the Page permissions in :mod:`.scopes`."""
        app = app if app and app.get("client_id") else require_app(self.network, LABEL)
        url = oauth.dialog_url(
            self.server_url,
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            scopes=SCOPES,
        )
        return OAuthStart(url=url, state=state)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Code → user token → long-lived user token → the shared Pages and their tokens."""
        app = start.app if start.app and start.app.get("client_id") else None
        app = app or require_app(self.network, LABEL)
        short = oauth.exchange_code(
            self.server_url,
            app,
            redirect_uri=redirect_uri,
            code=code,
            label=LABEL,
            timeout=self.timeout,
        )
        long = oauth.long_lived(
            self.server_url, app, str(short["access_token"]), label=LABEL, timeout=self.timeout
        )
        user_token = str(long["access_token"])
        user = GraphClient(
            self.server_url,
            user_token,
            label=LABEL,
            app_secret=app.get("client_secret", ""),
            timeout=self.timeout,
        )
        me = user.get("me", fields="id,name")
        granted = [
            str(p.get("permission"))
            for p in user.get("me/permissions").get("data") or []
            if p.get("status") == "granted"
        ]
        pages = self._shared_pages(user)
        if not pages:
            raise Rejected(
                "Facebook shared no Page with Minbar. Connect again and choose a Page you "
                "manage in Facebook's window."
            )
        publishable = [p for p in pages if PUBLISHING_TASKS & set(p.get("tasks") or [])]
        if not publishable:
            raise Rejected(
                "You may not publish on the Pages you shared with Minbar. Ask a Page admin "
                "for full control or content permissions, then connect again."
            )
        return self._connect_page(publishable[0], pages, user_token, str(me.get("id", "")), granted)

    def _shared_pages(self, user: GraphClient) -> list[Mapping[str, Any]]:
        """``GET /me/accounts``: the Pages shared in the dialog, with Page tokens and tasks."""
        return list(
            user.pages(
                "me/accounts",
                limit=100,
                fields="id,name,access_token,tasks,link,picture{url},followers_count",
            )
        )

    def _connect_page(
        self,
        page: Mapping[str, Any],
        pages: list[Mapping[str, Any]],
        user_token: str,
        user_id: str,
        granted: list[str],
    ) -> ConnectResult:
        page_token = str(page.get("access_token") or "")
        if not page_token:
            raise Rejected(
                f"Facebook gave Minbar no access to the Page {page.get('name', '')}. Connect again."
            )
        self.credentials = Credentials(
            secrets={"page_access_token": page_token, "user_access_token": user_token},
            data={
                "page_id": str(page["id"]),
                "page_name": str(page.get("name") or ""),
                "user_id": user_id,
                "scopes": granted,
                "tasks": list(page.get("tasks") or []),
                "pages": [{"id": str(p["id"]), "name": str(p.get("name") or "")} for p in pages],
            },
        )
        self._client = None
        others = tuple(
            AccountChoice(remote_id=str(p["id"]), name=str(p.get("name") or p["id"]), kind="page")
            for p in pages
            if str(p["id"]) != str(page["id"])
        )
        return ConnectResult(
            account=self._account(page), credentials=self.credentials, choices=others
        )

    def connect_choice(self, remote_id: str) -> ConnectResult:
        """Another Page the person shared in Facebook's window, as a channel of its own."""
        return self.switch_page(remote_id)

    def switch_page(self, page_id: str) -> ConnectResult:
        """Connect another Page the person shared, with the stored long-lived user token."""
        known = {str(p.get("id")) for p in self.credentials.data.get("pages") or []}
        if page_id not in known:
            raise Rejected("This Page was not shared with Minbar. Connect again and choose it.")
        user = GraphClient(
            self.server_url,
            self.credentials.secrets.get("user_access_token", ""),
            label=LABEL,
            app_secret=self._app_secret(),
            timeout=self.timeout,
        )
        pages = self._shared_pages(user)
        chosen = [p for p in pages if str(p.get("id")) == page_id]
        if not chosen:
            raise Rejected("Facebook no longer shares this Page with Minbar. Connect again.")
        return self._connect_page(
            chosen[0],
            pages,
            self.credentials.secrets.get("user_access_token", ""),
            str(self.credentials.data.get("user_id") or ""),
            list(self.credentials.data.get("scopes") or []),
        )

    @staticmethod
    def _account(page: Mapping[str, Any]) -> AccountInfo:
        picture = ((page.get("picture") or {}).get("data") or {}).get("url", "")
        followers = page.get("followers_count")
        return AccountInfo(
            remote_id=str(page["id"]),
            handle=str(page.get("name") or page["id"]),
            display_name=str(page.get("name") or ""),
            avatar_url=str(picture or ""),
            url=str(page.get("link") or f"https://www.facebook.com/{page['id']}"),
            followers=int(followers) if isinstance(followers, int) else None,
        )

    def refresh(self) -> Credentials | None:
        """Page tokens read with a long-lived user token do not expire; nothing to refresh.

        A token Meta stops accepting (password change, app removed) fails with code
        190 on the next call, raised as :class:`AuthExpired`.
        """
        return None

    def verify(self) -> AccountInfo:
        page = self._graph().get(self.page_id, fields="id,name,link,picture{url},followers_count")
        return self._account(page)

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """Text/link to ``/feed``; one photo to ``/photos``; several photos as unpublished
        photos attached to a ``/feed`` post (``attached_media``); a video to ``/videos``.

        https://developers.facebook.com/docs/pages-api/posts. Minbar schedules on its own
        side, so everything is published the moment the dispatcher calls. A first
        comment is added after the post; if that fails the post stays published and
        the failure is logged (the post must not be sent twice).
        """
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        self._check(request)
        JOURNAL.remember(
            request.idempotency_key, Attempt(self.page_id, request.text, timezone.now())
        )
        images = [m for m in request.media if m.mime_type.startswith("image/")]
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos:
            result = self._publish_video(request, videos[0])
        elif len(images) == 1:
            result = self._publish_photo(request, images[0])
        elif images:
            result = self._publish_gallery(request, images)
        else:
            result = self._publish_feed(request)
        if request.first_comment.strip():
            try:
                self._graph().post(f"{result.remote_id}/comments", message=request.first_comment)
            except ConnectorError as exc:
                logger.warning("Facebook first comment on %s failed: %s", result.remote_id, exc)
        return result

    def _check(self, request: PostRequest) -> None:
        problems: list[str] = []
        if len(request.text) > MAX_MESSAGE:
            problems.append(f"Facebook posts are at most {MAX_MESSAGE} characters.")
        images = [m for m in request.media if m.mime_type.startswith("image/")]
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        if videos and (images or len(videos) > 1):
            problems.append("Facebook: a video must be the only media of its post.")
        if len(images) > MAX_PHOTOS:
            problems.append(f"Facebook: Minbar posts at most {MAX_PHOTOS} photos at once.")
        for item in request.media:
            allowed = IMAGE_TYPES if item in images else VIDEO_TYPES
            limit = MAX_IMAGE_BYTES if item in images else MAX_VIDEO_BYTES
            name = os.path.basename(item.path)
            if item.mime_type not in allowed:
                problems.append(f"Facebook does not take {item.mime_type} files ({name}).")
            try:
                size = os.path.getsize(item.path)
            except OSError:
                problems.append(f"Facebook: {name} cannot be read.")
                continue
            if size > limit:
                problems.append(f"Facebook: {name} is larger than {limit // 1_048_576} MB.")
        if not request.text.strip() and not request.media and not request.link:
            problems.append("Facebook: write something, add a link or add media.")
        if problems:
            raise Rejected(" ".join(problems))

    def _result(self, post_id: str, *, url: str = "") -> PublishResult:
        ref = RemoteRef(post_id, url or _post_url(post_id))
        return PublishResult(remote_id=post_id, url=ref.url, published_at=timezone.now(), ref=ref)

    def _publish_feed(self, request: PostRequest) -> PublishResult:
        answer = self._graph().post(
            f"{self.page_id}/feed", message=request.text or None, link=request.link or None
        )
        return self._result(str(answer["id"]))

    def _publish_photo(self, request: PostRequest, image: MediaItem) -> PublishResult:
        answer = self._graph().upload(
            f"{self.page_id}/photos",
            "source",
            image.path,
            image.mime_type,
            message=request.text or None,
            published=True,
        )
        return self._result(str(answer.get("post_id") or answer["id"]))

    def _publish_gallery(self, request: PostRequest, images: list[MediaItem]) -> PublishResult:
        graph = self._graph()
        attached = []
        for image in images:
            # Unpublished photos are not shown until attached to a post (Pages API,
            # "Publish multiple photos"); a failure here publishes nothing.
            photo = graph.upload(
                f"{self.page_id}/photos",
                "source",
                image.path,
                image.mime_type,
                published=False,
                temporary=True,
            )
            attached.append({"media_fbid": str(photo["id"])})
        answer = graph.post(
            f"{self.page_id}/feed", message=request.text or None, attached_media=attached
        )
        return self._result(str(answer["id"]))

    def _publish_video(self, request: PostRequest, video: MediaItem) -> PublishResult:
        answer = self._video_graph().upload(
            f"{self.page_id}/videos",
            "source",
            video.path,
            video.mime_type,
            description=request.text or None,
        )
        video_id = str(answer["id"])
        return self._result(
            video_id, url=f"https://www.facebook.com/{self.page_id}/videos/{video_id}"
        )

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """A comment reply (``POST /{comment-id}/comments``) or a Messenger answer.

        Messenger answers go through the Send API within the standard messaging
        window only (:mod:`minbar.connectors.meta_graph.messaging`).
        """
        dm = parse_dm_ref(to.remote_id)
        if dm is not None:
            return self._answer_message(*dm, request)
        if request.media:
            raise Rejected("Minbar answers Facebook comments with text only.")
        if not request.text.strip():
            raise Rejected("Write an answer to send on Facebook.")
        answer = self._graph().post(f"{to.remote_id}/comments", message=request.text)
        comment_id = str(answer["id"])
        ref = RemoteRef(comment_id, f"https://www.facebook.com/{comment_id}")
        return PublishResult(comment_id, url=ref.url, published_at=timezone.now(), ref=ref)

    def _answer_message(
        self, conversation_id: str, recipient_id: str, request: PostRequest
    ) -> PublishResult:
        """Check the window on the person's conversation, then send with the Send API.

        ``GET /{page-id}/conversations?user_id=<PSID>`` finds the person's
        conversation (https://developers.facebook.com/docs/graph-api/reference/page/conversations/).
        """
        if request.media:
            raise Rejected("Minbar answers Messenger conversations with text only.")
        graph = self._graph()
        messages = messaging.messages_with(
            graph, self.page_id, platform="messenger", person_id=recipient_id
        )
        messaging.check_window(
            messaging.last_message_from(messages, recipient_id), label="Messenger"
        )
        sent = messaging.send_text(
            graph,
            f"{self.page_id}/messages",
            recipient_id=recipient_id,
            text=request.text,
            label="Messenger",
        )
        message_id = str(sent.get("message_id") or "")
        ref = RemoteRef(dm_ref(conversation_id, recipient_id))
        return PublishResult(message_id, published_at=timezone.now(), ref=ref)

    def delete(self, remote_id: str) -> None:
        """``DELETE /{post-id}`` (or a video id); a post already gone counts as deleted."""
        try:
            self._graph().delete(remote_id)
        except Rejected as exc:
            if exc.status != 404:
                raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """By id: ``GET /{id}``. By key: a Page post with the attempt's text since it began.

        Meta takes no idempotency key, so only a process that remembers the attempt
        (:mod:`minbar.connectors.meta_graph.journal`) can match by text; elsewhere the
        answer is None, which the engine does not take as proof (see
        ``lookup_authoritative_seconds``).
        """
        graph = self._graph()
        if remote_id:
            try:
                post = graph.get(
                    remote_id, fields="id,created_time,permalink_url,message,description"
                )
            except Rejected as exc:
                if exc.status == 404:
                    return None
                raise
            return _remote_post(post)
        attempt = JOURNAL.recall(idempotency_key, self.page_id)
        if attempt is None:
            return None
        posts = graph.get(f"{self.page_id}/published_posts", fields=POST_FIELDS, limit=25)
        for post in posts.get("data") or []:
            if matches(
                attempt, str(post.get("message") or ""), parse_time(post.get("created_time"))
            ):
                return _remote_post(post)
        return None

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Reactions, comments and shares from the post; views, reach, clicks from insights.

        Insights a Page cannot have (fewer than 100 likes, a metric Meta retired)
        are left absent, never 0.
        """
        found: dict[str, Metrics] = {}
        for remote_id in dict.fromkeys(i for i in remote_ids if i):
            try:
                values = self._metrics_of(remote_id)
            except Rejected as exc:
                if exc.status == 404:
                    continue  # deleted on Facebook
                raise
            found[remote_id] = Metrics(values=values, fetched_at=timezone.now())
        return found

    def _metrics_of(self, remote_id: str) -> dict[str, int]:
        graph = self._graph()
        is_video = "_" not in remote_id  # post ids are <page id>_<post id>; videos are bare
        fields = "id,comments.summary(true).limit(0),reactions.summary(true).limit(0)"
        if not is_video:
            fields += ",shares,status_type"
        node = graph.get(remote_id, fields=fields)
        values: dict[str, int] = {}
        reactions = _summary_count(node.get("reactions"))
        if reactions is not None:
            values["likes"] = reactions
        comments = _summary_count(node.get("comments"))
        if comments is not None:
            values["comments"] = comments
        if not is_video:
            # Graph leaves ``shares`` out of a post nobody has shared yet: that is 0.
            values["shares"] = int((node.get("shares") or {}).get("count") or 0)
        metrics: tuple[str, ...]
        if is_video:
            metrics = VIDEO_INSIGHTS
            edge = f"{remote_id}/video_insights"
        else:
            metrics = POST_INSIGHTS
            if node.get("status_type") == "added_video":
                metrics += VIDEO_POST_INSIGHTS
            edge = f"{remote_id}/insights"
        values.update(self._insights(edge, metrics, period="lifetime"))
        return values

    def _insights(self, edge: str, metrics: Iterable[str], *, period: str) -> dict[str, int]:
        try:
            answer = self._graph().get(edge, metric=",".join(metrics), period=period)
        except Rejected as exc:
            # (#100) invalid metric / no insights for this object; (#10) not enough data.
            logger.info("Facebook insights %s unavailable: %s", edge, exc.detail or exc.message)
            return {}
        values: dict[str, int] = {}
        for item in answer.get("data") or []:
            key = INSIGHT_KEYS.get(str(item.get("name")))
            points = item.get("values") or []
            if key is None or not points:
                continue
            value = points[-1].get("value")
            if isinstance(value, (int, float)):
                values[key] = int(value)
        return values

    def account_metrics(self) -> Metrics:
        """Followers from the Page; views and reach over the last 28 days from Page insights."""
        page = self._graph().get(self.page_id, fields="followers_count,fan_count")
        values: dict[str, int] = {}
        followers = page.get("followers_count", page.get("fan_count"))
        if isinstance(followers, int):
            values["followers"] = followers
        values.update(self._insights(f"{self.page_id}/insights", PAGE_INSIGHTS, period="days_28"))
        return Metrics(values=values, fetched_at=timezone.now())

    # -- engaging -------------------------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New comments on recent posts, posts the Page is tagged in, and messages.

        * comments and replies: ``GET /{post-id}/comments?filter=stream`` on the Page's
          latest posts (``/published_posts``);
        * mentions: ``GET /{page-id}/tagged``;
        * messages: ``GET /{page-id}/conversations`` and ``/{conversation-id}/messages``,
          when ``pages_messaging`` was granted.

        The cursor is the newest time seen and the ids seen at that time
        (:mod:`minbar.connectors.meta_graph.cursor`); everything new comes in one page.
        """
        since = Cursor.parse(cursor)
        graph = self._graph()
        page_id = self.page_id
        items: list[Interaction] = []
        posts = graph.get(f"{page_id}/published_posts", fields=POST_FIELDS, limit=RECENT_POSTS)
        for post in posts.get("data") or []:
            comments = graph.get(
                f"{post['id']}/comments",
                fields=COMMENT_FIELDS,
                filter="stream",
                order="reverse_chronological",
                limit=COMMENTS_PER_POST,
            )
            for comment in comments.get("data") or []:
                item = self._comment(comment, post)
                if item is None:
                    continue
                if not since.is_new(item.remote_id, item.created_at):
                    break  # newest first: the rest were seen before
                items.append(item)
        tagged = graph.get(
            f"{page_id}/tagged",
            fields="id,message,created_time,from{id,name},permalink_url",
            limit=25,
        )
        for post in tagged.get("data") or []:
            item = self._mention(post)
            if item is not None and since.is_new(item.remote_id, item.created_at):
                items.append(item)
        if "pages_messaging" in (self.credentials.data.get("scopes") or []):
            items += self._new_messages(since)
        items.sort(key=lambda i: i.created_at)
        advanced = since.advanced((i.remote_id, i.created_at) for i in items)
        return Page(items=items, cursor=advanced.dump() or cursor)

    def _comment(self, comment: Mapping[str, Any], post: Mapping[str, Any]) -> Interaction | None:
        created = parse_time(comment.get("created_time"))
        who = comment.get("from") or {}
        if created is None or str(who.get("id", "")) == self.page_id:
            return None  # the Page's own answers are not inbox items
        parent = (comment.get("parent") or {}).get("id")
        post_ref = RemoteRef(str(post["id"]), str(post.get("permalink_url") or ""))
        comment_id = str(comment["id"])
        return Interaction(
            remote_id=comment_id,
            kind=InteractionKind.REPLY if parent else InteractionKind.COMMENT,
            author=_author(who),
            created_at=created,
            text=str(comment.get("message") or ""),
            url=str(comment.get("permalink_url") or ""),
            post=post_ref,
            parent=RemoteRef(str(parent)) if parent else post_ref,
            # Facebook threads are two levels deep: a reply to a reply joins its thread.
            ref=RemoteRef(str(parent) if parent else comment_id),
        )

    def _mention(self, post: Mapping[str, Any]) -> Interaction | None:
        created = parse_time(post.get("created_time"))
        who = post.get("from") or {}
        if created is None or str(who.get("id", "")) == self.page_id:
            return None
        return Interaction(
            remote_id=str(post["id"]),
            kind=InteractionKind.MENTION,
            author=_author(who),
            created_at=created,
            text=str(post.get("message") or ""),
            url=str(post.get("permalink_url") or ""),
        )

    def _new_messages(self, since: Cursor) -> list[Interaction]:
        return messaging.new_messages(
            self._graph(),
            self.page_id,
            platform="messenger",
            since=since,
            read=lambda message: _message(message, self.page_id),
            conversation_fields="id,updated_time,link",
        )

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        """``POST /{comment-id}`` with ``is_hidden`` (pages_manage_engagement)."""
        if parse_dm_ref(interaction.remote_id) is not None:
            raise NotSupported("Facebook does not let apps hide Messenger messages.")
        self._graph().post(interaction.remote_id, is_hidden=hidden)

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """``DELETE /{comment-id}``; a comment already gone counts as deleted."""
        if parse_dm_ref(interaction.remote_id) is not None:
            raise NotSupported("Facebook does not let apps delete Messenger messages.")
        self.delete(interaction.remote_id)

    # -- pushes ---------------------------------------------------------------

    def subscribe_push(self, url: str, secret: str, verify_token: str) -> None:
        """Point the app's ``page`` webhook at ``url`` and subscribe the Page to feed and messages.

        ``POST /{app-id}/subscriptions`` (app token: ``object=page``, ``callback_url``,
        ``verify_token``, ``fields``) — Meta checks the URL with a GET at once — then
        ``POST /{page-id}/subscribed_apps`` with ``subscribed_fields=feed,messages``.
        """
        app = require_app(self.network, LABEL)
        app_graph = GraphClient(
            self.server_url, pushes.app_token(app), label=LABEL, timeout=self.timeout
        )
        fields = (
            "feed,messages"
            if "pages_messaging" in (self.credentials.data.get("scopes") or [])
            else "feed"
        )
        app_graph.post(
            f"{app['client_id']}/subscriptions",
            object="page",
            callback_url=url,
            verify_token=verify_token,
            fields=fields,
            include_values=True,
        )
        self._graph().post(f"{self.page_id}/subscribed_apps", subscribed_fields=fields)

    def parse_push(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[Interaction]:
        """Comments (``feed`` changes, ``item=comment``) and messages of this Page.

        Signed with the *app* secret (``X-Hub-Signature-256``); ``"verb": "remove"``
        marks a comment its author deleted. Webhook payload fields:
        https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
        and https://developers.facebook.com/docs/messenger-platform/webhooks.
        """
        app = require_app(self.network, LABEL)
        payload = pushes.verified_body(headers, body, app.get("client_secret", ""))
        if payload.get("object") != "page":
            return []
        items: list[Interaction] = []
        page_id = self.page_id
        for entry in pushes.entries_for(payload, page_id):
            for change in entry.get("changes") or []:
                if change.get("field") == "feed":
                    item = _feed_change(change.get("value") or {}, page_id)
                    if item is not None:
                        items.append(item)
            for event in entry.get("messaging") or []:
                item = _messaging_event(event, page_id)
                if item is not None:
                    items.append(item)
        return items


# -- helpers ------------------------------------------------------------------


def _post_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


def _summary_count(edge: Any) -> int | None:
    if not isinstance(edge, Mapping):
        return None
    total = (edge.get("summary") or {}).get("total_count")
    return int(total) if isinstance(total, int) else None


def _remote_post(post: Mapping[str, Any]) -> RemotePost:
    post_id = str(post["id"])
    return RemotePost(
        remote_id=post_id,
        url=str(post.get("permalink_url") or _post_url(post_id)),
        text=str(post.get("message") or post.get("description") or ""),
        created_at=parse_time(post.get("created_time")),
    )


def _author(who: Mapping[str, Any]) -> Author:
    remote_id = str(who.get("id") or "")
    name = str(who.get("name") or "")
    return Author(
        remote_id=remote_id,
        handle=name or remote_id,
        display_name=name,
        url=f"https://www.facebook.com/{remote_id}" if remote_id else "",
    )


def _conversation_key(sender_id: str) -> str:
    """A Page has one conversation per person: the person's Page-scoped id names it.

    Webhook events carry no conversation id, so polling and pushes both use this.
    """
    return f"psid:{sender_id}"


def _message(message: Mapping[str, Any], page_id: str) -> Interaction | None:
    who = message.get("from") or {}
    sender = str(who.get("id") or "")
    created = parse_time(message.get("created_time"))
    if not sender or sender == page_id or created is None:
        return None  # the Page's own messages are not inbox items
    conversation_id = _conversation_key(sender)
    return Interaction(
        remote_id=str(message["id"]),
        kind=InteractionKind.DIRECT_MESSAGE,
        author=_author({"id": sender, "name": who.get("name")}),
        created_at=created,
        text=str(message.get("message") or ""),
        conversation_id=conversation_id,
        ref=RemoteRef(dm_ref(conversation_id, sender)),
    )


def _feed_change(value: Mapping[str, Any], page_id: str) -> Interaction | None:
    """A ``feed`` change about a comment: add, edited, remove (others are not inbox items)."""
    if value.get("item") != "comment":
        return None
    who = value.get("from") or {}
    if str(who.get("id", "")) == page_id:
        return None
    comment_id = str(value.get("comment_id") or "")
    post_id = str(value.get("post_id") or "")
    parent = str(value.get("parent_id") or "")
    created = parse_time(value.get("created_time")) or timezone.now()
    if not comment_id:
        return None
    post_ref = RemoteRef(post_id, _post_url(post_id)) if post_id else None
    is_reply = bool(parent) and parent != post_id
    return Interaction(
        remote_id=comment_id,
        kind=InteractionKind.REPLY if is_reply else InteractionKind.COMMENT,
        author=_author(who),
        created_at=created,
        text=str(value.get("message") or ""),
        url=_post_url(comment_id),
        post=post_ref,
        parent=RemoteRef(parent) if is_reply else post_ref,
        ref=RemoteRef(parent if is_reply else comment_id),
        deleted=value.get("verb") == "remove",
    )


def _messaging_event(event: Mapping[str, Any], page_id: str) -> Interaction | None:
    """A Messenger ``messages`` event; echoes of the Page's own messages are skipped."""
    message = event.get("message") or {}
    sender = str((event.get("sender") or {}).get("id") or "")
    if not message or message.get("is_echo") or not sender or sender == page_id:
        return None
    created: datetime = parse_time(event.get("timestamp")) or timezone.now()
    conversation = _conversation_key(sender)
    return Interaction(
        remote_id=str(message.get("mid") or ""),
        kind=InteractionKind.DIRECT_MESSAGE,
        author=_author({"id": sender}),
        created_at=created,
        text=str(message.get("text") or ""),
        conversation_id=conversation,
        ref=RemoteRef(dm_ref(conversation, sender)),
    )
