"""A post's saved versions side by side: what changed between two snapshots, word by word."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

# Words (any script), runs of spaces, and single other characters (emoji, punctuation).
TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    # "same", "added" or "removed"
    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    label: StrOrPromise
    segments: list[Segment]


def word_diff(before: str, after: str) -> list[Segment]:
    """Segments that turn ``before`` into ``after``; neighbouring ones of a kind are merged."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    segments: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("same", "".join(old[i1:i2]))
        else:
            add("removed", "".join(old[i1:i2]))
            add("added", "".join(new[j1:j2]))
    return segments


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_as_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_as_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def _variants(snapshot: dict[str, Any], channel_names: dict[int, str]) -> str:
    lines = []
    for target in snapshot.get("targets", []):
        name = channel_names.get(int(target.get("channel", 0)), str(target.get("channel")))
        lines.append(f"{name}: {target.get('text') or '—'}")
        if target.get("first_comment"):
            lines.append(f"{name} ↳ {target['first_comment']}")
    return "\n".join(lines)


FIELDS: tuple[tuple[str, StrOrPromise], ...] = (
    ("text", _("Text")),
    ("link", _("Link")),
    ("first_comment", _("First comment")),
    ("thread", _("Thread")),
    ("media", _("Media")),
    ("tags", _("Tags")),
    ("notes", _("Internal notes")),
    ("scheduled_at", _("Scheduled for")),
)


def changes(
    before: dict[str, Any], after: dict[str, Any], channel_names: dict[int, str]
) -> list[FieldChange]:
    """The fields that differ between two snapshots, each as a word diff."""
    found = []
    for key, label in FIELDS:
        old, new = _as_text(before.get(key)), _as_text(after.get(key))
        if old != new:
            found.append(FieldChange(label, word_diff(old, new)))
    old_variants = _variants(before, channel_names)
    new_variants = _variants(after, channel_names)
    if old_variants != new_variants:
        found.append(
            FieldChange(_("Channels and their variants"), word_diff(old_variants, new_variants))
        )
    return found
