"""Publish benchmark stages, against the sandbox Microsoft cloud over TLS through msal + requests.

- upload: one ``size`` MB report through a resumable upload session (3.2 MB fragments), hash-checked;
- status rows: ``size`` projects upserted into the Project Status list (each looked up, then created);
- no-op rerun: ``size`` small files already published — one ledger lookup and one GET each;
- folder: ``size`` small files to a local folder.

Memory should stay flat in the upload size (only one fragment is held at a time).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from pmsync.config import PmsyncConfig, load_config
from pmsync.microsoft.auth import forget_token_providers
from pmsync.publish import ProjectStatusRow, ReportFile, publish
from pmsync.sandbox.graph_sharepoint import seed_demo
from pmsync.sandbox.microsoft import MicrosoftSandbox
from pmsync.store import Store

MB = 1024 * 1024


def _config(workdir: Path, target: dict[str, Any], env: dict[str, str] | None = None) -> PmsyncConfig:
    path = workdir / "pmsync.yaml"
    path.write_text(yaml.safe_dump({"publish": {"targets": [target]}}), encoding="utf-8")
    return load_config(path, env=env or {})


def _sharepoint(ms: MicrosoftSandbox, workdir: Path) -> PmsyncConfig:
    settings = ms.settings()
    secret = settings.pop("client_secret")
    target = {
        "name": "bench",
        "type": "sharepoint",
        **settings,
        "client_secret": "${BENCH_SECRET}",
        "site_url": "https://contoso.sharepoint.com/sites/PMO",
        "folder": "Bench",
        "chunk_bytes": 10 * 320 * 1024,
    }
    return _config(workdir, target, {"BENCH_SECRET": secret})


def _files(workdir: Path, count: int, size: int) -> list[ReportFile]:
    folder = workdir / "out"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)
    files = []
    for n in range(count):
        path = folder / f"report-{n:05d}.html"
        path.write_bytes(rng.randbytes(size))
        files.append(ReportFile(path=path, period="2026-11"))
    return files


def _run(config: PmsyncConfig, workdir: Path, files: list[ReportFile], rows: list[ProjectStatusRow]) -> int:
    with Store.open(f"sqlite:///{workdir / 'pmsync.db'}") as store:
        return sum(1 for _ in publish(config, store, files, rows))


def upload_session(size: int, workdir: Path) -> dict[str, Any]:
    forget_token_providers()
    with MicrosoftSandbox(workdir / "ms", seed=False) as ms:
        seed_demo(ms.graph_state.sharepoint)
        config = _sharepoint(ms, workdir)
        files = _files(workdir, 1, size * MB)
        ms.graph.faults.clear()
        results = _run(config, workdir, files, [])
        return {"items": results, "megabytes": size, "http_requests": len(ms.graph.faults.requests)}


def status_rows(size: int, workdir: Path) -> dict[str, Any]:
    forget_token_providers()
    with MicrosoftSandbox(workdir / "ms", seed=False) as ms:
        seed_demo(ms.graph_state.sharepoint)
        config = _sharepoint(ms, workdir)
        rows = [ProjectStatusRow(project=f"P{n:04d}", period="2026-11", overall="amber") for n in range(size)]
        ms.graph.faults.clear()
        results = _run(config, workdir, [], rows)
        return {"items": results, "http_requests": len(ms.graph.faults.requests)}


def noop_rerun(size: int, workdir: Path) -> dict[str, Any]:
    forget_token_providers()
    with MicrosoftSandbox(workdir / "ms", seed=False) as ms:
        seed_demo(ms.graph_state.sharepoint)
        config = _sharepoint(ms, workdir)
        files = _files(workdir, size, 2000)
        _run(config, workdir, files, [])
        ms.graph.faults.clear()
        results = _run(config, workdir, files, [])
        return {"items": results, "http_requests": len(ms.graph.faults.requests)}


def folder(size: int, workdir: Path) -> dict[str, Any]:
    config = _config(workdir, {"name": "archive", "type": "folder", "path": str(workdir / "published")})
    files = _files(workdir, size, 20_000)
    return {"items": _run(config, workdir, files, [])}


STAGES = [
    ("publish: upload session, size = MB", upload_session, [8, 16, 32, 64], [4]),
    ("publish: status list upsert, size = projects", status_rows, [50, 100, 200, 400], [20]),
    ("publish: identical rerun (no-op), size = files", noop_rerun, [25, 50, 100, 200], [10]),
    ("publish: folder, size = files", folder, [250, 500, 1000, 2000], [50]),
]
