"""The oversight_file connector keeps pmsync's connector guarantees (the conformance suite,
pmsync.testing), over a folder of maintained inputs."""

from __future__ import annotations

from pathlib import Path

from pmsync.testing import ConnectorConformance, Scenario

RATINGS = """project,id,rating,reason,rated_on,recorded_by,recorded_at
ERP,erp-2026-10,4,On track after the vendor change,2026-10-15,J. Rivera (CIO),2026-10-16T09:00:00+00:00
"""
GATES = """project,id,gate,decision,decided_on,funds_released,recorded_by
ERP,G1,Gate 1,approved,2026-03-05,500000,PRB secretary
ERP,G2,Gate 2,deferred,2026-09-10,,PRB secretary
"""


class TestOversightFileConformance(ConnectorConformance):
    def scenario(self, tmp_path: Path) -> Scenario:
        folder = tmp_path / "oversight"
        folder.mkdir(exist_ok=True)
        (folder / "cio_ratings.csv").write_text(RATINGS, encoding="utf-8")
        gates = folder / "gate_decisions.csv"
        gates.write_text(GATES, encoding="utf-8")
        return Scenario(
            source={"type": "oversight_file", "path": "oversight"},
            folder=tmp_path,
            config={"projects": [{"key": "ERP", "name": "ERP upgrade"}]},
            # a decision pmsync does not know, on no date: the file and row are named; its old rows stay
            spoil=lambda: gates.write_text(GATES + "ERP,G3,Gate 3,maybe,someday,,PRB secretary\n"),
            restore=lambda: gates.write_text(GATES, encoding="utf-8"),
        )
