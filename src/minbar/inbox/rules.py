"""Inbox rules: conditions on a new item, and what to do when all of them hold.

Rules run in order on each item as it arrives (never on edits), before anyone sees
it. Network calls a rule asks for (an auto-reply, hiding a comment) are queued to
run after the item is saved, so ingestion stays fast and a slow network cannot
hold it up; their outcome is in the item's history.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from minbar.core.errors import InvalidInput
from minbar.inbox.hours import BusinessHours
from minbar.inbox.models import Item, ItemEvent, Kind, Priority, Rule, Status
from minbar.sentiment.lexicon import normalize_arabic

LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
CONDITION_KEYS = {
    "keywords",
    "exclude_keywords",
    "languages",
    "sentiments",
    "kinds",
    "channels",
    "has_link",
    "has_email",
    "min_followers",
    "vip",
    "hours",
}
ACTION_KEYS = {
    "add_tags",
    "assign_to",
    "round_robin",
    "priority",
    "hide",
    "close",
    "spam",
    "alert",
    "auto_reply",
}


def normalize(text: str) -> str:
    """Lower-case, no Arabic diacritics or tatweel, one form of alef/ya/ta marbuta."""
    return normalize_arabic(unicodedata.normalize("NFKC", text)).casefold()


ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# Arabic attaches conjunctions, prepositions and the article in front of a word and
# pronouns and plural endings behind it: "الاسترجاع" and "استرجاعي" contain "استرجاع".
AR_BEFORE = "(?:[\u0648\u0641\u0628\u0643\u0644])?(?:\u0627\u0644|\u0644\u0644)?"
AR_AFTER = (
    "(?:\u0647\u0627|\u0647\u0645|\u0643\u0645|\u0646\u0627|\u0627\u062a"
    "|\u064a\u0646|\u0648\u0646|[\u0647\u0643\u064a])?"
)


def _has_keyword(text: str, keywords: Sequence[str]) -> bool:
    for keyword in keywords:
        word = normalize(keyword.strip())
        if not word:
            continue
        core = re.escape(word)
        if ARABIC_LETTER.search(word):
            core = AR_BEFORE + core + AR_AFTER
        if re.search(rf"(?<!\w){core}(?!\w)", text):
            return True
    return False


@dataclass
class Context:
    """What rules need besides the item, loaded once per batch."""

    hours: BusinessHours
    now: datetime


def matches(rule: Rule, item: Item, context: Context) -> bool:
    c = rule.conditions
    text = normalize(item.text)
    checks: list[Callable[[], bool]] = []
    if c.get("keywords"):
        checks.append(lambda: _has_keyword(text, c["keywords"]))
    if c.get("exclude_keywords"):
        checks.append(lambda: not _has_keyword(text, c["exclude_keywords"]))
    if c.get("languages"):
        checks.append(lambda: item.language[:2] in c["languages"])
    if c.get("sentiments"):
        checks.append(lambda: item.sentiment in c["sentiments"])
    if c.get("kinds"):
        checks.append(lambda: item.kind in c["kinds"])
    if c.get("channels"):
        checks.append(lambda: item.channel_id in c["channels"])
    if c.get("has_link") is not None:
        checks.append(lambda: bool(LINK.search(item.text)) == c["has_link"])
    if c.get("has_email") is not None:
        checks.append(lambda: bool(EMAIL.search(item.text)) == c["has_email"])
    if c.get("min_followers") is not None:
        checks.append(
            lambda: (
                item.contact.followers is not None and item.contact.followers >= c["min_followers"]
            )
        )
    if c.get("vip") is not None:
        checks.append(lambda: item.contact.vip == c["vip"])
    if c.get("hours") in ("inside", "outside"):
        checks.append(
            lambda: context.hours.is_open(item.remote_created_at) == (c["hours"] == "inside")
        )
    return all(check() for check in checks)


@dataclass
class Outcome:
    """One rule that matched one item: what it changed, and what must run after saving."""

    item: Item
    rule: Rule
    done: dict[str, Any]


class Run:
    """Rules applied to a batch of new items in two steps, so the batch is saved at once.

    :meth:`decide` sets tags, priority, assignee and status on each item before it
    is inserted; :meth:`finish` (after the insert, when items have ids) writes the
    history, the rules' counters, and queues the network calls and alerts.
    """

    def __init__(self, rules: Sequence[Rule], context: Context) -> None:
        self.rules = [r for r in rules if r.enabled]
        self.context = context
        self.outcomes: list[Outcome] = []
        self.turns: dict[int, int] = {}

    def decide(self, item: Item) -> None:
        now = self.context.now
        for rule in self.rules:
            if not matches(rule, item, self.context):
                continue
            a = rule.actions
            done: dict[str, Any] = {"rule": rule.name}
            if a.get("add_tags"):
                item.tags = item.tags + [t for t in a["add_tags"] if t not in item.tags]
                done["tags"] = a["add_tags"]
            assignee = a.get("assign_to")
            if a.get("round_robin"):
                people = list(a["round_robin"])
                used = self.turns.get(rule.pk, 0)
                self.turns[rule.pk] = used + 1
                assignee = people[(rule.next_turn + used) % len(people)]
            if assignee and item.assignee_id is None:
                item.assignee_id, item.assigned_at = assignee, now
                done["assigned"] = assignee
            if a.get("priority") is not None:
                item.priority = int(a["priority"])
                done["priority"] = item.priority
            for flag, status in (("close", Status.CLOSED), ("spam", Status.SPAM)):
                if a.get(flag):
                    item.status, item.closed_at = status, now
                    done["status"] = status
            self.outcomes.append(Outcome(item, rule, done))
            if rule.stop:
                break

    def finish(self) -> None:
        from minbar.inbox import tasks

        saved = [o for o in self.outcomes if o.item.pk is not None]
        if not saved:
            return
        ItemEvent.objects.bulk_create(
            [ItemEvent(item=o.item, rule=o.rule, kind="rule", data=o.done) for o in saved]
        )
        matched: dict[int, int] = {}
        for outcome in saved:
            matched[outcome.rule.pk] = matched.get(outcome.rule.pk, 0) + 1
        for rule_id, count in matched.items():
            Rule.objects.filter(pk=rule_id).update(
                matched=F("matched") + count, next_turn=F("next_turn") + self.turns.get(rule_id, 0)
            )
        for outcome in saved:
            for wanted, task in (
                ("hide", tasks.hide_by_rule),
                ("alert", tasks.alert_by_rule),
                ("auto_reply", tasks.auto_reply),
            ):
                if outcome.rule.actions.get(wanted):
                    transaction.on_commit(partial(task, outcome.item.pk, outcome.rule.pk))


def validate(conditions: dict[str, Any], actions: dict[str, Any], members: set[int]) -> None:
    """Refuse rules that could not work, with what to fix."""
    fields: dict[str, str] = {}
    unknown = sorted(set(conditions) - CONDITION_KEYS) + sorted(set(actions) - ACTION_KEYS)
    if unknown:
        fields["rule"] = _("Unknown settings: %(names)s.") % {"names": ", ".join(unknown)}
    if not any(conditions.get(k) not in (None, "", []) for k in CONDITION_KEYS):
        fields["conditions"] = _("Give at least one condition, or the rule would match everything.")
    if not any(actions.get(k) not in (None, "", [], False) for k in ACTION_KEYS):
        fields["actions"] = _("Choose at least one thing to do.")
    for key in ("kinds",):
        if any(k not in Kind.values for k in conditions.get(key) or []):
            fields[key] = _("Unknown type.")
    people = [actions.get("assign_to"), *(actions.get("round_robin") or [])]
    for person in people + list(actions.get("alert") or []):
        if person is not None and person not in members:
            fields["assign_to"] = _("Choose members of this workspace who answer the inbox.")
    if actions.get("priority") is not None and actions["priority"] not in Priority.values:
        fields["priority"] = _("Choose low, normal, high or urgent.")
    if conditions.get("hours") not in (None, "", "inside", "outside"):
        fields["hours"] = _("Choose inside or outside business hours.")
    if fields:
        raise InvalidInput(_("The rule needs a fix."), fields=fields)
