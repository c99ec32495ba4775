"""The architecture, stated over the imports of ``src/pmsync`` and ``connectors/`` (read with ``ast``,
nothing imported), so that a change that breaks it fails here and says which import breaks which rule.

- The store is closed: outside ``pmsync/store/`` only the names ``pmsync.store`` exports are imported.
- Layers: each chain runs one way (a module imports only what is to its right), and connectors
  never import the store, the sync engine, the commands or the CLI.
- No import cycles between modules (every import counts: module level, under ``TYPE_CHECKING`` and
  inside functions, because a lazy import that hides a cycle still ties the two modules together).
- The modules a connector author imports declare their public names in ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: import package -> the folder its source lives in (the benchmarks are held to the closed store too)
PACKAGES = {
    "pmsync": ROOT / "src" / "pmsync",
    "pmsync.connectors": ROOT / "connectors",
    "bench": ROOT / "bench",
}

#: Each chain runs one way: a module may import a layer to its right, never one to its left.
LAYER_CHAINS: tuple[tuple[str, ...], ...] = (
    ("cli", "commands", "demo", "sandbox"),
    ("publish", "report", "reconcile", "store", "model"),
)
#: what connectors never import: they yield records and know nothing of where they go (the issue names
#: store, sync and commands; the rest holds today and keeps connectors below the whole pipeline)
CONNECTORS_NEVER_IMPORT = (
    "store",
    "sync",
    "commands",
    "cli",
    "demo",
    "sandbox",
    "reconcile",
    "report",
    "publish",
)

#: import cycles allowed for now, each as the sorted tuple of its modules; keep it empty
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()

#: the modules a connector author imports (the kit's modules join when they exist)
PUBLIC_API = (
    "pmsync.connector",
    "pmsync.errors",
    "pmsync.model",
    "pmsync.mapping",
    "pmsync.http",
    "pmsync.logs",
    "pmsync.store",
    "pmsync.connector_kit",
    "pmsync.paging",
    "pmsync.testing",
)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (a name imported from a package resolves to its submodule)
    name: str | None  # the name taken from ``target`` by ``from target import name``, if any
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _known(name: str) -> str | None:
    """The module ``name`` is, or the innermost one it lies in (``pmsync.x.Y`` -> ``pmsync.x``)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name)
                if target is not None:
                    yield Import(module, target, None, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules():
                    yield Import(module, submodule, None, path, node.lineno)
                elif (target := _known(source)) is not None:
                    yield Import(module, target, alias.name, path, node.lineno)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for m, p in modules().items() for i in _imports_of(m, p) if i.target != m)


def layer(module: str) -> str | None:
    if module == "pmsync.model":
        return "model"
    if module in ("pmsync.cli", "pmsync.sync"):
        return module.rpartition(".")[2]
    for name in ("commands", "demo", "sandbox", "publish", "report", "reconcile", "store", "connectors"):
        prefix = f"pmsync.{name}"
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def _store_exports() -> set[str]:
    tree = ast.parse((PACKAGES["pmsync"] / "store" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    raise AssertionError("pmsync/store/__init__.py declares no __all__")


def test_nothing_outside_the_store_imports_its_internals():
    exported = _store_exports()
    broken = [
        f"{i.where()}: {i.importer} imports {i.target}{'.' + i.name if i.name else ''}"
        for i in all_imports()
        if layer(i.importer) != "store"
        and (
            i.target.startswith("pmsync.store.")
            or (i.target == "pmsync.store" and i.name is not None and i.name not in exported)
        )
    ]
    assert not broken, (
        "the store is closed: import only what pmsync.store exports (its __all__), or add a "
        "method to Store / Writer:\n" + "\n".join(broken)
    )


def _layer_breaks() -> Iterator[str]:
    for i in all_imports():
        source, target = layer(i.importer), layer(i.target)
        if source is None or target is None or source == target:
            continue
        for chain in LAYER_CHAINS:
            if source in chain and target in chain and chain.index(target) < chain.index(source):
                yield (
                    f"{i.where()}: {i.importer} imports {i.target}, but {source} is below {target} "
                    f"(the chain {' > '.join(chain)} runs one way)"
                )
        if source == "connectors" and target in CONNECTORS_NEVER_IMPORT:
            yield (
                f"{i.where()}: {i.importer} imports {i.target}: connectors never import "
                f"{', '.join(CONNECTORS_NEVER_IMPORT)} (they yield records; the sync engine stores them)"
            )


def test_imports_follow_the_layers():
    broken = list(_layer_breaks())
    assert not broken, "imports against the layer contract:\n" + "\n".join(broken)


def test_the_layer_rules_see_every_layer():
    """A renamed or moved package would silently leave the rules above with nothing to check."""
    seen = {layer(m) for m in modules()}
    named = {name for chain in LAYER_CHAINS for name in chain} | set(CONNECTORS_NEVER_IMPORT)
    assert named | {"connectors"} <= seen


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for i in all_imports():
        graph[i.importer].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles():
    new = [c for c in _cycles() if tuple(c) not in KNOWN_CYCLES]
    lines = []
    for cycle in new:
        members = set(cycle)
        lines.append("cycle: " + ", ".join(cycle))
        lines += dict.fromkeys(
            f"  {i.where()}: {i.importer} -> {i.target}"
            for i in all_imports()
            if i.importer in members and i.target in members
        )
    assert not new, (
        "modules that import each other (move what both need into a module below them):\n" + "\n".join(lines)
    )


def test_known_cycles_are_still_cycles():
    """An allowance outlives its cycle unnoticed unless this fails when the cycle is gone."""
    current = {tuple(c) for c in _cycles()}
    assert current >= KNOWN_CYCLES, f"no longer cycles, remove them: {sorted(KNOWN_CYCLES - current)}"


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    """The check above is not vacuous: two modules importing each other are reported."""
    fake = (
        Import("pmsync.a", "pmsync.b", None, ROOT, 1),
        Import("pmsync.b", "pmsync.a", None, ROOT, 1),
    )
    monkeypatch.setitem(globals(), "all_imports", lambda: fake)
    monkeypatch.setitem(globals(), "modules", lambda: {"pmsync.a": ROOT, "pmsync.b": ROOT})
    assert _cycles() == [["pmsync.a", "pmsync.b"]]


@pytest.mark.parametrize("name", [m for m in PUBLIC_API if importlib.util.find_spec(m) is not None])
def test_public_api_modules_declare_their_names(name: str):
    module = importlib.import_module(name)
    declared = getattr(module, "__all__", None)
    assert declared, f"{name} declares no __all__: a connector author cannot tell what is public"
    missing = [n for n in declared if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def test_the_layer_check_names_the_broken_rule(monkeypatch):
    """The layer check is not vacuous: an upward import and a connector reaching the store are named."""
    fake = (
        Import("pmsync.report.build", "pmsync.publish.run", None, ROOT / "x.py", 3),
        Import("pmsync.connectors.jira", "pmsync.store", "Store", ROOT / "y.py", 7),
        Import("pmsync.publish.run", "pmsync.report.model", None, ROOT / "z.py", 1),  # downward: fine
    )
    monkeypatch.setitem(globals(), "all_imports", lambda: fake)
    broken = list(_layer_breaks())
    assert broken == [
        "x.py:3: pmsync.report.build imports pmsync.publish.run, but report is below publish "
        "(the chain publish > report > reconcile > store > model runs one way)",
        "y.py:7: pmsync.connectors.jira imports pmsync.store: connectors never import "
        f"{', '.join(CONNECTORS_NEVER_IMPORT)} (they yield records; the sync engine stores them)",
    ]
