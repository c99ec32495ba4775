"""The MS Project connector keeps pmsync's connector guarantees (the conformance suite,
pmsync.testing), over a folder of the hand-made MSPDI schedules."""

from __future__ import annotations

import shutil
from pathlib import Path

from pmsync.testing import ConnectorConformance, Scenario

from .conftest import DATA


class TestMSProjectConformance(ConnectorConformance):
    def scenario(self, tmp_path: Path) -> Scenario:
        folder = tmp_path / "schedules"
        folder.mkdir(exist_ok=True)
        for name in ("printer-refresh.xml", "network-core.xml"):
            shutil.copy(DATA / name, folder)
        truncated = folder / "network-core.xml"
        whole = truncated.read_bytes()
        return Scenario(
            source={"type": "msproject", "path": "schedules"},
            folder=tmp_path,
            # a schedule cut off mid-file (an interrupted copy): the error names the file
            spoil=lambda: truncated.write_bytes(whole[: len(whole) // 2]),
            restore=lambda: truncated.write_bytes(whole),
        )
