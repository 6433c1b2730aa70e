"""The sandbox connector against the sandbox server, in process (Django's WSGI app)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import UnsafeURL
from minbar.connectors.registry import get_connector
from minbar.connectors.sandbox import CONNECTOR, SandboxConnector, capabilities_for
from minbar.connectors.types import (
    AuthKind,
    Credentials,
    InteractionKind,
    PostRequest,
    RemoteRef,
    TextCounting,
)
from minbar.sandbox import actions, clock
from minbar.sandbox.models import SandboxAccount, SandboxPost
from minbar.sandbox.tests.helpers import Clock, wsgi_connector

POST_METRICS = {"likes", "comments", "shares", "clicks", "impressions", "reach"}


@pytest.fixture
def connector(db, monkeypatch) -> SandboxConnector:
    # A fixed seed and a fixed clock: what the simulated audience does depends on both
    # (people are more active at some hours), and a test must not depend on when it runs.
    monkeypatch.setattr(clock, "now", Clock(datetime.now(UTC).replace(hour=12, minute=0)))
    fresh = wsgi_connector()
    result = fresh.connect_with_fields(
        {"flavour": "facebook", "name": "Oasis Coffee", "speed": "0", "seed": "7"}
    )
    return wsgi_connector(result.credentials)


def account_of(connector: SandboxConnector) -> SandboxAccount:
    account = actions.authenticate(connector.credentials.secrets["access_token"])
    assert account is not None
    return account


def faults(connector: SandboxConnector, **config) -> None:
    actions.set_faults(account_of(connector), config)


# -- the contract -----------------------------------------------------------------------


def test_the_registry_finds_the_sandbox():
    assert get_connector("sandbox") is CONNECTOR is SandboxConnector
    caps = SandboxConnector.capabilities
    assert caps.network == "sandbox" and caps.auth == AuthKind.BUILT_IN
    assert caps.threads and caps.first_comment and caps.search and caps.can_hide
    assert caps.post_metrics == POST_METRICS
    assert caps.setup_doc == "docs/sandbox.md"


def test_capabilities_per_flavour():
    x = capabilities_for("x")
    assert x.text.max_length == 280 and x.text.counting == TextCounting.WEIGHTED
    assert x.threads and x.media.max_images == 4 and not x.media.mix_images_and_video
    assert [(r.limit, r.window_seconds) for r in x.rate_limits if r.action == "publish"] == [
        (50, 900),
        (300, 10800),
    ]
    facebook = capabilities_for("facebook")
    assert facebook.text.max_length == 63_206 and not facebook.threads
    assert InteractionKind.REVIEW in facebook.interactions
    instagram = capabilities_for("Instagram-like")
    assert instagram.text.max_length == 2_200 and instagram.media.media_required
    assert instagram.media.image_types == ("image/jpeg",)
    assert InteractionKind.REVIEW not in instagram.interactions
    with pytest.raises(ValueError):
        capabilities_for("myspace")


def test_connect_verify_and_account_metrics(db):
    result = wsgi_connector().connect_with_fields(
        {"flavour": "Twitter", "name": "Oasis Coffee", "topics": "coffee,food"}
    )
    assert result.account.handle == "@oasis_coffee"
    assert result.account.followers and result.account.followers > 500
    assert result.credentials.secrets["access_token"].startswith("sbx_")
    assert result.credentials.data["flavour"] == "x"
    assert result.credentials.secrets["access_token"] not in repr(result.credentials)
    connector = wsgi_connector(result.credentials)
    info = connector.verify()
    assert info.remote_id == result.account.remote_id and info.display_name == "Oasis Coffee"
    metrics = connector.account_metrics()
    assert set(metrics.values) == {"followers", "following", "posts"}
    assert connector.account_capabilities().text.max_length == 280
    with pytest.raises(Rejected):
        wsgi_connector().connect_with_fields({"flavour": "myspace", "name": "x"})


def test_publish_with_thread_and_first_comment_then_lookup(connector):
    request = PostRequest(
        text="Our new espresso blend #coffee",
        link="https://oasis.example/blend",
        thread=("Part two", "Part three"),
        first_comment="Menu: https://oasis.example/menu",
        idempotency_key="attempt-1",
    )
    result = connector.publish(request)
    assert result.remote_id.startswith("p") and len(result.thread_ids) == 2
    assert result.url.endswith(f"/sandbox/@oasis_coffee/{result.remote_id}")
    assert result.ref == RemoteRef(result.remote_id, result.url)
    assert SandboxPost.objects.count() == 4
    again = connector.publish(request)  # a retry makes nothing new
    assert again.remote_id == result.remote_id and again.thread_ids == result.thread_ids
    assert SandboxPost.objects.count() == 4
    found = connector.lookup(idempotency_key="attempt-1")
    assert found is not None and found.remote_id == result.remote_id
    assert connector.lookup(idempotency_key="never") is None
    assert connector.lookup(remote_id=result.remote_id).text.startswith("Our new")
    assert connector.lookup(remote_id="p999999") is None
    with pytest.raises(NotSupported):
        connector.publish(PostRequest(text="quote", quote=RemoteRef("p1")))


def test_post_metrics_after_simulated_time(connector):
    post = connector.publish(PostRequest(text="Our new espresso blend #coffee"))
    zero = connector.post_metrics([post.remote_id])[post.remote_id]
    assert set(zero.values) == POST_METRICS and set(zero.values.values()) == {0}
    actions.advance(account_of(connector), 24 * 3600)
    metrics = connector.post_metrics([post.remote_id, "p999999"])
    assert set(metrics) == {post.remote_id}  # unknown posts are left out, not zero
    values = metrics[post.remote_id].values
    assert values["impressions"] >= values["reach"] > 0 and values["likes"] > 0


def test_interactions_page_with_a_cursor_and_replies(connector):
    connector.publish(PostRequest(text="What is your favourite coffee? #coffee"))
    actions.advance(account_of(connector), 3 * 86400)
    items, cursor = [], ""
    for _ in range(50):
        page = connector.interactions(cursor)
        items += page.items
        if not page.cursor:
            break
        cursor = page.cursor
    assert items and len({i.remote_id for i in items}) == len(items)
    kinds = {i.kind for i in items}
    assert {InteractionKind.COMMENT, InteractionKind.LIKE} <= kinds
    assert connector.interactions(cursor).items == []
    comment = next(i for i in items if i.kind == InteractionKind.COMMENT)
    assert comment.author.handle.startswith("@") and comment.text and comment.language
    assert comment.post is not None and comment.ref is not None
    like = next(i for i in items if i.kind == InteractionKind.LIKE)
    assert like.ref is None  # activity, not something to answer
    answer = connector.reply(comment.ref, PostRequest(text="Thank you!", idempotency_key="r-1"))
    assert answer.remote_id.startswith("p")
    connector.hide(comment.ref)
    connector.delete_interaction(comment.ref)
    connector.delete_interaction(comment.ref)  # already gone: fine
    messages = [i for i in items if i.kind == InteractionKind.DIRECT_MESSAGE]
    assert messages and messages[0].conversation_id.startswith("dm-")
    assert connector.reply(messages[0].ref, PostRequest(text="Happy to help")).remote_id
    thread = connector.reply(comment.post, PostRequest(text="More on this"))
    assert thread.remote_id.startswith("p")


def test_search_and_delete(connector):
    post = connector.publish(PostRequest(text="Coffee #coffee"))
    actions.advance(account_of(connector), 3 * 86400)
    page = connector.search("coffee")
    assert page.items and all("coffee" in i.text.lower() for i in page.items)
    connector.delete(post.remote_id)
    connector.delete(post.remote_id)  # deleting twice is not an error
    assert connector.lookup(remote_id=post.remote_id) is None


# -- errors ----------------------------------------------------------------------------


def test_429_is_rate_limited_with_retry_after_from_the_headers(connector):
    faults(connector, fail_next=["rate_limited"], retry_after=7)
    with pytest.raises(RateLimited) as caught:
        connector.verify()
    assert caught.value.retry_after == 7.0 and caught.value.status == 429


def test_posting_limit_is_rate_limited_until_the_window_frees(connector):
    faults(connector, publish_limits=[[1, 600]])
    connector.publish(PostRequest(text="one"))
    with pytest.raises(RateLimited) as caught:
        connector.publish(PostRequest(text="two"))
    assert 590 <= caught.value.retry_after <= 600


def test_5xx_is_temporary(connector):
    faults(connector, fail_next=["server_error"])
    with pytest.raises(TemporaryError):
        connector.publish(PostRequest(text="not made", idempotency_key="k-503"))
    assert connector.lookup(idempotency_key="k-503") is None
    faults(connector, fail_next=["ambiguous"])  # a 500 on a read: just try again
    with pytest.raises(TemporaryError):
        connector.account_metrics()
    faults(connector, fail_next=["timeout"], stall_seconds=0)
    with pytest.raises(TemporaryError):
        connector.verify()


def test_ambiguous_failure_is_outcome_unknown_and_lookup_finds_the_post(connector):
    faults(connector, fail_next=["ambiguous"])
    request = PostRequest(text="Did it go out?", idempotency_key="k-ambiguous")
    with pytest.raises(OutcomeUnknown):
        connector.publish(request)
    found = connector.lookup(idempotency_key="k-ambiguous")
    assert found is not None and found.text == "Did it go out?"
    assert connector.publish(request).remote_id == found.remote_id  # the retry is safe
    assert SandboxPost.objects.filter(idempotency_key="k-ambiguous").count() == 1
    faults(connector, fail_next=["ambiguous_timeout"], stall_seconds=0)
    with pytest.raises(OutcomeUnknown):
        connector.publish(PostRequest(text="And this?", idempotency_key="k-504"))
    assert connector.lookup(idempotency_key="k-504") is not None


def test_a_revoked_token_asks_for_a_reconnect(connector):
    actions.rotate_token(account_of(connector))
    with pytest.raises(AuthExpired):
        connector.verify()
    with pytest.raises(AuthExpired):
        wsgi_connector(Credentials()).verify()


def test_only_the_configured_sandbox_address_skips_the_outbound_guard(connector, settings):
    settings.MINBAR_ALLOW_PRIVATE_URLS = False
    connector.verify()  # Minbar's own address (MINBAR_BASE_URL) is trusted
    elsewhere = wsgi_connector(
        Credentials(
            secrets=connector.credentials.secrets,
            data={**connector.credentials.data, "server_url": "http://10.1.2.3:8000"},
        )
    )
    with pytest.raises(UnsafeURL):
        elsewhere.verify()
    settings.MINBAR_SANDBOX_URL = "http://10.1.2.3:8000"
    assert elsewhere._api_url() == "http://10.1.2.3:8000/sandbox/api/v1"


def test_calls_reuse_idle_clients_and_calls_at_once_each_borrow_their_own(monkeypatch):
    """Kept-alive connections outlive a call, but two calls never share one client's pool."""
    from minbar.connectors.sandbox import connector as module

    base = "http://127.0.0.1:9/sandbox/api/v1"  # never called: clients are only made
    monkeypatch.setattr(module, "_idle", {})
    first, second = module._borrow(base), module._borrow(base)
    assert first is not second  # both in use at once
    module._give_back(base, first)
    module._give_back(base, second)
    assert module._borrow(base) is second  # the last given back, its connection warmest
    assert module._borrow(base) is first
    monkeypatch.setattr(module, "KEPT_IDLE", 1)
    module._give_back(base, first)
    module._give_back(base, second)  # one idle client is enough: this one is closed
    assert second.is_closed and not first.is_closed
    first.close()
