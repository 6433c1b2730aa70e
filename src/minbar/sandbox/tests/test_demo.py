"""The demo's sandbox accounts: made once, with activity from the start."""

from __future__ import annotations

import pytest

from minbar.connectors.types import PostRequest
from minbar.sandbox import actions, queries
from minbar.sandbox.demo import DEMO_ACCOUNTS, seed_demo_sandbox
from minbar.sandbox.models import SandboxAccount, SandboxPost
from minbar.sandbox.tests.helpers import wsgi_connector

pytestmark = pytest.mark.django_db


def test_demo_accounts_are_seeded_once_with_activity():
    first = seed_demo_sandbox()
    assert [c.workspace for c in first] == [d.workspace for d in DEMO_ACCOUNTS]
    assert all(c.created for c in first)
    posts = SandboxPost.objects.count()
    assert posts == sum(len(d.posts) for d in DEMO_ACCOUNTS)
    for connection in first:
        account = actions.authenticate(connection.result.credentials.secrets["access_token"])
        assert account is not None
        post = SandboxPost.objects.filter(account=account).first()
        assert post is not None
        values = queries.post_metrics(account, [post])[post.pk]
        assert values["impressions"] > 0  # the audience is already reacting
    arabic = SandboxAccount.objects.get(handle="waha_coffee")
    assert SandboxPost.objects.filter(account=arabic, language="ar").exists()

    tokens = {
        c.result.account.handle[1:]: c.result.credentials.secrets["access_token"] for c in first
    }
    again = seed_demo_sandbox(tokens)
    assert not any(c.created for c in again)
    assert SandboxPost.objects.count() == posts
    assert [c.result.credentials.secrets["access_token"] for c in again] == list(tokens.values())
    rotated = seed_demo_sandbox()  # without the tokens: new ones that work
    for connection in rotated:
        assert actions.authenticate(connection.result.credentials.secrets["access_token"])


def test_demo_credentials_work_with_the_connector():
    connection = seed_demo_sandbox()[0]
    connector = wsgi_connector(connection.result.credentials)
    assert connector.verify().handle == connection.result.account.handle
    assert connector.publish(PostRequest(text="Hello from the demo")).remote_id
