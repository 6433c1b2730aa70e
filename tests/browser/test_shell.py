"""The page frame in a real browser: sign-in, workspace switching, Arabic, sign-out, a11y."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FloatRect, Locator, Page, expect

from conftest import PASSWORD, make_workspace
from minbar.accounts.models import User

from .conftest import chromium_missing_message

pytestmark = pytest.mark.browser

AR_SCREENSHOT = "/tmp/minbar-ar-dashboard.png"

# Runs in the page; returns a list of accessibility problems (empty when fine).
A11Y_CHECKS = r"""
() => {
  const problems = [];
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== "hidden" && style.display !== "none";
  };
  const text = (el) => (el ? el.textContent.replace(/\s+/g, " ").trim() : "");
  const describe = (el) =>
    el.outerHTML.replace(/\s+/g, " ").slice(0, 120);
  const namedBy = (el) =>
    (el.getAttribute("aria-labelledby") || "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => text(document.getElementById(id)))
      .join(" ")
      .trim();

  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !visible(el)) continue;
    const byLabel = Array.from(el.labels || []).some((label) => text(label));
    const byAria = (el.getAttribute("aria-label") || "").trim();
    if (!byLabel && !byAria && !namedBy(el)) {
      problems.push("form control without a label: " + describe(el));
    }
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) {
      problems.push("label points at a missing control: " + describe(label));
    }
  }

  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) {
    problems.push("expected exactly one <h1>, found " + h1s.length);
  } else if (!text(h1s[0])) {
    problems.push("the <h1> is empty");
  }

  for (const img of document.querySelectorAll("img, input[type=image]")) {
    if (!img.hasAttribute("alt") && !img.getAttribute("aria-label") && !namedBy(img)) {
      problems.push("image without a text alternative (alt): " + describe(img));
    }
  }
  for (const svg of document.querySelectorAll("svg")) {
    if (svg.closest("[aria-hidden=true]")) continue;
    const title = svg.querySelector(":scope > title");
    if (!(svg.getAttribute("aria-label") || "").trim() && !namedBy(svg) && !text(title)) {
      problems.push("svg without a text alternative (aria-label, <title>, or aria-hidden): "
        + describe(svg));
    }
  }
  for (const el of document.querySelectorAll("a[href], button, summary")) {
    if (!visible(el) && !el.classList.contains("skip-link")) continue;
    const name = text(el) || (el.getAttribute("aria-label") || "").trim() || namedBy(el)
      || (el.getAttribute("title") || "").trim()
      || Array.from(el.querySelectorAll("img[alt]")).map((i) => i.alt).join(" ").trim();
    if (!name) problems.push("link or button without an accessible name: " + describe(el));
  }

  // Text in the page frame and the headings is readable (WCAG AA contrast).
  const rgb = (value) => (value.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const backgroundOf = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = rgb(getComputedStyle(node).backgroundColor);
      if (bg.length >= 3 && (bg.length < 4 || bg[3] > 0)) return bg;
    }
    return [255, 255, 255];
  };
  const framed = "header a, header summary, header button, nav.sidebar a, h1, h2";
  for (const el of document.querySelectorAll(framed)) {
    if (!visible(el) || !text(el)) continue;
    const [fg, bg] = [luminance(rgb(getComputedStyle(el).color)), luminance(backgroundOf(el))];
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) {
      problems.push("text contrast " + ratio.toFixed(2) + ":1 is below 4.5:1: " + describe(el));
    }
  }

  const html = document.documentElement;
  if (!html.lang) problems.push("<html> has no lang");
  if (!document.title.trim()) problems.push("the page has no <title>");
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    if (ids[el.id]) problems.push("duplicate id: " + el.id);
    ids[el.id] = true;
  }
  return problems;
}
"""


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    return found


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def switch_language(page: Page, code: str) -> None:
    page.get_by_test_id("language-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def assert_direction(page: Page, code: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", code)
    expect(html).to_have_attribute("dir", "rtl" if code == "ar" else "ltr")


def assert_accessible(page: Page, where: str) -> None:
    problems = page.evaluate(A11Y_CHECKS)
    assert problems == [], f"accessibility problems on {where}:\n  " + "\n  ".join(problems)
    # The first Tab from the top of the page lands on the skip link, which
    # then moves focus to the main content.
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            skipLink: el.classList.contains("skip-link"),
            html: el.outerHTML.replace(/\\s+/g, " ").slice(0, 120),
            onScreen: el.getBoundingClientRect().top >= 0,
            autofocus: document.querySelector("[autofocus]")?.outerHTML.slice(0, 120) ?? null,
          };
        }"""
    )
    assert focused["skipLink"], (
        f"the first Tab on {where} focused {focused['html']}, not the skip link"
        + (
            f" (an autofocus field took focus first: {focused['autofocus']})"
            if focused["autofocus"]
            else ""
        )
    )
    assert focused["onScreen"], f"the focused skip link stays off-screen on {where}"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main", (
        f"the skip link on {where} does not move focus to <main>"
    )


def test_chromium_is_installed():
    problem = chromium_missing_message()
    assert problem is None, problem


def test_sign_in_lands_on_the_workspace_dashboard(page: Page, world, page_problems):
    sign_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/w/acme/$"))
    expect(page.locator("h1")).to_have_text("Acme Roasters")
    expect(page.get_by_test_id("workspace-switcher").locator("summary")).to_contain_text(
        "Acme Roasters"
    )
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    assert_direction(page, "en")
    assert page_problems.unexpected() == []


def test_workspace_switcher_changes_workspace(page: Page, world, page_problems):
    make_workspace("Zephyr Bakery", "zephyr", world.alice)
    sign_in(page, "alice")
    expect(page.locator("h1")).to_have_text("Acme Roasters")

    switcher = page.get_by_test_id("workspace-switcher")
    menu_link = switcher.get_by_role("link", name=re.compile("Zephyr Bakery"))
    expect(menu_link).to_be_hidden()
    switcher.locator("summary").click()
    expect(switcher).to_have_attribute("open", "")
    expect(switcher.get_by_role("link", name=re.compile("Acme Roasters"))).to_have_attribute(
        "aria-current", "page"
    )
    menu_link.click()

    expect(page).to_have_url(re.compile(r"/w/zephyr/$"))
    expect(page.locator("h1")).to_have_text("Zephyr Bakery")
    expect(switcher.locator("summary")).to_contain_text("Zephyr Bakery")
    expect(page).to_have_title(re.compile("Zephyr Bakery"))
    # Escape closes the menu again (app.js).
    switcher.locator("summary").click()
    expect(switcher).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(switcher).not_to_have_attribute("open", "")
    assert page_problems.unexpected() == []


def test_arabic_is_right_to_left_translated_and_remembered(
    page: Page, world, arabic, page_problems
):
    sign_in(page, "alice")
    expect(page.locator("h1")).to_have_text("Acme Roasters")
    assert_direction(page, "en")
    sidebar, main = page.locator("nav.sidebar"), page.locator("main")
    side_box, main_box = box(sidebar), box(main)
    assert side_box["x"] + side_box["width"] <= main_box["x"] + 1, "sidebar not on the left in LTR"

    switch_language(page, "ar")
    assert_direction(page, "ar")
    expect(page).to_have_url(re.compile(r"/w/acme/$"))
    expect(sidebar).to_contain_text(arabic["Dashboard"])
    expect(sidebar).to_contain_text(arabic["Members"])
    expect(sidebar).not_to_contain_text("Dashboard")
    expect(page.get_by_role("navigation", name=arabic["Main navigation"])).to_be_visible()
    expect(page.locator("#you-heading")).to_have_text(arabic["Your role"])
    expect(page.locator(".big").first).to_have_text(arabic["Owner"])
    expect(page.locator(".brand")).to_contain_text(arabic["Minbar"])
    expect(page.get_by_test_id("language-switch")).to_have_text("English")
    expect(page).to_have_title(re.compile(arabic["Dashboard"]))

    side_box, main_box = box(sidebar), box(main)
    assert side_box["x"] >= main_box["x"] + main_box["width"] - 1, (
        f"sidebar {side_box} should be right of main {main_box} in RTL"
    )
    viewport = page.viewport_size
    assert viewport is not None
    assert abs(side_box["x"] + side_box["width"] - viewport["width"]) <= 1, (
        "the sidebar should touch the right edge in RTL"
    )
    # The brand sits at the start (right) of the top bar, the user menu at its end (left).
    brand_box = box(page.locator(".brand"))
    user_box = box(page.locator("details.user-menu summary"))
    assert brand_box["x"] > user_box["x"], "top bar is not mirrored in RTL"
    page.screenshot(path=AR_SCREENSHOT, full_page=True)

    page.reload()
    assert_direction(page, "ar")
    expect(sidebar).to_contain_text(arabic["Dashboard"])
    world.alice.refresh_from_db()
    assert world.alice.language == "ar"

    # Other pages follow the saved choice too.
    page.goto("/w/acme/members/")
    assert_direction(page, "ar")
    expect(page.locator("h1")).to_have_text(arabic["Members"])

    switch_language(page, "en")
    assert_direction(page, "en")
    expect(page.locator("h1")).to_have_text("Members")
    expect(page).to_have_url(re.compile(r"/w/acme/members/$"))
    assert User.objects.get(pk=world.alice.pk).language == "en"
    assert page_problems.unexpected() == []


def test_sign_out(page: Page, world, page_problems):
    sign_in(page, "alice")
    expect(page.locator("h1")).to_have_text("Acme Roasters")
    logout = page.get_by_test_id("logout")
    expect(logout).to_be_hidden()
    page.locator("details.user-menu summary").click()
    expect(logout).to_be_visible()
    logout.click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("h1")).to_have_text("Sign in to Minbar")
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    expect(page.locator("details.user-menu")).to_have_count(0)

    page.goto("/w/acme/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/w/acme/$"))
    expect(page.get_by_label("Username", exact=True)).to_be_visible()
    assert page_problems.unexpected() == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pages_are_accessible(page: Page, world, language, page_problems):
    page.goto("/accounts/login/")
    if language == "ar":
        switch_language(page, "ar")  # anonymous: remembered in a cookie
    assert_direction(page, language)
    assert_accessible(page, f"the login page ({language})")

    if language == "ar":
        # Alice's saved choice, which wins once she is signed in.
        world.alice.language = "ar"
        world.alice.save(update_fields=["language"])
    page.goto("/accounts/login/")  # drop the #main the skip link left in the URL
    assert_direction(page, language)
    page.locator("input[name=username]").fill("alice")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/w/acme/$"))
    assert_direction(page, language)
    if language == "ar":
        expect(page.locator("nav.sidebar")).not_to_contain_text("Dashboard")

    page.goto("/w/acme/")
    assert_accessible(page, f"the dashboard ({language})")
    page.goto("/w/acme/members/")
    expect(page.get_by_test_id("members-table")).to_be_visible()
    assert_accessible(page, f"the members page ({language})")
    assert page_problems.unexpected() == []


def test_outsider_gets_a_404(page: Page, world, page_problems):
    sign_in(page, "charlie")
    expect(page).to_have_url(re.compile(r"/w/globex/$"))
    response = page.goto("/w/acme/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text("Acme Roasters")
    for path in ("/w/acme/members/", "/w/acme/settings/", "/w/acme/audit/", "/w/acme/m/inbox/"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
    assert page_problems.unexpected("status of 404") == []
