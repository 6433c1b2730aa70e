"""Goal pages: the list with progress and charts, the form, and goal cards for dashboards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from minbar.analytics import actions, charts, reports
from minbar.analytics import goals as g
from minbar.analytics.models import Goal, TargetKind
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, NotFound
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm


class GoalForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=200,
        help_text=gettext_lazy("For example: more conversions from the spring campaign."),
    )
    metric = forms.ChoiceField(label=gettext_lazy("Metric"))
    target_kind = forms.ChoiceField(
        label=gettext_lazy("Target"),
        choices=TargetKind.choices,
        initial=TargetKind.PERCENT,
    )
    target_value = forms.DecimalField(
        label=gettext_lazy("Target value"),
        max_digits=18,
        decimal_places=4,
        help_text=gettext_lazy(
            "A percentage (15 for +15 %), or the value to reach: rates in percent, "
            "response time in minutes. Lower-is-better metrics count a decrease."
        ),
        widget=forms.NumberInput(attrs={"step": "any", "dir": "ltr"}),
    )
    start_day = forms.DateField(
        label=gettext_lazy("First day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    end_day = forms.DateField(
        label=gettext_lazy("Last day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    channel_id = forms.TypedChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("Leave empty for the whole workspace, or choose a tag instead."),
    )
    tag = forms.CharField(
        label=gettext_lazy("Campaign tag"),
        max_length=101,
        required=False,
        help_text=gettext_lazy("Posts with this tag, such as launch."),
    )
    owner_id = forms.TypedChoiceField(
        label=gettext_lazy("Owner"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("Told when the goal falls behind, with the workspace's admins."),
    )

    def __init__(self, *args: Any, access: WorkspaceAccess, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice = cast("dict[str, forms.ChoiceField]", self.fields)
        choice["metric"].choices = [(m.key, m.label) for m in g.METRICS.values()]
        choice["channel_id"].choices = [("", _("Whole workspace"))] + [
            (c.pk, f"{c.handle} ({reports.network_label(c.network)})")
            for c in Channel.objects.filter(workspace=access.workspace).order_by("handle")
        ]
        choice["owner_id"].choices = [("", _("Me"))] + [
            (m.user_id, m.user.get_full_name() or m.user.username)
            for m in Membership.objects.filter(workspace=access.workspace)
            .select_related("user")
            .order_by("user__username")
        ]

    def goal_input(self) -> actions.GoalInput:
        data = self.cleaned_data
        return actions.GoalInput(
            name=data["name"],
            metric=data["metric"],
            target_kind=data["target_kind"],
            target_value=data["target_value"],
            start_day=data["start_day"],
            end_day=data["end_day"],
            channel_id=data["channel_id"],
            tag=data["tag"],
            owner_id=data["owner_id"],
        )


def _apply_errors(form: GoalForm, exc: ActionError) -> None:
    for name, text in exc.fields.items():
        form.add_error(name if name in form.fields else None, text)
    # "Please correct the goal" adds nothing to the fields' own errors; other messages do.
    unshown = any(name not in form.fields for name in exc.fields)
    if not exc.fields or unshown or exc.message != _("Please correct the goal."):
        form.add_error(None, exc.message)


# -- what a goal looks like ----------------------------------------------------------------


def goal_card(summary: g.GoalSummary, *, rtl: bool) -> dict[str, Any]:
    """What the goal card template draws for one summary."""
    metric = g.METRICS[summary.metric]
    text = actions.value_text
    typed_whole = summary.target_value == summary.target_value.to_integral_value()
    if summary.target_kind == TargetKind.PERCENT:
        sign = "\u2212" if metric.lower_is_better else "+"
        aim = _("%(sign)s%(n)s%% over the baseline") % {
            "sign": sign,
            "n": charts.number(float(summary.target_value), 0 if typed_whole else 1),
        }
    else:
        aim = _("reach %(value)s") % {"value": text(metric, summary.target)}
    progress = summary.progress
    return {
        "summary": summary,
        "id": summary.goal_id,
        "aim": aim,
        "baseline": text(metric, summary.baseline),
        "target": text(metric, summary.target),
        "current": text(metric, summary.current),
        "projection": text(metric, summary.projection),
        "progress_value": charts.coordinate(min(progress, 1.0) * 100)
        if progress is not None
        else None,
        "progress_text": charts.percent(progress, 0) if progress is not None else "—",
        "projection_note": _("at the current pace") if metric.additive else _("the current value"),
        "chart": charts.goal_chart(
            summary.start_day,
            summary.end_day,
            summary.series,
            additive=summary.additive,
            target=summary.target,
            projection=summary.projection if summary.status not in ("achieved", "missed") else None,
            rtl=rtl,
            caption=_("%(metric)s from %(first)s: measured, projected and the target")
            % {
                "metric": summary.metric_label,
                "first": charts.formats.date_format(summary.start_day, "SHORT_DATE_FORMAT"),
            },
        )
        if summary.series
        else None,
    }


def goal_cards(summaries: list[g.GoalSummary]) -> list[dict[str, Any]]:
    rtl = translation.get_language_bidi()
    return [goal_card(s, rtl=rtl) for s in summaries]


def dashboard_goals(access: WorkspaceAccess, scope: reports.AnalyticsScope) -> list[dict[str, Any]]:
    """The goals of the scope a dashboard shows (none for a single post)."""
    if scope.kind == "post":
        return []
    channel_id = None
    if scope.kind == "channel" and scope.store.channel_ids:
        channel_id = scope.store.channel_ids[0]
    return goal_cards(
        g.goal_summaries(
            access.workspace, channel_id=channel_id, tag=scope.store.tag or None, cached=True
        )
    )


# -- pages ---------------------------------------------------------------------------------


@workspace_view(Perm.VIEW_ANALYTICS)
def goal_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    summaries = g.all_summaries(g.reading_access(access.workspace), cached=True)
    goals = {goal.pk: goal for goal in actions.goals_for(access)}
    cards = goal_cards(summaries)
    for card in cards:
        card["goal"] = goals[card["id"]]
    return render(
        request,
        "analytics/goals.html",
        {
            "cards": cards,
            "can_manage": access.can(Perm.MANAGE_CAMPAIGNS),
            "at_risk_share": charts.percent(g.AT_RISK_SHARE, 0),
        },
    )


def _form_page(
    request: HttpRequest, access: WorkspaceAccess, form: GoalForm, goal: Goal | None
) -> HttpResponse:
    return render(
        request,
        "analytics/goal_form.html",
        {"form": form, "goal": goal},
        status=422 if form.is_bound and form.errors else 200,
    )


def _get(access: WorkspaceAccess, goal_id: int) -> Goal:
    try:
        return actions.get_goal(access, goal_id)
    except NotFound:
        raise Http404 from None


@workspace_view(Perm.MANAGE_CAMPAIGNS)
def goal_create(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    today = timezone.localdate()
    initial: dict[str, Any] = {
        "start_day": today,
        "end_day": today + timedelta(days=89),
        "target_kind": TargetKind.PERCENT,
        "metric": "conversions",
        "tag": request.GET.get("tag", ""),
    }
    if request.GET.get("channel", "").isdigit():
        initial["channel_id"] = int(request.GET["channel"])
    form = GoalForm(request.POST or None, initial=initial, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            goal = actions.create_goal(Actor.from_request(request), access, form.goal_input())
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The goal was created."))
            return redirect(f"{_goals_url(access)}#goal-{goal.pk}")
    return _form_page(request, access, form, None)


@workspace_view(Perm.MANAGE_CAMPAIGNS)
def goal_edit(request: HttpRequest, access: WorkspaceAccess, goal_id: int) -> HttpResponse:
    goal = _get(access, goal_id)
    initial = {
        "name": goal.name,
        "metric": goal.metric,
        "target_kind": goal.target_kind,
        "target_value": goal.target_value.normalize(),
        "start_day": goal.start_day,
        "end_day": goal.end_day,
        "channel_id": goal.channel_id,
        "tag": goal.tag,
        "owner_id": goal.owner_id,
    }
    form = GoalForm(request.POST or None, initial=initial, access=access)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_goal(Actor.from_request(request), access, goal.pk, form.goal_input())
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The goal was saved."))
            return redirect(f"{_goals_url(access)}#goal-{goal.pk}")
    return _form_page(request, access, form, goal)


@workspace_view(Perm.MANAGE_CAMPAIGNS)
def goal_delete(request: HttpRequest, access: WorkspaceAccess, goal_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    if request.method != "POST":
        return render(request, "analytics/goal_delete.html", {"goal": _get(access, goal_id)})
    try:
        actions.delete_goal(Actor.from_request(request), access, goal_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The goal was deleted."))
    return redirect(_goals_url(access))


@workspace_view(Perm.MANAGE_CAMPAIGNS)
@require_POST
def goal_baseline(request: HttpRequest, access: WorkspaceAccess, goal_id: int) -> HttpResponse:
    try:
        actions.recompute_baseline(Actor.from_request(request), access, goal_id)
    except NotFound:
        raise Http404 from None
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The baseline was measured again."))
    return redirect(f"{_goals_url(access)}#goal-{goal_id}")


def _goals_url(access: WorkspaceAccess) -> str:
    from django.urls import reverse

    return reverse("analytics:goals", args=[access.workspace.slug])
