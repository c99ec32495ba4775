"""Run pmsync's benchmarks and print one table.

    python bench/run.py            # full sizes (takes minutes)
    python bench/run.py --quick    # small sizes, a smoke run
    python bench/run.py --stage jira --stage finance
    python bench/run.py --stage "sync CSV" --stage "bare loop" --size 125000 --repeat 1

Every ``bench/stages_<area>.py`` lists ``STAGES = [(title, function, sizes, quick_sizes), ...]``;
each stage function is ``f(size, workdir) -> {"items": n, "http_requests": k, ...}``. Setup that must
not be measured (generating input files, seeding a sandbox) goes into an optional
``prepare_<function name>(size, workdir)`` in the same module, run first in the same fresh process.
Each (stage, size) runs in a fresh subprocess, and the RSS high-water mark is reset after prepare, so
peak memory covers the stage alone; the peak of a process the stage starts (a sync's reading process,
a browser) is added to it.

Every (stage, size) runs ``--repeat`` times (3 by default), whatever its length, and the fastest
run counts, with the highest peak memory of the runs: on a shared or virtual machine noise only ever
adds time. One rule at every size keeps the growth check below honest: when short runs took the best
of three and long ones ran once, a noisy single run of a large size looked like worse-than-linear
growth (issue 25). ``--repeat 1`` gives a quicker, noisier look.

Sizes double step by step; the last column says how cost grew versus the previous size, and a stage
whose time grows clearly worse than linearly (or, for streaming stages, whose memory grows with size)
is called out under the table. Last, each of the issue's targets is checked against the rows
(:mod:`targets`): met, not met, or not run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from targets import verdicts  # noqa: E402 - bench/ is not a package; its scripts import each other by path


@dataclass
class Row:
    area: str
    stage: str
    size: int
    seconds: float
    items: int
    items_per_second: float
    http_requests: int | None
    peak_mb: float
    error: str | None = None
    #: whatever else the stage reported (e.g. file_mb, search_requests, CPU seconds per process)
    extra: dict[str, Any] = field(default_factory=dict)


def _load(module_path: Path) -> Any:
    # Imported by name from bench/ (not from a file spec) so that functions a stage hands to
    # multiprocessing (e.g. a sandbox served in its own process) pickle by their module path.
    if str(module_path.parent) not in sys.path:
        sys.path.insert(0, str(module_path.parent))
    return importlib.import_module(module_path.stem)


def _rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets the VmHWM high-water mark, so the peak covers the stage only.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children_peak_mb() -> float:
    """The largest peak RSS among this process's finished children (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _child(module_path: str, func_name: str, size: int, queue: Any) -> None:
    try:
        module = _load(Path(module_path))
        func = getattr(module, func_name)
        prepare = getattr(module, f"prepare_{func_name}", None)
        with tempfile.TemporaryDirectory(prefix="pmsync-bench-") as tmp:
            workdir = Path(tmp)
            if prepare is not None:
                prepare(size, workdir)
            _reset_peak()
            children_before = _children_peak_mb()
            started = time.perf_counter()
            result = func(size, workdir) or {}
            seconds = time.perf_counter() - started
            # a process the stage started (the reading process of a sync, a browser printing) counts
            # too: its peak is added, an upper bound, as the two may not peak at the same moment
            children = _children_peak_mb()
            peak = _peak_mb() + (children if children > children_before else 0.0)
            queue.put({"ok": True, "seconds": seconds, "peak_mb": peak, **result})
    except BaseException as exc:  # noqa: BLE001 - report any failure as a row, keep benchmarking
        queue.put({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def check_stage_functions(module: Any, stages: list[Any]) -> None:
    """Each stage's function must be the module's attribute of its own name, once per module: the
    child process finds the function and its ``prepare_<name>`` by ``__name__``, so an alias
    (``sync_csv_postgres = sync_csv``) silently ran the other stage's setup (SQLite measured under a
    PostgreSQL title)."""
    seen: dict[str, str] = {}
    for title, func, *_ in stages:
        name = func.__name__
        if getattr(module, name, None) is not func or name in seen:
            other = seen.get(name, name)
            raise SystemExit(
                f"bench: stage {title!r} runs {module.__name__}.{name}, which is also {other!r}; "
                "give each stage its own function"
            )
        seen[name] = title


def run_stage(area: str, module_path: Path, title: str, func_name: str, size: int, timeout: float) -> Row:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(str(module_path), func_name, size, queue))
    process.start()
    try:
        result = queue.get(timeout=timeout)
    except Exception:  # noqa: BLE001
        process.kill()
        result = {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    process.join(timeout=30)
    if not result.get("ok"):
        return Row(area, title, size, 0.0, 0, 0.0, None, 0.0, error=result.get("error"))
    items = int(result.get("items", size))
    seconds = float(result["seconds"])
    known = {"ok", "seconds", "peak_mb", "items", "http_requests"}
    return Row(
        area=area,
        stage=title,
        size=size,
        seconds=seconds,
        items=items,
        items_per_second=items / seconds if seconds > 0 else float("inf"),
        http_requests=result.get("http_requests"),
        peak_mb=float(result["peak_mb"]),
        extra={key: value for key, value in result.items() if key not in known},
    )


def fastest_of(runs: list[Row]) -> Row:
    """The row that counts for repeated runs of one stage and size: a failure if any run failed, else
    the fastest run, with the highest peak memory of all runs and how many runs there were."""
    failed = [run for run in runs if run.error is not None]
    if failed:
        return failed[0]
    best = min(runs, key=lambda run: run.seconds)
    return replace(best, peak_mb=max(run.peak_mb for run in runs), extra={**best.extra, "runs": len(runs)})


def measure(run_once: Callable[[], Row], repeats: int) -> Row:
    """Run a stage at one size ``repeats`` times, or until a run fails (see :func:`fastest_of`);
    the same rule at every size, so sizes compare like for like."""
    runs = [run_once()]
    while len(runs) < repeats and runs[-1].error is None:
        runs.append(run_once())
    return fastest_of(runs)


def growth_notes(rows: list[Row]) -> list[str]:
    """Call out stages whose time grows worse than linearly between doubling sizes."""
    notes = []
    by_stage: dict[str, list[Row]] = {}
    for row in rows:
        if row.error is None:
            by_stage.setdefault(row.stage, []).append(row)
    for stage, stage_rows in by_stage.items():
        stage_rows.sort(key=lambda r: r.size)
        for small, big in zip(stage_rows, stage_rows[1:], strict=False):
            size_ratio = big.size / small.size
            if small.seconds < 0.2:
                continue  # too short to judge; fixed costs dominate
            time_ratio = big.seconds / small.seconds
            if time_ratio > size_ratio * 1.35:
                notes.append(
                    f"{stage}: {small.size} -> {big.size} items took {time_ratio:.1f}x the time "
                    f"(size grew {size_ratio:.1f}x): worse than linear"
                )
        if len(stage_rows) >= 2:
            first, last = stage_rows[0], stage_rows[-1]
            if last.size >= 4 * first.size and last.peak_mb > 2 * first.peak_mb and last.peak_mb > 200:
                notes.append(
                    f"{stage}: peak memory grew from {first.peak_mb:.0f} MB to {last.peak_mb:.0f} MB "
                    f"while size grew {last.size // first.size}x"
                )
    return notes


def _fmt(rows: list[Row]) -> str:
    header = (
        f"{'stage':<42} {'size':>9} {'seconds':>9} {'items/s':>11} {'requests':>9} {'peak MB':>8}  growth"
    )
    lines = [header, "-" * len(header)]
    previous: dict[str, Row] = {}
    for row in rows:
        if row.error:
            lines.append(f"{row.stage:<42} {row.size:>9} FAILED: {row.error}")
            continue
        growth = ""
        prev = previous.get(row.stage)
        if prev is not None and prev.seconds > 0:
            growth = f"time x{row.seconds / prev.seconds:.2f} for size x{row.size / prev.size:.1f}"
        previous[row.stage] = row
        requests = "" if row.http_requests is None else str(row.http_requests)
        lines.append(
            f"{row.stage:<42} {row.size:>9} {row.seconds:>9.2f} {row.items_per_second:>11.0f} "
            f"{requests:>9} {row.peak_mb:>8.0f}  {growth}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument(
        "--stage", action="append", default=[], help="only stages whose area or title contains this"
    )
    parser.add_argument(
        "--size", type=int, action="append", default=[], help="only these sizes of the chosen stages"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per stage and size")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of every stage at every size; the fastest counts (1: run once)",
    )
    args = parser.parse_args(argv)

    rows: list[Row] = []
    for module_path in sorted(BENCH_DIR.glob("stages_*.py")):
        area = module_path.stem.removeprefix("stages_")
        module = _load(module_path)
        stages = getattr(module, "STAGES", [])
        check_stage_functions(module, stages)
        for title, func, sizes, quick_sizes in stages:
            if args.stage and not any(s.lower() in f"{area} {title}".lower() for s in args.stage):
                continue
            for size in quick_sizes if args.quick else sizes:
                if args.size and size not in args.size:
                    continue
                run_once = partial(run_stage, area, module_path, title, func.__name__, size, args.timeout)
                row = measure(run_once, args.repeat)
                rows.append(row)
                if row.error:
                    progress = row.error
                else:
                    runs = row.extra.get("runs", 1)
                    progress = f"{row.seconds:.2f} s" + (f" (fastest of {runs})" if runs > 1 else "")
                print(f"  {title} @ {size}: {progress}", file=sys.stderr, flush=True)
    print(_fmt(rows))
    notes = growth_notes(rows)
    print()
    print("\n".join(notes) if notes else "growth: every stage grew linearly or better between sizes")
    print()
    print("targets (issues 11 and 25):")
    for verdict in verdicts([asdict(r) for r in rows]):
        print("  " + verdict.line())
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
