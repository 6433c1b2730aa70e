"""Who is acting and from where; passed to every action so the audit log is complete."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest

if TYPE_CHECKING:
    from minbar.accounts.models import User


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, trusting X-Forwarded-For only through configured proxies."""
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.MINBAR_TRUSTED_PROXIES
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            remote = forwarded[-hops]
    if remote is None:
        return None
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip: str | None = None
    user_agent: str = ""
    via: str = "web"

    @classmethod
    def from_request(cls, request: HttpRequest, via: str = "web") -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            via=via,
        )

    @classmethod
    def cli(cls, user: User | None = None) -> Actor:
        return cls(user=user, ip=None, user_agent="minbar cli", via="cli")

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, ip=None, user_agent="", via="system")
