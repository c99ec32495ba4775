"""Shell completion as docs/core.md documents it: the installed `pmsync` script answers click's
completion protocol for bash, zsh and fish."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the script installed beside this interpreter (a venv need not be activated), else the one on PATH
_BESIDE = Path(sys.executable).parent / "pmsync"
PMSYNC = str(_BESIDE) if _BESIDE.is_file() else shutil.which("pmsync")
pytestmark = pytest.mark.skipif(PMSYNC is None, reason="the pmsync script is not on PATH (install pmsync)")


def complete(words: str, shell: str = "bash") -> list[str]:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    env["_PMSYNC_COMPLETE"] = f"{shell}_complete"
    assert PMSYNC is not None
    ran = subprocess.run([PMSYNC], env=env, capture_output=True, text=True, timeout=60)
    return [line.split(",", 1)[1] for line in ran.stdout.splitlines() if "," in line]


def test_commands_and_options_complete() -> None:
    assert complete("pmsync sy") == ["sync"]
    assert "--result-json" in complete("pmsync sync --re")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_source_line_prints_a_script(shell: str) -> None:
    assert PMSYNC is not None
    env = {**os.environ, "_PMSYNC_COMPLETE": f"{shell}_source"}
    ran = subprocess.run([PMSYNC], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and "_PMSYNC_COMPLETE" in ran.stdout
