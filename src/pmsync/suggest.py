""" "Did you mean ...?" for names a user typed: config keys, mapping files, sources, projects, targets.

Close matches come from :func:`difflib.get_close_matches` (the standard library's, as git and click use
similar ratios); a name is compared case-insensitively so ``erp`` finds ``ERP``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known names nearest to ``word``, best first (none when nothing is close)."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    found = difflib.get_close_matches(word.casefold(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean 'ERP'?"``, or ``""`` when no known name is close to ``word``."""
    matches = close_matches(word, choices, limit=1)  # the nearest only, as git does: one thing to try
    return f"did you mean {matches[0]!r}?" if matches else ""


def choices_hint(word: str, choices: Iterable[str], what: str) -> str:
    """A hint for an unknown name: the nearest known names first, then all of them.

    ``choices_hint("EPR", ["ERP", "HR"], "projects")`` → ``"did you mean 'ERP'? projects: ERP, HR"``
    """
    known = list(dict.fromkeys(choices))
    listing = f"{what}: {', '.join(known)}" if known else f"{what}: none configured"
    suggestion = did_you_mean(word, known)
    return f"{suggestion} {listing}" if suggestion else listing
