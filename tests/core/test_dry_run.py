"""`pmsync sync --dry-run`: the engine's own counts of what a sync would change, and the store exactly
as it was (records, history, cursor, ledger)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.store import Store

from .helpers import dump, write_config


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_a_dry_run_counts_what_a_sync_would_do_and_writes_nothing(
    tmp_path: Path, store: Store, store_url: str
) -> None:
    config = write_config(tmp_path, store_url, plan={"count": 12})
    code, out = invoke(config, "sync", "--dry-run")
    assert code == 0, out
    assert "plan: dry run: would insert 12, update 0, delete 0; 0 unchanged (nothing was written)" in out
    assert dump(store)["records"] == [] and store.sync_runs() == [] and store.cursor("plan") == {}

    assert invoke(config, "sync")[0] == 0
    before = dump(store)
    runs_before = store.sync_runs()
    changed = write_config(tmp_path, store_url, plan={"count": 14, "omit": [3], "name_suffix": " (v2)"})
    code, out = invoke(changed, "sync", "--dry-run", "--result-json", str(tmp_path / "dry.json"))
    assert code == 0, out
    assert "would insert 2, update 11, delete 1; 0 unchanged" in out
    assert dump(store) == before and store.sync_runs() == runs_before  # nothing kept, not even the run
    document = json.loads((tmp_path / "dry.json").read_text())
    assert document["dry_run"] is True and document["runs"][0]["counts"]["deleted"] == 1

    code, out = invoke(changed, "sync")  # the real sync then does exactly that
    assert code == 0 and "2 inserted, 11 updated, 1 deleted" in out, out


def test_a_dry_run_of_a_failing_source_says_so_and_keeps_nothing(
    tmp_path: Path, store: Store, store_url: str
) -> None:
    config = write_config(tmp_path, store_url, bad={"count": 20, "checkpoint_every": 5, "crash_after": 12})
    code, out = invoke(config, "sync", "--dry-run")
    assert code == 1 and "bad: dry run FAILED: " in out and "nothing was written" in out
    assert dump(store)["records"] == [] and store.cursor("bad") == {}
