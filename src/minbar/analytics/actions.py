"""Every change to goals: create, edit, delete, re-measure the baseline, the daily check.

Views, the API and the Huey task call these; they check the caller's role.
Viewing goals needs ``VIEW_ANALYTICS``; changing them needs ``MANAGE_CAMPAIGNS``
(editors, admins and owners: the people who run campaigns set their targets).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from minbar.accounts.models import User
from minbar.analytics import goals as g
from minbar.analytics.models import Goal, TargetKind
from minbar.audit.actions import record
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm

logger = logging.getLogger("minbar.analytics")

MAX_GOAL_DAYS = 366
MAX_TARGET = Decimal("100000000000000")


@dataclass(frozen=True)
class GoalInput:
    name: str
    metric: str
    target_kind: str
    target_value: Decimal | float | str | None
    start_day: date | None
    end_day: date | None
    channel_id: int | None = None
    tag: str = ""
    owner_id: int | None = None
    time_zone: str = ""


def goals_for(access: WorkspaceAccess):  # type: ignore[no-untyped-def]
    if not access.can(Perm.VIEW_ANALYTICS):
        raise NotAllowed(_("Your role cannot see analytics."))
    return Goal.objects.filter(workspace=access.workspace).select_related("channel", "owner")


def get_goal(access: WorkspaceAccess, goal_id: int) -> Goal:
    goal = goals_for(access).filter(pk=goal_id).first()
    if goal is None:
        raise NotFound(_("No such goal."))
    return goal


def _require_manage(access: WorkspaceAccess) -> None:
    if not access.can(Perm.MANAGE_CAMPAIGNS):
        raise NotAllowed(_("Your role cannot manage goals."))


def _zone_name(access: WorkspaceAccess, actor: Actor, typed: str) -> str:
    name = typed or getattr(actor.user, "time_zone", "") or access.workspace.time_zone or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("Unknown time zone “%(zone)s”.") % {"zone": name},
            fields={"time_zone": _("Use a name such as Asia/Riyadh.")},
        ) from None
    return name


def _clean(access: WorkspaceAccess, actor: Actor, data: GoalInput) -> dict[str, object]:
    """Checked fields, or InvalidInput naming every problem found."""
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("Give the goal a name.")
    elif len(name) > 200:
        errors["name"] = _("Use at most 200 characters.")
    metric = g.METRICS.get(data.metric)
    if metric is None:
        errors["metric"] = _("Choose a metric from the list.")
    if data.target_kind not in TargetKind.values:
        errors["target_kind"] = _("Choose a value to reach or a change in percent.")
    target: Decimal | None = None
    try:
        target = None if data.target_value in (None, "") else Decimal(str(data.target_value))
    except InvalidOperation:
        target = None
    if target is None or not target.is_finite():
        errors["target_value"] = _("Enter the target as a number.")
    elif target <= 0:
        errors["target_value"] = _("Enter a target above zero.")
    elif target >= MAX_TARGET:
        errors["target_value"] = _("Enter a smaller target.")
    elif (
        metric is not None
        and metric.lower_is_better
        and data.target_kind == TargetKind.PERCENT
        and target >= 100
    ):
        errors["target_value"] = _(
            "A lower-is-better metric can drop by less than 100 %; enter a smaller percentage."
        )
    elif (
        metric is not None
        and metric.kind == "rate"
        and data.target_kind == TargetKind.ABSOLUTE
        and target > 100
    ):
        errors["target_value"] = _("A rate cannot be above 100 %.")
    if data.start_day is None:
        errors["start_day"] = _("Enter the first day.")
    if data.end_day is None:
        errors["end_day"] = _("Enter the last day.")
    if data.start_day and data.end_day:
        if data.end_day < data.start_day:
            errors["end_day"] = _("The last day must be on or after the first day.")
        elif (data.end_day - data.start_day).days + 1 > MAX_GOAL_DAYS:
            errors["end_day"] = _("A goal lasts at most %(n)s days.") % {"n": MAX_GOAL_DAYS}
    tag = (data.tag or "").strip().lstrip("#")
    channel_id = data.channel_id or None
    if channel_id is not None and tag:
        errors["tag"] = _("Choose one channel or one tag, not both.")
    elif channel_id is not None:
        if not Channel.objects.filter(workspace=access.workspace, pk=channel_id).exists():
            errors["channel_id"] = _("No such channel in this workspace.")
    elif len(tag) > 100:
        errors["tag"] = _("Give a tag of 1 to 100 characters.")
    if metric is not None and tag and "tag" not in metric.scopes:
        errors["metric"] = _(
            "%(metric)s is measured for the workspace or one channel, not for a tag."
        ) % {"metric": metric.label}
    owner_id = data.owner_id or (actor.user.pk if actor.user else None)
    if (
        owner_id is not None
        and not Membership.objects.filter(workspace=access.workspace, user_id=owner_id).exists()
    ):
        errors["owner_id"] = _("The owner must be a member of this workspace.")
    zone = ""
    try:
        zone = _zone_name(access, actor, data.time_zone)
    except InvalidInput as exc:
        errors.update(exc.fields)
    if errors:
        raise InvalidInput(_("Please correct the goal."), fields=errors)
    return {
        "name": name,
        "metric": data.metric,
        "target_kind": data.target_kind,
        "target_value": target,
        "start_day": data.start_day,
        "end_day": data.end_day,
        "channel_id": channel_id,
        "tag": tag,
        "owner_id": owner_id,
        "time_zone": zone,
    }


def _day(day: date) -> str:
    return str(formats.date_format(day, "DATE_FORMAT"))


def _measure_baseline(access: WorkspaceAccess, goal: Goal) -> None:
    """Store the baseline; a percent target without a usable one is refused, saying why."""
    goal.baseline = g.compute_baseline(g.reading_access(access.workspace), goal)
    goal.baseline_computed_at = timezone.now()
    if goal.target_kind != TargetKind.PERCENT:
        return
    before = g.baseline_period(goal)
    where = {
        "metric": g.METRICS[goal.metric].label,
        "first": _day(before.first_day),
        "last": _day(before.last_day),
    }
    if goal.baseline is None:
        raise InvalidInput(
            _(
                "A percentage needs a baseline, and %(metric)s was not measured from %(first)s "
                "to %(last)s (the days before the goal). Enter a value to reach instead."
            )
            % where,
            fields={"target_kind": _("No baseline to take a percentage of.")},
        )
    if goal.baseline == 0:
        raise InvalidInput(
            _(
                "A percentage needs a baseline above zero, and %(metric)s was 0 from %(first)s "
                "to %(last)s (the days before the goal). Enter a value to reach instead."
            )
            % where,
            fields={"target_kind": _("The baseline is 0: any percentage of it is 0.")},
        )


def create_goal(actor: Actor, access: WorkspaceAccess, data: GoalInput) -> Goal:
    _require_manage(access)
    fields = _clean(access, actor, data)
    goal = Goal(workspace=access.workspace, created_by=actor.user, **fields)
    _measure_baseline(access, goal)
    with transaction.atomic():
        goal.save()
        record(
            actor,
            "goal.created",
            workspace=access.workspace,
            target=goal,
            data={"metric": goal.metric, "baseline": goal.baseline},
        )
    return goal


def update_goal(actor: Actor, access: WorkspaceAccess, goal_id: int, data: GoalInput) -> Goal:
    _require_manage(access)
    goal = get_goal(access, goal_id)
    fields = _clean(access, actor, data)
    # The baseline depends on what is measured and when; anything else keeps it.
    remeasure = any(
        getattr(goal, name) != fields[name]
        for name in ("metric", "start_day", "end_day", "channel_id", "tag", "time_zone")
    ) or (fields["target_kind"] == TargetKind.PERCENT and not goal.baseline)
    for name, value in fields.items():
        setattr(goal, name, value)
    if remeasure:
        _measure_baseline(access, goal)
        goal.alerted_behind = False
        goal.last_status = ""
    goal.updated_at = timezone.now()
    with transaction.atomic():
        goal.save()
        record(actor, "goal.updated", workspace=access.workspace, target=goal)
    return goal


def recompute_baseline(actor: Actor, access: WorkspaceAccess, goal_id: int) -> Goal:
    """Measure the baseline again (late data, a network reconnected)."""
    _require_manage(access)
    goal = get_goal(access, goal_id)
    _measure_baseline(access, goal)
    goal.updated_at = timezone.now()
    goal.save(update_fields=["baseline", "baseline_computed_at", "updated_at"])
    record(
        actor,
        "goal.baseline_recomputed",
        workspace=access.workspace,
        target=goal,
        data={"baseline": goal.baseline},
    )
    return goal


def delete_goal(actor: Actor, access: WorkspaceAccess, goal_id: int) -> None:
    _require_manage(access)
    goal = get_goal(access, goal_id)
    name = goal.name
    with transaction.atomic():
        goal.delete()
        record(actor, "goal.deleted", workspace=access.workspace, data={"name": name})


# -- the daily check -----------------------------------------------------------------


def _recipients(goal: Goal) -> list[User]:
    from minbar.notifications.actions import workspace_admins

    people = {u.pk: u for u in workspace_admins(goal.workspace)}
    if goal.owner is not None and goal.owner.is_active:
        still_member = Membership.objects.filter(workspace=goal.workspace, user=goal.owner).exists()
        if still_member:
            people[goal.owner.pk] = goal.owner
    return list(people.values())


def _alert_behind(goal: Goal, summary: g.GoalSummary) -> None:
    from minbar.notifications.actions import notify

    metric = g.METRICS[goal.metric]
    url = reverse("analytics:goals", args=[goal.workspace.slug]) + f"#goal-{goal.pk}"
    notify(
        _recipients(goal),
        kind="goal_behind",
        workspace=goal.workspace,
        title=lambda: _("Goal behind: %(name)s") % {"name": goal.name},
        body=lambda: (
            _(
                "At the current pace, %(metric)s will reach %(projection)s by %(end)s; "
                "the target is %(target)s."
            )
            % {
                "metric": metric.label,
                "projection": value_text(metric, summary.projection),
                "end": _day(goal.end_day),
                "target": value_text(metric, summary.target),
            }
        ),
        url=url,
    )


def value_text(metric: g.Metric, value: float | None) -> str:
    """A value of ``metric`` for people (in the active language)."""
    from minbar.analytics import charts
    from minbar.inbox.metrics import humanize_seconds

    if value is None:
        return "—"
    if metric.kind == "rate":
        return charts.percent(value)
    if metric.kind == "seconds":
        return humanize_seconds(value)
    if metric.kind in ("money", "average"):
        return charts.number(value, 2 if metric.kind == "money" else 1)
    return charts.number(value)


def check_goal(goal: Goal, *, today: date | None = None) -> str:
    """Measure one goal and alert once when it falls behind; returns its status.

    The check counts complete days only (up to yesterday in the goal's zone), so a
    quiet morning does not make a goal look behind. The alert goes out on the
    transition into "behind"; it is armed again when the goal recovers.
    """
    zone = g.zone_of(goal)
    as_of = today or timezone.now().astimezone(zone).date() - timedelta(days=1)
    summary = g.summarize(g.reading_access(goal.workspace), goal, today=as_of, series=False)
    with transaction.atomic():
        locked = Goal.objects.select_for_update().filter(pk=goal.pk).first()
        if locked is None:
            return summary.status
        alert = summary.status == "behind" and not locked.alerted_behind
        if summary.status == "behind":
            locked.alerted_behind = True
        elif summary.status in ("on_track", "at_risk", "achieved"):
            locked.alerted_behind = False
        locked.last_status = summary.status
        locked.last_checked_at = timezone.now()
        locked.save(update_fields=["alerted_behind", "last_status", "last_checked_at"])
        if alert:
            locked.workspace = goal.workspace
            locked.owner = goal.owner
            _alert_behind(locked, summary)
    return summary.status


def check_goals(today: date | None = None) -> int:
    """Check each goal still running (or just ended) not yet checked on its local day.

    Returns how many were checked. ``today`` forces a check of every such goal as of
    that day (tests, the CLI).
    """
    now = timezone.now()
    horizon = now.date() - timedelta(days=2)
    checked = 0
    for goal in Goal.objects.filter(end_day__gte=horizon).select_related("workspace", "owner"):
        zone = g.zone_of(goal)
        if (
            today is None
            and goal.last_checked_at is not None
            and goal.last_checked_at.astimezone(zone).date() == now.astimezone(zone).date()
        ):
            continue
        try:
            check_goal(goal, today=today)
        except Exception:
            # One goal's broken scope must not stop the others' alerts.
            logger.exception("analytics: checking goal %s failed", goal.pk)
            continue
        checked += 1
    return checked
