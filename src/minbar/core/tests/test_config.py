"""Configuration comes from the environment and a wrong value stops start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minbar.config import ConfigError, load


def test_embedded_default_needs_no_settings(tmp_path):
    config = load({"MINBAR_DATA_DIR": str(tmp_path)})
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == str(tmp_path / "minbar.sqlite3")
    options = config.database["OPTIONS"]
    assert isinstance(options, dict)
    assert "journal_mode=WAL" in options["init_command"]
    assert config.queue_url == f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    assert config.port == 8000


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load({"MINBAR_DATA_DIR": str(tmp_path)}).secret_key
    second = load({"MINBAR_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="MINBAR_SECRET_KEY is required"):
        load({"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_ENV": "production"})


def test_postgres_and_redis_urls_are_understood(tmp_path):
    config = load(
        {
            "MINBAR_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://minbar:pw@db.internal:5432/minbar",
            "MINBAR_QUEUE_URL": "redis://queue.internal:6379/0",
        }
    )
    assert config.database["ENGINE"] == "django.db.backends.postgresql"
    assert config.database["HOST"] == "db.internal"
    assert config.queue_url == "redis://queue.internal:6379/0"


def test_smtp_email_url_is_parsed(tmp_path):
    email = load(
        {
            "MINBAR_DATA_DIR": str(tmp_path),
            "MINBAR_EMAIL_URL": "smtp://me%40x.com:s3cret@mail.x.com:2525",
        }
    ).email
    assert (email.host, email.port, email.user, email.password, email.use_tls) == (
        "mail.x.com",
        2525,
        "me@x.com",
        "s3cret",
        True,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MINBAR_PORT", "eighty", "MINBAR_PORT must be a whole number (got 'eighty')"),
        ("MINBAR_PORT", "70000", "MINBAR_PORT must be between 1 and 65535 (got 70000)"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must start with sqlite:/// or postgres://"),
        ("MINBAR_QUEUE_URL", "amqp://x", "MINBAR_QUEUE_URL must start with sqlite:///, redis://"),
        ("MINBAR_DEBUG", "maybe", "MINBAR_DEBUG must be true or false (got 'maybe')"),
        ("MINBAR_ENV", "staging", "MINBAR_ENV must be development, production or test"),
        ("MINBAR_EMAIL_URL", "pigeon://x", "MINBAR_EMAIL_URL must be console:, smtp://"),
        ("MINBAR_BASE_URL", "ftp://x", "MINBAR_BASE_URL must be an http(s) URL"),
    ],
)
def test_wrong_setting_is_named_with_its_value(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as exc:
        load({"MINBAR_DATA_DIR": str(tmp_path), name: value})
    assert message in str(exc.value)


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(ConfigError, match="must be a directory"):
        load({"MINBAR_DATA_DIR": str(target)})


def test_cli_prints_one_clear_line_and_exits_2_on_a_bad_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINBAR_", "DATABASE_URL"))}
    env.update({"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_PORT": "http"})
    result = subprocess.run(
        [sys.executable, "-m", "minbar", "check_config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[4],
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "minbar: configuration error: MINBAR_PORT must be a whole number (got 'http')"
    ]


def test_cli_names_an_unreachable_database_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINBAR_", "DATABASE_URL"))}
    env.update(
        {"MINBAR_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/minbar"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "minbar", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[4],
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minbar: cannot use the database: ")


def test_check_config_reports_an_unreachable_queue(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINBAR_", "DATABASE_URL"))}
    env.update({"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_QUEUE_URL": "redis://127.0.0.1:9/0"})
    result = subprocess.run(
        [sys.executable, "-m", "minbar", "check_config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[4],
    )
    assert result.returncode == 1
    assert "database               reachable" in result.stdout
    assert "queue                  unreachable:" in result.stderr


def test_publishing_threads_default_to_16_and_must_be_a_sane_number(tmp_path):
    assert load({"MINBAR_DATA_DIR": str(tmp_path)}).publish_threads == 16
    env = {"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_PUBLISH_THREADS": "32"}
    assert load(env).publish_threads == 32
    with pytest.raises(ConfigError, match="MINBAR_PUBLISH_THREADS"):
        load({**env, "MINBAR_PUBLISH_THREADS": "0"})


def test_network_apps_are_grouped_by_network(tmp_path):
    config = load(
        {
            "MINBAR_DATA_DIR": str(tmp_path),
            "MINBAR_X_CLIENT_ID": " abc ",
            "MINBAR_X_CLIENT_SECRET": "s3cret",
            "MINBAR_FACEBOOK_CLIENT_ID": "123",
            "MINBAR_FACEBOOK_API_URL": "http://127.0.0.1:9000",
            "MINBAR_LINKEDIN_CLIENT_ID": "",
            "MINBAR_YOUTUBE_CLIENT_ID": "yt",
            "MINBAR_YOUTUBE_SCOPES": "community",
            "MINBAR_GOOGLE_BUSINESS_CLIENT_ID": "gbp",
            "MINBAR_GOOGLE_BUSINESS_CLIENT_SECRET": "GOCSPX-1",
        }
    )
    assert config.network_apps == {
        "x": {"client_id": "abc", "client_secret": "s3cret"},
        "facebook": {"client_id": "123", "api_url": "http://127.0.0.1:9000"},
        "youtube": {"client_id": "yt", "scopes": "community"},
        "google_business": {"client_id": "gbp", "client_secret": "GOCSPX-1"},
    }


def test_network_app_secret_without_id_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="MINBAR_X_CLIENT_ID is not"):
        load({"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_X_CLIENT_SECRET": "s"})
    with pytest.raises(ConfigError, match="MINBAR_X_API_URL must be an http"):
        load({"MINBAR_DATA_DIR": str(tmp_path), "MINBAR_X_API_URL": "ftp://x"})
