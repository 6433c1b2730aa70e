"""Profile metrics from the Performance API; no metrics per post.

https://developers.google.com/my-business/reference/performance/rest/v1/locations/fetchMultiDailyMetricsTimeSeries
and the removal of localPosts.reportInsights:
https://developers.google.com/my-business/content/performance/change-log
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from minbar.connectors.errors import NotSupported
from minbar.connectors.google_business.tests.conftest import Connected
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile
from minbar.connectors.types import ACCOUNT_METRIC_KEYS


def _days_ago(n: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


def test_impressions_sum_the_four_search_and_maps_series(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    location = shop.result.account.remote_id
    fake.set_metric(
        location,
        "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
        {_days_ago(2).date(): 40, _days_ago(3).date(): 2},
    )
    fake.set_metric(location, "BUSINESS_IMPRESSIONS_DESKTOP_MAPS", {_days_ago(5).date(): 8})
    fake.set_metric(location, "WEBSITE_CLICKS", {_days_ago(2).date(): 6})
    fake.set_metric(location, "CALL_CLICKS", {_days_ago(4).date(): 3})
    fake.set_metric(location, "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH", {_days_ago(60).date(): 999})
    metrics = shop.connector.account_metrics()
    assert metrics.values == {"impressions": 50}
    assert set(metrics.values) <= set(ACCOUNT_METRIC_KEYS)
    (call,) = fake.calls("GET", ":fetchMultiDailyMetricsTimeSeries")
    query = call[2]
    assert "WEBSITE_CLICKS" in query["dailyMetrics"] and len(query["dailyMetrics"]) == 7
    yesterday = _days_ago(1).date()
    assert query["dailyRange.end_date.day"] == [str(yesterday.day)]


def test_the_actions_google_counts_are_read_in_its_own_words(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    location = shop.result.account.remote_id
    fake.set_metric(location, "WEBSITE_CLICKS", {_days_ago(2).date(): 6, _days_ago(3).date(): 1})
    fake.set_metric(location, "BUSINESS_DIRECTION_REQUESTS", {})
    totals = shop.connector.performance_totals(days=7)
    assert totals == {"WEBSITE_CLICKS": 7, "BUSINESS_DIRECTION_REQUESTS": 0}


def test_a_series_with_only_zero_days_is_zero_and_no_series_is_absent(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    assert shop.connector.account_metrics().values == {}
    fake.set_metric(shop.result.account.remote_id, "BUSINESS_IMPRESSIONS_MOBILE_MAPS", {})
    assert shop.connector.account_metrics().values == {"impressions": 0}


def test_posts_have_no_metrics_since_google_removed_post_insights(shop: Connected) -> None:
    with pytest.raises(NotSupported, match="reportInsights"):
        shop.connector.post_metrics(["accounts/1/locations/2/localPosts/3"])
    assert shop.connector.account_capabilities().post_metrics == frozenset()
