"""``ConnectorConformance``: the conformance suite as a pytest base class.

A connector package subclasses it in one of its test modules and says how to run its connector::

    class TestTaskBoardConformance(ConnectorConformance):
        def scenario(self, tmp_path: Path) -> Scenario:
            return Scenario(source={"type": "taskboard", "url": server.url}, folder=tmp_path)

Each guarantee is then one test of that class (``test_kill_safe`` ...). A check the scenario cannot
feed (no ``spoil``) is skipped, and says why.
"""

from __future__ import annotations

from pathlib import Path

from pmsync.testing.conformance import Scenario, run_check

__all__ = ["ConnectorConformance"]


class ConnectorConformance:
    """Subclass (its name starting with ``Test``) and define :meth:`scenario`."""

    def scenario(self, tmp_path: Path) -> Scenario:
        raise NotImplementedError("define scenario(tmp_path) to say how the suite runs the connector")

    def _run(self, name: str, tmp_path: Path) -> None:
        if not run_check(name, self.scenario(tmp_path)):
            import pytest  # only a pytest run gets here; pmsync itself does not depend on pytest

            pytest.skip(f"{name}: the scenario gives nothing to check it with")

    def test_cursor_is_json(self, tmp_path: Path) -> None:
        self._run("cursor_is_json", tmp_path)

    def test_checkpoints_advance(self, tmp_path: Path) -> None:
        self._run("checkpoints_advance", tmp_path)

    def test_second_run_unchanged(self, tmp_path: Path) -> None:
        self._run("second_run_unchanged", tmp_path)

    def test_snapshot_keeps_its_scope(self, tmp_path: Path) -> None:
        self._run("snapshot_keeps_its_scope", tmp_path)

    def test_bad_input_is_pmsync_error(self, tmp_path: Path) -> None:
        self._run("bad_input_is_pmsync_error", tmp_path)

    def test_kill_safe(self, tmp_path: Path) -> None:
        self._run("kill_safe", tmp_path)
