"""Shared test fixtures: the three personas of every Minbar test.

alice owns the "acme" workspace, bob is a member of it (editor), charlie
owns "globex" and is an outsider to acme.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from minbar.accounts.models import User
from minbar.core.actor import Actor
from minbar.workspaces.models import Membership, Organization, Workspace
from minbar.workspaces.roles import Role

PASSWORD = "correct horse battery staple"


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"minbar database: {db['ENGINE']} {db.get('HOST') or db.get('NAME')}"


@dataclass
class World:
    alice: User
    bob: User
    charlie: User
    acme: Workspace
    globex: Workspace


def make_user(username: str, **extra: object) -> User:
    return User.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **extra
    )


def make_workspace(name: str, slug: str, owner: User) -> Workspace:
    org = Organization.objects.create(name=f"{name} Inc", slug=f"{slug}-org")
    workspace = Workspace.objects.create(
        organization=org, name=name, slug=slug, time_zone="Europe/London"
    )
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    return workspace


@pytest.fixture
def world(db: None) -> World:
    alice = make_user("alice", first_name="Alice")
    bob = make_user("bob", first_name="Bob")
    charlie = make_user("charlie", first_name="Charlie")
    acme = make_workspace("Acme Roasters", "acme", alice)
    Membership.objects.create(user=bob, workspace=acme, role=Role.EDITOR)
    globex = make_workspace("Globex Tea", "globex", charlie)
    return World(alice=alice, bob=bob, charlie=charlie, acme=acme, globex=globex)


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues() -> None:
    """Compile .po → .mo once per session so no test sees a stale catalogue."""
    from django.conf import settings
    from django.test.signals import setting_changed

    from minbar.i18n_build import compile_catalogues

    if compile_catalogues():
        # Make Django reload the catalogues, as it does when LOCALE_PATHS changes.
        setting_changed.send(
            sender=type(settings),
            setting="LOCALE_PATHS",
            value=settings.LOCALE_PATHS,
            enter=False,
        )


@pytest.fixture
def actor() -> Actor:
    return Actor.system()


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    from django.utils import translation

    translation.activate("en")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MINBAR_SKIP_BROWSER") == "1":
        skip = pytest.mark.skip(reason="MINBAR_SKIP_BROWSER=1")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


def _require_services() -> bool:
    return os.environ.get("MINBAR_REQUIRE_SERVICES") == "1"


def _unavailable(what: str, detail: str) -> None:
    message = f"{what} is not reachable ({detail})"
    if _require_services():
        pytest.fail(message + "; MINBAR_REQUIRE_SERVICES=1 says it must be", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database for queue tests (MINBAR_TEST_REDIS_URL, default db 15 on loopback)."""
    import redis

    url = os.environ.get("MINBAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("Redis", f"{url}: {exc}")
    return url


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A PostgreSQL server where tests may create and drop their own databases."""
    import psycopg

    url = os.environ.get(
        "MINBAR_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", f"{url}: {exc}")
    return url
