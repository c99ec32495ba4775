"""Every exit code in the README's table, from the commands and options that produce it.

The table is read from README.md, so a code added there without a case here (or the reverse) fails.
Ctrl-C (130) needs a real signal and is proved in tests/core/test_interrupt.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.store import Store

from .helpers import write_config

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_exit_codes() -> dict[int, str]:
    table = README.split("| exit code | meaning |", 1)[1].split("\n\n", 1)[0]
    return {int(m.group(1)): m.group(2).strip() for m in re.finditer(r"^\| (\d+) \| (.+?) \|$", table, re.M)}


Setup = Callable[[Path, str], list[str]]


def counting(**sources: dict[str, object]) -> Callable[[Path, str], Path]:
    return lambda tmp, url: write_config(tmp, url, **sources)


def _config(tmp: Path, url: str) -> Path:
    return write_config(tmp, url, plan={"count": 3})


def _with_project(tmp: Path, url: str) -> Path:
    path = _config(tmp, url)
    data = yaml.safe_load(path.read_text())
    data["projects"] = [{"key": "ERP", "name": "ERP upgrade"}, {"key": "WEB", "name": "Website"}]
    data["publish"] = {"targets": [{"name": "archive", "type": "folder", "path": "published"}]}
    path.write_text(yaml.safe_dump(data))
    return path


def _synced_with_projects_without_data(tmp: Path, url: str) -> Path:
    """A store with a sync run whose records belong to neither configured project."""
    path = _with_project(tmp, url)
    synced = CliRunner().invoke(cli, ["--config", str(path), "sync"])
    assert synced.exit_code == 0, synced.output
    return path


def _finance_without_mapping(tmp: Path, url: str) -> Path:
    (tmp / "finance").mkdir()
    path = tmp / "pmsync.yaml"
    source = {"name": "finance", "type": "finance_file", "path": "finance", "mapping": "no-such.yaml"}
    path.write_text(yaml.safe_dump({"store": {"url": url}, "sources": [source]}))
    return path


def _unknown_key(tmp: Path, url: str) -> Path:
    path = _config(tmp, url)
    path.write_text(path.read_text() + "reprots: {}\n")
    return path


def _unset_variable(tmp: Path, url: str) -> Path:
    return write_config(tmp, url, plan={"count": 3, "scope": "${PMSYNC_TEST_NOT_SET}"})


CASES: list[tuple[int, str, Callable[[Path, str], Path], list[str]]] = [
    (0, "sync", _config, ["sync"]),
    (0, "runs", _config, ["runs"]),
    (0, "db upgrade", _config, ["db", "upgrade"]),
    (1, "every source failed", counting(bad={"crash_after": 1}), ["sync"]),
    (2, "unknown option", _config, ["sync", "--nope"]),
    (2, "unknown command", _config, ["snyc"]),
    (2, "sync --source unknown", _config, ["sync", "--source", "nope"]),
    (2, "runs --source unknown", _config, ["runs", "--source", "nope"]),
    (2, "report --period bad", _with_project, ["report", "--period", "2026-13"]),
    (2, "report --as-of bad", _with_project, ["report", "--period", "2026-11", "--as-of", "yesterday"]),
    (2, "report --project unknown", _with_project, ["report", "--period", "2026-11", "--project", "NOPE"]),
    (2, "report --format docx", _with_project, ["report", "--period", "2026-11", "--format", "docx"]),
    (2, "baseline --project unknown", _with_project, ["baseline", "list", "--project", "NOPE"]),
    (2, "publish --target unknown", _with_project, ["publish", "--target", "nope", "README.md"]),
    (2, "demo --dir not empty", _config, ["demo", "--dir", "."]),
    (3, "no config file", lambda tmp, url: tmp / "missing.yaml", ["runs"]),
    (3, "unknown key", _unknown_key, ["runs"]),
    (3, "missing mapping file", _finance_without_mapping, ["sync"]),
    (3, "unset variable", _unset_variable, ["sync"]),
    (4, "partial", counting(good={"count": 2}, bad={"crash_after": 1}), ["sync"]),
    (
        6,
        "report --publish with projects that have no data",
        _synced_with_projects_without_data,
        ["report", "--period", "2026-11", "--format", "json", "--publish"],
    ),
    (1, "report on a store never synced", _with_project, ["report", "--period", "2026-11"]),
]


def test_every_code_in_the_readme_table_has_a_case_and_no_other_code_is_used() -> None:
    documented = readme_exit_codes()
    assert set(documented) == {0, 1, 2, 3, 4, 5, 6, 130}, documented
    assert {code for code, *_ in CASES} | {5, 130} == set(documented)  # 5: below; 130: test_interrupt.py


@pytest.mark.parametrize(("code", "what", "setup", "args"), CASES, ids=[f"{c}: {w}" for c, w, *_ in CASES])
def test_exit_code(
    code: int,
    what: str,
    setup: Callable[[Path, str], Path],
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PMSYNC_TEST_NOT_SET", raising=False)
    config = setup(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}")
    (tmp_path / "README.md").write_text("a file to publish\n")
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if code:
        assert result.output.strip(), "a failing command says why"


def test_exit_code_5_every_source_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = write_config(tmp_path, url, plan={"count": 3})
    with Store.open(url) as store, store.source_lock("plan"):
        result = CliRunner().invoke(cli, ["--config", str(config), "sync"])
    assert result.exit_code == 5, result.output
    assert "plan: locked, skipped" in result.output


def test_a_lock_skip_is_a_warning_in_json_logs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = write_config(tmp_path, url, plan={"count": 3})
    with Store.open(url) as store, store.source_lock("plan"):
        result = CliRunner().invoke(cli, ["--config", str(config), "--log-format", "json", "sync"])
    lines = [line for line in result.output.splitlines() if '"status": "locked"' in line]
    assert lines and all('"level": "warning"' in line for line in lines), result.output
