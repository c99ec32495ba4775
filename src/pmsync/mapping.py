"""Mapping files (``mappings/*.yaml``): data that tells connectors how a source's fields map to the
normalized model. Each connector defines a pydantic model of its mapping; this module finds the file
(the user's mappings folder first, then the shipped defaults) and turns validation problems into a
:class:`MappingError` that names the file, the key and the allowed values.

A mapping name resolves only inside the mapping folders (``../../etc/passwd`` is refused); an absolute
path is the user's explicit choice. Errors never quote a file's contents beyond the offending value of
a known key, and that only when it is a short scalar: a mapping path pointed by mistake at a secrets
file must not copy the secret into the error, the run ledger, ``runs --json`` or ``doctor``.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pmsync import yaml_text
from pmsync.errors import MappingError
from pmsync.suggest import did_you_mean

__all__ = [
    "find_mapping_file",
    "load_mapping",
]

M = TypeVar("M", bound=BaseModel)

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 60, 60


def find_mapping_file(name: str, mapping_dirs: Sequence[Path]) -> Path:
    """The first ``name`` (a file name like ``jira-cloud.yaml`` or a path) found in ``mapping_dirs``."""
    candidate = Path(name).expanduser()
    if candidate.is_absolute():
        if candidate.is_file():
            return candidate
        raise MappingError(f"mapping file {str(candidate)!r} not found")
    for folder in mapping_dirs:
        path = folder / name
        try:
            inside = path.resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError):  # a symlink loop
            inside = False
        if not inside:
            raise MappingError(
                f"mapping name {name!r} leads outside the mappings folder {str(folder)!r}",
                hint="name a file inside mappings_dir (or a shipped mapping), or give an absolute path",
            )
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in mapping_dirs)
    available = sorted({p.name for folder in mapping_dirs if folder.is_dir() for p in folder.glob("*.y*ml")})
    suggestion = did_you_mean(name, available)
    raise MappingError(
        f"mapping file {name!r} not found",
        hint=(f"{suggestion} " if suggestion else "") + f"searched: {searched}",
    )


def _allowed_values(err: dict[str, object]) -> str:
    ctx = err.get("ctx")
    if isinstance(ctx, dict) and "expected" in ctx:
        return f" (allowed: {ctx['expected']})"
    return ""


def load_mapping(name: str, model: type[M], mapping_dirs: Sequence[Path]) -> M:
    """Load and validate a mapping file; errors name the file, key path and allowed values."""
    path = find_mapping_file(name, mapping_dirs)
    try:
        raw = yaml_text.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"not UTF-8 text (byte {exc.start})", record=str(path), hint="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise MappingError(f"cannot read the file: {exc.strerror or exc}", record=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MappingError(f"not valid YAML{where}", record=str(path)) from None
    if not isinstance(raw, dict):
        # Not a mapping file at all (a token file, a key, a .env): say what it holds, never its text.
        raise MappingError(
            f"not a mapping file: it holds a {type(raw).__name__}, not keys and values",
            record=str(path),
            hint="is the mapping path pointing at the right file?",
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            value = ""
            if err["type"] not in ("missing", "extra_forbidden") and err["loc"]:
                value = f" (got: {_shown(err['input'])})"
            problems.append(f"{key}: {msg}{_allowed_values(dict(err))}{value}")
        raise MappingError("; ".join(problems), record=str(path)) from None


def _shown(value: object) -> str:
    """The offending value, bounded: a short scalar as written, anything else by its type only (a
    YAML alias bomb must not become a huge message, and a long text may be someone's secret)."""
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if isinstance(value, str) and len(value) <= 40:
        return _SHORT.repr(value)
    if isinstance(value, str):
        return f"a text of {len(value)} characters"
    size = f" of {len(value)} items" if isinstance(value, list | dict) else ""
    return f"a {type(value).__name__}{size}"
