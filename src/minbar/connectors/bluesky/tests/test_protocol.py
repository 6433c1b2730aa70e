"""The connector's HTTP against fake XRPC answers shaped like the documented ones.

Error bodies are ``{"error": "<Name>", "message": "…"}`` (https://atproto.com/specs/xrpc,
"Error Responses"); the PDS answers an expired access token with 400 ``ExpiredToken``
and a bad one with 400 ``InvalidToken`` (both named in
https://docs.bsky.app/docs/api/com-atproto-server-refresh-session), a wrong password
with 401 ``AuthenticationRequired``
(https://docs.bsky.app/docs/api/com-atproto-server-create-session) and a rate limit
with 429 ``RateLimitExceeded`` plus ``ratelimit-limit/-remaining/-reset/-policy`` headers,
the reset in epoch seconds (https://docs.bsky.app/docs/advanced-guides/rate-limits).
The real behaviour is exercised end to end in ``test_e2e.py``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from minbar.connectors.bluesky import BlueskyConnector
from minbar.connectors.bluesky.connector import (
    NOTIFICATION_OVERLAP,
    REFRESH_MARGIN,
    jwt_claims,
    tid_for,
)
from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.types import Credentials, InteractionKind, MediaItem, PostRequest

PDS = "https://pds.example"
DID = "did:plc:alice"


def jwt(scope: str = "com.atproto.appPass", exp: float | None = None, sub: str = DID) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"scope": scope, "sub": sub, "exp": int(exp or time.time() + 7200)}
    return f"{part({'alg': 'HS256', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


def session(scope: str = "com.atproto.appPass", handle: str = "alice.test") -> dict[str, Any]:
    return {"did": DID, "handle": handle, "accessJwt": jwt(scope), "refreshJwt": jwt("refresh")}


def xrpc_error(status: int, error: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "message": message}, headers=headers)


def connected(**secrets: str) -> BlueskyConnector:
    creds = Credentials(
        secrets={"access_jwt": "old-access", "refresh_jwt": "old-refresh", **secrets},
        data={"did": DID, "handle": "alice.test"},
        expires_at=datetime.now(UTC) + timedelta(hours=2),
    )
    return BlueskyConnector(PDS, creds)


@pytest.fixture
def pds() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=PDS, assert_all_called=False) as router:
        yield router


# -- connecting -------------------------------------------------------------------


def test_connect_keeps_tokens_app_password_and_expiry(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.createSession").respond(json=session())
    pds.get("/xrpc/app.bsky.actor.getProfile").respond(
        json={"did": DID, "handle": "alice.test", "displayName": "Alice", "followersCount": 3}
    )
    connector = BlueskyConnector("pds.example")  # the scheme is added
    result = connector.connect_with_fields(
        {"server_url": "pds.example/", "identifier": "@alice.test", "app_password": "abcd-efgh"}
    )
    assert connector.server_url == PDS
    sent = json.loads(pds.calls[0].request.content)
    assert sent == {"identifier": "alice.test", "password": "abcd-efgh"}
    assert result.account.remote_id == DID
    assert (result.account.display_name, result.account.followers) == ("Alice", 3)
    assert result.account.url == "https://bsky.app/profile/alice.test"
    creds = result.credentials
    assert set(creds.secrets) == {"access_jwt", "refresh_jwt", "app_password"}
    assert creds.data == {"did": DID, "handle": "alice.test"}
    assert creds.expires_at is not None
    assert creds.expires_at == datetime.fromtimestamp(
        jwt_claims(creds.secrets["access_jwt"])["exp"], UTC
    )
    assert "abcd" not in repr(creds)


def test_connect_refuses_the_account_password(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.createSession").respond(json=session("com.atproto.access"))
    delete = pds.post("/xrpc/com.atproto.server.deleteSession").respond(200)
    connector = BlueskyConnector(PDS)
    with pytest.raises(Rejected, match="app password"):
        connector.connect_with_fields({"identifier": "alice.test", "app_password": "hunter2"})
    assert delete.called  # the session it opened is closed again
    assert connector.credentials.secrets == {}


def test_wrong_password_is_explained(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.createSession").mock(
        return_value=xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
    )
    with pytest.raises(AuthExpired, match="did not accept this handle and app password"):
        BlueskyConnector(PDS).connect_with_fields({"identifier": "a.test", "app_password": "x"})


@pytest.mark.parametrize("status", [401, 400])
def test_sign_in_code_required_means_use_an_app_password(
    pds: respx.MockRouter, status: int
) -> None:
    # The account password of an account with email 2FA; app passwords need no code.
    pds.post("/xrpc/com.atproto.server.createSession").mock(
        return_value=xrpc_error(status, "AuthFactorTokenRequired", "A sign in code has been sent")
    )
    with pytest.raises(Rejected, match="email sign-in code"):
        BlueskyConnector(PDS).connect_with_fields({"identifier": "a.test", "app_password": "x"})


def test_the_did_document_names_the_real_pds(pds: respx.MockRouter) -> None:
    doc = {"service": [{"id": "#atproto_pds", "serviceEndpoint": "https://host.pds.example"}]}
    pds.post("/xrpc/com.atproto.server.createSession").respond(json={**session(), "didDoc": doc})
    profile = pds.get("https://host.pds.example/xrpc/app.bsky.actor.getProfile").respond(
        json={"handle": "alice.test"}
    )
    result = BlueskyConnector(PDS).connect_with_fields(
        {"identifier": "alice.test", "app_password": "x"}
    )
    assert result.credentials.data["pds"] == "https://host.pds.example"
    assert profile.called


# -- refreshing -------------------------------------------------------------------


def test_refresh_does_nothing_while_the_token_is_fresh() -> None:
    assert connected().refresh() is None


def test_refresh_when_expiring_within_the_margin(pds: respx.MockRouter) -> None:
    route = pds.post("/xrpc/com.atproto.server.refreshSession").respond(json=session())
    connector = connected()
    connector.credentials.expires_at = datetime.now(UTC) + REFRESH_MARGIN - timedelta(seconds=5)
    newer = connector.refresh()
    assert newer is not None
    assert route.calls[0].request.headers["Authorization"] == "Bearer old-refresh"
    assert connector.credentials.secrets["refresh_jwt"] == newer.secrets["refresh_jwt"]
    assert connector.credentials.expires_at == newer.expires_at


def test_dead_refresh_token_falls_back_to_the_app_password(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.refreshSession").mock(
        return_value=xrpc_error(400, "ExpiredToken", "Token has been revoked")
    )
    create = pds.post("/xrpc/com.atproto.server.createSession").respond(json=session())
    connector = connected(app_password="abcd-efgh")
    connector.credentials.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    newer = connector.refresh()
    assert newer is not None
    assert json.loads(create.calls[0].request.content) == {
        "identifier": DID,
        "password": "abcd-efgh",
    }
    assert connector.credentials.secrets["app_password"] == "abcd-efgh"


def test_revoked_app_password_asks_for_a_reconnect(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.refreshSession").mock(
        return_value=xrpc_error(400, "ExpiredToken", "Token has been revoked")
    )
    pds.post("/xrpc/com.atproto.server.createSession").mock(
        return_value=xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
    )
    connector = connected(app_password="abcd-efgh")
    connector.credentials.expires_at = None
    with pytest.raises(AuthExpired, match="revoked") as caught:
        connector.refresh()
    assert "App passwords" in caught.value.message


def test_expired_token_mid_call_refreshes_once_saves_and_retries(pds: respx.MockRouter) -> None:
    fresh = session()
    pds.post("/xrpc/com.atproto.server.refreshSession").respond(json=fresh)
    profile = pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        side_effect=[
            xrpc_error(400, "ExpiredToken", "Token has expired"),
            httpx.Response(200, json={"followersCount": 7, "followsCount": 2, "postsCount": 9}),
        ]
    )
    saved: list[Credentials] = []
    connector = BlueskyConnector(PDS, connected().credentials, on_credentials_change=saved.append)
    metrics = connector.account_metrics()
    assert metrics.values == {"followers": 7, "following": 2, "posts": 9}
    assert profile.calls[1].request.headers["Authorization"] == f"Bearer {fresh['accessJwt']}"
    assert saved and saved[-1].secrets["refresh_jwt"] == fresh["refreshJwt"]


def test_token_still_refused_after_a_refresh_is_auth_expired(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.server.refreshSession").respond(json=session())
    pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        return_value=xrpc_error(400, "InvalidToken", "Token could not be verified")
    )
    with pytest.raises(AuthExpired, match="Reconnect"):
        connected().account_metrics()


def test_taken_down_account(pds: respx.MockRouter) -> None:
    pds.get("/xrpc/app.bsky.actor.getProfile").mock(
        return_value=xrpc_error(401, "AccountTakedown", "Account has been taken down")
    )
    with pytest.raises(AuthExpired, match="taken this account down"):
        connected().account_metrics()


# -- error mapping ----------------------------------------------------------------


def test_rate_limit_waits_until_the_reset_header(pds: respx.MockRouter) -> None:
    reset = int(time.time()) + 120
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(
        return_value=xrpc_error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            **{
                "ratelimit-limit": "5000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset),
                "ratelimit-policy": "5000;w=3600",
            },
        )
    )
    with pytest.raises(RateLimited) as caught:
        connected().publish(PostRequest(text="hello"))
    assert 110 <= caught.value.retry_after <= 121


def test_invalid_request_is_rejected_in_plain_words(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(
        return_value=xrpc_error(
            400,
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Record/langs/0 must be a valid language",
        )
    )
    with pytest.raises(Rejected) as caught:
        connected().publish(PostRequest(text="hello", language="not a language"))
    assert "must be a valid language" in caught.value.message
    assert caught.value.detail.startswith("400 InvalidRequest")


def test_server_error_on_a_write_is_an_unknown_outcome(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(
        return_value=xrpc_error(502, "UpstreamFailure", "bad gateway")
    )
    with pytest.raises(OutcomeUnknown):
        connected().publish(PostRequest(text="hello"))


def test_server_error_on_a_read_is_temporary(pds: respx.MockRouter) -> None:
    pds.get("/xrpc/app.bsky.feed.getPosts").mock(
        return_value=xrpc_error(500, "InternalServerError", "Internal Server Error")
    )
    with pytest.raises(TemporaryError):
        connected().post_metrics([f"at://{DID}/app.bsky.feed.post/3abc"])


def test_timeout_after_sending_a_post_is_unknown(pds: respx.MockRouter) -> None:
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        connected().publish(PostRequest(text="hello"))
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(TemporaryError):
        connected().publish(PostRequest(text="hello"))


def test_an_unknown_outcome_is_settled_at_once_with_the_idempotency_rkey(
    pds: respx.MockRouter,
) -> None:
    """A 500 from createRecord with Minbar's rkey: the record is there, so it went out."""
    rkey = tid_for("attempt-1")
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    pds.post("/xrpc/com.atproto.repo.createRecord").mock(
        return_value=xrpc_error(500, "InternalServerError", "There is already a value at key")
    )
    get = pds.get("/xrpc/com.atproto.repo.getRecord").respond(
        json={
            "uri": uri,
            "cid": "bafyexisting",
            "value": {"text": "hello", "createdAt": "2026-01-02T03:04:05.000Z"},
        }
    )
    result = connected().publish(PostRequest(text="hello", idempotency_key="attempt-1"))
    assert get.calls[0].request.url.params["rkey"] == rkey
    assert result.remote_id == uri
    assert result.ref is not None and result.ref.extra["cid"] == "bafyexisting"
    assert result.url == f"https://bsky.app/profile/alice.test/post/{rkey}"
    assert result.published_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_lookup_of_a_missing_post_is_none(pds: respx.MockRouter) -> None:
    pds.get("/xrpc/com.atproto.repo.getRecord").mock(
        return_value=xrpc_error(400, "RecordNotFound", f"Could not locate record: at://{DID}/x/y")
    )
    assert connected().lookup(idempotency_key="never-sent") is None


def test_record_not_found_is_rejected_in_plain_words(pds: respx.MockRouter) -> None:
    pds.get("/xrpc/app.bsky.feed.getPosts").respond(json={"posts": []})
    pds.get("/xrpc/com.atproto.repo.getRecord").mock(
        return_value=xrpc_error(400, "RecordNotFound", "Could not locate record")
    )
    with pytest.raises(Rejected, match="could not find the post"):
        connected().publish(
            PostRequest(text="hi", quote=_ref(f"at://{DID}/app.bsky.feed.post/3gone"))
        )


def _ref(uri: str) -> Any:
    from minbar.connectors.types import RemoteRef

    return RemoteRef(remote_id=uri)


def test_what_bluesky_cannot_take_is_refused_before_any_call(
    pds: respx.MockRouter, tmp_path: Any
) -> None:
    connector = connected()
    with pytest.raises(Rejected, match="301/300 characters"):
        connector.publish(PostRequest(text="a" * 301))
    with pytest.raises(Rejected, match="post 2: Bluesky: 301/300"):
        connector.publish(PostRequest(text="ok", thread=("b" * 301,)))
    video = MediaItem(path=str(tmp_path / "v.mp4"), mime_type="video/mp4")
    with pytest.raises(NotSupported):
        connector.publish(PostRequest(text="ok", media=(video,)))
    gif = MediaItem(path=str(tmp_path / "a.gif"), mime_type="image/gif")
    with pytest.raises(Rejected, match="JPEG, PNG or WebP"):
        connector.publish(PostRequest(text="ok", media=(gif,)))
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 1_000_001)
    with pytest.raises(Rejected, match="1,000,000 bytes"):
        connector.publish(PostRequest(text="ok", media=(MediaItem(str(big), "image/png"),)))
    five = tuple(MediaItem(str(big), "image/png") for _ in range(5))
    with pytest.raises(Rejected, match="at most 4 images"):
        connector.publish(PostRequest(text="ok", media=five))
    with pytest.raises(Rejected, match="needs text"):
        connector.publish(PostRequest(text="  "))
    assert not pds.calls


def test_tids_are_valid_stable_and_distinct() -> None:
    import regex

    tid = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
    keys = [tid_for("k"), tid_for("k", 1), tid_for("k", 2), tid_for("other")]
    assert all(tid.match(key) for key in keys)  # https://atproto.com/specs/tid
    assert len(set(keys)) == 4
    assert tid_for("k") == tid_for("k")


# -- inbox cursor -----------------------------------------------------------------


def _note(n: int, when: datetime, reason: str = "like") -> dict[str, Any]:
    return {
        "uri": f"at://did:plc:bob/app.bsky.feed.like/{n}",
        "cid": f"bafy{n}",
        "author": {"did": "did:plc:bob", "handle": "bob.test"},
        "reason": reason,
        "reasonSubject": f"at://{DID}/app.bsky.feed.post/3post",
        "record": {"createdAt": when.isoformat().replace("+00:00", "Z")},
        "isRead": False,
        "indexedAt": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def test_cursor_resumes_without_repeats_and_keeps_late_arrivals(pds: respx.MockRouter) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first = [_note(2, now), _note(1, now - timedelta(seconds=5))]
    # Later: a new like, plus one whose indexedAt (its createdAt) sorts *below* the newest
    # already read, as the AppView does when it indexes a record late.
    later = [
        _note(4, now + timedelta(seconds=9)),
        first[0],
        _note(3, now - timedelta(seconds=1)),
        first[1],
    ]
    old = [_note(0, now - NOTIFICATION_OVERLAP - timedelta(minutes=1))]
    route = pds.get("/xrpc/app.bsky.notification.listNotifications")
    route.mock(
        side_effect=[
            httpx.Response(200, json={"notifications": first}),
            httpx.Response(200, json={"notifications": later, "cursor": "page2"}),
            httpx.Response(200, json={"notifications": old}),
            httpx.Response(200, json={"notifications": later + old}),
        ]
    )
    connector = connected()
    page1 = connector.interactions()
    assert [i.remote_id[-1] for i in page1.items] == ["1", "2"]  # oldest first
    assert page1.items[0].kind == InteractionKind.LIKE
    page2 = connector.interactions(page1.cursor)
    assert [i.remote_id[-1] for i in page2.items] == ["3", "4"]
    assert route.calls[2].request.url.params["cursor"] == "page2"  # paged until the window
    page3 = connector.interactions(page2.cursor)
    assert page3.items == []
    assert page3.cursor == page2.cursor


def test_a_foreign_cursor_is_refused() -> None:
    with pytest.raises(Rejected):
        connected().interactions("not-ours")
