"""Sending the outbox: claim due deliveries, POST them signed, retry with backoff.

At least once: a worker that dies after the receiver answered but before the
delivery is marked leaves it ``delivering``; the reaper puts it back and it is
sent again with the same ``Minbar-Delivery`` id, which receivers dedupe on.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar import __version__
from minbar.connectors.http import shared_tls_context
from minbar.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from minbar.webhooks.signing import HEADER, sign

logger = logging.getLogger("minbar.webhooks")

USER_AGENT = f"Minbar-Webhooks/{__version__}"
RESPONSE_LIMIT = 1000
# Minutes to hours to a day: a receiver down for a deploy gets the event within
# minutes, one down for a weekend still gets it.
DEFAULT_SCHEDULE = (60, 300, 1800, 7200, 21600, 43200, 86400)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def retry_schedule() -> tuple[float, ...]:
    return tuple(_setting("MINBAR_WEBHOOK_RETRY_SCHEDULE", DEFAULT_SCHEDULE))


def timeout() -> float:
    return float(_setting("MINBAR_WEBHOOK_TIMEOUT", 10.0))


def disable_after() -> timedelta:
    """An endpoint that has failed without a single success for this long is turned off."""
    return timedelta(days=float(_setting("MINBAR_WEBHOOK_DISABLE_AFTER_DAYS", 3)))


def disable_after_failed() -> int:
    """…or after this many deliveries in a row that used up all their retries."""
    return int(_setting("MINBAR_WEBHOOK_DISABLE_AFTER_FAILED", 5))


def stuck_after() -> timedelta:
    return timedelta(seconds=timeout() * 3 + 60)


def backoff(attempts: int) -> timedelta | None:
    """The wait after the ``attempts``-th failed attempt; None when retries are used up."""
    schedule = retry_schedule()
    if attempts > len(schedule):
        return None
    base = float(schedule[attempts - 1])
    # Jitter spreads a burst of events to one endpoint that came back up.
    return timedelta(seconds=base * random.uniform(1.0, 1.2))


def worker_name() -> str:
    return f"{socket.gethostname().split('.')[0][:40]}:{os.getpid()}"[:100]


# -- claiming ---------------------------------------------------------------------------


def due(moment: datetime) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__lte=moment, endpoint__active=True
    )


def claim(worker: str, limit: int, moment: datetime | None = None) -> list[WebhookDelivery]:
    """Make up to ``limit`` due deliveries this worker's; no two workers get the same one.

    PostgreSQL skips rows another worker has locked; on both databases the
    conditional UPDATE (``state = pending``) is the claim: rowcount 1 means ours.
    """
    moment = moment or timezone.now()
    claimed: list[int] = []
    with transaction.atomic():
        candidates = due(moment).order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        for pk in list(candidates.values_list("pk", flat=True)[:limit]):
            won = WebhookDelivery.objects.filter(pk=pk, state=DeliveryState.PENDING).update(
                state=DeliveryState.DELIVERING,
                claimed_at=moment,
                claimed_by=worker,
                attempts=F("attempts") + 1,
            )
            if won == 1:
                claimed.append(pk)
    return list(
        WebhookDelivery.objects.filter(pk__in=claimed)
        .select_related("endpoint__workspace")
        .order_by("next_attempt_at", "id")
    )


def reap_stuck(moment: datetime | None = None) -> int:
    """Deliveries left ``delivering`` by a worker that died go back to the outbox."""
    moment = moment or timezone.now()
    return WebhookDelivery.objects.filter(
        state=DeliveryState.DELIVERING, claimed_at__lt=moment - stuck_after()
    ).update(state=DeliveryState.PENDING, next_attempt_at=moment)


# -- sending ----------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str = ""
    response: str = ""
    # No point retrying (the address is refused): fail now.
    permanent: bool = False


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(delivery: WebhookDelivery, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Minbar-Event": delivery.event_type,
        "Minbar-Delivery": str(delivery.uid),
        HEADER: sign(secret, body),
    }


class Refused(Exception):
    """The address is internal, or not https where that is required."""


class NotFoundHost(Exception):
    """The server name does not resolve."""


@dataclass
class Pinned:
    """Where to connect: the address checked, so DNS cannot change it before the request."""

    url: str
    host_header: str
    sni_hostname: str | None


def pin(url: str) -> Pinned:
    """Resolve the endpoint's host once, check every address, and connect to the one checked.

    Resolving for the check and again for the request would let a DNS server
    answer "public" the first time and "internal" the second (DNS rebinding).
    """
    parts = urlsplit(url)
    allow_private = bool(getattr(settings, "MINBAR_ALLOW_PRIVATE_URLS", False))
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise Refused
    if parts.scheme != "https" and not allow_private:
        raise Refused
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not literal.is_global and not allow_private:
            raise Refused
        return Pinned(url=url, host_header=parts.netloc, sni_hostname=None)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise NotFoundHost from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise NotFoundHost
    if not allow_private and any(not ipaddress.ip_address(a).is_global for a in addresses):
        raise Refused
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return Pinned(
        url=urlunsplit(parts._replace(netloc=netloc)),
        host_header=f"{host}:{parts.port}" if parts.port else host,
        sni_hostname=host if parts.scheme == "https" else None,
    )


def send(delivery: WebhookDelivery) -> Outcome:
    """POST one delivery. Errors are short and name no secret (not even the URL's query)."""
    endpoint = delivery.endpoint
    body = body_bytes(delivery.payload)
    try:
        target = pin(endpoint.url)
    except Refused:
        return Outcome(
            ok=False,
            error="Refused: the address is internal or not https; Minbar will not call it.",
            permanent=True,
        )
    except NotFoundHost:
        return Outcome(ok=False, error="The server name cannot be found.")
    limit = timeout()
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(limit, connect=min(limit, 5.0)),
                follow_redirects=False,
                trust_env=False,
                verify=shared_tls_context(),  # built once, not ~50 ms of CPU per delivery
            ) as client,
            client.stream(
                "POST",
                target.url,
                content=body,
                headers={
                    **request_headers(delivery, endpoint.secret, body),
                    "Host": target.host_header,
                },
                extensions={"sni_hostname": target.sni_hostname} if target.sni_hostname else {},
            ) as response,
        ):
            text = _read_some(response)
    except httpx.TimeoutException:
        return Outcome(ok=False, error=f"No answer within {limit:g} s.")
    except httpx.HTTPError as exc:
        return Outcome(ok=False, error=f"Could not connect ({type(exc).__name__}).")
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, status=response.status_code, response=text)
    return Outcome(
        ok=False,
        status=response.status_code,
        error=f"The endpoint answered {response.status_code}.",
        response=text,
    )


def _read_some(response: httpx.Response) -> str:
    """The start of the answer only: receivers may return anything."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= RESPONSE_LIMIT * 4:
            break
    return data.decode(errors="replace")[:RESPONSE_LIMIT]


def deliver(delivery: WebhookDelivery, worker: str) -> Outcome:
    """Send a claimed delivery and record what happened."""
    started = time.monotonic()
    try:
        outcome = send(delivery)
    except Exception as exc:  # a bug must not leave the row claimed until the reaper
        logger.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        outcome = Outcome(ok=False, error=f"Internal error ({type(exc).__name__}).")
    logger.info(
        "webhook %s %s to endpoint %s: %s in %.0f ms",
        delivery.event_type,
        delivery.uid,
        delivery.endpoint_id,
        outcome.status or outcome.error,
        (time.monotonic() - started) * 1000,
    )
    record_outcome(delivery, worker, outcome)
    return outcome


def record_outcome(delivery: WebhookDelivery, worker: str, outcome: Outcome) -> None:
    moment = timezone.now()
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_by=worker).exclude(
        state=DeliveryState.DELIVERED
    )
    common = {
        "last_status_code": outcome.status,
        "last_error": outcome.error[:300],
        "last_response": outcome.response[:RESPONSE_LIMIT],
        "last_attempt_at": moment,
    }
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if outcome.ok:
        with transaction.atomic():
            mine.update(state=DeliveryState.DELIVERED, delivered_at=moment, **common)
            endpoints.update(consecutive_failures=0, failing_since=None, last_success_at=moment)
        return
    wait = None if outcome.permanent else backoff(delivery.attempts)
    with transaction.atomic():
        if wait is None:
            mine.update(state=DeliveryState.FAILED, **common)
        else:
            mine.update(state=DeliveryState.PENDING, next_attempt_at=moment + wait, **common)
        endpoints.update(
            consecutive_failures=F("consecutive_failures") + 1,
            last_failure_at=moment,
            failing_since=Coalesce(F("failing_since"), moment),
        )
    _maybe_disable(delivery.endpoint_id, moment, gave_up=wait is None)


def _maybe_disable(endpoint_id: int, moment: datetime, *, gave_up: bool) -> None:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None or endpoint.failing_since is None:
        return
    days = disable_after()
    if endpoint.failing_since <= moment - days:
        reason = _("Every delivery failed for %(days)s days.") % {"days": f"{days.days:g}"}
    elif gave_up:
        given_up = WebhookDelivery.objects.filter(
            endpoint=endpoint, state=DeliveryState.FAILED
        ).filter(
            Q(last_attempt_at__gte=endpoint.last_success_at) if endpoint.last_success_at else Q()
        )
        limit = disable_after_failed()
        if given_up.count() < limit:
            return
        reason = _("%(count)s deliveries in a row failed after all their retries.") % {
            "count": limit
        }
    else:
        return
    from minbar.webhooks.actions import disable_failing

    disable_failing(endpoint, reason)


# -- passes -----------------------------------------------------------------------------


def deliver_due(
    worker: str | None = None, *, limit: int | None = None, budget: float | None = None
) -> int:
    """One pass: reap, then claim and send in small batches, within a count and a time budget."""
    worker = worker or worker_name()
    limit = int(_setting("MINBAR_WEBHOOK_PASS_LIMIT", 200)) if limit is None else limit
    budget = float(_setting("MINBAR_WEBHOOK_PASS_SECONDS", 45)) if budget is None else budget
    reap_stuck()
    started = time.monotonic()
    handled = 0
    while handled < limit and time.monotonic() - started < budget:
        batch = claim(worker, min(10, limit - handled))
        if not batch:
            break
        for delivery in batch:
            deliver(delivery, worker)
            handled += 1
    return handled


def keep_days() -> int:
    return int(_setting("MINBAR_WEBHOOK_KEEP_DAYS", 30))


def purge_old(moment: datetime | None = None, chunk: int = 1000) -> int:
    """Forget finished deliveries older than ``MINBAR_WEBHOOK_KEEP_DAYS``; returns how many."""
    cutoff = (moment or timezone.now()) - timedelta(days=keep_days())
    removed = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(
                state__in=(DeliveryState.DELIVERED, DeliveryState.FAILED), created_at__lt=cutoff
            ).values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return removed
        removed += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]


KICK_KEY = "minbar.webhooks.kick-queued"
# A queued pass that never started (a worker killed) stops covering new events after this.
KICK_STALE_SECONDS = 30.0


def kick() -> None:
    """Run a delivery pass once the current transaction commits.

    A burst of events (a hundred posts going out at 09:00) enqueues one pass, not a
    hundred: while a pass is queued and has not started yet it will see every
    delivery committed before it starts, so no second one is needed.
    """

    def enqueue() -> None:
        from huey.contrib.djhuey import HUEY

        from minbar.webhooks.tasks import deliver_soon

        try:
            queued = HUEY.get(KICK_KEY, peek=True)
            if queued is not None and time.time() - float(queued) < KICK_STALE_SECONDS:
                return
            HUEY.put(KICK_KEY, time.time())
            deliver_soon()
        except Exception:
            # The per-minute pass sends it anyway.
            logger.warning("could not enqueue a webhook delivery pass", exc_info=True)

    transaction.on_commit(enqueue)


def kick_started() -> None:
    """Called by the queued pass as it starts: events committed from now on need a new kick."""
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.delete(KICK_KEY)
    except Exception:
        logger.warning("could not clear the webhook kick marker", exc_info=True)
