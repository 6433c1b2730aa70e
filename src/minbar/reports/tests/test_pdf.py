"""The PDF report: what it shows, in English and in Arabic (shaped, right to left)."""

from __future__ import annotations

import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from pypdf import PdfReader

from minbar.analytics.reports import period_for, resolve_scope
from minbar.reports import pdf
from minbar.workspaces.access import access_for

RIYADH = ZoneInfo("Asia/Riyadh")


def _request(world, language: str, **scope) -> tuple[object, pdf.ReportRequest]:
    access = access_for(world.alice, "acme")
    period = period_for(RIYADH, timezone.now().astimezone(RIYADH).date(), days=30)
    return access, pdf.ReportRequest(resolve_scope(access, **scope), period, language)


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_english_pdf_has_cover_figures_charts_posts_and_definitions(world, measured):
    access, request = _request(world, "en")
    content = pdf.render_pdf(access, request)  # type: ignore[arg-type]
    assert content.startswith(b"%PDF-")
    text = _text(content)
    for expected in (
        "Acme Roasters",
        "Whole workspace",
        "Asia/Riyadh",
        "Europe/London",  # the generated time, in the workspace's zone
        "Key figures",
        "Engagements per day",
        "From impressions to conversions",
        "By network",
        "Top posts",
        "Bottom posts",
        "Iced latte is back",
        "When people engage",
        "How these numbers are computed",
    ):
        assert expected in text, expected
    # A counter a network does not give is named as such, never shown as 0.
    assert "not provided by Echo" in text
    assert "the links app is not installed" in text


def test_arabic_pdf_text_comes_out_as_joined_words_in_reading_order(world, measured):
    access, request = _request(world, "ar")
    content = pdf.render_pdf(access, request)  # type: ignore[arg-type]
    text = _text(content)
    # Words of the interface and of the posts are extracted whole, in logical order:
    # an unshaped or mirrored run (as WeasyPrint draws Arabic inside SVG <text>) is not.
    for word in ("الأرقام الرئيسية", "التفاعلات في اليوم", "أفضل المنشورات", "قهوة عربية طازجة"):
        assert word in text, word
    # "not provided by Echo" (the extractor may put the Latin name on either side).
    assert any("لا توفّره" in line and "Echo" in line for line in text.splitlines())
    assert "ةجزاط" not in text  # a reversed word would read backwards
    assert "ةيبرع" not in text


@pytest.mark.parametrize("language", ["en", "ar"])
def test_report_html_puts_no_text_inside_svg(world, measured, language):
    access, request = _request(world, language)
    html = pdf.report_html(access, request)  # type: ignore[arg-type]
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        assert "<text" not in svg
    # Tick labels are HTML under the chart, with unlocalized CSS positions.
    assert re.search(r'<span style="left: \d+\.\d\d%; transform: translateX\(', html)
    assert f'dir="{"rtl" if language == "ar" else "ltr"}"' in html


def test_report_of_one_channel_names_it_on_the_cover(world, measured):
    pulse, _echo = measured
    access, request = _request(world, "en", channel_id=pulse.pk)
    html = pdf.report_html(access, request)  # type: ignore[arg-type]
    assert "Channel @acme" in html
    assert "Echo news" not in html  # a post of the other channel


def test_report_sections_follow_the_declared_order(world, measured):
    access, request = _request(world, "en", tag="launch")
    html = pdf.report_html(access, request)  # type: ignore[arg-type]
    found = re.findall(r'data-section="(\w+)"', html)
    # A scope without goals has no goals section (never an empty one).
    assert found == ["cover", *(s for s in pdf.SECTIONS if s != "goals")]
    assert "Posts tagged #launch" in html


@pytest.mark.parametrize("language", ["en", "ar"])
def test_goals_of_the_scope_are_in_the_report(world, measured, language):
    from decimal import Decimal

    from minbar.analytics.actions import GoalInput, create_goal
    from minbar.core.actor import Actor

    access = access_for(world.alice, "acme")
    today = timezone.now().astimezone(RIYADH).date()
    goal = create_goal(
        Actor(user=world.alice),
        access,
        GoalInput(
            name="Launch engagements",
            metric="engagements",
            target_kind="absolute",
            target_value=Decimal(500),
            start_day=today.replace(day=1),
            end_day=today.replace(day=28),
            time_zone="Asia/Riyadh",
        ),
    )
    _access, request = _request(world, language)
    html = pdf.report_html(access, request)
    found = re.findall(r'data-section="(\w+)"', html)
    assert found[:3] == ["cover", "kpis", "goals"]
    row = html[html.index(f'data-goal="{goal.pk}"') :]
    assert "Launch engagements" in row
    assert ("الحالة" if language == "ar" else "Status") in html
    # The progress bar's width is never localized (an Arabic decimal comma breaks CSS).
    assert re.search(r'<div style="width: [0-9.]+%"></div>', row)
