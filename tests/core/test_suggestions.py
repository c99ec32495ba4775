"""A typo gets a "did you mean", from the names allowed at that place."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.errors import ConfigError, MappingError
from pmsync.mapping import find_mapping_file
from pmsync.suggest import choices_hint, did_you_mean


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pmsync.yaml"
    path.write_text(text, encoding="utf-8")
    load_config(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reprots: {}\n", "reprots: unknown key (did you mean 'reports'?)"),
        ("store: {ulr: x}\n", "store.ulr: unknown key (did you mean 'url'?)"),
        (
            "projects:\n  - {key: ERP, name: ERP, sponser: CIO}\n",
            "projects[0].sponser: unknown key (did you mean 'sponsor'?)",
        ),
        (
            "sources:\n  - {name: f, type: finance_file, path: x, mapings: y}\n",
            "sources[0].mapings: unknown key (did you mean 'mapping'?)",
        ),
    ],
)
def test_an_unknown_config_key_suggests_the_nearest_allowed_one(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert expected in str(info.value)


def test_an_unknown_key_with_nothing_close_points_at_the_schema(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"zzzzzz: unknown key \(check the spelling; see `pmsync config --schema`"
    ):
        load(tmp_path, "zzzzzz: 1\n")


def test_a_missing_mapping_file_suggests_a_shipped_one(tmp_path: Path) -> None:
    from pmsync.config import shipped_mappings_dir

    with pytest.raises(MappingError) as info:
        find_mapping_file("finance-oracle-ebs.yml", [tmp_path, shipped_mappings_dir()])
    assert "did you mean 'finance-oracle-ebs.yaml'?" in str(info.value)


def test_suggestions_ignore_case_and_stay_quiet_when_nothing_is_close() -> None:
    assert did_you_mean("erp", ["ERP", "HR"]) == "did you mean 'ERP'?"
    assert did_you_mean("warehouse", ["ERP", "HR"]) == ""
    assert choices_hint("EPR", ["ERP", "HR"], "projects") == "did you mean 'ERP'? projects: ERP, HR"
    assert choices_hint("x", [], "projects") == "projects: none configured"
