"""The configuration shown in docs/publish.md is valid, so users can copy it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pmsync.config import load_config
from pmsync.publish.config import FolderTarget, SharePointTarget, publish_section

DOC = Path(__file__).resolve().parents[2] / "docs" / "publish.md"


def test_documented_publish_section_validates(tmp_path):
    block = next(
        b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S) if b.startswith("publish:")
    )
    (tmp_path / "pmsync.yaml").write_text(block)
    config = load_config(tmp_path / "pmsync.yaml", env={"PMSYNC_GRAPH_SECRET": "s3cret-value"})

    committee, archive = publish_section(config).targets

    assert isinstance(committee, SharePointTarget) and isinstance(archive, FolderTarget)
    assert committee.chunk_bytes % (320 * 1024) == 0
    assert committee.status_list is not None and committee.status_list.columns.overall == "OverallRAG"
    assert yaml.safe_load(block)["publish"]["targets"][0]["client_secret"] == "${PMSYNC_GRAPH_SECRET}"
