"""`pmsync config --schema`: the JSON Schema of pmsync.yaml, from the models that validate it. The
configs pmsync writes itself (`pmsync init`, `pmsync demo`) validate against it, and a typo does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (dev extra) validates against the schema")


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    result = CliRunner().invoke(cli, ["config", "--schema"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def test_the_starter_config_validates(schema: dict[str, object], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    jsonschema.validate(yaml.safe_load((tmp_path / "pmsync.yaml").read_text()), schema)


def test_the_demo_config_validates(schema: dict[str, object], tmp_path: Path) -> None:
    from pmsync import clock
    from pmsync.demo.portfolio import DEMO_START
    from pmsync.demo.runner import demo_config
    from pmsync.demo.world import DemoWorld

    clock.set_now(DEMO_START)
    world = DemoWorld(tmp_path, issues_per_project=5)
    try:
        world.start()
        data = json.loads(json.dumps(demo_config(world, tmp_path), default=str))
    finally:
        world.stop()
        clock.set_now(None)
    jsonschema.validate(data, schema)


@pytest.mark.parametrize(
    "mistake",
    [
        {"reprots": {}},
        {"sources": [{"name": "f", "type": "finance_file", "path": "x", "mapings": "y"}]},
        {"sources": [{"name": "j", "type": "jria"}]},
        {"reporting": {"cadence": "weekly"}},
    ],
)
def test_a_mistake_fails_the_schema(schema: dict[str, object], mistake: dict[str, object]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mistake, schema)


def test_config_prints_the_effective_config_without_resolving_secrets(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.yaml"
    source = {"name": "j", "type": "jira", "url": "https://x.atlassian.net", "email": "a@b.gov"}
    source |= {"api_token": "${PMSYNC_TEST_TOKEN_NOT_SET}", "projects": ["ERP"]}
    path.write_text(yaml.safe_dump({"sources": [source]}))
    result = CliRunner().invoke(cli, ["--config", str(path), "config"])
    assert result.exit_code == 0, result.output
    assert "${PMSYNC_TEST_TOKEN_NOT_SET}" in result.output and "valid" in result.output
