"""A stateful local stand-in for Google OAuth and the four Business Profile APIs.

One loopback address serves what Google serves on six hosts (the connector is
pointed at it the way ``MINBAR_GOOGLE_BUSINESS_API_URL`` would):

* ``GET /o/oauth2/v2/auth`` and ``POST /token`` — Google OAuth 2.0 for web server
  apps (https://developers.google.com/identity/protocols/oauth2/web-server): codes
  bound to client, redirect URI, scopes and the PKCE S256 challenge; the
  ``authorization_code`` and ``refresh_token`` grants; ``invalid_grant`` errors.
* ``GET /v1/accounts`` — Account Management ``accounts.list`` (pageSize at most 20,
  https://developers.google.com/my-business/reference/accountmanagement/rest/v1/accounts/list).
* ``GET /v1/accounts/{a}/locations`` and ``GET /v1/locations/{l}`` — Business
  Information ``accounts.locations.list`` (readMask required, pageSize at most 100,
  https://developers.google.com/my-business/reference/businessinformation/rest/v1/accounts.locations/list)
  and ``locations.get``.
* ``/v4/accounts/{a}/locations/{l}/localPosts[/{p}]`` — create, list, get, delete
  (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts);
  the body is checked as the reference says (topicType required; ``event`` for
  EVENT and OFFER; ``offer`` only for OFFER; no ``url`` for a CALL button; media
  with ``sourceUrl`` only), and Google *fetches* each ``sourceUrl``: here, from
  the files the test hosted with :meth:`FakeBusinessProfile.host_media`.
* ``/v4/accounts/{a}/locations/{l}/reviews`` — ``reviews.list`` (pageSize at most
  50, ``updateTime desc``, averageRating, totalReviewCount) and
  ``reviews.updateReply`` / ``deleteReply``
  (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews).
* ``GET /v1/locations/{l}:fetchMultiDailyMetricsTimeSeries`` — the Performance API
  (https://developers.google.com/my-business/reference/performance/rest/v1/locations/fetchMultiDailyMetricsTimeSeries):
  repeated ``dailyMetrics``, ``dailyRange.start_date.*``/``end_date.*``; a
  DatedValue leaves ``value`` out when it is zero.

Every API call checks the bearer token, the ``business.manage`` scope and that
the signed-in user manages the account or location, and is counted against a
per-minute quota per API (300 by default, https://developers.google.com/my-business/content/limits;
0 for a project whose access request Google has not approved). Errors use
Google's envelope (https://cloud.google.com/apis/design/errors) with
``google.rpc.ErrorInfo`` reasons and, for v4 validation, ``ValidationError``.

Faults (:meth:`FakeBusinessProfile.fail`) make the next matching request answer
an error (``error``) or be carried out and never answered (``drop``).

Not known to this fake, so not proven by the tests: Google's content review of
posts beyond a list of refused words, the delay before a post is LIVE, review
moderation, and the real order of localPosts.list.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from minbar.connectors.testing.fake_http import LoopbackServer, Request, Response
from minbar.connectors.testing.google_tokens import (
    TOKEN_SECONDS,
    GoogleTokens,
    OAuthError,
)

SCOPE = "https://www.googleapis.com/auth/business.manage"
STARS = ("ONE", "TWO", "THREE", "FOUR", "FIVE")
ACTION_TYPES = ("BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL")
DAILY_METRICS = (
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
    "BUSINESS_CONVERSATIONS",
    "BUSINESS_DIRECTION_REQUESTS",
    "CALL_CLICKS",
    "WEBSITE_CLICKS",
    "BUSINESS_BOOKINGS",
    "BUSINESS_FOOD_ORDERS",
    "BUSINESS_FOOD_MENU_CLICKS",
)
SERVICES = {
    "management": "mybusinessaccountmanagement.googleapis.com",
    "information": "mybusinessbusinessinformation.googleapis.com",
    "v4": "mybusiness.googleapis.com",
    "performance": "businessprofileperformance.googleapis.com",
}
CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ApiError(Exception):
    """An error in Google's envelope; ``reason`` goes in a google.rpc.ErrorInfo."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        problems: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason
        self.metadata = metadata or {}
        self.problems = problems or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        details: list[dict[str, Any]] = []
        if self.reason:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.reason,
                    "domain": "googleapis.com",
                    "metadata": self.metadata,
                }
            )
        if self.problems:
            details.append(
                {
                    "@type": "type.googleapis.com/google.mybusiness.v4.ValidationError",
                    "errorDetails": [
                        {"code": 3, "field": name, "message": text} for name, text in self.problems
                    ],
                }
            )
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "status": CANONICAL.get(self.status, "UNKNOWN"),
        }
        if details:
            error["details"] = details
        return {"error": error}


def invalid(message: str, *problems: tuple[str, str]) -> ApiError:
    return ApiError(400, message, problems=list(problems))


@dataclass
class Fault:
    verb: str
    path: str  # a prefix of the request path
    kind: str  # "error" or "drop"
    status: int = 500
    message: str = "Internal error encountered."
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1


@dataclass
class User:
    email: str
    accounts: list[str] = field(default_factory=list)


class FakeBusinessProfile(GoogleTokens):
    """The state, and the handlers, of one fake Google."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, str] = {}
        self.users: dict[str, User] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.revocations: list[str] = []  # tokens revoked through POST /revoke
        self.accounts: dict[str, dict[str, Any]] = {}  # accounts/{id} -> Account
        self.locations: dict[str, dict[str, Any]] = {}  # locations/{id} -> Location
        self.location_accounts: dict[str, list[str]] = {}  # locations/{id} -> accounts
        self.posts: dict[str, dict[str, Any]] = {}  # full v4 name -> LocalPost
        self.reviews: dict[str, dict[str, Any]] = {}  # full v4 name -> Review
        self.metrics: dict[str, dict[str, dict[date, int]]] = {}  # location -> metric -> day
        self.media: dict[str, bytes] = {}  # hosted files Google "fetches"
        self.fetched: list[str] = []
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.quota_per_minute = 300
        self.used: dict[tuple[str, int], int] = {}
        self.minute: int | None = None  # a test may hold the clock's minute still
        self.refused_words: tuple[str, ...] = ("casino",)
        self.clock_offset = timedelta(0)
        self._ids = itertools.count(1)
        self.base_url = ""

    # -- test helpers -------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def new_id(self) -> str:
        return f"{next(self._ids)}{secrets.randbelow(10**12):012d}"

    def register_client(self) -> tuple[str, str]:
        client_id = f"{secrets.token_hex(6)}.apps.googleusercontent.com"
        secret = "GOCSPX-" + secrets.token_urlsafe(18)
        with self.lock:
            self.clients[client_id] = secret
        return client_id, secret

    def add_user(self, name: str = "owner") -> User:
        with self.lock:
            user = User(email=f"{name}-{secrets.token_hex(3)}@example.test")
            self.users[user.email] = user
            return user

    def add_account(self, user: User, name: str = "Acme", kind: str = "PERSONAL") -> str:
        with self.lock:
            account = f"accounts/{self.new_id()}"
            self.accounts[account] = {
                "name": account,
                "accountName": name,
                "type": kind,
                "role": "PRIMARY_OWNER",
                "verificationState": "VERIFIED",
                "vettedState": "NOT_VETTED",
            }
            user.accounts.append(account)
            return account

    def add_location(self, account: str, title: str, *, city: str = "Amman") -> str:
        with self.lock:
            location = f"locations/{self.new_id()}"
            self.locations[location] = {
                "name": location,
                "title": title,
                "storefrontAddress": {
                    "regionCode": "JO",
                    "locality": city,
                    "addressLines": ["1 Rainbow Street"],
                },
                "websiteUri": "https://acme.example/",
                "metadata": {
                    "mapsUri": f"https://maps.google.com/maps?cid={location.split('/')[1]}",
                    "newReviewUri": f"https://search.google.com/local/writereview?l={location}",
                    "placeId": "ChIJ" + secrets.token_urlsafe(12),
                },
            }
            self.location_accounts.setdefault(location, []).append(account)
            return location

    def share_location(self, location: str, account: str) -> None:
        """The location is also reachable through another account (a location group)."""
        with self.lock:
            self.location_accounts[location].append(account)

    def approve(
        self, authorize_url: str, user: User, grant: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """The person on Google's consent page; returns the redirect's code and state."""
        parts = urlsplit(authorize_url)
        assert parts.path == "/o/oauth2/v2/auth", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            assert query.get("client_id") in self.clients, "unknown client_id"
            assert query.get("response_type") == "code"
            assert query.get("access_type") == "offline"
            assert query.get("code_challenge_method") == "S256"
            asked = query.get("scope", "").split()
            granted = [s for s in asked if grant is None or s in grant]
            code = "4/0A" + secrets.token_urlsafe(24)
            self.codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "scopes": granted,
                "challenge": query.get("code_challenge", ""),
                "user": user.email,
                "consent": query.get("prompt") == "consent",
            }
        return {"code": code, "state": query.get("state", "")}

    def issue_token(self, user: User, scopes: tuple[str, ...] = (SCOPE,)) -> str:
        token = "ya29." + secrets.token_urlsafe(24)
        with self.lock:
            self.access[token] = {
                "user": user.email,
                "scopes": list(scopes),
                "expires": self.now() + timedelta(seconds=TOKEN_SECONDS),
            }
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access.values():
                info["expires"] = self.now() - timedelta(seconds=1)

    def revoke_refresh_tokens(self, user: User) -> None:
        with self.lock:
            for info in self.refresh_tokens.values():
                if info["user"] == user.email:
                    info["revoked"] = True

    def host_media(self, data: bytes, name: str = "photo.jpg") -> str:
        """A public address Google can fetch a photo from (``sourceUrl``)."""
        with self.lock:
            token = secrets.token_urlsafe(12)
            self.media[token] = data
            return f"https://media.example.test/{token}/{name}"

    def add_review(
        self,
        account: str,
        location: str,
        comment: str,
        *,
        stars: int = 5,
        reviewer: str = "Layla",
        anonymous: bool = False,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            review_id = "AbFvOq" + secrets.token_urlsafe(16)
            name = f"{account}/{location}/reviews/{review_id}"
            moment = iso(at or self.now())
            review = {
                "name": name,
                "reviewId": review_id,
                "reviewer": {
                    "displayName": "" if anonymous else reviewer,
                    "profilePhotoUrl": "" if anonymous else "https://lh3.example/a.jpg",
                    "isAnonymous": anonymous,
                },
                "starRating": STARS[stars - 1],
                "comment": comment,
                "createTime": moment,
                "updateTime": moment,
            }
            if not comment:
                review.pop("comment")
            self.reviews[name] = review
            return review

    def edit_review(self, name: str, comment: str, stars: int) -> None:
        with self.lock:
            review = self.reviews[name]
            review["comment"], review["starRating"] = comment, STARS[stars - 1]
            review["updateTime"] = iso(self.now())

    def set_metric(self, location: str, metric: str, values: dict[date, int]) -> None:
        with self.lock:
            self.metrics.setdefault(location, {})[metric] = dict(values)

    def fail(self, verb: str, path: str, kind: str = "error", **options: Any) -> None:
        with self.lock:
            self.faults.append(Fault(verb=verb, path=path, kind=kind, **options))

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.revocations.clear()
            self.used.clear()
            self.quota_per_minute = 300
            self.minute = None
            self.clock_offset = timedelta(0)

    def calls(self, verb: str = "", path: str = "") -> list[tuple[str, str, dict[str, list[str]]]]:
        with self.lock:
            return [c for c in self.log if (not verb or c[0] == verb) and path in c[1]]

    # -- OAuth ----------------------------------------------------------------------

    def _authorize(self, headers: dict[str, str]) -> User:
        auth = headers.get("authorization", "")
        info = self.access.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        if info is None or info["expires"] <= self.now():
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
                reason="ACCESS_TOKEN_EXPIRED" if info else "",
            )
        if SCOPE not in info["scopes"]:
            raise ApiError(
                403,
                "Request had insufficient authentication scopes.",
                reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            )
        return self.users[info["user"]]

    def _charge(self, api: str) -> None:
        """The per-minute quota of one API for the (one) Google Cloud project."""
        minute = self.minute if self.minute is not None else int(time.time() // 60)
        used = self.used.get((api, minute), 0)
        if used >= self.quota_per_minute:
            raise ApiError(
                429,
                f"Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of "
                f"service '{SERVICES[api]}' for consumer 'project_number:1234'.",
                reason="RATE_LIMIT_EXCEEDED",
                metadata={
                    "service": SERVICES[api],
                    "consumer": "projects/1234",
                    "quota_metric": f"{SERVICES[api]}/default_requests",
                    "quota_limit": "DefaultRequestsPerMinutePerProject",
                    "quota_limit_value": str(self.quota_per_minute),
                },
                headers={"Retry-After": "17"} if self.quota_per_minute else {},
            )
        self.used[(api, minute)] = used + 1

    def _may_manage(self, user: User, location: str, account: str | None = None) -> None:
        accounts = self.location_accounts.get(location)
        if accounts is None or (account is not None and account not in accounts):
            raise ApiError(404, "Requested entity was not found.", reason="NOT_FOUND")
        if not set(accounts) & set(user.accounts):
            raise ApiError(403, "The caller does not have permission", reason="PERMISSION_DENIED")

    # -- dispatch ---------------------------------------------------------------------

    ROUTES: tuple[tuple[str, str, str, str], ...] = (
        ("GET", r"/v1/accounts", "management", "accounts_list"),
        ("GET", r"/v1/(accounts/[^/]+)/locations", "information", "locations_list"),
        (
            "GET",
            r"/v1/(locations/[^/:]+):fetchMultiDailyMetricsTimeSeries",
            "performance",
            "fetch_metrics",
        ),
        ("GET", r"/v1/(locations/[^/:]+)", "information", "locations_get"),
        ("POST", r"/v4/(accounts/[^/]+)/(locations/[^/]+)/localPosts", "v4", "posts_create"),
        ("GET", r"/v4/(accounts/[^/]+)/(locations/[^/]+)/localPosts", "v4", "posts_list"),
        ("GET", r"/v4/(accounts/[^/]+)/(locations/[^/]+)/localPosts/([^/]+)", "v4", "posts_get"),
        (
            "DELETE",
            r"/v4/(accounts/[^/]+)/(locations/[^/]+)/localPosts/([^/]+)",
            "v4",
            "posts_delete",
        ),
        ("GET", r"/v4/(accounts/[^/]+)/(locations/[^/]+)/reviews", "v4", "reviews_list"),
        (
            "PUT",
            r"/v4/(accounts/[^/]+)/(locations/[^/]+)/reviews/([^/]+)/reply",
            "v4",
            "reply_update",
        ),
        (
            "DELETE",
            r"/v4/(accounts/[^/]+)/(locations/[^/]+)/reviews/([^/]+)/reply",
            "v4",
            "reply_delete",
        ),
    )

    def handle(
        self,
        verb: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        if path == "/token" and verb == "POST":
            return self.token({k: v[0] for k, v in parse_qs(body.decode()).items()})
        if path == "/revoke" and verb == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self.revoke({**{k: v[0] for k, v in query.items()}, **form})
        for route_verb, pattern, api, method in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if route_verb == verb and match:
                user = self._authorize(headers)
                self._charge(api)
                handler = getattr(self, method)
                payload = json.loads(body) if body else {}
                result: Response = handler(user, query, payload, *match.groups())
                return result
        raise ApiError(404, f"Method not found: {verb} {path}", reason="NOT_FOUND")

    @staticmethod
    def _one(query: dict[str, list[str]], name: str) -> str:
        return (query.get(name) or [""])[0]

    @staticmethod
    def _page(query: dict[str, list[str]], maximum: int, default: int) -> tuple[int, int]:
        size = int(FakeBusinessProfile._one(query, "pageSize") or default)
        if size < 1 or size > maximum:
            raise invalid(
                f"pageSize must be between 1 and {maximum}.", ("page_size", "out of range")
            )
        token = FakeBusinessProfile._one(query, "pageToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise invalid("Invalid page token.", ("page_token", "invalid")) from None
        return size, start

    @staticmethod
    def _paged(items: list[Any], size: int, start: int, key: str, **extra: Any) -> Response:
        body: dict[str, Any] = {key: items[start : start + size], **extra}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return Response(200, body)

    # -- Account Management and Business Information ---------------------------------

    def accounts_list(self, user: User, query: dict[str, list[str]], payload: Any) -> Response:
        size, start = self._page(query, 20, 20)
        accounts = [self.accounts[a] for a in user.accounts]
        return self._paged(accounts, size, start, "accounts")

    def _masked(self, location: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        mask = self._one(query, "readMask")
        if not mask:
            raise invalid("Request contains an invalid argument.", ("read_mask", "is required"))
        fields = {f.strip().split(".")[0] for f in mask.split(",")}
        unknown = fields - {
            "name",
            "title",
            "storefrontAddress",
            "metadata",
            "websiteUri",
            "phoneNumbers",
        }
        if unknown:
            raise invalid(
                f"Invalid field mask: {sorted(unknown)[0]}", ("read_mask", "invalid path")
            )
        return {k: v for k, v in location.items() if k in fields}

    def locations_list(
        self, user: User, query: dict[str, list[str]], payload: Any, account: str
    ) -> Response:
        if account not in user.accounts:
            raise ApiError(403, "The caller does not have permission", reason="PERMISSION_DENIED")
        size, start = self._page(query, 100, 10)
        found = [
            self._masked(self.locations[loc], query)
            for loc, accounts in self.location_accounts.items()
            if account in accounts
        ]
        return self._paged(found, size, start, "locations")

    def locations_get(
        self, user: User, query: dict[str, list[str]], payload: Any, location: str
    ) -> Response:
        self._may_manage(user, location)
        return Response(200, self._masked(self.locations[location], query))

    # -- local posts -----------------------------------------------------------------

    def _check_post(self, post: dict[str, Any]) -> None:
        topic = post.get("topicType")
        if topic not in ("STANDARD", "EVENT", "OFFER", "ALERT"):
            raise invalid("Request contains an invalid argument.", ("topic_type", "is required"))
        summary = str(post.get("summary") or "")
        if len(summary) > 1500:
            raise invalid("Request contains an invalid argument.", ("summary", "is too long"))
        event = post.get("event")
        if topic in ("EVENT", "OFFER"):
            if not isinstance(event, dict) or not event.get("title") or not event.get("schedule"):
                raise invalid(
                    "Request contains an invalid argument.", ("event", "is required for this topic")
                )
            schedule = event["schedule"]
            try:
                start = date(**schedule["startDate"])
                end = date(**schedule["endDate"])
            except (KeyError, TypeError, ValueError):
                raise invalid(
                    "Request contains an invalid argument.", ("event.schedule", "invalid date")
                ) from None
            if end < start:
                raise invalid(
                    "Request contains an invalid argument.",
                    ("event.schedule", "ends before it starts"),
                )
        if "offer" in post and topic != "OFFER":
            raise invalid(
                "Request contains an invalid argument.", ("offer", "only for OFFER posts")
            )
        action = post.get("callToAction")
        if action is not None:
            kind = action.get("actionType")
            if kind not in ACTION_TYPES:
                raise invalid(
                    "Request contains an invalid argument.",
                    ("call_to_action.action_type", "invalid"),
                )
            if kind == "CALL" and action.get("url"):
                raise invalid(
                    "Request contains an invalid argument.",
                    ("call_to_action.url", "must be empty for CALL"),
                )
            if kind != "CALL" and not str(action.get("url") or "").startswith(
                ("http://", "https://")
            ):
                raise invalid(
                    "Request contains an invalid argument.", ("call_to_action.url", "is required")
                )
        for item in post.get("media") or []:
            extra = set(item) - {"mediaFormat", "sourceUrl"}
            if extra or item.get("mediaFormat") not in ("PHOTO", "VIDEO"):
                raise invalid(
                    "Request contains an invalid argument.",
                    ("media", "sourceUrl is the only supported data field"),
                )
            token = urlsplit(str(item.get("sourceUrl") or "")).path.split("/")[1:2]
            if not token or token[0] not in self.media:
                raise invalid(
                    "Request contains an invalid argument.",
                    ("media.source_url", "Fetching image failed"),
                )
            self.fetched.append(str(item["sourceUrl"]))

    def posts_create(
        self,
        user: User,
        query: dict[str, list[str]],
        payload: dict[str, Any],
        account: str,
        location: str,
    ) -> Response:
        self._may_manage(user, location, account)
        allowed = {
            "languageCode",
            "summary",
            "callToAction",
            "event",
            "media",
            "topicType",
            "offer",
            "alertType",
        }
        if set(payload) - allowed:
            raise invalid(f"Unknown field: {sorted(set(payload) - allowed)[0]}")
        self._check_post(payload)
        post_id = self.new_id()
        name = f"{account}/{location}/localPosts/{post_id}"
        moment = iso(self.now())
        summary = str(payload.get("summary") or "").lower()
        post = {
            **payload,
            "name": name,
            "createTime": moment,
            "updateTime": moment,
            "state": "REJECTED" if any(w in summary for w in self.refused_words) else "LIVE",
            "searchUrl": f"https://local.google.com/place?id={location.split('/')[1]}&use=posts&lpsid={post_id}",
        }
        if post.get("media"):
            post["media"] = [
                {
                    **m,
                    "name": f"{name}/media/{i}",
                    "googleUrl": f"https://lh3.example/p/{post_id}/{i}",
                }
                for i, m in enumerate(post["media"])
            ]
        self.posts[name] = post
        return Response(200, post)

    def posts_list(
        self, user: User, query: dict[str, list[str]], payload: Any, account: str, location: str
    ) -> Response:
        self._may_manage(user, location, account)
        size, start = self._page(query, 100, 20)
        prefix = f"{account}/{location}/localPosts/"
        found = sorted(
            (p for n, p in self.posts.items() if n.startswith(prefix)),
            key=lambda p: p["createTime"],
            reverse=True,
        )
        return self._paged(found, size, start, "localPosts")

    def posts_get(
        self,
        user: User,
        query: dict[str, list[str]],
        payload: Any,
        account: str,
        location: str,
        post_id: str,
    ) -> Response:
        self._may_manage(user, location, account)
        post = self.posts.get(f"{account}/{location}/localPosts/{post_id}")
        if post is None:
            raise ApiError(404, "Requested entity was not found.", reason="NOT_FOUND")
        return Response(200, post)

    def posts_delete(
        self,
        user: User,
        query: dict[str, list[str]],
        payload: Any,
        account: str,
        location: str,
        post_id: str,
    ) -> Response:
        self._may_manage(user, location, account)
        if self.posts.pop(f"{account}/{location}/localPosts/{post_id}", None) is None:
            raise ApiError(404, "Requested entity was not found.", reason="NOT_FOUND")
        return Response(200, {})

    # -- reviews ---------------------------------------------------------------------

    def reviews_list(
        self, user: User, query: dict[str, list[str]], payload: Any, account: str, location: str
    ) -> Response:
        self._may_manage(user, location, account)
        size, start = self._page(query, 50, 50)
        order = self._one(query, "orderBy") or "updateTime desc"
        if order not in ("updateTime desc", "rating", "rating desc"):
            raise invalid("Request contains an invalid argument.", ("order_by", "invalid"))
        prefix = f"{account}/{location}/reviews/"
        found = [r for n, r in self.reviews.items() if n.startswith(prefix)]
        if order == "updateTime desc":
            found.sort(key=lambda r: r["updateTime"], reverse=True)
        else:
            found.sort(key=lambda r: STARS.index(r["starRating"]), reverse=order.endswith("desc"))
        ratings = [STARS.index(r["starRating"]) + 1 for r in found]
        extra: dict[str, Any] = {"totalReviewCount": len(found)}
        if ratings:
            extra["averageRating"] = round(sum(ratings) / len(ratings), 1)
        return self._paged(found, size, start, "reviews", **extra)

    def reply_update(
        self,
        user: User,
        query: dict[str, list[str]],
        payload: dict[str, Any],
        account: str,
        location: str,
        review_id: str,
    ) -> Response:
        self._may_manage(user, location, account)
        review = self.reviews.get(f"{account}/{location}/reviews/{review_id}")
        if review is None:
            raise ApiError(404, "Requested entity was not found.", reason="NOT_FOUND")
        comment = str(payload.get("comment") or "")
        if not comment or len(comment.encode()) > 4096:
            raise invalid(
                "Request contains an invalid argument.", ("comment", "must be 1 to 4096 bytes")
            )
        review["reviewReply"] = {"comment": comment, "updateTime": iso(self.now())}
        return Response(200, review["reviewReply"])

    def reply_delete(
        self,
        user: User,
        query: dict[str, list[str]],
        payload: Any,
        account: str,
        location: str,
        review_id: str,
    ) -> Response:
        self._may_manage(user, location, account)
        review = self.reviews.get(f"{account}/{location}/reviews/{review_id}")
        if review is None or "reviewReply" not in review:
            raise ApiError(404, "Requested entity was not found.", reason="NOT_FOUND")
        del review["reviewReply"]
        return Response(200, {})

    # -- performance -----------------------------------------------------------------

    def fetch_metrics(
        self, user: User, query: dict[str, list[str]], payload: Any, location: str
    ) -> Response:
        self._may_manage(user, location)
        metrics = query.get("dailyMetrics") or []
        if not metrics or any(m not in DAILY_METRICS for m in metrics):
            raise invalid("Request contains an invalid argument.", ("daily_metrics", "invalid"))
        try:
            start = date(
                *(
                    int(self._one(query, f"dailyRange.start_date.{p}"))
                    for p in ("year", "month", "day")
                )
            )
            end = date(
                *(
                    int(self._one(query, f"dailyRange.end_date.{p}"))
                    for p in ("year", "month", "day")
                )
            )
        except ValueError:
            raise invalid(
                "Request contains an invalid argument.", ("daily_range", "invalid")
            ) from None
        if end < start or end >= self.now().date() + timedelta(days=1):
            raise invalid("Request contains an invalid argument.", ("daily_range", "out of range"))
        known = self.metrics.get(location, {})
        series = []
        for metric in metrics:
            if metric not in known:
                continue  # no data for this metric at this location
            values = []
            day = start
            while day <= end:
                point: dict[str, Any] = {
                    "date": {"year": day.year, "month": day.month, "day": day.day}
                }
                if known[metric].get(day):
                    point["value"] = str(known[metric][day])
                values.append(point)
                day += timedelta(days=1)
            series.append({"dailyMetric": metric, "timeSeries": {"datedValues": values}})
        return Response(200, {"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]})

    # -- the HTTP side (minbar.connectors.testing.fake_http) ----------------------------

    def respond(self, request: Request) -> Response | None:
        query = request.query_lists
        with self.lock:
            self.log.append((request.verb, request.path, query))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.verb == request.verb and request.path.startswith(f.path)
                ),
                None,
            )
            if fault is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            if fault is not None and fault.kind == "error":
                error = ApiError(
                    fault.status,
                    fault.message,
                    reason=fault.reason,
                    metadata=fault.metadata,
                    headers=fault.headers,
                )
                return Response(error.status, error.body(), error.headers)
            try:
                response = self.handle(
                    request.verb, request.path, query, request.headers, request.body
                )
            except ApiError as exc:
                response = Response(exc.status, exc.body(), exc.headers)
            except OAuthError as exc:
                response = Response(
                    exc.status, {"error": exc.error, "error_description": exc.description}
                )
            if fault is not None and fault.kind == "drop":
                return None  # carried out, never answered
        return response


class FakeServer(LoopbackServer[FakeBusinessProfile]):
    """The fake on a free loopback port, in a thread; stop() ends it."""

    def __init__(self) -> None:
        super().__init__(FakeBusinessProfile())
        self.fake.base_url = self.url
