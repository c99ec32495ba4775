"""The oversight_file connector: inputs people maintain, synced like any source (history, ledger, as-of)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import yaml

from pmsync import clock
from pmsync.config import load_config
from pmsync.model import CioRating, GateDecision, OversightFinding
from pmsync.store import Store
from pmsync.sync import sync_sources

CIO_V1 = """project,id,rating,reason,rated_on,recorded_by,recorded_at
ERP,erp-2026-10,4,On track after the vendor change,2026-10-15,J. Rivera (CIO),2026-10-16T09:00:00+00:00
"""
CIO_V2 = CIO_V1 + (
    "ERP,erp-2026-11,2,Vendor staffing gaps put cutover at risk,2026-11-20,J. Rivera (CIO),"
    "2026-11-21T08:30:00+00:00\n"
)
FINDINGS = {
    "findings": [
        {
            "project": "erp-upgrade",  # the project's key in this source (projects[].links)
            "id": "IVV-7",
            "title": "Test strategy lacks performance testing",
            "assessor": "IV&V: Example Assurance LLC",
            "severity": "high",
            "recommendation": "Add load tests before cutover",
            "owner": "QA lead",
            "corrective_action": "Load test plan",
            "action_status": "in progress",
            "due": "2026-11-15",
            "raised_on": "2026-09-30",
            "recorded_by": "IV&V vendor",
        }
    ],
    "gate_decisions": [
        {
            "project": "ERP",
            "id": "G1",
            "gate": "Gate 1",
            "decision": "approved",
            "decided_on": "2026-03-05",
            "funds_released": 500000,
            "recorded_by": "PRB secretary",
        }
    ],
}


def _config(tmp_path: Path, store_url: str) -> Path:
    config = {
        "store": {"url": store_url},
        "projects": [{"key": "ERP", "name": "ERP upgrade", "links": {"oversight": "erp-upgrade"}}],
        "sources": [{"name": "oversight", "type": "oversight_file", "path": "oversight/"}],
    }
    (tmp_path / "oversight").mkdir()
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_maintained_inputs_sync_with_who_and_when_and_keep_their_history(
    tmp_path: Path, store_url: str
) -> None:
    config = load_config(_config(tmp_path, store_url))
    folder = tmp_path / "oversight"
    (folder / "cio_ratings.csv").write_text(CIO_V1, encoding="utf-8")
    (folder / "oversight.yaml").write_text(yaml.safe_dump(FINDINGS), encoding="utf-8")
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted) == ("ok", 3)
        [finding] = store.iter_records(OversightFinding)
        assert (
            finding.project == "ERP" and finding.recorded_by == "IV&V vendor" and finding.severity == "high"
        )
        [gate] = store.iter_records(GateDecision)
        assert gate.funds_released == 500000 and gate.recorded_by == "PRB secretary"
        first_known = clock.now()

        clock.set_now(first_known + timedelta(days=1))  # the CIO adds November's rating
        (folder / "cio_ratings.csv").write_text(CIO_V2, encoding="utf-8")
        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted, run.counts.updated) == ("ok", 1, 0)
        latest = {r.source.external_id: r for r in store.iter_records(CioRating)}
        november = latest["cio_ratings:erp-2026-11"]
        assert (november.rating, november.recorded_by) == (2, "J. Rivera (CIO)")
        assert november.source_modified == november.recorded_at  # who and when
        # what pmsync knew before the second sync: only October's rating
        earlier = list(store.iter_records(CioRating, as_of=first_known))
        assert [r.rated_on for r in earlier] == [date(2026, 10, 15)]


def test_a_bad_row_is_named_and_the_file_previous_version_stays(tmp_path: Path, store_url: str) -> None:
    config = load_config(_config(tmp_path, store_url))
    folder = tmp_path / "oversight"
    (folder / "cio_ratings.csv").write_text(CIO_V1, encoding="utf-8")
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert run.status == "ok"
        bad = CIO_V1 + "ERP,erp-2026-11,7,Too high,2026-11-20,J. Rivera (CIO),\n"
        (folder / "cio_ratings.csv").write_text(bad, encoding="utf-8")
        [run] = sync_sources(config, store)
        assert run.status == "failed" and run.error is not None
        assert "cio_ratings.csv row 3: rating: Input should be less than or equal to 5" in run.error
        assert [r.rating for r in store.iter_records(CioRating)] == [4]  # nothing lost

        (folder / "cio_ratings.csv").write_text(
            CIO_V1 + "ERP,x,3,No recorder,2026-11-20,,\n", encoding="utf-8"
        )
        [run] = sync_sources(config, store)
        assert run.error is not None and "row 3: recorded_by: Field required" in run.error


def test_a_csv_named_after_no_kind_is_refused_by_doctor(tmp_path: Path, store_url: str) -> None:
    from pmsync.config import build_connector

    config = load_config(_config(tmp_path, store_url))
    (tmp_path / "oversight" / "ratings.csv").write_text(CIO_V1, encoding="utf-8")
    connector = build_connector(config, config.sources[0])
    [result] = connector.check()
    assert result.status == "fail" and "cio_ratings.csv" in result.fix
