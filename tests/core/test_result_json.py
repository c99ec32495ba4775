"""`pmsync sync --result-json FILE`: the run's figures for the next step of a pipeline, the same as
the text lines and the ledger say."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pmsync.cli import cli

from .helpers import write_config


def test_result_json_has_each_sources_figures_and_the_exit_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pmsync.db'}"
    config = write_config(tmp_path, url, good={"count": 12}, bad={"count": 5, "crash_after": 2})
    out = tmp_path / "result.json"
    result = CliRunner().invoke(cli, ["--config", str(config), "sync", "--result-json", str(out)])
    assert result.exit_code == 4, result.output
    document = json.loads(out.read_text())
    assert document["exit_code"] == 4 and document["ok"] is False and document["dry_run"] is False
    runs = {run["source_name"]: run for run in document["runs"]}
    assert runs["good"]["status"] == "ok" and runs["good"]["counts"]["inserted"] == 12
    assert runs["good"]["in_store"] == 12 and runs["good"]["duration_seconds"] >= 0
    assert runs["bad"]["status"] == "failed" and "amount 'abc'" in runs["bad"]["error"]
    assert f"[run {runs['good']['run_id']}]" in result.output  # the same run the text line names

    again = CliRunner().invoke(
        cli, ["--config", str(config), "sync", "-s", "good", "--result-json", str(out)]
    )
    assert again.exit_code == 0
    [run] = json.loads(out.read_text())["runs"]
    assert run["counts"] == {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 12}
