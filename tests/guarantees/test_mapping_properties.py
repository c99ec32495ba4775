"""Property tests for the mapping layer: whatever a user writes into a mapping file -- any text, any
bytes, any shipped mapping with any value put at any key -- pmsync either loads it or raises a
MappingError naming the file (and, for a bad value, the key). Never another exception."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pmsync.connectors.dataverse import DataverseMapping
from pmsync.connectors.finance.mapping import FinanceMapping
from pmsync.connectors.jira.mapping import JiraMapping
from pmsync.connectors.msproject.mapping import MSProjectMapping
from pmsync.connectors.planner import PlannerMapping
from pydantic import BaseModel

from pmsync.config import shipped_mappings_dir
from pmsync.errors import MappingError
from pmsync.mapping import load_mapping

SHIPPED: dict[str, type[BaseModel]] = {
    "jira-cloud.yaml": JiraMapping,
    "jira-datacenter.yaml": JiraMapping,
    "finance-oracle-ebs.yaml": FinanceMapping,
    "finance-peoplesoft.yaml": FinanceMapping,
    "finance-workday.yaml": FinanceMapping,
    "planner.yaml": PlannerMapping,
    "dataverse.yaml": DataverseMapping,
    "msproject.yaml": MSProjectMapping,
}
SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=15)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)
# Nine times nine ... aliases: a few hundred bytes that would be 9^5 values if expanded.
ALIAS_BOMB = b"a: &a [1, 2]\n" + b"".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n".encode() for p, n in zip("abcdefg", "bcdefgh", strict=True)
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def load_text(folder: Path, data: bytes, model: type[BaseModel]) -> None:
    path = folder / "mine.yaml"
    path.write_bytes(data)
    try:
        load_mapping("mine.yaml", model, [folder])
    except MappingError as exc:
        assert exc.record == str(path), exc  # names the file
        assert str(exc)


@pytest.mark.parametrize("model", [JiraMapping, FinanceMapping, PlannerMapping], ids=lambda m: m.__name__)
@SETTINGS
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_content_loads_or_is_a_mapping_error(
    model: type[BaseModel], data: bytes, tmp_path: Path
) -> None:
    load_text(tmp_path, data, model)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00fields: {}",  # not UTF-8 (a UTF-16 BOM)
        ALIAS_BOMB,
        ALIAS_BOMB + b"statuses: *h\nfields: *h\n",  # ... under keys whose value is shown in the error
        b"!!python/object/apply:os.system ['echo pwned']",  # code execution through YAML tags
        b"fields:\n\tstory_points: x\n",  # a tab
    ],
    ids=["utf16", "alias-bomb", "alias-bomb-under-real-keys", "python-tag", "tab"],
)
@pytest.mark.parametrize("model", [JiraMapping, FinanceMapping], ids=lambda m: m.__name__)
def test_hostile_mapping_files_are_mapping_errors(
    model: type[BaseModel], data: bytes, tmp_path: Path
) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping("mine.yaml", model, [_write(tmp_path, data)])
    assert info.value.record == str(tmp_path / "mine.yaml")
    assert len(str(info.value)) < 2000  # one readable line, however large the document would expand


def _write(folder: Path, data: bytes) -> Path:
    (folder / "mine.yaml").write_bytes(data)
    return folder


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a loaded YAML document (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


@pytest.mark.parametrize("name", list(SHIPPED))
@SETTINGS
@given(choice=st.data(), value=VALUE)
def test_a_shipped_mapping_with_any_value_anywhere_loads_or_names_the_key(
    name: str, choice: st.DataObject, value: Any, tmp_path: Path
) -> None:
    original = yaml.safe_load((shipped_mappings_dir() / name).read_text(encoding="utf-8"))
    where = choice.draw(st.sampled_from(_paths(original)))
    edited = copy.deepcopy(original)
    target = edited
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    try:
        load_mapping("mine.yaml", SHIPPED[name], [tmp_path])
    except MappingError as exc:
        assert exc.record == str(path)
        assert str(where[0]) in str(exc), (where, str(exc))  # the key the edit was under
