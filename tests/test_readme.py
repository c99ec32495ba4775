"""The README's promises, run as written.

- every command pmsync has is in the README's command table;
- the quickstart (`pip install -e '.[dev]'`, `pmsync demo`) in a brand-new virtual environment;
- the setup walk-through (`pmsync init`, point the shipped finance connector at a sample export,
  `pmsync sync` twice — the second reports everything unchanged —, `pmsync runs`).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _command_paths(group: click.Group, prefix: str = "pmsync") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, path))
    return paths


def _code_block_after(heading: str) -> list[str]:
    section = README.split(heading, 1)[1]
    block = section.split("```", 2)[1]
    return [line.split("#", 1)[0].strip() for line in block.splitlines()[1:] if line.split("#", 1)[0].strip()]


def test_every_command_is_documented_in_the_readme() -> None:
    table = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    missing = []
    for path in _command_paths(cli):
        words = path.split()
        if len(words) == 2 and f"`{path}" not in table:
            missing.append(path)
        if len(words) == 3 and words[2] not in table:
            missing.append(path)
    assert not missing, f"commands missing from the README's Commands table: {missing}"


def test_quickstart_commands_are_the_ones_this_test_runs() -> None:
    assert _code_block_after("## Quickstart") == ["pip install -e '.[dev]'", "pmsync demo", "pytest"]
    assert _code_block_after("## Running the tests") == ["pytest"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^pytest$", ci, re.M), ".ci/run must run exactly the README's test command"
    # ... first in a fresh venv with exactly the README's install (no optional extras), then with all.
    readme_run = ci.split("fresh_venv .venv-ci-readme '.[dev]'\n", 1)[1].split("deactivate", 1)[0]
    assert re.search(r"^pytest$", readme_run, re.M), ".ci/run must run pytest on the plain '.[dev]' install"
    assert "fresh_venv .venv-ci '.[dev,mpp,pdf]'" in ci


def test_setup_walkthrough_init_sync_twice_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmsync.sandbox.finance_gen import write_monthly_exports

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    config = yaml.safe_load(Path("pmsync.yaml").read_text())
    folder = Path(config["sources"][0]["path"])
    write_monthly_exports(folder, projects=("P-100",), months=2, lines_per_month=30)
    first = runner.invoke(cli, ["sync"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["sync"])
    assert second.exit_code == 0, second.output
    assert re.search(r"inserted", first.output) and "no changes" not in first.output, first.output
    inserted = int(re.search(r"(\d+) inserted", first.output).group(1))  # type: ignore[union-attr]
    # The file connector skips files it has read already, so it counts none unchanged; "in store"
    # says nothing was lost (the same words and figures as --log-format json).
    assert re.search(
        rf"no changes \(0 inserted, 0 updated, 0 deleted, \d+ unchanged; {inserted} in store\)", second.output
    ), second.output
    runs = runner.invoke(cli, ["runs"])
    assert runs.exit_code == 0 and runs.output.count("finance") >= 2, runs.output


@pytest.mark.slow
def test_quickstart_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    """`pip install -e '.[dev]'` then `pmsync demo`, exactly as a newcomer types them."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    install = subprocess.run(
        ["pip", "install", "--quiet", "-e", ".[dev]"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    workdir = tmp_path / "newcomer"
    workdir.mkdir()
    demo = subprocess.run(
        ["pmsync", "demo"], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    reports = sorted((workdir / "pmsync-demo" / "reports").rglob("report-*.html"))
    assert len(reports) == 3
    for report in reports:
        assert str(report) in demo.stdout
    assert "pmsync-demo/pmsync.yaml" in demo.stdout
    assert "[5/5] done" in demo.stderr
    # Every next step the demo prints works as printed, in the same shell (no secret exported).
    steps = [line.strip() for line in demo.stdout.split("next:", 1)[1].splitlines()[1:] if line.strip()]
    assert steps and all(step.startswith("pmsync --config pmsync-demo/pmsync.yaml ") for step in steps)
    for step in steps:
        ran = subprocess.run(
            shlex.split(step), cwd=workdir, env=env, capture_output=True, text=True, timeout=300
        )
        assert ran.returncode == 0, (step, ran.stdout[-2000:], ran.stderr[-2000:])
