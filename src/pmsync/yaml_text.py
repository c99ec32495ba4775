"""YAML read safely, with libyaml's parser when PyYAML was built with it.

``yaml.safe_load`` is PyYAML's pure-Python parser: a 200-project ``pmsync.yaml`` took 0.5 s to read,
on every command. ``CSafeLoader`` builds the same values (PyYAML's safe constructor and resolver)
over libyaml's C parser, several times faster; PyYAML's wheels ship it.

The two parsers do not agree on every document: libyaml refuses some that the Python parser reads
(an escaped half of a character, a ``%YAML 1.3`` directive) and names the problem less precisely
(a tab used for indentation is "found character that cannot start any token", where the Python
parser names the tab). So when libyaml refuses a document, the Python parser reads it again: it
either reads it, as pmsync always did, or raises its own, more precise, error. libyaml also reads a
few documents the Python parser refuses (a tab after ``key:``); those are read.
"""

from __future__ import annotations

from typing import Any

import yaml

_FAST: type[Any] | None = getattr(yaml, "CSafeLoader", None)


def safe_load(text: str) -> Any:
    """The document in ``text`` as plain Python values (raises ``yaml.YAMLError`` if malformed)."""
    if _FAST is not None:
        try:
            return yaml.load(text, Loader=_FAST)  # noqa: S506 - libyaml's safe loader
        except yaml.YAMLError:
            pass  # the Python parser decides, and names the problem (see the module's notes)
    return yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - the safe loader
