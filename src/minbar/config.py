"""Read Minbar's configuration from the environment.

Every setting is validated here so that a wrong value stops start-up with one
line naming the variable, what it holds and what was expected, instead of a
traceback from deep inside Django.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url


class ConfigError(Exception):
    """A setting in the environment is missing or wrong."""


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


@dataclass(frozen=True)
class Config:
    env: str
    debug: bool
    data_dir: Path
    secret_key: str
    database: dict[str, object]
    database_url: str
    queue_url: str
    port: int
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    base_url: str
    email: EmailConfig
    default_from_email: str
    encryption_keys: list[str] = field(default_factory=list)
    trusted_proxy_count: int = 0
    secure_cookies: bool = False
    log_level: str = "INFO"
    allow_private_urls: bool = False
    publish_threads: int = 16
    # Developer-app registrations for networks with one app per Minbar install
    # (X, Meta, LinkedIn…): network -> {"client_id", "client_secret", "api_url", "scopes"}.
    network_apps: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (got {raw!r})")


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value})")
    return value


def _list(env: dict[str, str], name: str, default: list[str]) -> list[str]:
    raw = env.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _data_dir(env: dict[str, str]) -> Path:
    path = Path(env.get("MINBAR_DATA_DIR") or "./data").expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"MINBAR_DATA_DIR must be a directory ({path} is a file)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"MINBAR_DATA_DIR {path} cannot be created: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise ConfigError(f"MINBAR_DATA_DIR {path} is not writable by this user")
    return path


def _secret_key(env: dict[str, str], data_dir: Path, production: bool) -> str:
    key = env.get("MINBAR_SECRET_KEY", "").strip()
    if key:
        if production and len(key) < 32:
            raise ConfigError("MINBAR_SECRET_KEY must be at least 32 characters in production")
        return key
    if production:
        raise ConfigError(
            "MINBAR_SECRET_KEY is required when MINBAR_ENV=production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    # The embedded default keeps a generated key beside the database so that
    # sessions and encrypted secrets survive restarts without any setup.
    key_file = data_dir / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(50)
    key_file.write_text(key + "\n")
    key_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return key


def _database(env: dict[str, str], data_dir: Path) -> tuple[dict[str, object], str]:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{data_dir / 'minbar.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:/// or postgres:// (got scheme {scheme!r})"
        )
    try:
        db: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL cannot be parsed: {exc}") from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db.get("NAME") or "")
        if not name or name == ":memory:":
            raise ConfigError("DATABASE_URL must name a SQLite file, e.g. sqlite:////srv/minbar/db")
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets the web server read while the embedded worker writes;
        # IMMEDIATE transactions avoid "database is locked" on upgrade.
        db["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=10000;PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        db["CONN_MAX_AGE"] = 60
        db["CONN_HEALTH_CHECKS"] = True
    return db, url


def _queue_url(env: dict[str, str], data_dir: Path) -> str:
    url = env.get("MINBAR_QUEUE_URL", "").strip()
    if not url:
        return f"sqlite:///{data_dir / 'queue.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "redis", "rediss", "memory"}:
        raise ConfigError(
            f"MINBAR_QUEUE_URL must start with sqlite:///, redis:// or rediss:// (got {url!r})"
        )
    return url


def _email(env: dict[str, str]) -> EmailConfig:
    url = env.get("MINBAR_EMAIL_URL", "").strip()
    if not url or url == "console:":
        return EmailConfig(backend="django.core.mail.backends.console.EmailBackend")
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return EmailConfig(backend="django.core.mail.backends.locmem.EmailBackend")
    if parts.scheme not in {"smtp", "smtps"}:
        raise ConfigError(
            "MINBAR_EMAIL_URL must be console:, smtp://… or smtps://… "
            f"(got scheme {parts.scheme!r})"
        )
    if not parts.hostname:
        raise ConfigError("MINBAR_EMAIL_URL must name the SMTP host, e.g. smtp://user:pw@host:587")
    query = parse_qs(parts.query)
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise ConfigError("MINBAR_EMAIL_URL has an invalid port") from None
    return EmailConfig(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
        use_tls=parts.scheme == "smtp" and query.get("tls", ["1"])[0] not in _FALSE,
    )


def _base_url(env: dict[str, str], port: int) -> str:
    url = env.get("MINBAR_BASE_URL", "").strip().rstrip("/")
    if not url:
        return f"http://127.0.0.1:{port}"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"MINBAR_BASE_URL must be an http(s) URL (got {url!r})")
    return url


# Network names may hold underscores (MINBAR_GOOGLE_BUSINESS_CLIENT_ID): the shortest
# name that leaves one of the suffixes wins.
_NETWORK_APP_VAR = re.compile(
    r"^MINBAR_([A-Z][A-Z0-9_]*?)_(CLIENT_ID|CLIENT_SECRET|API_URL|SCOPES)$"
)


def _network_apps(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """``MINBAR_<NETWORK>_CLIENT_ID`` / ``_CLIENT_SECRET`` / ``_API_URL`` grouped by network.

    ``_SCOPES`` (optional) tells a connector which permissions the app was granted
    where that depends on the products the operator obtained (LinkedIn).
    """
    apps: dict[str, dict[str, str]] = {}
    for name, raw in env.items():
        match = _NETWORK_APP_VAR.match(name)
        value = raw.strip()
        if match is None or not value:
            continue
        network, part = match.group(1).lower(), match.group(2).lower()
        if part == "api_url" and urlsplit(value).scheme not in {"http", "https"}:
            raise ConfigError(f"{name} must be an http(s) URL (got {raw!r})")
        apps.setdefault(network, {})[part] = value
    for network, app in apps.items():
        if app.get("client_secret") and not app.get("client_id"):
            raise ConfigError(
                f"MINBAR_{network.upper()}_CLIENT_SECRET is set but "
                f"MINBAR_{network.upper()}_CLIENT_ID is not"
            )
    return apps


def load(environ: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("MINBAR_ENV", "development").strip().lower() or "development"
    if app_env not in {"development", "production", "test"}:
        raise ConfigError(f"MINBAR_ENV must be development, production or test (got {app_env!r})")
    production = app_env == "production"
    data_dir = _data_dir(env)
    port = _int(env, "MINBAR_PORT", 8000, 1, 65535)
    base_url = _base_url(env, port)
    base_host = urlsplit(base_url).hostname or "127.0.0.1"
    default_hosts = ["127.0.0.1", "localhost", "[::1]", base_host]
    if env.get("MINBAR_ALLOWED_HOSTS") is None and production:
        default_hosts = [base_host]
    allowed_hosts = _list(env, "MINBAR_ALLOWED_HOSTS", sorted(set(default_hosts)))
    if production and "*" in allowed_hosts:
        raise ConfigError("MINBAR_ALLOWED_HOSTS must not be * in production")
    origins = _list(env, "MINBAR_CSRF_TRUSTED_ORIGINS", [base_url])
    for origin in origins:
        if urlsplit(origin).scheme not in {"http", "https"}:
            raise ConfigError(
                f"MINBAR_CSRF_TRUSTED_ORIGINS entries must be http(s) origins (got {origin!r})"
            )
    database, database_url = _database(env, data_dir)
    keys = _list(env, "MINBAR_ENCRYPTION_KEYS", [])
    log_level = env.get("MINBAR_LOG_LEVEL", "INFO").strip().upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(
            f"MINBAR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {log_level!r})"
        )
    return Config(
        env=app_env,
        debug=_bool(env, "MINBAR_DEBUG", False),
        data_dir=data_dir,
        secret_key=_secret_key(env, data_dir, production),
        database=database,
        database_url=database_url,
        queue_url=_queue_url(env, data_dir),
        port=port,
        allowed_hosts=allowed_hosts,
        csrf_trusted_origins=origins,
        base_url=base_url,
        email=_email(env),
        default_from_email=env.get("MINBAR_EMAIL_FROM", "Minbar <minbar@localhost>"),
        encryption_keys=keys,
        trusted_proxy_count=_int(env, "MINBAR_TRUSTED_PROXIES", 0, 0, 10),
        secure_cookies=_bool(env, "MINBAR_SECURE_COOKIES", base_url.startswith("https://")),
        log_level=log_level,
        allow_private_urls=_bool(env, "MINBAR_ALLOW_PRIVATE_URLS", False),
        publish_threads=_int(env, "MINBAR_PUBLISH_THREADS", 16, 1, 256),
        network_apps=_network_apps(env),
    )
