"""The Google Business Profile connector: one business location, through the Business Profile APIs.

Guide: https://developers.google.com/my-business; the user guide is
``docs/networks/google_business.md``. Four Google APIs serve one location:

* Account Management (``mybusinessaccountmanagement.googleapis.com/v1``): the
  accounts the signed-in person can act for (``accounts.list``);
* Business Information (``mybusinessbusinessinformation.googleapis.com/v1``): the
  locations of each account (``accounts.locations.list`` with a ``readMask``) and
  one location (``locations.get``);
* Google My Business v4 (``mybusiness.googleapis.com/v4``): local posts and
  reviews, named from ``accounts/{a}/locations/{l}``;
* Business Profile Performance (``businessprofileperformance.googleapis.com/v1``):
  daily metrics of the location (``locations.fetchMultiDailyMetricsTimeSeries``).

One sign-in can manage many locations: the first becomes the channel, the others
are offered as ``ConnectResult.choices`` and :meth:`connect_choice` connects one.

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` (about an hour) and ``refresh_token``;
* ``data``: ``account`` and ``location`` (``accounts/…``, ``locations/…``),
  ``title``, ``maps_url``, ``scopes``, ``location_accounts`` (each location the
  sign-in offered → the account it was found under, for :meth:`connect_choice`),
  ``attempts`` (a digest and the time of each post sent, by idempotency key, so
  :meth:`lookup` can recognise it) and ``post_defaults`` (the channel's button).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _

from minbar.connectors import google_oauth
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    TemporaryError,
)
from minbar.connectors.google_business import oauth
from minbar.connectors.google_business.failures import LABEL, translate, transport_error
from minbar.connectors.google_business.mapping import (
    ACTION_METRICS,
    IMPRESSION_METRICS,
    READ_MASK,
    account_choice,
    account_info,
    account_metric_values,
    daily_sums,
    interaction_from_review,
    location_id,
    remote_post,
    summary_digest,
    v4_location,
    when,
)
from minbar.connectors.google_business.posts import (
    ACTION_TYPES,
    IMAGE_MAX_BYTES,
    IMAGE_MIN_BYTES,
    IMAGE_TYPES,
    POST_OPTIONS,
    SUMMARY_MAX,
    LocalPostOptions,
    local_post_body,
)
from minbar.connectors.google_oauth import GoogleAccount, GoogleSignIn
from minbar.connectors.http import check_outbound_url, make_client
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

logger = logging.getLogger("minbar.connectors.google_business")

DEFAULT_SERVER = "https://mybusiness.googleapis.com"
ACCOUNT_MANAGEMENT = "https://mybusinessaccountmanagement.googleapis.com/v1"
BUSINESS_INFORMATION = "https://mybusinessbusinessinformation.googleapis.com/v1"
MY_BUSINESS = "https://mybusiness.googleapis.com/v4"
PERFORMANCE = "https://businessprofileperformance.googleapis.com/v1"

# accounts.list pages hold at most 20 accounts; locations.list and localPosts.list
# 100; reviews.list 50 (each method's pageSize documentation).
ACCOUNT_PAGE = 20
LOCATION_PAGE = 100
POST_PAGE = 100
REVIEW_PAGE = 50
# How far one sign-in is read for its locations.
MAX_ACCOUNT_PAGES = 5
MAX_LOCATION_PAGES = 10
# Local posts read when looking for one Minbar sent.
LOOKUP_PAGES = 3
# Review pages read on a channel's first sweep (the inbox keeps only recent ones).
FIRST_SWEEP_PAGES = 4
ATTEMPT_MEMORY = 50
ATTEMPT_DAYS = 7
LOOKUP_SLACK = timedelta(minutes=10)
REPLY_MAX_BYTES = 4096  # ReviewReply.comment: "The maximum length is 4096 bytes."


@dataclass(frozen=True)
class Endpoints:
    """Google's hosts; a ``MINBAR_GOOGLE_BUSINESS_API_URL`` (a fake, a proxy) serves them all."""

    accounts: str
    token: str
    revoke: str
    management: str
    information: str
    v4: str
    performance: str

    @classmethod
    def for_server(cls, server_url: str) -> Endpoints:
        base = server_url.rstrip("/")
        if base == DEFAULT_SERVER:
            return cls(
                accounts=google_oauth.GOOGLE_ACCOUNTS,
                token=google_oauth.GOOGLE_TOKEN_HOST + google_oauth.TOKEN_PATH,
                revoke=google_oauth.GOOGLE_TOKEN_HOST + google_oauth.REVOKE_PATH,
                management=ACCOUNT_MANAGEMENT,
                information=BUSINESS_INFORMATION,
                v4=MY_BUSINESS,
                performance=PERFORMANCE,
            )
        return cls(
            accounts=base,
            token=base + google_oauth.TOKEN_PATH,
            revoke=base + google_oauth.REVOKE_PATH,
            management=f"{base}/v1",
            information=f"{base}/v1",
            v4=f"{base}/v4",
            performance=f"{base}/v1",
        )


@dataclass
class _Sweep:
    """The reviews cursor: where the last sweep of reviews (newest update first) stopped."""

    since: str = ""  # newest updateTime already delivered
    edge: list[str] = field(default_factory=list)  # reviews updated exactly at ``since``
    page: str = ""  # pageToken while a sweep goes on
    pages: int = 0  # pages read in the sweep under way
    top: str = ""
    top_edge: list[str] = field(default_factory=list)
    at: float = 0.0  # when the last sweep started (epoch seconds)

    @classmethod
    def parse(cls, cursor: str) -> _Sweep:
        try:
            data = json.loads(cursor) if cursor else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(
            since=str(data.get("s") or ""),
            edge=[str(i) for i in data.get("e") or []],
            page=str(data.get("p") or ""),
            pages=int(data.get("n") or 0),
            top=str(data.get("t") or ""),
            top_edge=[str(i) for i in data.get("te") or []],
            at=float(data.get("at") or 0.0),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "s": self.since,
                "e": self.edge,
                "p": self.page,
                "n": self.pages,
                "t": self.top,
                "te": self.top_edge,
                "at": self.at,
            },
            separators=(",", ":"),
        )


class GoogleBusinessConnector(GoogleAccount, Connector):
    network: ClassVar[str] = "google_business"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="google_business",
        label=_("Google Business Profile"),
        auth=AuthKind.OAUTH2,
        text=TextRules(max_length=SUMMARY_MAX, counting=TextCounting.CHARACTERS),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            max_images=1,
            max_image_bytes=IMAGE_MAX_BYTES,
        ),
        pkce=True,
        default_server_url=DEFAULT_SERVER,
        # An update with text, a photo, or a link as its button; the composer's
        # settings (POST_OPTIONS) make it an event or an offer.
        post_types=frozenset({PostType.TEXT, PostType.LINK, PostType.IMAGE}),
        post_options=POST_OPTIONS,
        # localPosts.reportInsights was removed with the Performance API's launch:
        # no metrics per post exist any more.
        post_metrics=frozenset(),
        account_metrics=frozenset({"impressions"}),
        interactions=frozenset({InteractionKind.REVIEW}),
        can_reply_to=frozenset({InteractionKind.REVIEW}),
        can_hide=False,
        can_delete_interactions=False,
        search=False,
        # "Default Requests per min - 300 QPM" per API and Google Cloud project
        # (https://developers.google.com/my-business/content/limits).
        rate_limits=(RateLimitRule("request", 300, 60, "app"),),
        docs_url="https://developers.google.com/my-business",
        setup_doc="docs/networks/google_business.md",
    )
    # Google Account → Security → "Third-party apps & services".
    access_settings_url: ClassVar[str] = "https://myaccount.google.com/permissions"
    sign_in: ClassVar[GoogleSignIn] = oauth.SIGN_IN
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _(
            "Minbar opens Google's sign-in page: choose the Google account that owns or "
            "manages the business."
        ),
        _("Allow Minbar to manage your business on Google; Google sends you back here."),
        _(
            "If the account manages several locations, Minbar connects the first and lets "
            "you pick another one."
        ),
    )

    # Local posts are created in one call: a post sent in the last day is in the
    # location's list if Google made it (see lookup).
    lookup_authoritative_seconds: ClassVar[float] = 24 * 3600.0
    # Seconds between two reads of the reviews (each costs a request of the quota).
    interactions_min_interval: float = 300.0
    # Days of daily metrics summed by account_metrics (Google's data trails a few days).
    metrics_days: ClassVar[int] = 28

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
        self.endpoints: Endpoints = Endpoints.for_server(self.server_url)
        self._client: httpx.Client | None = None
        # Turns a prepared photo into the address Google fetches it from (tests, a CDN).
        self.media_url_for: Callable[[MediaItem], str] = _public_media_url

    # -- plumbing -------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            for base in {
                self.endpoints.management,
                self.endpoints.information,
                self.endpoints.v4,
                self.endpoints.performance,
            }:
                check_outbound_url(base)
            self._client = make_client(timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _persist(self, **data: Any) -> None:
        self._credentials_changed(Credentials(data=data))

    def _call(
        self,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        writes: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """One API call: fresh token, one retry after a 401, errors translated."""
        client = self._http()
        for attempt in (1, 2):
            token = self._fresh_token(force=attempt == 2)
            try:
                response = client.request(
                    verb,
                    url,
                    params=params,
                    json=json_body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                raise transport_error(exc, writes=writes) from exc
            if response.status_code in ok:
                return response
            if response.status_code == 401 and attempt == 1:
                continue  # the token was refused: refresh once (a 401 was not carried out)
            raise translate(response, writes=writes)
        raise AssertionError("unreachable")

    def _get(self, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._call("GET", url, params=params)
        return _json(response)

    # -- where this channel lives ---------------------------------------------------

    def _location(self) -> str:
        location = str(self.credentials.data.get("location") or "")
        if not location:
            raise AuthExpired(f"{LABEL}: Minbar does not know this channel's location. Reconnect.")
        return location

    def _parent(self) -> str:
        """``accounts/{a}/locations/{l}``, the v4 parent of local posts and reviews."""
        account = str(self.credentials.data.get("account") or "")
        if not account:
            raise AuthExpired(f"{LABEL}: Minbar does not know this channel's account. Reconnect.")
        return v4_location(account, self._location())

    def _accounts(self) -> list[dict[str, Any]]:
        """Every account the signed-in person can act for (``accounts.list``)."""
        accounts: list[dict[str, Any]] = []
        token = ""
        for _page in range(MAX_ACCOUNT_PAGES):
            params: dict[str, Any] = {"pageSize": ACCOUNT_PAGE}
            if token:
                params["pageToken"] = token
            data = self._get(f"{self.endpoints.management}/accounts", params)
            accounts += [dict(a) for a in data.get("accounts") or [] if a.get("name")]
            token = str(data.get("nextPageToken") or "")
            if not token:
                break
        return accounts

    def _locations_of(self, account: str) -> list[dict[str, Any]]:
        locations: list[dict[str, Any]] = []
        token = ""
        for _page in range(MAX_LOCATION_PAGES):
            params: dict[str, Any] = {"readMask": READ_MASK, "pageSize": LOCATION_PAGE}
            if token:
                params["pageToken"] = token
            data = self._get(f"{self.endpoints.information}/{account}/locations", params)
            locations += [dict(loc) for loc in data.get("locations") or [] if loc.get("name")]
            token = str(data.get("nextPageToken") or "")
            if not token:
                break
        return locations

    def _all_locations(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Each location once (a location may be reachable through several accounts),
        and the account it was first found under."""
        found: list[dict[str, Any]] = []
        accounts_of: dict[str, str] = {}
        for account in self._accounts():
            name = str(account["name"])
            for location in self._locations_of(name):
                key = location_id(str(location["name"]))
                if key not in accounts_of:
                    accounts_of[key] = name
                    found.append(location)
        return found, accounts_of

    def _get_location(self, location: str) -> dict[str, Any]:
        return self._get(f"{self.endpoints.information}/{location}", {"readMask": READ_MASK})

    def _as_location(self, location: Mapping[str, Any], account: str) -> ConnectResult:
        info = account_info(location)
        data = {
            "account": account,
            "location": info.remote_id,
            "title": info.display_name,
            "maps_url": info.url,
        }
        return ConnectResult(
            account=info,
            credentials=replace(self.credentials, data={**self.credentials.data, **data}),
        )

    # -- connecting -----------------------------------------------------------

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        """The code for tokens, then every location the account manages: the first is this
        channel, the others are offered as choices."""
        credentials = self._exchange(redirect_uri, code, start)
        granted = set(credentials.data.get("scopes", oauth.SCOPES))
        if oauth.SCOPE_MANAGE not in granted:
            raise Rejected(
                f"{LABEL}: Google did not give Minbar the permission to manage the business. "
                "Connect again and allow it.",
                detail="granted: " + " ".join(sorted(granted)),
            )
        if not credentials.secrets.get("refresh_token"):
            raise Rejected(
                f"{LABEL}: Google sent no refresh token, so Minbar could only act for an hour. "
                "Connect again."
            )
        self.credentials = credentials
        locations, accounts_of = self._all_locations()
        if not locations:
            raise Rejected(
                f"{LABEL}: this Google account manages no business location. Sign in with the "
                "account that owns or manages the Business Profile."
            )
        self.credentials = replace(
            self.credentials,
            data={
                **self.credentials.data,
                "scopes": sorted(granted),
                "location_accounts": accounts_of,
            },
        )
        first = locations[0]
        result = self._as_location(first, accounts_of[location_id(str(first["name"]))])
        return replace(result, choices=tuple(account_choice(loc) for loc in locations[1:]))

    def connect_choice(self, remote_id: str) -> ConnectResult:
        """Another location of the same sign-in (``locations/…``), with the same tokens."""
        wanted = location_id(remote_id)
        known = self.credentials.data.get("location_accounts")
        accounts_of = dict(known) if isinstance(known, Mapping) else {}
        account = str(accounts_of.get(wanted) or "")
        if not account:
            _locations, accounts_of = self._all_locations()
            account = accounts_of.get(wanted, "")
            if not account:
                raise Rejected(
                    f"{LABEL}: this sign-in does not manage {wanted}. Connect again with the "
                    "Google account that manages it."
                )
        location = self._get_location(wanted)
        return self._as_location(location, account)

    def verify(self) -> AccountInfo:
        """``locations.get`` with the channel's read mask: the location still answers."""
        info = account_info(self._get_location(self._location()))
        if info.url != self.credentials.data.get("maps_url") or info.display_name != (
            self.credentials.data.get("title")
        ):
            self._persist(title=info.display_name, maps_url=info.url)
        return info

    # -- publishing -----------------------------------------------------------

    def set_post_defaults(self, *, action_type: str = "") -> None:
        """The channel's button for posts with a link (LEARN_MORE when unset)."""
        if action_type and action_type not in ACTION_TYPES:
            raise Rejected(f"{LABEL}: the button must be one of {', '.join(ACTION_TYPES)}.")
        self._persist(post_defaults={"action_type": action_type})

    def _default_options(self, request: PostRequest) -> LocalPostOptions:
        defaults = self.credentials.data.get("post_defaults")
        action = str(defaults.get("action_type") or "") if isinstance(defaults, Mapping) else ""
        return LocalPostOptions.from_request(request, default_action=action)

    def publish(self, request: PostRequest) -> PublishResult:
        """An update (``topicType`` STANDARD): text, one photo, the link as its button."""
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        if request.quote is not None:
            raise self._unsupported("quoting posts")
        return self.publish_local_post(request, self._default_options(request))

    def publish_local_post(
        self, request: PostRequest, options: LocalPostOptions | None = None
    ) -> PublishResult:
        """``localPosts.create`` for an update, an event or an offer.

        A digest of the summary and the time are saved (by idempotency key) before
        the request is sent, so :meth:`lookup` can find the post if the answer is
        lost; a second attempt with the same key first looks for the post it may
        already have made, and returns it instead of posting twice.
        """
        options = options or self._default_options(request)
        # Check everything Google would refuse before anything is sent or fetched.
        local_post_body(request, options, [])
        urls = self._media_urls(request)
        body = local_post_body(request, options, urls)
        key = request.idempotency_key
        if key and key in self._attempts():
            found = self.lookup(idempotency_key=key)
            if found is not None:
                return PublishResult(
                    remote_id=found.remote_id,
                    url=found.url,
                    published_at=found.created_at,
                    ref=RemoteRef(found.remote_id, url=found.url),
                )
        if key:
            self._remember_attempt(key, request.text)
        response = self._call(
            "POST", f"{self.endpoints.v4}/{self._parent()}/localPosts", json_body=body, writes=True
        )
        post = _json(response)
        if not post.get("name"):
            raise OutcomeUnknown(
                f"{LABEL} answered without the post's name; it may have been made.",
                detail=response.text[:300],
            )
        if post.get("state") == "REJECTED":
            self._forget_attempt(key)
            self._delete_quietly(str(post["name"]))
            raise Rejected(
                f"{LABEL} rejected the post (it breaks Google's content policies for posts).",
                detail=json.dumps(post)[:500],
            )
        result = remote_post(post)
        return PublishResult(
            remote_id=result.remote_id,
            url=result.url,
            published_at=result.created_at,
            ref=RemoteRef(result.remote_id, url=result.url),
        )

    def _media_urls(self, request: PostRequest) -> list[str]:
        urls: list[str] = []
        for item in request.media:
            size = _file_size(item.path)
            if size is not None and not IMAGE_MIN_BYTES <= size <= IMAGE_MAX_BYTES:
                raise Rejected(f"{LABEL} photos must weigh between 10 KB and 5 MB.")
            urls.append(self.media_url_for(item))
        return urls

    def _delete_quietly(self, name: str) -> None:
        try:
            self.delete(name)
        except ConnectorError as exc:
            logger.info("could not delete the rejected local post %s: %s", name, exc.message)

    def delete(self, remote_id: str) -> None:
        """``localPosts.delete``; a post already gone counts as deleted."""
        name = self._post_name(remote_id)
        try:
            self._call("DELETE", f"{self.endpoints.v4}/{name}", ok=(200, 204))
        except Rejected as exc:
            if exc.status != 404:
                raise

    def _post_name(self, remote_id: str) -> str:
        if remote_id.startswith("accounts/") and "/localPosts/" in remote_id:
            return remote_id
        if "/" in remote_id:
            raise Rejected(f"{LABEL}: {remote_id} is not a local post.")
        return f"{self._parent()}/localPosts/{remote_id}"

    # -- reconciling ----------------------------------------------------------------

    def _attempts(self) -> dict[str, dict[str, Any]]:
        memory = self.credentials.data.get("attempts")
        if not isinstance(memory, Mapping):
            return {}
        horizon = _now() - timedelta(days=ATTEMPT_DAYS)
        return {
            str(k): dict(v)
            for k, v in memory.items()
            if isinstance(v, Mapping) and (when(v.get("at")) or horizon) > horizon
        }

    def _remember_attempt(self, key: str, text: str) -> None:
        attempts = self._attempts()
        attempts.pop(key, None)
        attempts[key] = {"d": summary_digest(text), "at": _now().isoformat()}
        self._persist(attempts=dict(list(attempts.items())[-ATTEMPT_MEMORY:]))

    def _forget_attempt(self, key: str) -> None:
        attempts = self._attempts()
        if key and attempts.pop(key, None) is not None:
            self._persist(attempts=attempts)

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """By id (``localPosts.get``), or the post sent with this key among the latest posts.

        The Business Profile API keeps no idempotency key: Minbar remembers a digest
        of the summary and the time of each attempt, and looks for a post with the
        same summary made since then (``localPosts.list``). An attempt Minbar has no
        memory of was never sent.
        """
        if remote_id:
            try:
                return remote_post(self._get(f"{self.endpoints.v4}/{self._post_name(remote_id)}"))
            except Rejected as exc:
                if exc.status == 404:
                    return None
                raise
        entry = self._attempts().get(idempotency_key)
        if not idempotency_key or entry is None:
            return None
        started = (when(entry.get("at")) or _now()) - LOOKUP_SLACK
        token = ""
        for _page in range(LOOKUP_PAGES):
            params: dict[str, Any] = {"pageSize": POST_PAGE}
            if token:
                params["pageToken"] = token
            data = self._get(f"{self.endpoints.v4}/{self._parent()}/localPosts", params)
            for post in data.get("localPosts") or []:
                created = when(post.get("createTime"))
                if (
                    created is not None
                    and created >= started
                    and summary_digest(str(post.get("summary") or "")) == entry.get("d")
                ):
                    return remote_post(post)
            token = str(data.get("nextPageToken") or "")
            if not token:
                break
        return None

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        raise NotSupported(
            f"{LABEL} has no statistics per post: Google removed localPosts.reportInsights "
            "when it launched the Business Profile Performance API."
        )

    def performance_totals(self, days: int | None = None) -> dict[str, int]:
        """Daily metrics of the location summed over the last ``days`` days up to yesterday.

        ``locations.fetchMultiDailyMetricsTimeSeries`` with the four impression
        series, WEBSITE_CLICKS, CALL_CLICKS and BUSINESS_DIRECTION_REQUESTS; the
        keys are Google's metric names.
        """
        days = days or self.metrics_days
        end = (_now() - timedelta(days=1)).date()
        start = end - timedelta(days=days - 1)
        params: list[tuple[str, Any]] = [
            ("dailyMetrics", m) for m in (*IMPRESSION_METRICS, *ACTION_METRICS)
        ]
        params += _range("dailyRange.start_date", start) + _range("dailyRange.end_date", end)
        data = self._get_list(
            f"{self.endpoints.performance}/{self._location()}:fetchMultiDailyMetricsTimeSeries",
            params,
        )
        return daily_sums(data)

    def _get_list(self, url: str, params: list[tuple[str, Any]]) -> dict[str, Any]:
        return _json(self._call("GET", url, params=params))

    def account_metrics(self) -> Metrics:
        """impressions: the four BUSINESS_IMPRESSIONS_* series over ``metrics_days`` days.

        Website clicks, calls and direction requests have no account metric in
        Minbar's list; :meth:`performance_totals` returns them.
        """
        return Metrics(values=account_metric_values(self.performance_totals()), fetched_at=_now())

    # -- engaging -------------------------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New and updated reviews of the location, oldest first.

        ``reviews.list`` answers newest update first (``updateTime desc``, 50 a
        page): a sweep reads pages until it reaches reviews already delivered; an
        edited review comes again with its new text. Sweeps start at most every
        ``interactions_min_interval`` seconds.
        """
        sweep = _Sweep.parse(cursor)
        now = time.time()
        if not sweep.page and sweep.at and now - sweep.at < self.interactions_min_interval:
            return Page(items=[], cursor=cursor)
        if not sweep.page:
            sweep.at, sweep.top, sweep.top_edge, sweep.pages = now, sweep.since, list(sweep.edge), 0
        params: dict[str, Any] = {"pageSize": REVIEW_PAGE, "orderBy": "updateTime desc"}
        if sweep.page:
            params["pageToken"] = sweep.page
        data = self._get(f"{self.endpoints.v4}/{self._parent()}/reviews", params)
        since = when(sweep.since)
        delivered = set(sweep.edge)
        maps_url = str(self.credentials.data.get("maps_url") or "")
        items: list[Interaction] = []
        oldest: datetime | None = None
        for review in data.get("reviews") or []:
            stamp = str(review.get("updateTime") or review.get("createTime") or "")
            moment, name = when(stamp), str(review.get("name") or "")
            if moment is None or not name:
                continue
            oldest = moment if oldest is None or moment < oldest else oldest
            fresh = since is None or moment > since or (moment == since and name not in delivered)
            if not fresh:
                continue
            top = when(sweep.top)
            if top is None or moment > top:
                sweep.top, sweep.top_edge = stamp, [name]
            elif moment == top and name not in sweep.top_edge:
                sweep.top_edge.append(name)
            item = interaction_from_review(review, maps_url=maps_url)
            if item is not None:
                items.append(item)
        sweep.pages += 1
        next_token = str(data.get("nextPageToken") or "")
        reached_known = since is not None and oldest is not None and oldest <= since
        first_sweep_done = since is None and sweep.pages >= FIRST_SWEEP_PAGES
        if next_token and not reached_known and not first_sweep_done:
            sweep.page = next_token
        else:
            sweep.page, sweep.since, sweep.edge = "", sweep.top, list(sweep.top_edge)
        items.sort(key=lambda i: i.created_at)
        return Page(items=items, cursor=sweep.dump())

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """``reviews.updateReply``: the business's one public answer to a review.

        A review has at most one reply; answering again replaces it. The call is a
        PUT of the whole reply, so repeating it cannot make two: Minbar repeats it
        once when the first answer is lost before calling the outcome unknown.
        """
        text = request.text.strip()
        if not text:
            raise Rejected(f"{LABEL}: write a reply first.")
        if len(text.encode()) > REPLY_MAX_BYTES:
            raise Rejected(f"{LABEL}: a reply is at most {REPLY_MAX_BYTES:,} bytes.")
        if request.media:
            raise Rejected(f"{LABEL}: replies to reviews are text only.")
        review = self._review_name(to)
        url = f"{self.endpoints.v4}/{review}/reply"
        try:
            response = self._call("PUT", url, json_body={"comment": text}, writes=True)
        except OutcomeUnknown:
            response = self._call("PUT", url, json_body={"comment": text}, writes=True)
        answer = _json(response)
        name = f"{review}/reply"
        maps_url = to.url or str(self.credentials.data.get("maps_url") or "")
        return PublishResult(
            remote_id=name,
            url=maps_url,
            published_at=when(answer.get("updateTime")),
            ref=RemoteRef(name, url=maps_url, extra={"review": review}),
        )

    def _review_name(self, ref: RemoteRef) -> str:
        name = ref.extra.get("review") or ref.remote_id
        name = name.removesuffix("/reply")
        if name.startswith("accounts/") and "/reviews/" in name:
            return name
        if "/" in name:
            raise Rejected(f"{LABEL}: {ref.remote_id} is not a review.")
        return f"{self._parent()}/reviews/{name}"

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """Only the business's own reply can be deleted (``reviews.deleteReply``).

        Google lets no one but the reviewer remove a review; a business can flag
        it on Google Maps as against Google's policies.
        """
        if not interaction.remote_id.endswith("/reply") and "review" not in interaction.extra:
            raise NotSupported(
                f"{LABEL} does not let a business delete reviews; you can delete your reply or "
                "report the review on Google Maps."
            )
        self.delete_reply(interaction)

    def delete_reply(self, review: RemoteRef) -> None:
        """Remove the business's reply to a review; nothing to remove counts as done."""
        try:
            self._call(
                "DELETE", f"{self.endpoints.v4}/{self._review_name(review)}/reply", ok=(200, 204)
            )
        except Rejected as exc:
            if exc.status != 404:
                raise


# -- helpers ------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json() if response.content else {}
    except ValueError:
        raise TemporaryError(
            f"{LABEL} sent an answer Minbar could not read.", detail=response.text[:300]
        ) from None
    return data if isinstance(data, dict) else {}


def _range(prefix: str, day: date) -> list[tuple[str, Any]]:
    return [
        (f"{prefix}.year", day.year),
        (f"{prefix}.month", day.month),
        (f"{prefix}.day", day.day),
    ]


def _file_size(path: str) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _public_media_url(item: MediaItem) -> str:
    """A signed link Google's servers fetch the photo from (``sourceUrl``)."""
    from minbar.media.public import public_media_url

    return public_media_url(item.path, network=LABEL, mime_type=item.mime_type)
