"""pmsync.connector_kit: what the base class does for a connector, as its user sees it in errors and
in `pmsync doctor`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from pmsync.connector import ConnectorConfig, ConnectorContext
from pmsync.connector_kit import FileSourceConnector, MappingFile
from pmsync.errors import ConfigError


class BoardMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: dict[str, str]


class FolderConfig(ConnectorConfig):
    path: Path
    mapping: str = "board.yaml"


class FolderConnector(FileSourceConnector[FolderConfig]):
    system: ClassVar[str] = "folder"
    Config: ClassVar[type[ConnectorConfig]] = FolderConfig
    mapping = MappingFile(BoardMapping)
    patterns = ("*.csv",)


def connector(tmp_path: Path, **config: object) -> FolderConnector:
    settings = FolderConfig.model_validate({"path": "in", **config})
    context = ConnectorContext(
        source_name="board", config=settings, mapping_dirs=(tmp_path,), base_dir=tmp_path
    )
    return FolderConnector(context)


def test_the_wrong_config_type_is_a_config_error_naming_the_source(tmp_path: Path) -> None:
    class Other(ConnectorConfig):
        pass

    with pytest.raises(ConfigError, match="needs a FolderConfig, not a Other") as caught:
        FolderConnector(ConnectorContext(source_name="board", config=Other()))
    assert caught.value.source == "board"


def test_doctor_lines_for_the_mapping_and_the_folder(tmp_path: Path) -> None:
    (tmp_path / "board.yaml").write_text("status: {todo: not_started}\n")
    (tmp_path / "in").mkdir()
    for name in ("a.CSV", "b.csv", "~$b.csv", ".hidden.csv", "notes.txt"):
        (tmp_path / "in" / name).write_text("x")
    results = {r.name: (r.status, r.detail) for r in connector(tmp_path).check()}
    assert results == {"mapping": ("ok", "board.yaml"), "files": ("ok", f"2 file(s) in {tmp_path / 'in'}")}
    assert [name for name, _ in connector(tmp_path).files()] == ["a.CSV", "b.csv"]


def test_a_broken_mapping_and_a_missing_folder_fail_doctor_saying_what(tmp_path: Path) -> None:
    (tmp_path / "board.yaml").write_text("status: {todo: not_started}\ncolour: red\n")
    results = {r.name: r for r in connector(tmp_path).check()}
    assert results["mapping"].status == "fail" and "colour" in results["mapping"].detail
    assert results["files"].status == "fail" and "does not exist" in results["files"].detail
