"""The shared pieces on their own: usage headers, cursors, appsecret_proof, message refs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from minbar.connectors.meta_graph.client import appsecret_proof
from minbar.connectors.meta_graph.cursor import Cursor, parse_time
from minbar.connectors.meta_graph.refs import dm_ref, parse_dm_ref
from minbar.connectors.meta_graph.usage import read_usage


def test_business_use_case_usage_takes_the_highest_share_and_the_wait_in_minutes() -> None:
    header = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "123": [
                    {
                        "type": "pages",
                        "call_count": 12,
                        "total_cputime": 97,
                        "total_time": 40,
                        "estimated_time_to_regain_access": 3,
                    },
                    {"type": "instagram", "call_count": 5, "total_cputime": 1, "total_time": 1},
                ]
            }
        )
    }
    usage = read_usage(header)
    assert usage is not None
    assert usage.percent == 97 and usage.regain_seconds == 180 and usage.near_limit


def test_app_usage_below_the_brake_is_not_near_the_limit() -> None:
    usage = read_usage({"x-app-usage": '{"call_count": 28, "total_time": 25, "total_cputime": 25}'})
    assert usage is not None and not usage.near_limit
    assert read_usage({"x-app-usage": "not json"}) is None
    assert read_usage({}) is None


def test_graph_times_and_webhook_times_parse() -> None:
    assert parse_time("2026-08-01T10:00:00+0000") == datetime(2026, 8, 1, 10, tzinfo=UTC)
    assert parse_time(1767225600) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time(1767225600000) == datetime(2026, 1, 1, tzinfo=UTC)  # milliseconds
    assert parse_time("") is None and parse_time("yesterday") is None


def test_cursor_round_trip_keeps_the_ids_of_the_newest_second() -> None:
    moment = datetime(2026, 8, 1, 10, tzinfo=UTC)
    cursor = Cursor().advanced([("a", moment), ("b", moment)])
    again = Cursor.parse(cursor.dump())
    assert again.at == moment and again.ids == {"a", "b"}
    assert not again.is_new("a", moment) and again.is_new("c", moment)
    assert Cursor.parse("").dump() == ""


def test_appsecret_proof_is_the_hmac_of_the_token() -> None:
    # echo -n token | openssl dgst -sha256 -hmac secret
    assert appsecret_proof("token", "secret") == (
        "e941110e3d2bfe82621f0e3e1434730d7305d106c5f68c87165d0b27a4611a4a"
    )


def test_direct_message_refs_round_trip() -> None:
    assert parse_dm_ref(dm_ref("psid:1", "1")) == ("psid:1", "1")
    assert parse_dm_ref("12345_678") is None
