"""The wheel ships everything a user needs: the core, connectors, mappings and the store's migrations.

The mandated top-level ``connectors/`` and ``mappings/`` folders become ``pmsync.connectors`` and
``pmsync.mappings`` through ``package-dir`` in pyproject.toml, whose ``packages`` list must therefore
name every package folder; a folder missing from it would work in an editable install and be absent
from the wheel. Both facts are checked here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: import package → folder, as mapped by pyproject's package-dir
ROOTS = {
    "pmsync": ROOT / "src" / "pmsync",
    "pmsync.connectors": ROOT / "connectors",
    "pmsync.mappings": ROOT / "mappings",
}


def declared_packages() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(pyproject["tool"]["setuptools"]["packages"])


def package_folders() -> dict[str, Path]:
    """Every folder holding Python code under the mapped roots, by its dotted package name."""
    found: dict[str, Path] = {}
    for prefix, root in ROOTS.items():
        for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts or not any(folder.glob("*.py")):
                continue
            relative = folder.relative_to(root).parts
            name = ".".join((prefix, *relative))
            # pmsync.connectors / pmsync.mappings appear under src/pmsync only via package-dir
            if name in found and found[name] != folder:
                continue
            found[name] = folder
    return found


def test_every_package_folder_is_declared_in_pyproject() -> None:
    folders = package_folders()
    missing_init = sorted(name for name, folder in folders.items() if not (folder / "__init__.py").exists())
    assert missing_init == [], "these folders hold .py files but no __init__.py"
    undeclared = sorted(set(folders) - declared_packages())
    assert undeclared == [], "add these to [tool.setuptools] packages in pyproject.toml"
    stale = sorted(declared_packages() - set(folders))
    assert stale == [], "pyproject.toml lists packages that do not exist"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Built from a copy so setuptools' build/ folder never lands in the working tree.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("src", "connectors", "mappings"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [built] = list(out.glob("pmsync-*.whl"))
    return zipfile.ZipFile(built)


def test_wheel_contains_connectors_mappings_and_migrations(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "pmsync/connectors/__init__.py" in names
    assert "pmsync/store/migrations/env.py" in names
    assert "pmsync/store/migrations/versions/0001_initial.py" in names
    assert "pmsync/store/migrations/versions/0002_history_by_project.py" in names
    assert "pmsync/starter-config.yaml" in names
    shipped_mappings = {n for n in names if n.startswith("pmsync/mappings/") and n.endswith(".yaml")}
    assert shipped_mappings == {f"pmsync/mappings/{p.name}" for p in (ROOT / "mappings").glob("*.yaml")}
    assert shipped_mappings, "no mapping files shipped"


def test_wheel_contains_every_declared_package(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    missing = sorted(p for p in declared_packages() if f"{p.replace('.', '/')}/__init__.py" not in names)
    assert missing == []
