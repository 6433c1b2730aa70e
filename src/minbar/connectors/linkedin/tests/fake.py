"""A stateful local LinkedIn: OAuth, the versioned REST API, uploads — on 127.0.0.1.

No LinkedIn test server exists, so this fake reproduces what the documentation says
of each request it serves, checks it, and answers with the documented payloads:

* Every ``/rest/`` call must carry ``LinkedIn-Version: YYYYMM`` and every API call
  ``X-Restli-Protocol-Version: 2.0.0``
  (https://learn.microsoft.com/en-us/linkedin/marketing/versioning;
  https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version).
  Missing, the fake answers 400 ``VERSION_MISSING`` / ``PROTOCOL_VERSION_MISSING``.
* Errors are ``{"status", "serviceErrorCode", "code", "message"}``
  (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling):
  65600 invalid token, 65601 revoked, 65602 expired, 100 ``ACCESS_DENIED`` for a
  scope or Page role the token lacks.
* Daily limits: a member's and the app's calls per UTC day; over them a 429 with
  "Resource level throttle … DAY limit …" and no rate-limit header
  (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits).
* OAuth (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow,
  …/programmatic-refresh-tokens): ``GET /oauth/v2/authorization`` (the person is named
  by the test with ``X-Fake-Member``), ``POST /oauth/v2/accessToken`` for codes and,
  when the app is approved for it, refresh tokens; tokens last 60 days.
* ``GET /v2/userinfo`` (openid profile) and ``GET /v2/me`` (r_basicprofile).
* ``GET /rest/organizationAcls?q=roleAssignee`` and ``GET /rest/organizations/{id}``
  (…/organizations/organization-access-control-by-role, …/organization-lookup-api).
* Posts (…/shares/posts-api): ``POST /rest/posts`` (201, ``x-restli-id``), ``GET``
  by URN or ``q=author``, ``DELETE`` (204). Commentary is little text
  (…/shares/little-text-format): like LinkedIn, the fake keeps the text only up to
  the first unescaped reserved character. A repeat of the same author's text and
  content is refused with 422 ``DUPLICATE_POST`` "Content is a duplicate of urn".
* Images, documents, videos (…/shares/images-api, documents-api, videos-api):
  ``initializeUpload``, PUT of the bytes (video in parts of ``video_part_size``,
  each answering an ``ETag``), ``finalizeUpload`` with the ETags in order, and the
  ``status`` a GET reports (``PROCESSING`` for ``processing_polls`` reads, then
  ``AVAILABLE``, or ``PROCESSING_FAILED`` when ``fail_processing`` is set).
* Comments (…/shares/comments-api): list with ``start``/``count`` paging, create
  (as the member or a Page they administer, ``parentComment`` for replies),
  delete by the comment's author.
* Statistics: ``organizationalEntityShareStatistics`` (…/organizations/share-statistics),
  ``networkSizes`` (…/organizations/follower-statistics),
  ``memberCreatorPostAnalytics`` (…/members/post-statistics).

Test hooks (not LinkedIn's): ``faults`` (the next matching request fails as told),
``add_member``/``add_page``/``comment_as`` to set the scene.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

SUPPORTED_VERSIONS = {"202605"}
TOKEN_SECONDS = 60 * 24 * 3600
REFRESH_SECONDS = 365 * 24 * 3600
RESERVED = set("\\|{}@[]()<>#*_~")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\[#]\|(?:\\.|[^}\\])*\}")


def now_ms() -> int:
    return int(time.time() * 1000)


def visible_commentary(commentary: str) -> str:
    """What LinkedIn keeps of little text: everything up to the first unescaped reserved
    character (templates and escapes pass)."""
    position = 0
    while position < len(commentary):
        template = HASHTAG_TEMPLATE.match(commentary, position)
        if template:
            position = template.end()
            continue
        char = commentary[position]
        if char == "\\" and position + 1 < len(commentary):
            position += 2
            continue
        if char in RESERVED:
            return commentary[:position]
        position += 1
    return commentary


@dataclass
class Member:
    id: str
    first: str
    last: str
    vanity: str

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.id}"


@dataclass
class Token:
    member: str  # person urn
    scopes: set[str]
    expires: float
    revoked: bool = False


@dataclass
class Fault:
    method: str
    path: str  # a prefix of the request path (before the query)
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    after: bool = False  # handle the request first, then fail (the write took effect)
    count: int = 1


class FakeLinkedIn:
    """The state and the rules; :class:`Handler` turns HTTP into calls on it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client_id = "minbar-client"
        self.client_secret = "minbar-secret"
        self.app_scopes = {
            "openid",
            "profile",
            "w_member_social",
            "r_basicprofile",
            "r_member_postAnalytics",
            "rw_organization_admin",
            "r_organization_social",
            "w_organization_social",
            "r_organization_followers",
        }
        self.refresh_tokens_enabled = False
        self.members: dict[str, Member] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.admins: dict[str, set[str]] = {}  # org urn -> person urns
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.assets: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, tuple[str, int]] = {}  # upload id -> (asset urn, part)
        self.comments: dict[str, dict[str, Any]] = {}
        self.statistics: dict[str, dict[str, int]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.daily_member_limit = 10_000
        self.daily_app_limit = 100_000
        self.calls_today: dict[str, int] = {}
        self.video_part_size = 4 * 1024 * 1024
        self.processing_polls = 1
        self.fail_processing = False
        self.ids = itertools.count(7_100_000_000_000_000_000)
        self.org_ids = itertools.count(2_414_183)
        self.base_url = ""

    # -- scene -----------------------------------------------------------------

    def add_member(self, first: str, last: str = "Doe") -> Member:
        with self.lock:
            member = Member(
                secrets.token_urlsafe(6), first, last, f"{first.lower()}-{last.lower()}"
            )
            self.members[member.urn] = member
            return member

    def add_page(self, name: str, admins: list[Member], followers: int = 1200) -> str:
        with self.lock:
            urn = f"urn:li:organization:{next(self.org_ids)}"
            self.pages[urn] = {
                "name": name,
                "vanity": name.lower().replace(" ", "-"),
                "followers": followers,
            }
            self.admins[urn] = {m.urn for m in admins}
            return urn

    def token_for(self, member: Member, scopes: set[str] | None = None) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Token(member.urn, scopes or set(self.app_scopes), time.time() + 3600)
        return token

    def comment_as(self, actor: str, post: str, text: str, parent: str = "") -> str:
        """Someone else comments (or replies in a comment's thread) on a post."""
        with self.lock:
            return self._new_comment(actor, post, text, parent)["commentUrn"]

    def add_fault(self, method: str, path: str, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, **kwargs))

    # -- helpers ---------------------------------------------------------------

    def _new_id(self) -> str:
        return str(next(self.ids))

    def _new_comment(self, actor: str, post: str, text: str, parent: str) -> dict[str, Any]:
        comment_id = self._new_id()
        urn = f"urn:li:comment:({post},{comment_id})"
        created = now_ms()
        comment = {
            "actor": actor,
            "commentUrn": urn,
            "$URN": urn,
            "id": comment_id,
            "object": post,
            "message": {"text": text, "attributes": []},
            "created": {"actor": actor, "time": created},
            "lastModified": {"actor": actor, "time": created},
        }
        if parent:
            comment["parentComment"] = parent
        self.comments[urn] = comment
        return comment

    def comment_view(self, comment: dict[str, Any]) -> dict[str, Any]:
        replies = [
            c for c in self.comments.values() if c.get("parentComment") == comment["commentUrn"]
        ]
        view = dict(comment)
        view["commentsSummary"] = {
            "totalFirstLevelComments": len(replies),
            "aggregatedTotalComments": len(replies),
            "selectedComments": [c["commentUrn"] for c in replies[:1]],
        }
        return view


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str = "",
        service_code: int | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.service_code = service_code
        self.headers = headers or {}
        self.body = body

    def payload(self) -> Any:
        if self.body is not None:
            return self.body
        data: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.code:
            data["code"] = self.code
        if self.service_code is not None:
            data["serviceErrorCode"] = self.service_code
        return data


def denied(what: str) -> ApiError:
    return ApiError(403, f"Not enough permissions to access: {what}", "ACCESS_DENIED", 100)


class Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        return

    # -- plumbing --------------------------------------------------------------

    @property
    def fake(self) -> FakeLinkedIn:
        return self.server.fake

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        raw = self._body()
        with self.fake.lock:
            self.fake.requests.append((method, self.path, dict(self.headers.items())))
            fault = next(
                (f for f in self.fake.faults if f.method == method and path.startswith(f.path)),
                None,
            )
            if fault is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.fake.faults.remove(fault)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.after:
            self._send(fault.status, fault.body, fault.headers)
            return
        try:
            status, body, headers = self.route(method, path, params, raw, parts.query)
        except ApiError as exc:
            status, body, headers = exc.status, exc.payload(), exc.headers
        if fault is not None:  # after: the request took effect, the answer is lost
            self._send(fault.status, fault.body, fault.headers)
            return
        self._send(status, body, headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- checks ----------------------------------------------------------------

    def _check_headers(self, path: str) -> None:
        if path.startswith("/rest/"):
            version = self.headers.get("LinkedIn-Version")
            if not version:
                raise ApiError(
                    400,
                    "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                    "VERSION_MISSING",
                )
            if version not in SUPPORTED_VERSIONS:
                raise ApiError(
                    426, f"Requested version {version} is not active", "NONEXISTENT_VERSION"
                )
        if self.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            raise ApiError(
                400, "X-Restli-Protocol-Version: 2.0.0 is required", "PROTOCOL_VERSION_MISSING"
            )

    def _token(self) -> Token:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise ApiError(401, "Empty oauth2 access token", "EMPTY_ACCESS_TOKEN", 65604)
        token = self.fake.tokens.get(auth[7:])
        if token is None:
            raise ApiError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if token.revoked:
            raise ApiError(
                401,
                "The token used in the request has been revoked by the user",
                "REVOKED_ACCESS_TOKEN",
                65601,
            )
        if token.expires < time.time():
            raise ApiError(
                401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602
            )
        return token

    def _count_call(self, token: Token) -> None:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        member_key, app_key = f"{day}:{token.member}", f"{day}:app"
        calls = self.fake.calls_today
        calls[member_key] = calls.get(member_key, 0) + 1
        calls[app_key] = calls.get(app_key, 0) + 1
        if calls[app_key] > self.fake.daily_app_limit:
            raise ApiError(
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",  # noqa: E501
            )
        if calls[member_key] > self.fake.daily_member_limit:
            raise ApiError(
                429,
                "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
            )

    def _need(self, token: Token, *scopes: str) -> None:
        if not set(scopes) & token.scopes:
            raise denied(f"scope {' or '.join(scopes)} was not granted")

    def _may_act_as(self, token: Token, author: str, write: bool) -> None:
        if author.startswith("urn:li:person:"):
            if author != token.member:
                raise denied(f"author {author}")
            self._need(token, "w_member_social" if write else "r_member_social")
            return
        if author not in self.fake.pages:
            raise ApiError(404, f"Organization {author} does not exist", "NOT_FOUND")
        if token.member not in self.fake.admins.get(author, set()):
            raise denied(f"organization {author} (no ADMINISTRATOR role)")
        self._need(token, "w_organization_social" if write else "r_organization_social")

    # -- routes ----------------------------------------------------------------

    def route(
        self, method: str, path: str, params: dict[str, str], raw: bytes, query: str
    ) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        if path == "/oauth/v2/authorization" and method == "GET":
            return self.authorize(params)
        if path == "/oauth/v2/accessToken" and method == "POST":
            return self.access_token({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        if path.startswith("/upload/") and method == "PUT":
            return self.upload(path, raw)
        self._check_headers(path)
        token = self._token()
        with fake.lock:
            self._count_call(token)
            body = json.loads(raw) if raw else None
            if path == "/v2/userinfo" and method == "GET":
                self._need(token, "openid")
                member = fake.members[token.member]
                return (
                    200,
                    {
                        "sub": member.id,
                        "name": f"{member.first} {member.last}",
                        "given_name": member.first,
                        "family_name": member.last,
                        "picture": f"https://media.licdn.com/{member.id}.jpg",
                        "locale": {"country": "US", "language": "en"},
                    },
                    {},
                )
            if path == "/v2/me" and method == "GET":
                self._need(token, "r_basicprofile")
                member = fake.members[token.member]
                return (
                    200,
                    {
                        "id": member.id,
                        "localizedFirstName": member.first,
                        "localizedLastName": member.last,
                        "vanityName": member.vanity,
                    },
                    {},
                )
            if path == "/rest/organizationAcls" and method == "GET":
                return self.acls(token, params)
            if path.startswith("/rest/organizations/") and method == "GET":
                return self.organization(token, path.rsplit("/", 1)[-1])
            if path == "/rest/posts":
                if method == "POST":
                    return self.create_post(token, body)
                if method == "GET" and params.get("q") == "author":
                    return self.posts_by_author(token, params)
            if path.startswith("/rest/posts/"):
                urn = unquote(path[len("/rest/posts/") :])
                if method == "GET":
                    return self.get_post(token, urn)
                if method == "DELETE":
                    return self.delete_post(token, urn)
            for kind in ("image", "document", "video"):
                if path == f"/rest/{kind}s" and method == "POST":
                    if params.get("action") == "initializeUpload":
                        return self.initialize_upload(token, kind, body)
                    if kind == "video" and params.get("action") == "finalizeUpload":
                        return self.finalize_video(token, body)
                if path.startswith(f"/rest/{kind}s/") and method == "GET":
                    return self.asset_status(unquote(path.rsplit("/", 1)[-1]))
            match = re.fullmatch(r"/rest/socialActions/([^/]+)/comments(?:/(\d+))?", path)
            if match:
                target = unquote(match.group(1))
                if method == "GET" and not match.group(2):
                    return self.list_comments(token, target, params)
                if method == "POST" and not match.group(2):
                    return self.create_comment(token, target, body)
                if method == "DELETE" and match.group(2):
                    return self.delete_comment(token, target, match.group(2), params)
            if path == "/rest/organizationalEntityShareStatistics" and method == "GET":
                return self.share_statistics(token, params, query)
            if path.startswith("/rest/networkSizes/") and method == "GET":
                return self.network_size(token, unquote(path.rsplit("/", 1)[-1]), params)
            if path == "/rest/memberCreatorPostAnalytics" and method == "GET":
                return self.member_analytics(token, params)
        raise ApiError(404, f"No resource found for {method} {path}", "NOT_FOUND")

    # -- OAuth -----------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        for name in ("response_type", "client_id", "redirect_uri", "state", "scope"):
            if not params.get(name):
                raise ApiError(400, f"missing {name}")
        if params["client_id"] != fake.client_id or params["response_type"] != "code":
            raise ApiError(400, "invalid client_id or response_type")
        redirect = params["redirect_uri"]
        requested = set(params["scope"].split(" "))
        extra = requested - fake.app_scopes
        if extra:
            error = {
                "error": "unauthorized_scope_error",
                "error_description": f'Scope "{sorted(extra)[0]}" is not authorized for your application',  # noqa: E501
                "state": params["state"],
            }
            return 302, None, {"Location": f"{redirect}?{urlencode(error)}"}
        person = self.headers.get("X-Fake-Member", "")
        if person not in fake.members:
            raise ApiError(400, "the fake needs X-Fake-Member: <person urn>")
        code = secrets.token_urlsafe(16)
        fake.codes[code] = {"member": person, "scopes": requested, "redirect_uri": redirect}
        return (
            302,
            None,
            {"Location": f"{redirect}?{urlencode({'code': code, 'state': params['state']})}"},
        )

    def _issue(
        self, member: str, scopes: set[str], refresh_expires: float | None = None
    ) -> dict[str, Any]:
        fake = self.fake
        access = secrets.token_urlsafe(32)
        fake.tokens[access] = Token(member, scopes, time.time() + TOKEN_SECONDS)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": TOKEN_SECONDS,
            "scope": ",".join(sorted(scopes)),
            "token_type": "Bearer",
        }
        if fake.refresh_tokens_enabled:
            refresh = secrets.token_urlsafe(32)
            expires = refresh_expires or time.time() + REFRESH_SECONDS
            fake.refresh[refresh] = {
                "member": member,
                "scopes": scopes,
                "expires": expires,
                "revoked": False,
            }
            answer["refresh_token"] = refresh
            answer["refresh_token_expires_in"] = int(expires - time.time())
        return answer

    def access_token(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        if (
            form.get("client_id") != fake.client_id
            or form.get("client_secret") != fake.client_secret
        ):
            return (
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                {},
            )
        with fake.lock:
            if form.get("grant_type") == "authorization_code":
                grant = fake.codes.pop(form.get("code", ""), None)
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return (
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": "Unable to retrieve access token: appid/redirect uri/code "  # noqa: E501
                            "verifier does not match authorization code. Or authorization code expired.",  # noqa: E501
                        },
                        {},
                    )
                return 200, self._issue(grant["member"], grant["scopes"]), {}
            if form.get("grant_type") == "refresh_token":
                grant = fake.refresh.get(form.get("refresh_token", ""))
                if grant is None or grant["revoked"] or grant["expires"] < time.time():
                    return (
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": "The provided authorization grant or refresh token is "  # noqa: E501
                            "invalid, expired or revoked.",
                        },
                        {},
                    )
                answer = self._issue(grant["member"], grant["scopes"], grant["expires"])
                return 200, answer, {}
        return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}, {}

    # -- organizations -----------------------------------------------------------

    def acls(self, token: Token, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        self._need(token, "rw_organization_admin", "r_organization_admin")
        if params.get("q") != "roleAssignee":
            raise ApiError(400, "q must be roleAssignee")
        rows = [
            {
                "roleAssignee": token.member,
                "state": "APPROVED",
                "role": "ADMINISTRATOR",
                "organization": org,
            }
            for org, admins in self.fake.admins.items()
            if token.member in admins and params.get("role", "ADMINISTRATOR") == "ADMINISTRATOR"
        ]
        start, count = int(params.get("start", 0)), int(params.get("count", 10))
        return (
            200,
            {
                "paging": {"start": start, "count": count, "total": len(rows)},
                "elements": rows[start : start + count],
            },
            {},
        )

    def organization(self, token: Token, org_id: str) -> tuple[int, Any, dict[str, str]]:
        urn = f"urn:li:organization:{org_id}"
        page = self.fake.pages.get(urn)
        if page is None:
            raise ApiError(404, f"Organization {org_id} not found", "NOT_FOUND")
        self._need(token, "rw_organization_admin", "r_organization_admin")
        return (
            200,
            {"id": int(org_id), "localizedName": page["name"], "vanityName": page["vanity"]},
            {},
        )

    # -- posts -----------------------------------------------------------------

    def create_post(self, token: Token, body: Any) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                raise ApiError(
                    422,
                    f"/{name} :: field is required but not found and has no default value",
                    "UNPROCESSABLE_ENTITY",
                )
        author = body["author"]
        self._may_act_as(token, author, write=True)
        if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
            raise ApiError(422, f'/visibility :: "{body["visibility"]}" is not an enum symbol')
        if body["visibility"] == "CONNECTIONS" and not author.startswith("urn:li:person:"):
            raise ApiError(422, "CONNECTIONS visibility is only for member posts")
        if (
            body["lifecycleState"] != "PUBLISHED"
            or body["distribution"].get("feedDistribution") != "MAIN_FEED"
        ):
            raise ApiError(422, "the fake only takes published main-feed posts")
        if len(body["commentary"]) > 3000:
            raise ApiError(422, "/commentary :: length of 3000 exceeded")
        content = body.get("content")
        kind = "share"
        if content:
            kind = self._check_content(author, content)
        signature = json.dumps([author, body["commentary"], content], sort_keys=True)
        for urn, post in fake.posts.items():
            if post["_signature"] == signature:
                raise ApiError(
                    422,
                    body={
                        "errorDetailType": "com.linkedin.common.error.BadRequest",
                        "message": "com.linkedin.content.common.exception.BadRequestResponseException: "  # noqa: E501
                        f"Content is a duplicate of {urn}",
                        "errorDetails": {
                            "inputErrors": [
                                {
                                    "description": "Duplicate post is detected",
                                    "input": {},
                                    "code": "DUPLICATE_POST",
                                }
                            ]
                        },
                        "status": 422,
                    },
                    message="duplicate",
                )
        urn = f"urn:li:{kind}:{fake._new_id()}"
        created = now_ms()
        fake.posts[urn] = {
            "id": urn,
            "author": author,
            "commentary": visible_commentary(body["commentary"]),
            "visibility": body["visibility"],
            "distribution": body["distribution"],
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": bool(body.get("isReshareDisabledByAuthor")),
            "createdAt": created,
            "publishedAt": created,
            "lastModifiedAt": created,
            "content": content,
            "_signature": signature,
        }
        fake.statistics[urn] = {}
        return 201, None, {"x-restli-id": urn}

    def _check_content(self, author: str, content: dict[str, Any]) -> str:
        fake = self.fake

        def usable(urn: str, kinds: tuple[str, ...]) -> dict[str, Any]:
            asset = fake.assets.get(urn)
            if asset is None or asset["kind"] not in kinds:
                raise ApiError(422, f"{urn} is not a valid media for this post")
            if asset["owner"] != author:
                raise ApiError(422, f"{urn} is owned by {asset['owner']}, not the author")
            if asset["status"] != "AVAILABLE":
                raise ApiError(422, f"{urn} is not AVAILABLE ({asset['status']})")
            return asset

        if "media" in content:
            asset = usable(content["media"].get("id", ""), ("image", "video", "document"))
            if asset["kind"] == "document" and not content["media"].get("title"):
                raise ApiError(422, "/content/media/title :: a document post needs a title")
            return "ugcPost" if asset["kind"] in ("video", "document") else "share"
        if "multiImage" in content:
            images = content["multiImage"].get("images") or []
            if not 2 <= len(images) <= 20:
                raise ApiError(422, "a multiImage post takes 2 to 20 images")
            for image in images:
                usable(image.get("id", ""), ("image",))
            return "share"
        if "article" in content:
            article = content["article"]
            if not article.get("source") or not article.get("title"):
                raise ApiError(422, "/content/article :: source and title are required")
            return "share"
        raise ApiError(422, "unknown content")

    def _public(self, post: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in post.items() if not k.startswith("_") and v is not None}

    def get_post(self, token: Token, urn: str) -> tuple[int, Any, dict[str, str]]:
        post = self.fake.posts.get(urn)
        if post is None:
            raise ApiError(404, f"Post {urn} not found", "NOT_FOUND")
        self._may_act_as(token, post["author"], write=False)
        return 200, self._public(post), {}

    def posts_by_author(
        self, token: Token, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        author = unquote(params.get("author", ""))
        self._may_act_as(token, author, write=False)
        posts = [p for p in self.fake.posts.values() if p["author"] == author]
        key = "createdAt" if params.get("sortBy") == "CREATED" else "lastModifiedAt"
        posts.sort(key=lambda p: (p[key], p["id"]), reverse=True)
        start, count = int(params.get("start", 0)), int(params.get("count", 10))
        return (
            200,
            {
                "paging": {"start": start, "count": count, "total": len(posts)},
                "elements": [self._public(p) for p in posts[start : start + count]],
            },
            {},
        )

    def delete_post(self, token: Token, urn: str) -> tuple[int, Any, dict[str, str]]:
        post = self.fake.posts.get(urn)
        if post is None:
            raise ApiError(404, f"Post {urn} not found", "NOT_FOUND")
        self._may_act_as(token, post["author"], write=True)
        del self.fake.posts[urn]
        self.fake.deleted.add(urn)
        return 204, None, {}

    # -- uploads ---------------------------------------------------------------

    def initialize_upload(
        self, token: Token, kind: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        request = (body or {}).get("initializeUploadRequest") or {}
        owner = request.get("owner", "")
        self._may_act_as(token, owner, write=True)
        prefix = {"image": "C4E10AQ", "document": "D4D10AQ", "video": "C5505AQ"}[kind]
        urn = f"urn:li:{kind}:{prefix}{secrets.token_hex(6)}"
        asset: dict[str, Any] = {
            "kind": kind,
            "owner": owner,
            "status": "WAITING_UPLOAD",
            "polls": 0,
            "data": {},
        }
        fake.assets[urn] = asset
        expires = now_ms() + 3600_000
        if kind != "video":
            upload_id = secrets.token_hex(8)
            fake.uploads[upload_id] = (urn, 0)
            return (
                200,
                {
                    "value": {
                        "uploadUrlExpiresAt": expires,
                        "uploadUrl": f"{fake.base_url}/upload/{upload_id}",
                        kind: urn,
                    }
                },
                {},
            )
        size = int(request.get("fileSizeBytes") or 0)
        if size <= 0:
            raise ApiError(422, "/initializeUploadRequest/fileSizeBytes :: required")
        asset["size"] = size
        asset["token"] = secrets.token_hex(4) if size > fake.video_part_size else ""
        instructions = []
        for number, first in enumerate(range(0, size, fake.video_part_size)):
            upload_id = secrets.token_hex(8)
            fake.uploads[upload_id] = (urn, number)
            instructions.append(
                {
                    "uploadUrl": f"{fake.base_url}/upload/{upload_id}",
                    "firstByte": first,
                    "lastByte": min(size, first + fake.video_part_size) - 1,
                }
            )
        asset["parts"] = len(instructions)
        return (
            200,
            {
                "value": {
                    "uploadUrlsExpireAt": expires,
                    "video": urn,
                    "uploadInstructions": instructions,
                    "uploadToken": asset["token"],
                }
            },
            {},
        )

    def upload(self, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        self._token()  # uploads take the same bearer token
        with fake.lock:
            found = fake.uploads.pop(path.rsplit("/", 1)[-1], None)
            if found is None:
                raise ApiError(404, "unknown upload URL")
            urn, part = found
            asset = fake.assets[urn]
            asset["data"][part] = raw
            if asset["kind"] != "video":
                asset["status"] = "PROCESSING"
                return 201, None, {}
            etag = f"/etag-{secrets.token_hex(6)}"
            asset.setdefault("etags", {})[part] = etag
            return 200, None, {"ETag": etag}

    def finalize_video(self, token: Token, body: Any) -> tuple[int, Any, dict[str, str]]:
        request = (body or {}).get("finalizeUploadRequest") or {}
        asset = self.fake.assets.get(request.get("video", ""))
        if asset is None:
            raise ApiError(404, "unknown video")
        self._may_act_as(token, asset["owner"], write=True)
        expected = [asset.get("etags", {}).get(i) for i in range(asset["parts"])]
        if (
            request.get("uploadedPartIds") != expected
            or request.get("uploadToken", "") != asset["token"]
        ):
            raise ApiError(400, "uploadedPartIds/uploadToken do not match the uploaded parts")
        if sum(len(d) for d in asset["data"].values()) != asset["size"]:
            raise ApiError(400, "the uploaded size does not match fileSizeBytes")
        asset["status"] = "PROCESSING"
        return 200, None, {}

    def asset_status(self, urn: str) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        asset = fake.assets.get(urn)
        if asset is None:
            raise ApiError(404, f"{urn} not found", "NOT_FOUND")
        if asset["status"] == "PROCESSING":
            asset["polls"] += 1
            if asset["polls"] > fake.processing_polls:
                asset["status"] = "PROCESSING_FAILED" if fake.fail_processing else "AVAILABLE"
        return 200, {"id": urn, "owner": asset["owner"], "status": asset["status"]}, {}

    # -- comments ----------------------------------------------------------------

    def _post_of(self, target: str) -> dict[str, Any]:
        match = re.fullmatch(r"urn:li:comment:\((urn:li:[a-zA-Z]+:\d+),\d+\)", target)
        post_urn = match.group(1) if match else target
        post = self.fake.posts.get(post_urn)
        if post is None or (match and target not in self.fake.comments):
            raise ApiError(404, f"{target} not found", "NOT_FOUND")
        return post

    def list_comments(
        self, token: Token, target: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        post = self._post_of(target)
        self._may_act_as(token, post["author"], write=False)
        if target.startswith("urn:li:comment:"):
            rows = [c for c in self.fake.comments.values() if c.get("parentComment") == target]
        else:
            rows = [
                c
                for c in self.fake.comments.values()
                if c["object"] == target and "parentComment" not in c
            ]
        rows.sort(key=lambda c: c["created"]["time"])
        start, count = int(params.get("start", 0)), int(params.get("count", 10))
        return (
            200,
            {
                "paging": {"start": start, "count": count, "total": len(rows)},
                "elements": [self.fake.comment_view(c) for c in rows[start : start + count]],
            },
            {},
        )

    def create_comment(
        self, token: Token, target: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        post = self._post_of(target)
        actor = (body or {}).get("actor", "")
        self._may_act_as(token, actor, write=True)
        if (body or {}).get("object") != post["id"]:
            raise ApiError(422, "/object must be the post commented on")
        text = ((body or {}).get("message") or {}).get("text", "")
        if not text or len(text) > 1250:
            raise ApiError(422, "/message/text :: 1 to 1250 characters")
        parent = body.get("parentComment", "")
        if target.startswith("urn:li:comment:") and parent != target:
            raise ApiError(422, "/parentComment must be the comment replied to")
        if parent and self.fake.comments.get(parent, {}).get("parentComment"):
            raise ApiError(422, "comments nest one level only")
        comment = self.fake._new_comment(actor, post["id"], text, parent)
        post["lastModifiedAt"] = now_ms()
        return 201, comment, {"x-restli-id": comment["id"]}

    def delete_comment(
        self, token: Token, target: str, comment_id: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        post = self._post_of(target)
        actor = unquote(params.get("actor", ""))
        self._may_act_as(token, actor, write=True)
        urn = f"urn:li:comment:({post['id']},{comment_id})"
        comment = self.fake.comments.get(urn)
        if comment is None:
            raise ApiError(404, f"{urn} not found", "NOT_FOUND")
        if comment["actor"] != actor:
            raise denied(f"comment {urn} (only its author may delete it)")
        del self.fake.comments[urn]
        return 204, None, {}

    # -- statistics --------------------------------------------------------------

    def share_statistics(
        self, token: Token, params: dict[str, str], query: str
    ) -> tuple[int, Any, dict[str, str]]:
        if params.get("q") != "organizationalEntity":
            raise ApiError(400, "q must be organizationalEntity")
        org = unquote(params.get("organizationalEntity", ""))
        if token.member not in self.fake.admins.get(org, set()):
            raise denied(f"organization {org} (no ADMINISTRATOR role)")
        self._need(token, "rw_organization_admin")

        raw_params = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)

        def listed(name: str) -> list[str]:
            value = raw_params.get(name, "")
            if not value:
                return []
            if not (value.startswith("List(") and value.endswith(")")):
                raise ApiError(400, f"{name} must be a Rest.li 2.0 List(...)")
            if ":" in re.sub(r"%3A", "", value[5:-1]):
                raise ApiError(400, f"{name}: URNs in a List must be URL-encoded")
            return [unquote(u) for u in value[5:-1].split(",") if u]

        names = [("share", u) for u in listed("shares")] + [
            ("ugcPost", u) for u in listed("ugcPosts")
        ]
        totals_keys = (
            "impressionCount",
            "uniqueImpressionsCount",
            "clickCount",
            "likeCount",
            "commentCount",
            "shareCount",
        )

        def totals(urns: list[str]) -> dict[str, Any]:
            values: dict[str, Any] = {k: 0 for k in totals_keys}
            values.update({"engagement": 0.0, "shareMentionsCount": 0, "commentMentionsCount": 0})
            for urn in urns:
                stats = self.fake.statistics.get(urn, {})
                for key in totals_keys:
                    values[key] += stats.get(key, 0)
                values["commentCount"] += 0
            return values

        if not names:
            own = [u for u, p in self.fake.posts.items() if p["author"] == org]
            return (
                200,
                {
                    "paging": {"start": 0, "count": 10, "links": []},
                    "elements": [
                        {"organizationalEntity": org, "totalShareStatistics": totals(own)}
                    ],
                },
                {},
            )
        rows = []
        for kind, urn in names:
            post = self.fake.posts.get(urn)
            if post is None or post["author"] != org:
                continue
            rows.append(
                {"organizationalEntity": org, kind: urn, "totalShareStatistics": totals([urn])}
            )
        return 200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": rows}, {}

    def network_size(
        self, token: Token, urn: str, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            raise ApiError(400, "edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
        page = self.fake.pages.get(urn)
        if page is None:
            raise ApiError(404, f"{urn} not found", "NOT_FOUND")
        return 200, {"firstDegreeSize": page["followers"]}, {}

    def member_analytics(
        self, token: Token, params: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        self._need(token, "r_member_postAnalytics")
        match = re.fullmatch(r"\((share|ugc):([^)]+)\)", params.get("entity", ""))
        if params.get("q") != "entity" or match is None or params.get("aggregation") != "TOTAL":
            raise ApiError(400, "q=entity, entity=(share:urn) or (ugc:urn), aggregation=TOTAL")
        urn = unquote(match.group(2))
        post = self.fake.posts.get(urn)
        if post is None or post["author"] != token.member:
            raise ApiError(404, f"{urn} not found", "NOT_FOUND")
        names = {
            "IMPRESSION": "impressionCount",
            "MEMBERS_REACHED": "uniqueImpressionsCount",
            "RESHARE": "shareCount",
            "REACTION": "likeCount",
            "COMMENT": "commentCount",
        }
        query_type = params.get("queryType", "")
        if query_type not in names:
            raise ApiError(400, "unknown queryType")
        count = self.fake.statistics.get(urn, {}).get(names[query_type], 0)
        return (
            200,
            {
                "paging": {"start": 0, "count": 10},
                "elements": [
                    {
                        "count": count,
                        "metricType": {
                            "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": query_type  # noqa: E501
                        },
                    }
                ],
            },
            {},
        )


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeLinkedIn) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.fake = fake
        fake.base_url = f"http://127.0.0.1:{self.server_address[1]}"


@dataclass
class Running:
    fake: FakeLinkedIn
    server: FakeServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.fake.base_url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start() -> Running:
    fake = FakeLinkedIn()
    server = FakeServer(fake)
    thread = threading.Thread(target=server.serve_forever, name="fake-linkedin", daemon=True)
    thread.start()
    return Running(fake, server, thread)


def encoded(urn: str) -> str:
    return quote(urn, safe="")
