"""Approval routes: steps with named approvers, clients, comments with mentions, reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user
from minbar.accounts.models import User
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.notifications.models import Notification
from minbar.publishing import actions, approvals
from minbar.publishing.actions import PolicyInput, PostInput, StepInput
from minbar.publishing.dispatcher import dispatch_due
from minbar.publishing.models import Post, PostState, TargetState
from minbar.workspaces.access import WorkspaceAccess, access_for
from minbar.workspaces.models import Membership


@pytest.fixture
def team(world):
    """Dave reviews legal matters (editor); Cliff is the brand's client; Ann an analyst."""
    dave = make_user("dave", first_name="Dave")
    cliff = make_user("cliff", first_name="Cliff")
    ann = make_user("ann")
    Membership.objects.create(user=dave, workspace=world.acme, role="editor")
    Membership.objects.create(user=cliff, workspace=world.acme, role="client")
    Membership.objects.create(user=ann, workspace=world.acme, role="analyst")
    return dave, cliff, ann


def _as(user: User, slug: str = "acme") -> tuple[Actor, WorkspaceAccess]:
    return Actor(user=user), access_for(user, slug)


def _two_steps(world, dave, cliff, **extra):
    return actions.update_approval_policy(
        *_as(world.alice),
        PolicyInput(
            applies_to=extra.pop("applies_to", "everyone"),
            steps=[StepInput("Legal", [dave.pk]), StepInput("Client", [cliff.pk])],
            **extra,
        ),
    )


def _write(user, channels, **extra) -> Post:
    extra.setdefault("text", "New single origin from Yirgacheffe")
    extra.setdefault("when", "at")
    extra.setdefault("scheduled_at", timezone.now() + timedelta(days=2))
    return actions.create_post(*_as(user), PostInput(channel_ids=[c.pk for c in channels], **extra))


def _titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_post_walks_two_named_steps_and_is_scheduled_after_the_last(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    assert post.state == PostState.AWAITING_APPROVAL
    assert [s["approvers"] for s in post.approval_steps] == [[dave.pk], [cliff.pk]]
    assert _titles(dave) == ["A post waits for your approval (Legal)"]
    assert _titles(cliff) == []

    with pytest.raises(NotAllowed, match="your own post"):
        actions.approve_post(*_as(world.bob), post.pk)
    actions.approve_post(*_as(dave), post.pk, "Claims checked")
    post.refresh_from_db()
    assert (post.state, post.approval_step) == (PostState.AWAITING_APPROVAL, 1)
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.AWAITING_APPROVAL}
    assert _titles(cliff) == ["A post waits for your approval (Client)"]
    with pytest.raises(NotAllowed, match="Client"):
        actions.approve_post(*_as(dave), post.pk)

    actions.approve_post(*_as(cliff), post.pk)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.SCHEDULED}
    decided = list(post.events.filter(kind="approved").values_list("actor", "data__step_name"))
    assert decided == [(dave.pk, "Legal"), (cliff.pk, "Client")]
    assert "Cliff approved your post" in _titles(world.bob)
    assert [s.status for s in approvals.route_status(post)] == ["done", "done"]


def test_nothing_awaiting_approval_is_published_even_when_due(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels, when="now")
    actions.approve_post(*_as(dave), post.pk)
    dispatch_due()
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.AWAITING_APPROVAL}


def test_an_admin_may_decide_a_step_they_are_not_named_on_and_it_is_recorded(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    actions.approve_post(*_as(world.alice), post.pk)
    event = post.events.get(kind="approved")
    assert event.data["override"] is True and event.actor == world.alice
    assert approvals.route_status(Post.objects.get(pk=post.pk))[0].override


def test_an_editor_not_named_on_the_step_is_told_who_decides_it(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    erin = make_user("erin")
    Membership.objects.create(user=erin, workspace=world.acme, role="editor")
    post = _write(world.bob, channels)
    with pytest.raises(NotAllowed, match="The step “Legal” is for Dave"):
        actions.approve_post(*_as(erin), post.pk)


def test_client_sees_only_posts_shared_with_them(world, channels, team):
    dave, cliff, _ann = team
    unshared = _write(world.bob, channels)  # default route: contributors only → scheduled
    _two_steps(world, dave, cliff)
    shared = _write(world.bob, channels)
    with pytest.raises(NotFound):
        actions.get_reviewable_post(access_for(cliff, "acme"), cliff, unshared.pk)
    assert actions.get_reviewable_post(access_for(cliff, "acme"), cliff, shared.pk) == shared

    client = Client()
    client.login(username="cliff", password=PASSWORD)
    assert client.get(f"/w/acme/publishing/posts/{unshared.pk}/").status_code == 404
    page = client.get(f"/w/acme/publishing/posts/{shared.pk}/")
    assert page.status_code == 200
    assert b"Yirgacheffe" in page.content and b'data-testid="approval-route"' in page.content
    assert client.get("/w/acme/publishing/").status_code == 403
    queue = client.get("/w/acme/publishing/approvals/")
    assert queue.status_code == 200 and f"/posts/{shared.pk}/".encode() not in queue.content
    actions.approve_post(*_as(dave), shared.pk)
    queue = client.get("/w/acme/publishing/approvals/")
    assert f"/posts/{shared.pk}/".encode() in queue.content


def test_outsider_gets_404_for_approvals_pages_and_another_workspaces_post(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    client = Client()
    client.login(username="charlie", password=PASSWORD)
    assert client.get("/w/acme/publishing/approvals/").status_code == 404
    assert client.get("/w/acme/publishing/approvals/settings/").status_code == 404
    assert client.post(f"/w/acme/publishing/posts/{post.pk}/approve/").status_code == 404
    with pytest.raises(NotFound):
        actions.get_reviewable_post(access_for(world.charlie, "globex"), world.charlie, post.pk)


def test_requesting_changes_then_resubmitting_starts_a_new_round(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    actions.approve_post(*_as(dave), post.pk)
    actions.request_changes(*_as(cliff), post.pk, "Mention the price")
    post.refresh_from_db()
    assert post.state == PostState.CHANGES_REQUESTED
    assert [s.status for s in approvals.route_status(post)] == ["done", "sent_back"]
    assert "Cliff asked for changes to your post" in _titles(world.bob)

    actions.update_post(
        *_as(world.bob),
        post.pk,
        PostInput(
            text="Now 12 SAR a cup",
            channel_ids=[c.pk for c in channels],
            when="at",
            scheduled_at=post.scheduled_at,
        ),
    )
    post.refresh_from_db()
    assert (post.state, post.approval_round, post.approval_step) == (
        PostState.AWAITING_APPROVAL,
        2,
        0,
    )
    assert [s.status for s in approvals.route_status(post)] == ["current", "pending"]


def test_rejected_post_stays_out_of_the_plan(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels, when="now")
    with pytest.raises(InvalidInput):
        actions.reject_post(*_as(dave), post.pk, " ")
    actions.reject_post(*_as(dave), post.pk, "Off brand")
    post.refresh_from_db()
    dispatch_due()
    assert post.state == PostState.REJECTED
    assert set(post.targets.values_list("state", flat=True)) == {TargetState.DRAFT}
    assert "Dave rejected your post" in _titles(world.bob)
    assert post.events.get(kind="rejected").message == "Off brand"


@pytest.mark.parametrize(
    ("reapprove", "expected"), [(True, "awaiting_approval"), (False, "scheduled")]
)
def test_editing_an_approved_post_follows_the_workspace_setting(
    world, channels, team, reapprove, expected
):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff, reapprove_on_edit=reapprove)
    post = _write(world.bob, channels)
    actions.approve_post(*_as(dave), post.pk)
    actions.approve_post(*_as(cliff), post.pk)
    actions.update_post(
        *_as(world.bob),
        post.pk,
        PostInput(
            text="Typo fixed",
            channel_ids=[c.pk for c in channels],
            when="at",
            scheduled_at=post.scheduled_at,
        ),
    )
    post.refresh_from_db()
    assert post.state == expected


def test_contributors_always_need_approval_even_when_edits_keep_it(
    world,
    channels,
    contributor,
):
    actions.update_approval_policy(
        *_as(world.alice), PolicyInput(applies_to="contributors", reapprove_on_edit=False)
    )
    post = _write(contributor, channels)
    assert post.state == PostState.AWAITING_APPROVAL
    assert post.approval_steps == [{"name": "", "approvers": []}]
    # Without named approvers, every editor, admin and owner is asked.
    assert "A post waits for your approval (Approval)" in _titles(world.bob)
    actions.approve_post(*_as(world.bob), post.pk)
    actions.update_post(
        *_as(contributor),
        post.pk,
        PostInput(
            text="x",
            channel_ids=[c.pk for c in channels],
            when="at",
            scheduled_at=post.scheduled_at,
        ),
    )
    post.refresh_from_db()
    assert post.state == PostState.AWAITING_APPROVAL


def test_policy_is_checked_and_only_admins_change_it(world, team):
    dave, _cliff, ann = team
    with pytest.raises(NotAllowed):
        actions.update_approval_policy(*_as(world.bob), PolicyInput())
    with pytest.raises(InvalidInput) as exc:
        actions.update_approval_policy(
            *_as(world.alice),
            PolicyInput(
                applies_to="sometimes",
                reminder_after_hours=999,
                steps=[StepInput("", [dave.pk]), StepInput("Numbers", [ann.pk])],
            ),
        )
    assert set(exc.value.fields) == {
        "applies_to",
        "reminder_after_hours",
        "step_1_name",
        "step_2_approvers",
    }
    with pytest.raises(InvalidInput):
        actions.update_approval_policy(
            *_as(world.alice), PolicyInput(steps=[StepInput(f"s{i}") for i in range(6)])
        )
    with pytest.raises(InvalidInput):  # someone from another workspace
        actions.update_approval_policy(
            *_as(world.alice), PolicyInput(steps=[StepInput("x", [world.charlie.pk])])
        )


def test_posts_already_on_their_way_keep_their_route(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    actions.update_approval_policy(*_as(world.alice), PolicyInput(applies_to="everyone"))
    post.refresh_from_db()
    assert len(post.approval_steps) == 2
    actions.approve_post(*_as(dave), post.pk)
    post.refresh_from_db()
    assert post.approval_step == 1


def test_comments_mention_members_and_internal_ones_stay_with_the_team(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    actions.add_comment(*_as(world.bob), post.pk, "@dave @cliff @charlie thoughts?")
    assert "Bob mentioned you on a post" in _titles(dave)
    assert "Bob mentioned you on a post" in _titles(cliff)
    assert _titles(world.charlie) == []  # not a member of this workspace

    Notification.objects.all().delete()
    internal = actions.add_comment(
        *_as(world.bob), post.pk, "@cliff is picky, @ann check numbers", internal=True
    )
    assert [u.username for u in internal.mentions.all()] == ["ann"]
    assert _titles(cliff) == []

    client_comment = actions.add_comment(*_as(cliff), post.pk, "Love it", internal=True)
    assert client_comment.internal is False  # clients cannot hide comments from the team
    seen_by_client = actions.comments_for(access_for(cliff, "acme"), post)
    assert [c.body for c in seen_by_client] == ["@dave @cliff @charlie thoughts?", "Love it"]
    assert len(actions.comments_for(access_for(dave, "acme"), post)) == 3
    with pytest.raises(InvalidInput):
        actions.add_comment(*_as(dave), post.pk, "   ")


def test_a_decision_comment_mentions_people_too(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff)
    post = _write(world.bob, channels)
    actions.approve_post(*_as(dave), post.pk, "Fine by legal, @alice FYI")
    assert "Dave mentioned you on a post" in _titles(world.alice)


def test_reminders_go_to_the_current_step_once_per_interval_and_stop_after_three(
    world, channels, team
):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff, reminder_after_hours=24)
    post = _write(world.bob, channels, scheduled_at=timezone.now() + timedelta(days=30))
    start = post.approval_requested_at
    assert start is not None
    assert actions.send_approval_reminders(start + timedelta(hours=23)) == 0
    assert actions.send_approval_reminders(start + timedelta(hours=25)) == 1
    assert actions.send_approval_reminders(start + timedelta(hours=25)) == 0
    for day in (2, 3, 4, 5):
        actions.send_approval_reminders(start + timedelta(days=day, hours=1))
    reminders = [t for t in _titles(dave) if t.startswith("Reminder")]
    assert reminders == ["Reminder: a post waits for your approval (Legal)"] * 3
    assert not any(t.startswith("Reminder") for t in _titles(cliff))


def test_an_urgent_reminder_comes_when_the_post_is_nearly_due(world, channels, team):
    dave, cliff, _ann = team
    _two_steps(world, dave, cliff, reminder_after_hours=0)
    post = _write(world.bob, channels, scheduled_at=timezone.now() + timedelta(hours=5))
    assert post.scheduled_at is not None
    moment = post.scheduled_at - timedelta(hours=1)
    assert actions.send_approval_reminders(moment) == 1
    assert actions.send_approval_reminders(moment) == 0


def test_approval_settings_page_saves_steps(world, team):
    dave, cliff, _ann = team
    client = Client()
    client.login(username="alice", password=PASSWORD)
    page = client.get("/w/acme/publishing/approvals/settings/")
    assert page.status_code == 200 and page.content.count(b'data-testid="step-row"') == 5
    response = client.post(
        "/w/acme/publishing/approvals/settings/",
        {
            "applies_to": "everyone",
            "reapprove_on_edit": "1",
            "reminder_after_hours": "12",
            "step_name_0": "Legal",
            "approvers_0": [str(dave.pk)],
            "step_name_2": "Client",
            "approvers_2": [str(cliff.pk)],
        },
    )
    assert response.status_code == 302
    policy = approvals.policy_for(world.acme)
    assert [s.name for s in policy.steps.all()] == ["Legal", "Client"]
    assert policy.reminder_after_hours == 12
    bad = client.post(
        "/w/acme/publishing/approvals/settings/",
        {"applies_to": "everyone", "reminder_after_hours": "soon", "step_name_0": "Legal"},
    )
    assert bad.status_code == 422 and "not a number of hours" in bad.content.decode()
    bob = Client()
    bob.login(username="bob", password=PASSWORD)
    assert bob.get("/w/acme/publishing/approvals/settings/").status_code == 403


def test_approvals_through_the_api(world, channels, team):
    dave, _cliff, _ann = team
    alice = Client()
    alice.login(username="alice", password=PASSWORD)
    put = alice.put(
        "/api/v1/workspaces/acme/approval-policy",
        {"applies_to": "everyone", "steps": [{"name": "Legal", "approvers": [dave.pk]}]},
        content_type="application/json",
    )
    assert put.status_code == 200, put.content
    assert put.json()["steps"] == [{"name": "Legal", "approvers": [dave.pk]}]
    post = _write(world.bob, channels)

    api = Client()
    api.login(username="dave", password=PASSWORD)
    waiting = api.get("/api/v1/workspaces/acme/approvals?mine=true").json()
    assert [(w["post"]["id"], w["step_name"], w["mine"]) for w in waiting] == [
        (post.pk, "Legal", True)
    ]
    comment = api.post(
        f"/api/v1/workspaces/acme/posts/{post.pk}/comments",
        {"body": "@bob shorter please"},
        content_type="application/json",
    )
    assert comment.status_code == 201 and comment.json()["mentions"] == ["bob"]
    rejected = api.post(
        f"/api/v1/workspaces/acme/posts/{post.pk}/reject",
        {"comment": "No"},
        content_type="application/json",
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    listed = api.get(f"/api/v1/workspaces/acme/posts/{post.pk}/comments").json()
    assert [c["body"] for c in listed] == ["@bob shorter please"]

    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get("/api/v1/workspaces/acme/approvals").status_code == 404
    assert (
        outsider.put(
            "/api/v1/workspaces/acme/approval-policy", {}, content_type="application/json"
        ).status_code
        == 404
    )
