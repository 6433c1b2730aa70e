"""Browser tests: the real UI in headless Chromium through Playwright."""
