"""Sort a user agent into a device class, or recognise it as a bot (never counted).

The bot list is documented in docs/links.md: crawlers and search engines, the
link-preview fetchers of social networks and chat apps (they open every link
that is posted), uptime monitors, and HTTP libraries and command-line tools
(people do not click through curl). A missing user agent is a bot too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from minbar.links.models import UaClass

BOT = "bot"

BOT_TOKENS: tuple[str, ...] = (
    # generic words crawlers use
    "bot",
    "crawl",
    "spider",
    "slurp",
    "scrape",
    "preview",
    "fetcher",
    "monitor",
    "headless",
    # link-preview fetchers of networks and chat apps (their in-app browsers, such as
    # FBAN/FBIOS, Instagram, LinkedInApp or Pinterest for iOS, are people and pass)
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "twitterbot",
    "linkedinbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "skypeuripreview",
    "embedly",
    "quora link preview",
    "redditbot",
    "mastodon",
    "bluesky",
    # search engines and SEO tools without "bot" in the name
    "google-inspectiontool",
    "googleother",
    "bingpreview",
    "yandex",
    "baiduspider",
    "duckduckgo",
    "petalbot",
    "ahrefs",
    "semrush",
    "mj12",
    # uptime checks
    "uptimerobot",
    "pingdom",
    "statuscake",
    # HTTP libraries and tools
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "apache-httpclient",
    "libwww-perl",
    "node-fetch",
    "axios/",
    "postmanruntime",
    "insomnia",
    "httpie",
)

_BOT = re.compile("|".join(re.escape(t) for t in BOT_TOKENS))
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))")
_MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|iemobile|windows phone")
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux|cros")


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> str:
    """``bot``, ``tablet``, ``mobile``, ``desktop`` or ``other`` (cached: agents repeat)."""
    ua = (user_agent or "").strip().lower()
    if not ua or _BOT.search(ua):
        return BOT
    if _TABLET.search(ua):
        return UaClass.TABLET.value
    if _MOBILE.search(ua):
        return UaClass.MOBILE.value
    if _DESKTOP.search(ua):
        return UaClass.DESKTOP.value
    return UaClass.OTHER.value


def is_bot(user_agent: str) -> bool:
    return classify(user_agent) == BOT
