"""Where pmsync.yaml's relative paths point: at the config's folder, whatever the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmsync.config import load_config


def test_relative_sqlite_store_is_next_to_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "pmo"
    folder.mkdir()
    (folder / "pmsync.yaml").write_text("store:\n  url: sqlite:///data/pmsync.db\n")
    monkeypatch.chdir(tmp_path)  # cron runs from elsewhere
    config = load_config(folder / "pmsync.yaml")
    assert config.store_url() == f"sqlite:///{folder / 'data' / 'pmsync.db'}"


def test_absolute_and_server_urls_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("store:\n  url: sqlite:////var/lib/pmsync/pmsync.db\n")
    assert load_config(tmp_path / "a.yaml").store_url() == "sqlite:////var/lib/pmsync/pmsync.db"
    (tmp_path / "b.yaml").write_text("store:\n  url: postgresql+psycopg://pmsync@db/pmsync\n")
    assert load_config(tmp_path / "b.yaml").store_url() == "postgresql+psycopg://pmsync@db/pmsync"


def test_missing_environment_variable_names_the_key(tmp_path: Path) -> None:
    from pmsync.errors import ConfigError

    (tmp_path / "c.yaml").write_text("store:\n  url: ${PMSYNC_TEST_UNSET_DB_URL}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "c.yaml", env={})
    assert "store.url" in str(caught.value) and "PMSYNC_TEST_UNSET_DB_URL" in str(caught.value)
