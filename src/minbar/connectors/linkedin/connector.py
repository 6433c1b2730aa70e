"""The LinkedIn connector: one member's profile or one Company Page they administer.

It follows LinkedIn's versioned REST API (``/rest/…``, see :mod:`.api` for the
headers); the user guide is ``docs/networks/linkedin.md``.

**Member or Page.** LinkedIn signs in a *member*; the Pages they may act for come
from ``GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED``
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-access-control-by-role).
A channel acts as exactly one author (``credentials.data["author"]``): signing in
connects the member's own profile and keeps the Pages they administer in
``credentials.data["organizations"]``; :meth:`LinkedInConnector.pages` lists them
and :meth:`LinkedInConnector.page_connection` returns the connection that makes
one of them a channel of its own (same sign-in, the Page as author), checked
against LinkedIn again at that moment. LinkedIn's consent page cannot ask which
Page, so the choice is kept after sign-in rather than made during it.

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` and, for apps LinkedIn approved for it,
  ``refresh_token``; ``expires_at`` is the access token's expiry (60 days);
* ``data``: ``author`` (``urn:li:person:…`` or ``urn:li:organization:…``),
  ``member`` (who signed in), ``organizations`` (``[{urn, name, vanity}]``),
  ``scopes`` (as granted), ``refresh_token_expires_at``, and ``sent`` — a short
  fingerprint (a hash of the text and the time) of each recent post keyed by
  Minbar's idempotency key, so :meth:`lookup` can recognise a Page's post after a
  timeout without putting anything visible in it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    NotSupported,
    OutcomeUnknown,
    Rejected,
)
from minbar.connectors.linkedin import oauth
from minbar.connectors.linkedin.api import (
    API_URL,
    LinkedInAPI,
    elements,
    encode,
    query,
    restli_list,
    urn_id,
)
from minbar.connectors.linkedin.mapping import (
    COMMENT_URN_RE,
    MEMBER_POST_ANALYTICS,
    POST_URN_RE,
    comment_urn,
    interaction_from_comment,
    milliseconds,
    post_url,
    remote_post,
    statistics_values,
    when,
)
from minbar.connectors.linkedin.media import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    MAX_DOCUMENT_BYTES,
    MAX_IMAGES,
    MAX_VIDEO_BYTES,
    VIDEO_TYPES,
    Uploaded,
    Uploader,
    kind_of,
    media_problems,
)
from minbar.connectors.linkedin.text import (
    comment_text_problems,
    post_text_problems,
    to_commentary,
)
from minbar.connectors.types import (
    AccountChoice,
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
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

LABEL = "LinkedIn"
VISIBILITIES = ("public", "connections")  # CONNECTIONS exists for members only
# Posts whose comments the inbox reads, newest first, and how many comments per call.
INBOX_POSTS = 20
COMMENTS_PER_CALL = 100
COMMENT_CALLS_PER_POST = 5
INBOX_PAGE = 50
STATISTICS_BATCH = 20
SENT_KEPT = 50
# How far before the recorded send time a post may carry its createdAt (clock skew).
LOOKUP_SKEW = timedelta(minutes=5)
ALT_TEXT_MAX = 4086  # "altText … max length 4086 characters" (Images API)


def _fingerprint(commentary: str) -> str:
    return hashlib.sha256(commentary.encode()).hexdigest()[:32]


class LinkedInConnector(Connector):
    network: ClassVar[str] = "linkedin"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="linkedin",
        label=LABEL,
        auth=AuthKind.OAUTH2,
        text=TextRules(max_length=3000, counting=TextCounting.UTF16),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_IMAGES,
            max_videos=1,
            max_video_bytes=MAX_VIDEO_BYTES,
            mix_images_and_video=False,
            document_types=DOCUMENT_TYPES,
            max_documents=1,
            max_document_bytes=MAX_DOCUMENT_BYTES,
            alt_text=True,
            alt_text_max_length=ALT_TEXT_MAX,
        ),
        pkce=False,  # LinkedIn takes PKCE from native clients only, see .oauth
        default_server_url=API_URL,
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
        visibility=VISIBILITIES,
        post_options=(
            PostOption(
                "visibility",
                _lazy("Who can see it"),
                OptionKind.CHOICE,
                (("public", _lazy("Anyone")), ("connections", _lazy("Connections only"))),
                help=_lazy("Empty: anyone. Organization pages post to anyone."),
            ),
        ),
        # A Page's posts (organizationalEntityShareStatistics); a member's only with the
        # Community Management API's r_member_postAnalytics, without clicks
        # (account_capabilities narrows it per channel).
        post_metrics=frozenset({"impressions", "reach", "clicks", "likes", "comments", "shares"}),
        account_metrics=frozenset({"followers", "impressions", "reach"}),  # Pages only
        interactions=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),  # Pages only
        can_reply_to=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),
        can_delete_interactions=True,  # the channel's own comments and replies
        # LinkedIn counts calls per UTC day, per app and per member, and publishes no
        # figures ("Standard rate limits are not published in documentation";
        # https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits).
        # 150 posts per member per day is the ceiling LinkedIn applies to Share on
        # LinkedIn apps as reported by its users; a 429 is waited out until midnight UTC.
        rate_limits=(RateLimitRule("publish", 150, 24 * 60 * 60, "account"),),
        docs_url="https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api",
        setup_doc="docs/networks/linkedin.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _lazy("Minbar opens LinkedIn: sign in there and allow Minbar."),
        _lazy(
            "Your LinkedIn profile is connected; Minbar also notes the Company Pages you "
            "administer when this Minbar has LinkedIn's Community Management API."
        ),
        _lazy("LinkedIn sign-ins last 60 days: Minbar tells you when to sign in again."),
    )

    # Publishing waits this long per file for LinkedIn to process an upload.
    media_processing_timeout: ClassVar[float] = 300.0
    media_poll_interval: ClassVar[float] = 3.0

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

    # -- plumbing -------------------------------------------------------------

    def _oauth_base(self) -> str:
        """www.linkedin.com, or the fake/proxy that MINBAR_LINKEDIN_API_URL points at."""
        return oauth.OAUTH_URL if self.server_url == API_URL else self.server_url

    @contextmanager
    def _api(self) -> Iterator[LinkedInAPI]:
        api = LinkedInAPI(
            self.server_url, self.credentials.secrets.get("access_token", ""), self.timeout
        )
        try:
            yield api
        finally:
            api.close()

    def _data(self, name: str, default: Any = None) -> Any:
        return self.credentials.data.get(name, default)

    def _author(self) -> str:
        author = str(self._data("author") or "")
        if not author:
            raise Rejected(_("This LinkedIn channel has no author; reconnect it."))
        return author

    def _is_page(self) -> bool:
        return self._author().startswith("urn:li:organization:")

    def _scopes(self) -> set[str]:
        return set(self._data("scopes") or [])

    def _need_page(self, what: str) -> None:
        if not self._is_page():
            raise NotSupported(
                _(
                    "LinkedIn lets only approved partners read a member's %(what)s; Minbar "
                    "offers it for Company Pages."
                )
                % {"what": what}
            )

    def account_capabilities(self) -> Capabilities:
        """A Page gets everything; a member posts and, with r_member_postAnalytics, is measured."""
        author = str(self._data("author") or "")
        if author.startswith("urn:li:organization:"):
            return replace(self.capabilities, visibility=("public",))
        metrics = frozenset(MEMBER_POST_ANALYTICS.values())
        return replace(
            self.capabilities,
            post_metrics=metrics if "r_member_postAnalytics" in self._scopes() else frozenset(),
            account_metrics=frozenset(),
            interactions=frozenset(),
            can_reply_to=frozenset(),
            can_delete_interactions=False,
        )

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        app = require_app(self.network, LABEL) if not app or not app.get("client_id") else app
        scopes = oauth.scopes_for(app)
        url = oauth.authorize_url(
            self._oauth_base(),
            client_id=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            scopes=scopes,
        )
        return OAuthStart(url=url, state=state)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """Exchange the code, read who signed in and which Pages they administer."""
        app = start.app if start.app and start.app.get("client_id") else None
        app = app or require_app(self.network, LABEL)
        token = oauth.exchange_code(
            self._oauth_base(), app=app, redirect_uri=redirect_uri, code=code, timeout=self.timeout
        )
        self.credentials = oauth.credentials_from_token(token)
        if "scopes" not in self.credentials.data:
            self.credentials.data["scopes"] = list(oauth.scopes_for(app))
        with self._api() as api:
            member = self._member(api)
            organizations = self._administered(api) if self._can_read_pages() else []
        self.credentials.data.update(
            {
                "author": member.remote_id,
                "member": member.remote_id,
                "organizations": organizations,
            }
        )
        return ConnectResult(
            account=member,
            credentials=self.credentials,
            choices=tuple(_page_choice(org) for org in organizations),
        )

    def connect_choice(self, remote_id: str) -> ConnectResult:
        """One of the Pages the member administers, as a channel of its own."""
        return self.page_connection(remote_id)

    def _can_read_pages(self) -> bool:
        return bool({"rw_organization_admin", "r_organization_admin"} & self._scopes())

    def _member(self, api: LinkedInAPI) -> AccountInfo:
        """Who signed in: OpenID's /v2/userinfo, or /v2/me with r_basicprofile."""
        if "openid" in self._scopes():
            # https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
            info = api.get("/v2/userinfo")
            person = f"urn:li:person:{info['sub']}"
            return AccountInfo(
                remote_id=person,
                handle=str(info.get("name") or info["sub"]),
                display_name=str(info.get("name") or ""),
                avatar_url=str(info.get("picture") or ""),
            )
        # https://learn.microsoft.com/en-us/linkedin/shared/integrations/people/profile-api
        me = api.get("/v2/me")
        name = " ".join(
            str(me.get(part) or "") for part in ("localizedFirstName", "localizedLastName")
        ).strip()
        vanity = str(me.get("vanityName") or "")
        return AccountInfo(
            remote_id=f"urn:li:person:{me['id']}",
            handle=vanity or name or str(me["id"]),
            display_name=name,
            url=f"https://www.linkedin.com/in/{vanity}/" if vanity else "",
        )

    def _administered(self, api: LinkedInAPI) -> list[dict[str, str]]:
        """The Pages this member administers (approved ADMINISTRATOR role), with their names."""
        found: list[dict[str, str]] = []
        start = 0
        for _page in range(10):  # 10 x 100 Pages is more than anyone administers
            answer = api.get(
                "/rest/organizationAcls?"
                + query(
                    {
                        "q": "roleAssignee",
                        "role": "ADMINISTRATOR",
                        "state": "APPROVED",
                        "start": str(start),
                        "count": "100",
                    }
                )
            )
            rows = elements(answer)
            for row in rows:
                urn = str(row.get("organization") or "")
                if urn.startswith("urn:li:organization:"):
                    found.append(self._organization(api, urn))
            start += len(rows)
            total = (answer.get("paging") or {}).get("total")
            if not rows or (isinstance(total, int) and start >= total):
                break
        return found

    def _organization(self, api: LinkedInAPI, urn: str) -> dict[str, str]:
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-lookup-api
        org = api.get(f"/rest/organizations/{urn_id(urn)}")
        return {
            "urn": urn,
            "name": str(org.get("localizedName") or urn_id(urn)),
            "vanity": str(org.get("vanityName") or ""),
        }

    def pages(self) -> list[AccountInfo]:
        """The Pages the signed-in member administers now (each can become a channel)."""
        if not self._can_read_pages():
            return []
        with self._api() as api:
            organizations = self._administered(api)
        self._credentials_changed(Credentials(data={"organizations": organizations}))
        return [_page_account(org) for org in organizations]

    def page_connection(self, organization_urn: str) -> ConnectResult:
        """The same sign-in acting as one of the member's Pages: a channel of its own."""
        pages = {p.remote_id: p for p in self.pages()}
        if organization_urn not in pages:
            raise Rejected(
                _(
                    "The person who signed in is not an administrator of this LinkedIn Page "
                    "(or the sign-in lacks the Community Management permissions)."
                ),
                detail=organization_urn,
            )
        credentials = Credentials(
            secrets=dict(self.credentials.secrets),
            data={**self.credentials.data, "author": organization_urn, "sent": {}},
            expires_at=self.credentials.expires_at,
        )
        account = pages[organization_urn]
        page = LinkedInConnector(self.server_url, credentials, timeout=self.timeout)
        followers = page._followers()
        return ConnectResult(account=replace(account, followers=followers), credentials=credentials)

    def refresh(self) -> Credentials | None:
        """A new token from the refresh token (approved partners), or None when not due.

        Without a refresh token the person must sign in again within 60 days:
        AuthExpired says so half an hour before the token runs out.
        """
        return oauth.refresh(
            self._oauth_base(),
            self.credentials,
            app=require_app(self.network, LABEL),
            timeout=self.timeout,
        )

    def verify(self) -> AccountInfo:
        with self._api() as api:
            if self._is_page():
                org = self._organization(api, self._author())
                return _page_account(org)
            return self._member(api)

    # -- publishing -----------------------------------------------------------

    def _check(self, request: PostRequest) -> None:
        if request.quote is not None:
            raise self._unsupported(_("quoting posts"))
        if request.thread:
            raise self._unsupported(_("threads"))
        if request.first_comment:
            raise self._unsupported(_("a first comment"))
        problems: list[str] = []
        visibility = request.visibility.lower()
        allowed = self.account_capabilities().visibility
        if visibility and visibility not in allowed:
            problems.append(
                _("LinkedIn: visibility must be one of %(allowed)s, not “%(given)s”.")
                % {"allowed": ", ".join(allowed), "given": request.visibility}
            )
        if not request.text.strip() and not request.media and not request.link:
            problems.append(_("LinkedIn: a post needs text, a link or media."))
        problems += post_text_problems(_text_of(request))
        problems += media_problems(request.media)
        for item in request.media:
            if kind_of(item) == "image" and len(item.alt_text) > ALT_TEXT_MAX:
                problems.append(
                    _("LinkedIn: an image description takes at most %(count)s characters.")
                    % {"count": ALT_TEXT_MAX}
                )
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))

    def _content(self, uploaded: list[Uploaded], request: PostRequest) -> dict[str, Any] | None:
        """The post's ``content``: media, multiImage or article (Posts API schemas)."""
        if len(uploaded) > 1:
            # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
            return {
                "multiImage": {"images": [{"id": u.urn, "altText": u.alt_text} for u in uploaded]}
            }
        if uploaded:
            item = uploaded[0]
            media: dict[str, Any] = {"id": item.urn}
            if item.kind == "image":
                media["altText"] = item.alt_text
            else:
                media["title"] = item.title  # documents require a title; videos show it
            return {"media": media}
        if request.link:
            # An article (link) post: LinkedIn does not fetch the page for a preview,
            # so the card shows the address's host as its title.
            return {"article": {"source": request.link, "title": urlsplit(request.link).netloc}}
        return None

    def _remember_sent(self, key: str, commentary: str) -> None:
        if not key:
            return
        sent = dict(self._data("sent") or {})
        sent[key] = {"text": _fingerprint(commentary), "at": datetime.now(UTC).isoformat()}
        newest = sorted(sent.items(), key=lambda kv: kv[1].get("at", ""))[-SENT_KEPT:]
        self._credentials_changed(Credentials(data={"sent": dict(newest)}))

    def publish(self, request: PostRequest) -> PublishResult:
        """Upload media, then ``POST /rest/posts``; the new post's URN is in ``x-restli-id``.

        https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
        """
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        self._check(request)
        author = self._author()
        with self._api() as api:
            uploader = Uploader(
                api,
                author,
                timeout=self.media_processing_timeout,
                interval=self.media_poll_interval,
            )
            uploaded = [uploader.upload(item) for item in request.media]
            commentary = to_commentary(_text_of(request, with_link=bool(uploaded)))
            body: dict[str, Any] = {
                "author": author,
                "commentary": commentary,
                "visibility": (request.visibility or "public").upper(),
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": False,
            }
            content = self._content(uploaded, request)
            if content is not None:
                body["content"] = content
            self._remember_sent(request.idempotency_key, commentary)
            response = api.send("POST", "/rest/posts", json=body, writes=True, ok=(201,))
        urn = response.headers.get("x-restli-id", "")
        if not POST_URN_RE.match(urn):
            raise OutcomeUnknown(
                _("LinkedIn took the post but did not say which it is."),
                detail=f"x-restli-id: {urn!r}",
                status=response.status_code,
            )
        return PublishResult(
            remote_id=urn,
            url=post_url(urn),
            published_at=datetime.now(UTC),
            ref=RemoteRef(remote_id=urn, url=post_url(urn), extra={"post": urn}),
        )

    def delete(self, remote_id: str) -> None:
        """``DELETE /rest/posts/{urn}``; a post already gone counts as deleted."""
        with self._api() as api:
            try:
                api.send("DELETE", f"/rest/posts/{encode(remote_id)}", ok=(204,))
            except Rejected as exc:
                if exc.status not in (404, 410):
                    raise

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did it go out? For a Page: by URN, or by the fingerprint kept when it was sent.

        LinkedIn has no idempotency key, so Minbar matches the Page's recent posts
        (``GET /rest/posts?q=author``) against the hash of the text it sent and the
        time it sent it. A "not found" proves little (the post may appear later,
        the fingerprint may have been pushed out), so Minbar treats it as not
        authoritative and asks a person. Members' posts cannot be read at all
        without the restricted r_member_social.
        """
        self._need_page(_("posts"))
        with self._api() as api:
            if remote_id:
                try:
                    return remote_post(api.get(f"/rest/posts/{encode(remote_id)}"))
                except Rejected as exc:
                    if exc.status in (404, 410):
                        return None
                    raise
            sent = (self._data("sent") or {}).get(idempotency_key)
            if not idempotency_key or not sent:
                return None
            since = datetime.fromisoformat(sent["at"]) - LOOKUP_SKEW
            answer = api.get(
                "/rest/posts?"
                + query(
                    {
                        "author": encode(self._author()),
                        "q": "author",
                        "count": "50",
                        "sortBy": "LAST_MODIFIED",
                    }
                )
            )
        for post in elements(answer):
            created = when(post.get("createdAt"))
            if created is None or created < since:
                continue
            if _fingerprint(str(post.get("commentary") or "")) == sent["text"]:
                return remote_post(post)
        return None

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        ids = [i for i in dict.fromkeys(remote_ids) if POST_URN_RE.match(i)]
        if self._is_page():
            return self._page_post_metrics(ids)
        if "r_member_postAnalytics" not in self._scopes():
            raise NotSupported(
                _(
                    "LinkedIn reports a member's post statistics only to apps with the "
                    "Community Management API (r_member_postAnalytics)."
                )
            )
        return self._member_post_metrics(ids)

    def _page_post_metrics(self, ids: list[str]) -> dict[str, Metrics]:
        """``organizationalEntityShareStatistics`` for the Page's shares and ugcPosts, 20 a call.

        https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics
        """
        found: dict[str, Metrics] = {}
        with self._api() as api:
            for start in range(0, len(ids), STATISTICS_BATCH):
                chunk = ids[start : start + STATISTICS_BATCH]
                params = {
                    "q": "organizationalEntity",
                    "organizationalEntity": encode(self._author()),
                }
                shares = [i for i in chunk if i.startswith("urn:li:share:")]
                ugc_posts = [i for i in chunk if i.startswith("urn:li:ugcPost:")]
                if shares:
                    params["shares"] = restli_list(shares)
                if ugc_posts:
                    params["ugcPosts"] = restli_list(ugc_posts)
                answer = api.get("/rest/organizationalEntityShareStatistics?" + query(params))
                now = datetime.now(UTC)
                for row in elements(answer):
                    urn = str(row.get("share") or row.get("ugcPost") or "")
                    if urn in chunk:
                        totals = row.get("totalShareStatistics") or {}
                        found[urn] = Metrics(values=statistics_values(totals), fetched_at=now)
        return found

    def _member_post_metrics(self, ids: list[str]) -> dict[str, Metrics]:
        """``memberCreatorPostAnalytics`` (one call per post and metric, ``aggregation=TOTAL``).

        https://learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics
        """
        found: dict[str, Metrics] = {}
        with self._api() as api:
            for urn in ids:
                kind = "share" if urn.startswith("urn:li:share:") else "ugc"
                values: dict[str, int] = {}
                for query_type, key in MEMBER_POST_ANALYTICS.items():
                    try:
                        answer = api.get(
                            "/rest/memberCreatorPostAnalytics?"
                            + query(
                                {
                                    "q": "entity",
                                    "entity": f"({kind}:{encode(urn)})",
                                    "queryType": query_type,
                                    "aggregation": "TOTAL",
                                }
                            )
                        )
                    except Rejected as exc:
                        if exc.status in (404, 410):
                            break  # deleted: left out of the answer
                        raise
                    counts = [e.get("count") for e in elements(answer)]
                    numbers = [int(c) for c in counts if isinstance(c, int | float)]
                    if numbers:
                        values[key] = sum(numbers)
                else:
                    found[urn] = Metrics(values=values, fetched_at=datetime.now(UTC))
        return found

    def _followers(self) -> int | None:
        """A Page's follower count (``networkSizes``, ``edgeType=COMPANY_FOLLOWED_BY_MEMBER``).

        https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/follower-statistics
        """
        with self._api() as api:
            answer = api.get(
                f"/rest/networkSizes/{encode(self._author())}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
            )
        size = answer.get("firstDegreeSize")
        return int(size) if isinstance(size, int | float) else None

    def account_metrics(self) -> Metrics:
        """A Page's followers, and its lifetime impressions and reach (share statistics)."""
        self._need_page(_("statistics"))
        values: dict[str, int] = {}
        followers = self._followers()
        if followers is not None:
            values["followers"] = followers
        with self._api() as api:
            answer = api.get(
                "/rest/organizationalEntityShareStatistics?"
                + query(
                    {"q": "organizationalEntity", "organizationalEntity": encode(self._author())}
                )
            )
        for row in elements(answer):
            totals = statistics_values(row.get("totalShareStatistics") or {})
            for key in ("impressions", "reach"):
                if key in totals:
                    values[key] = totals[key]
        return Metrics(values=values, fetched_at=datetime.now(UTC))

    # -- engaging -------------------------------------------------------------

    def _comments(self, api: LinkedInAPI, target: str) -> list[dict[str, Any]]:
        """Comments on a post or on a comment, ``start``/``count`` paging (bounded)."""
        found: list[dict[str, Any]] = []
        start = 0
        for _call in range(COMMENT_CALLS_PER_POST):
            answer = api.get(
                f"/rest/socialActions/{encode(target)}/comments?"
                + query({"start": str(start), "count": str(COMMENTS_PER_CALL)})
            )
            rows = elements(answer)
            found += rows
            start += len(rows)
            total = (answer.get("paging") or {}).get("total")
            if len(rows) < COMMENTS_PER_CALL or (isinstance(total, int) and start >= total):
                break
        return found

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New comments and replies on the Page's recent posts, oldest first.

        The Comments API has no "since" and no feed of a Page's comments, so Minbar
        reads the comments of the Page's 20 most recently changed posts
        (``GET /rest/posts?q=author``, a comment changes its post) and of the
        comments that have replies
        (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api).
        The cursor is the creation time (ms) of the newest comment handed out and
        the URNs handed out at that very millisecond (``ms|urn|urn``), so comments
        made in the same millisecond are neither lost nor repeated; at most 50 come
        per page, so a busy day arrives over several pages.
        """
        self._need_page(_("comments"))
        after, handed = _parse_cursor(cursor)
        found: list[Interaction] = []
        with self._api() as api:
            posts = elements(
                api.get(
                    "/rest/posts?"
                    + query(
                        {
                            "author": encode(self._author()),
                            "q": "author",
                            "count": str(INBOX_POSTS),
                            "sortBy": "LAST_MODIFIED",
                        }
                    )
                )
            )
            for post in posts:
                post_urn = str(post.get("id") or "")
                if not POST_URN_RE.match(post_urn):
                    continue
                for comment in self._comments(api, post_urn):
                    item = interaction_from_comment(comment, post_urn=post_urn)
                    if item is not None:
                        found.append(item)
                    summary = comment.get("commentsSummary") or {}
                    if item is not None and int(summary.get("totalFirstLevelComments") or 0):
                        for reply in self._comments(api, item.remote_id):
                            nested = interaction_from_comment(
                                reply, post_urn=post_urn, top_comment=item.remote_id
                            )
                            if nested is not None:
                                found.append(nested)
        fresh = sorted(
            (
                i
                for i in found
                if milliseconds(i.created_at) > after
                or (milliseconds(i.created_at) == after and i.remote_id not in handed)
            ),
            key=lambda i: (i.created_at, i.remote_id),
        )
        unique = list({i.remote_id: i for i in fresh}.values())[:INBOX_PAGE]
        if not unique:
            return Page(items=[], cursor=cursor)
        return Page(items=unique, cursor=_make_cursor(unique, after, handed))

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """A comment on a post, or a reply in a comment's thread, as the channel's author.

        ``POST /rest/socialActions/{target}/comments`` with ``actor``, ``object`` (the
        post) and ``message.text``; a reply names ``parentComment``. LinkedIn nests
        one level, so a reply to a reply goes under the thread's top comment.
        """
        if request.media:
            raise self._unsupported(_("media in comments"))
        problems = comment_text_problems(request.text)
        if problems:
            raise Rejected(" ".join(problems), detail="\n".join(problems))
        author = self._author()
        post = to.extra.get("post") or to.remote_id
        if not POST_URN_RE.match(post):
            match = COMMENT_URN_RE.match(to.remote_id)
            post = match.group(1) if match else post
        thread = to.extra.get("thread") or ("" if to.remote_id == post else to.remote_id)
        body: dict[str, Any] = {"actor": author, "object": post, "message": {"text": request.text}}
        if thread:
            body["parentComment"] = thread
        with self._api() as api:
            response = api.send(
                "POST",
                f"/rest/socialActions/{encode(thread or post)}/comments",
                json=body,
                writes=True,
                ok=(200, 201),
            )
            try:
                created = api.json(response)
            except Exception:
                created = {}
        urn = comment_urn(created) or response.headers.get("x-restli-id", "")
        if not urn:
            raise OutcomeUnknown(
                _("LinkedIn took the comment but did not say which it is."),
                status=response.status_code,
            )
        return PublishResult(
            remote_id=urn,
            url=post_url(post),
            published_at=when((created.get("created") or {}).get("time")) or datetime.now(UTC),
            ref=RemoteRef(
                remote_id=urn,
                url=post_url(post),
                extra={"post": post, "thread": thread or urn, "parent": thread or post},
            ),
        )

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """``DELETE /rest/socialActions/{parent}/comments/{id}?actor=…`` for the channel's own
        comments; LinkedIn refuses others' (Rejected, with its words)."""
        match = COMMENT_URN_RE.match(interaction.remote_id)
        if match is None:
            raise Rejected(_("This is not a LinkedIn comment."), detail=interaction.remote_id)
        parent = interaction.extra.get("parent") or match.group(1)
        with self._api() as api:
            try:
                api.send(
                    "DELETE",
                    f"/rest/socialActions/{encode(parent)}/comments/{match.group(2)}?"
                    + query({"actor": encode(self._author())}),
                    ok=(204,),
                )
            except Rejected as exc:
                if exc.status not in (404, 410):
                    raise


def _parse_cursor(cursor: str) -> tuple[int, set[str]]:
    moment, *urns = cursor.split("|")
    return (int(moment) if moment.isdigit() else 0), set(urns)


def _make_cursor(items: list[Interaction], after: int, handed: set[str]) -> str:
    newest = milliseconds(items[-1].created_at)
    same = {i.remote_id for i in items if milliseconds(i.created_at) == newest}
    if newest == after:
        same |= handed
    return "|".join([str(newest), *sorted(same)])


def _text_of(request: PostRequest, *, with_link: bool = False) -> str:
    """The post's text; a link rides in the text when media takes the post's card."""
    if with_link and request.link and request.link not in request.text:
        return f"{request.text.rstrip()}\n\n{request.link}".strip()
    return request.text


def _page_account(org: dict[str, str]) -> AccountInfo:
    vanity = org.get("vanity") or ""
    return AccountInfo(
        remote_id=org["urn"],
        handle=vanity or org.get("name") or urn_id(org["urn"]),
        display_name=org.get("name") or "",
        url=f"https://www.linkedin.com/company/{vanity or urn_id(org['urn'])}/",
    )


__all__ = ["DOCUMENT_TYPES", "LinkedInConnector"]


def _page_choice(org: dict[str, str]) -> AccountChoice:
    vanity = org.get("vanity") or ""
    return AccountChoice(
        remote_id=org["urn"],
        name=org.get("name") or urn_id(org["urn"]),
        kind="organization",
        detail=f"linkedin.com/company/{vanity}" if vanity else "",
    )
