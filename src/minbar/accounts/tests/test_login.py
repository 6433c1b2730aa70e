"""Signing in: passwords, throttling, two-factor, recovery codes and sign-out."""

from __future__ import annotations

import pyotp
import pytest
from django.db import connection
from django.test import Client

from conftest import PASSWORD
from minbar.accounts import actions
from minbar.accounts.models import User
from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor


def _login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_member_signs_in_and_lands_on_their_workspace(world):
    client = Client()
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == "/w/acme/"
    assert AuditEvent.objects.filter(action="auth.login", actor=world.alice).exists()


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(world):
    response = _login(Client(), "alice", "nope")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", actor_name="alice").exists()


def test_five_failures_block_the_username_even_with_the_right_password(world, settings):
    client = Client()
    for _ in range(settings.MINBAR_LOGIN_MAX_FAILURES_PER_USERNAME):
        _login(client, "alice", "wrong")
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other people are not locked out by alice's attacker.
    assert _login(Client(), "bob", PASSWORD).status_code == 302


def test_one_address_guessing_many_usernames_is_blocked(world, settings):
    settings.MINBAR_LOGIN_MAX_FAILURES_PER_IP = 3
    client = Client()
    for name in ("x1", "x2", "x3"):
        _login(client, name, "wrong")
    assert _login(client, "bob", PASSWORD).status_code == 429


def test_next_parameter_cannot_redirect_off_site(world):
    client = Client()
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_two_factor_setup_then_sign_in_needs_the_code(world):
    client = Client()
    client.force_login(world.alice)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and b"<svg" in page.content
    world.alice.refresh_from_db()
    secret = world.alice.totp_secret
    bad = client.post("/accounts/two-factor/", {"code": "000000"})
    assert "not right" in bad.content.decode()
    done = client.post("/accounts/two-factor/", {"code": pyotp.TOTP(secret).now()})
    codes = [
        c.decode()
        for c in __import__("re").findall(rb"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", done.content)
    ]
    assert len(codes) == 8
    world.alice.refresh_from_db()
    assert world.alice.has_two_factor

    fresh = Client()
    step1 = _login(fresh, "alice", PASSWORD)
    assert step1["Location"] == "/accounts/login/2fa/"
    assert "_auth_user_id" not in fresh.session
    assert "not right" in fresh.post("/accounts/login/2fa/", {"code": "123456"}).content.decode()
    ok = fresh.post("/accounts/login/2fa/", {"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 302 and "_auth_user_id" in fresh.session

    # A recovery code works exactly once.
    for expected_ok in (True, False):
        other = Client()
        _login(other, "alice", PASSWORD)
        other.post("/accounts/login/2fa/", {"code": codes[0]})
        assert ("_auth_user_id" in other.session) is expected_ok


def test_totp_secret_is_encrypted_at_rest(world):
    actions.start_two_factor(world.alice)
    secret = User.objects.get(pk=world.alice.pk).totp_secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [world.alice.pk])
        stored = cursor.fetchone()[0]
    assert secret and secret not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


def test_turning_two_factor_off_needs_the_password(world):
    actions.start_two_factor(world.alice)
    actions.confirm_two_factor(
        Actor.system(), world.alice, pyotp.TOTP(world.alice.totp_secret).now()
    )
    client = Client()
    client.force_login(world.alice)
    client.post("/accounts/two-factor/disable/", {"password": "wrong"})
    world.alice.refresh_from_db()
    assert world.alice.has_two_factor
    client.post("/accounts/two-factor/disable/", {"password": PASSWORD})
    world.alice.refresh_from_db()
    assert not world.alice.has_two_factor


def test_logout_needs_post_and_ends_the_session(world):
    client = Client()
    client.force_login(world.alice)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/w/acme/")["Location"].startswith("/accounts/login/")


def test_password_reset_mails_a_working_link(world, mailoutbox):
    client = Client()
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert len(mailoutbox) == 1
    link = next(word for word in mailoutbox[0].body.split() if "/accounts/password/reset/" in word)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand new passphrase 42", "new_password2": "brand new passphrase 42"},
    )
    world.alice.refresh_from_db()
    assert world.alice.check_password("brand new passphrase 42")
    assert AuditEvent.objects.filter(action="auth.password_reset", actor=world.alice).exists()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_language_choice_is_saved_on_the_user(world, language):
    client = Client()
    client.force_login(world.alice)
    client.post("/language/", {"language": language, "next": "/w/acme/"})
    world.alice.refresh_from_db()
    assert world.alice.language == language
    html = client.get("/w/acme/").content.decode()
    expected = 'lang="ar" dir="rtl"' if language == "ar" else 'lang="en" dir="ltr"'
    assert expected in html


def test_times_are_shown_in_the_users_time_zone(world):
    from minbar.audit.actions import record

    record(Actor(user=world.alice), "workspace.updated", workspace=world.acme)
    world.alice.time_zone = "Asia/Riyadh"
    world.alice.save()
    client = Client()
    client.force_login(world.alice)
    html = client.get("/w/acme/audit/").content.decode()
    assert "+03:00" in html  # the <time datetime> attribute carries the user's offset


def test_language_picked_on_the_sign_in_page_is_kept_after_signing_in(world):
    client = Client()
    client.post("/language/", {"language": "ar", "next": "/accounts/login/"})
    assert 'lang="ar"' in client.get("/accounts/login/").content.decode()
    _login(client, "alice", PASSWORD)
    world.alice.refresh_from_db()
    assert world.alice.language == "ar"
    assert 'lang="ar" dir="rtl"' in client.get("/w/acme/").content.decode()


def test_blocked_sign_in_answers_429_in_arabic_too(world, settings):
    client = Client()
    client.post("/language/", {"language": "ar", "next": "/"})
    for _ in range(settings.MINBAR_LOGIN_MAX_FAILURES_PER_USERNAME + 1):
        response = _login(client, "alice", "wrong")
    assert response.status_code == 429
