"""Reports in a real browser: the dashboard's PDF button shows progress, then the file."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .test_analytics import measured  # noqa: F401 - the same measured workspace
from .test_shell import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_member_downloads_the_dashboard_as_an_arabic_pdf(
    page: Page,
    world,
    measured,  # noqa: F811
    page_problems,
):
    sign_in(page, "bob")
    page.goto("/w/acme/analytics/")
    assert_accessible(page, "the analytics dashboard with its PDF button")
    export = page.get_by_test_id("pdf-export")
    export.get_by_label("Language of the PDF").select_option("ar")
    export.get_by_role("button", name="Download PDF").click()
    ready = page.get_by_test_id("pdf-ready")
    expect(ready).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        ready.click()
    name = download.value.suggested_filename
    assert name.startswith("acme-workspace-report-") and name.endswith("-ar.pdf")
    with open(download.value.path(), "rb") as saved:
        assert saved.read(5) == b"%PDF-"
    page.get_by_role("link", name="Scheduled reports").click()
    expect(page.get_by_test_id("schedules")).to_contain_text("No scheduled reports yet.")
    assert page_problems.unexpected() == []
