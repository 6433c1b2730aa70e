"""Small pieces: Google's timestamps and names, capabilities, the cursor."""

from __future__ import annotations

from datetime import UTC, datetime

from minbar.connectors.google_business import GoogleBusinessConnector
from minbar.connectors.google_business.connector import _Sweep
from minbar.connectors.google_business.mapping import location_id, v4_location, when
from minbar.connectors.registry import get_connector
from minbar.connectors.types import POST_METRIC_KEYS, InteractionKind, PostType


def test_nanosecond_timestamps_are_read() -> None:
    assert when("2014-10-02T15:01:23.045123456Z") == datetime(
        2014, 10, 2, 15, 1, 23, 45123, tzinfo=UTC
    )
    assert when("2014-10-02T15:01:23Z") == datetime(2014, 10, 2, 15, 1, 23, tzinfo=UTC)
    assert when("2014-10-02T15:01:23+05:30") is not None
    assert when("yesterday") is None and when(None) is None


def test_location_names_in_both_forms() -> None:
    assert location_id("accounts/9/locations/123") == "locations/123"
    assert location_id("locations/123") == "locations/123"
    assert v4_location("accounts/9", "locations/123") == "accounts/9/locations/123"


def test_the_registry_finds_the_connector_and_its_capabilities_are_honest() -> None:
    assert get_connector("google_business") is GoogleBusinessConnector
    caps = GoogleBusinessConnector.capabilities
    assert caps.post_types == {PostType.TEXT, PostType.LINK, PostType.IMAGE}
    assert caps.interactions == {InteractionKind.REVIEW}
    assert caps.post_metrics <= set(POST_METRIC_KEYS) and not caps.post_metrics
    assert caps.account_metrics == {"impressions"}
    assert caps.setup_doc == "docs/networks/google_business.md"
    assert caps.rate_limits[0].limit == 300 and caps.rate_limits[0].window_seconds == 60


def test_a_damaged_cursor_starts_afresh() -> None:
    assert _Sweep.parse("not json") == _Sweep()
    assert _Sweep.parse("[1]") == _Sweep()
    sweep = _Sweep(since="2024-01-01T00:00:00Z", edge=["a"], at=5.0)
    assert _Sweep.parse(sweep.dump()) == sweep
