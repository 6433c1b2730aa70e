"""What the post's history calls each event, in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

EVENT_LABELS: dict[str, StrOrPromise] = {
    "created": _("created the post"),
    "edited": _("edited the post"),
    "restored": _("restored an earlier version"),
    "submitted": _("submitted it for approval"),
    "approved": _("approved"),
    "changes_requested": _("asked for changes"),
    "rejected": _("rejected it"),
    "cancelled": _("cancelled it"),
    "rescheduled": _("moved it to another time"),
    "retried": _("asked to try again"),
    "target.claimed": _("started publishing"),
    "target.published": _("published"),
    "target.failed": _("could not publish"),
    "target.held": _("held it for a person to decide"),
    "target.needs_check": _("is checking whether it went out"),
    "target.rate_limited": _("waits for the network's rate limit"),
    "target.reaped": _("recovered it from a stopped worker"),
    "target.reconciled": _("checked it on the network"),
    "target.retried": _("tried again"),
    "target.retry": _("will try again"),
    "target.unconfirmed": _("cannot tell yet whether it went out"),
    "target.waiting": _("waits for the posting limit"),
}
