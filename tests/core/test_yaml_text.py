"""pmsync's YAML reader: libyaml's speed where PyYAML has it, the Python parser's answers otherwise.

A config that pmsync read before it used libyaml still reads, and a malformed one is named as
precisely as before: ``pmsync.yaml_text`` hands a document libyaml refuses to the Python parser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pmsync import yaml_text
from pmsync.config import load_config
from pmsync.errors import ConfigError

needs_libyaml = pytest.mark.skipif(
    not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml: only one parser to compare"
)


@needs_libyaml
def test_a_document_only_the_python_parser_reads_is_still_read() -> None:
    document = "%YAML 1.3\n---\nportfolio:\n  name: Agency\n"
    with pytest.raises(yaml.YAMLError):
        yaml.load(document, Loader=yaml.CSafeLoader)  # noqa: S506 - what libyaml alone does
    assert yaml_text.safe_load(document) == {"portfolio": {"name": "Agency"}}


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("projects:\n\t- key: ERP\n", "found character '\\t' that cannot start any token"),
        ("projects: *erp\n", "found undefined alias 'erp'"),
        ('name: "Agency\\q"\n', "found unknown escape character 'q'"),
    ],
    ids=["tab-indent", "alias", "escape"],
)
def test_a_malformed_config_names_the_problem_and_where(tmp_path: Path, document: str, named: str) -> None:
    path = tmp_path / "pmsync.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert "not valid YAML at line" in str(raised.value) and named in str(raised.value)


def test_the_shipped_starter_config_reads_the_same_with_either_parser() -> None:
    text = (Path(yaml_text.__file__).parent / "starter-config.yaml").read_text(encoding="utf-8")
    assert yaml_text.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506
