"""Every error class of the contract, flood control, lost answers and lookups."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from minbar.connectors.errors import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.telegram.tests.conftest import FastTelegram, World
from minbar.connectors.telegram.tests.fake import FakeTelegram
from minbar.connectors.types import Credentials, PostRequest


def test_flood_control_is_rate_limited_with_telegrams_wait(world: World) -> None:
    world.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 17", parameters={"retry_after": 17}
    )
    with pytest.raises(RateLimited) as caught:
        world.connector.publish(PostRequest(text="hi"))
    assert caught.value.retry_after == 17
    assert "retry after 17" in caught.value.detail


def test_twenty_messages_a_minute_then_the_fake_says_wait(world: World) -> None:
    for number in range(20):
        world.connector.publish(PostRequest(text=f"post {number}"))
    with pytest.raises(RateLimited) as caught:
        world.connector.publish(PostRequest(text="one too many"))
    assert 0 < caught.value.retry_after <= 61
    rules = {(r.limit, r.window_seconds, r.scope) for r in world.connector.capabilities.rate_limits}
    assert (20, 60, "account") in rules and (30, 1, "app") in rules


def test_a_short_flood_wait_inside_a_thread_is_sat_out(world: World) -> None:
    world.fake.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 1",
        parameters={"retry_after": 1},
        after=1,  # the post goes out, its thread's second part meets flood control
    )
    result = world.connector.publish(PostRequest(text="1/2", thread=("2/2",)))
    assert [p["text"] for p in world.fake.channel_posts(world.channel)] == ["1/2", "2/2"]
    assert len(result.thread_ids) == 1


def test_flood_control_on_the_post_itself_is_left_to_the_engine(world: World) -> None:
    world.fake.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 1", parameters={"retry_after": 1}
    )
    with pytest.raises(RateLimited):
        world.connector.publish(PostRequest(text="1/2", thread=("2/2",)))
    assert world.fake.channel_posts(world.channel) == []


def test_a_long_flood_wait_mid_thread_resumes_without_doubling(world: World) -> None:
    connector = world.connector
    request = PostRequest(text="1/3", thread=("2/3", "3/3"), idempotency_key="key-1")
    original = connector._send

    calls = {"n": 0}

    def flaky(chat_id: int, part: Any, reply_to: int | None) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RateLimited("wait", retry_after=600)
        return original(chat_id, part, reply_to)

    connector._send = flaky  # type: ignore[method-assign]
    with pytest.raises(RateLimited):
        connector.publish(request)
    assert [p["text"] for p in world.fake.channel_posts(world.channel)] == ["1/3"]
    result = connector.publish(request)  # the engine's retry, same key, same process
    texts = [p["text"] for p in world.fake.channel_posts(world.channel)]
    assert texts == ["1/3", "2/3", "3/3"]
    assert len(result.thread_ids) == 2
    found = connector.lookup(idempotency_key="key-1")
    assert found is not None and found.remote_id == result.remote_id


def test_a_revoked_token_and_a_kicked_bot_need_a_person(world: World) -> None:
    world.fake.fail_next("sendMessage", 401, "Unauthorized")
    with pytest.raises(AuthExpired, match="@BotFather"):
        world.connector.publish(PostRequest(text="x"))
    world.fake.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the channel chat")
    with pytest.raises(AuthExpired, match="Add the bot back") as caught:
        world.connector.publish(PostRequest(text="x"))
    assert "kicked" in caught.value.detail


def test_a_bad_request_is_rejected_with_telegrams_words(world: World) -> None:
    world.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(Rejected) as caught:
        world.connector.publish(PostRequest(text="x"))
    assert "chat not found" in caught.value.message
    assert caught.value.status == 400


def test_a_server_error_on_a_write_is_unknown_on_a_read_temporary(world: World) -> None:
    world.fake.fail_next("sendMessage", 500, "Internal Server Error")
    with pytest.raises(OutcomeUnknown):
        world.connector.publish(PostRequest(text="x"))
    world.fake.fail_next("getChatMemberCount", 502, "Bad Gateway")
    with pytest.raises(TemporaryError):
        world.connector.account_metrics()


def test_a_lost_answer_is_unknown_and_lookup_by_id_settles_it(world: World) -> None:
    world.fake.fail_next("sendMessage", mode="drop")
    with pytest.raises(OutcomeUnknown):
        world.connector.publish(PostRequest(text="did it?", idempotency_key="k-lost"))
    # The message went out, but nothing says which id: the key cannot prove anything.
    assert world.connector.lookup(idempotency_key="k-lost") is None
    post = world.fake.channel_posts(world.channel)[-1]
    found = world.connector.lookup(remote_id=str(post["message_id"]))
    assert found is not None and found.url.endswith(f"/{post['message_id']}")
    assert "reply_markup" not in post  # the probe changed nothing
    world.connector.delete(found.remote_id)
    assert world.connector.lookup(remote_id=found.remote_id) is None


def test_a_slow_answer_times_out_as_unknown(world: World) -> None:
    connector = FastTelegram("", world.connector.credentials, timeout=0.5)
    world.fake.fail_next("sendMessage", mode="slow", delay=1.5)
    with pytest.raises(OutcomeUnknown, match="may have been sent"):
        connector.publish(PostRequest(text="slow"))


def test_an_unreachable_server_is_temporary(world: World, settings: Any) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    settings.MINBAR_NETWORK_APPS = {"telegram": {"api_url": f"http://127.0.0.1:{port}"}}
    connector = FastTelegram("", world.connector.credentials)
    with pytest.raises(TemporaryError, match="cannot reach"):
        connector.publish(PostRequest(text="x"))


def test_no_token_at_all_is_an_expired_connection(fake: FakeTelegram) -> None:
    connector = FastTelegram("", Credentials(data={"chat_id": -1001}))
    with pytest.raises(AuthExpired):
        connector.account_metrics()
