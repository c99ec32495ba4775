"""Every example in README.md and docs/*.md, extracted and run as written (the way sqlite-utils tests
its documentation), so an example cannot drift from the code:

- **pmsync command lines** (in shell blocks, cron lines, systemd's ``ExecStart``): parsed by pmsync's own
  click command tree, strictly, so an unknown command or option, a missing argument or a bad choice
  fails. Options in ``[brackets]`` are a synopsis: the line is checked with and without them. Running
  them needs the systems they name (a Jira, a SharePoint); the commands themselves are run end to end
  by the CLI tests, and the quickstart and the demo's next steps by tests/test_readme.py.
- **Python blocks**: executed (the sandbox servers they start are real).
- **YAML blocks**: loaded; a ``pmsync.yaml`` or a part of one is validated against the JSON Schema of
  ``pmsync config --schema``, so a misspelled key in a doc fails.

A block that cannot run here is marked on the line before it with ``<!-- example: not run: REASON -->``;
such blocks are still parsed.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = re.compile(r"<!-- example: not run: (.+?) -->\s*$")
OTHER_PROGRAMS = ("pip", "pytest", "mypy", "ruff", "python", "$EDITOR", "docker", "eval", "_PMSYNC_COMPLETE")


@dataclass(frozen=True)
class Block:
    where: str
    lang: str
    text: str
    not_run: str | None


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
            line = text[: match.start()].count("\n") + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = NOT_RUN.search(before)
            found.append(
                Block(
                    f"{path.relative_to(ROOT)}:{line}",
                    match.group(1),
                    match.group(2),
                    marker and marker.group(1),
                )
            )
    return found


BLOCKS = blocks()


def _ids(items: list[Block]) -> list[str]:
    return [b.where for b in items]


# -- command lines ---------------------------------------------------------------------------------

_PMSYNC = re.compile(r"(?:^|(?<=\s)|(?<=/bin/)|(?<=&&\s))pmsync((?:[ \t]+(?![&|>;#])\S+)+)")


def command_lines(block: Block) -> list[str]:
    lines = []
    for raw in block.text.splitlines():
        line = re.sub(r"\s#\s.*$", "", raw).strip()
        for part in re.split(r"\s*(?:&&|;|\|\|?)\s*", line):
            part = re.sub(r"\s*\d?>>?\s*\S+", "", part)  # redirections
            for match in _PMSYNC.finditer(part):
                lines.append("pmsync" + match.group(1))
    return lines


def synopsis_variants(line: str) -> list[str]:
    """``a [--x X] b`` as written with and without the optional part."""
    if "[" not in line:
        return [line]
    return [re.sub(r"\s*\[[^\]]*\]", "", line), re.sub(r"\[([^\]]*)\]", r"\1", line)]


def parse_strictly(args: list[str]) -> None:
    """Resolve ``args`` through pmsync's command tree as click would run them, without running."""
    ctx = cli.make_context("pmsync", list(args))
    command: click.Command = cli
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            break
        name, sub, remaining = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, remaining, parent=ctx)
        command = sub


SHELL = [b for b in BLOCKS if b.lang in ("", "sh", "bash", "console") and command_lines(b)]


def test_the_examples_are_found() -> None:
    assert len(BLOCKS) > 30 and len(SHELL) > 8
    assert sum(len(command_lines(b)) for b in SHELL) > 30


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_every_pmsync_command_line_parses(block: Block) -> None:
    for line in command_lines(block):
        for variant in synopsis_variants(line):
            args = shlex.split(variant)[1:]
            try:
                parse_strictly(args)
            except click.BadParameter as exc:
                if "does not exist" not in exc.format_message():  # a folder the reader will have
                    pytest.fail(f"{block.where}: `{variant}`: {exc.format_message()}")
            except click.UsageError as exc:
                pytest.fail(
                    f"{block.where}: `{variant}` is not a valid pmsync command: {exc.format_message()}"
                )


@pytest.mark.parametrize("block", SHELL, ids=_ids(SHELL))
def test_shell_blocks_name_only_known_programs(block: Block) -> None:
    for raw in block.text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or re.match(r"^[\d*]", line):  # comments, cron schedules
            continue
        first = line.split()[0]
        assert first == "pmsync" or first in OTHER_PROGRAMS or first.startswith("[") or "=" in first, (
            f"{block.where}: `{line}` runs {first!r}, which this test does not know how to check"
        )


def test_bare_publish_is_not_an_example() -> None:
    """`pmsync publish` needs FILES or --from; an example without either would be a usage error."""
    for block in SHELL:
        for line in command_lines(block):
            args = shlex.split(line)[1:]
            if args[-1:] == ["publish"] or args == ["publish"]:
                pytest.fail(f"{block.where}: `{line}` publishes nothing (give FILES or --from DIR)")


# -- Python ----------------------------------------------------------------------------------------

PYTHON = [b for b in BLOCKS if b.lang == "python"]
PYTHON_FILES = sorted({b.where.rsplit(":", 1)[0] for b in PYTHON})
MODULE_FILE = re.compile(r"^# (\w+\.py)\n")


@pytest.mark.parametrize("doc", PYTHON_FILES)
def test_python_examples_run(doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file's Python blocks run in order in one namespace, in an empty folder, as a reader would
    paste them. A block that starts with ``# name.py`` is saved as that module (importable), as the
    text tells the reader to."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for block in [b for b in PYTHON if b.where.startswith(doc + ":")]:
        code = compile(block.text, block.where, "exec")
        if block.not_run:
            continue
        module = MODULE_FILE.match(block.text)
        if module:
            (tmp_path / module.group(1)).write_text(block.text, encoding="utf-8")
        exec(code, namespace)


# -- YAML ------------------------------------------------------------------------------------------

YAML = [b for b in BLOCKS if b.lang == "yaml"]


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    result = CliRunner().invoke(cli, ["config", "--schema"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.output)
    return loaded


def as_config(data: object) -> dict[str, object] | None:
    """The example as (part of) a pmsync.yaml, or None when it is another kind of file."""
    top = {"store", "mappings_dir", "portfolio", "reporting", "projects", "sources", "governance", "reports"}
    top |= {"publish"}
    if isinstance(data, list) and data and all(isinstance(i, dict) and "type" in i for i in data):
        return {"sources": data}
    if isinstance(data, dict) and data and set(data) <= top:
        return data
    if isinstance(data, dict) and set(data) <= {"sign_in", "links"}:  # a fragment of a source / project
        return None
    return None


@pytest.mark.parametrize("block", YAML, ids=_ids(YAML))
def test_yaml_examples_load_and_pmsync_config_validates(block: Block, schema: dict[str, object]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (dev extra) validates the examples")
    data = yaml.safe_load(block.text)
    config = as_config(data)
    if config is None or block.not_run:
        return
    try:
        jsonschema.validate(json.loads(json.dumps(config, default=str)), schema)
    except jsonschema.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path)
        pytest.fail(f"{block.where}: {path}: {exc.message[:300]}")
