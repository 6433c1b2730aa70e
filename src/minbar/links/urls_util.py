"""Destinations, UTM tags, short codes and short addresses: pure functions, no database."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput

# No 0/O, 1/l/I: codes are read aloud and typed from print.
CODE_ALPHABET = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 7
MAX_DESTINATION = 2000
CLICK_PARAM = "mb_click"
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_destination(url: str) -> str:
    """A full http(s) address with a host and no credentials; anything else is refused."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        message = _("Enter a full address starting with https:// or http://.")
        raise InvalidInput(message, fields={"destination": message})
    if parts.username or parts.password:
        message = _("Put no user name or password in the address.")
        raise InvalidInput(message, fields={"destination": message})
    if len(url) > MAX_DESTINATION or any(c in url for c in "\r\n\t "):
        message = _("The address is too long or contains spaces.")
        raise InvalidInput(message, fields={"destination": message})
    return url


def with_params(url: str, params: dict[str, str]) -> str:
    """``url`` with the non-empty ``params`` set, replacing those names; the rest kept."""
    given = {k: v for k, v in params.items() if v}
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in given]
    query += list(given.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def without_param(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode(query)))


def tagged_url(destination: str, utm: dict[str, str]) -> str:
    """The destination with its UTM tags: what the redirect sends people to."""
    return with_params(destination, {k: utm.get(k, "") for k in UTM_FIELDS})


def clean_domain(raw: str) -> str:
    """A bare host name (``go.example.com``), or empty for Minbar's own address."""
    value = (raw or "").strip().lower().rstrip("/")
    if value.startswith(("http://", "https://")):
        value = urlsplit(value).netloc
    if not value:
        return ""
    labels = value.split(".")
    ok = len(value) <= 200 and len(labels) >= 2
    ok = ok and all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    )
    if not ok:
        message = _("Enter a host name such as go.example.com, without a path.")
        raise InvalidInput(message, fields={"short_domain": message})
    return value


def link_path() -> str:
    return str(getattr(settings, "MINBAR_LINKS_PATH", "l")).strip("/") or "l"


def short_base(short_domain: str = "") -> str:
    """``https://go.example.com/l/`` or ``<MINBAR_BASE_URL>/l/``."""
    if short_domain:
        return f"https://{short_domain}/{link_path()}/"
    return f"{str(settings.MINBAR_BASE_URL).rstrip('/')}/{link_path()}/"


def short_url(code: str, short_domain: str = "") -> str:
    return short_base(short_domain) + code
