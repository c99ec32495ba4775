"""bench/run.py: how repeated runs of a short stage become the one row the table and the targets see."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
assert _spec is not None and _spec.loader is not None
bench_run = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_run  # dataclasses look their module up there
_spec.loader.exec_module(bench_run)


def row(seconds: float, peak_mb: float = 100.0, error: str | None = None):
    rate = 1000 / seconds if seconds else 0.0
    return bench_run.Row("area", "stage", 1000, seconds, 1000, rate, None, peak_mb, error=error)


def scripted(*rows):
    """A stand-in for one benchmark subprocess per call, giving these rows in turn."""
    remaining = list(rows)
    calls = []

    def run_once():
        calls.append(1)
        return remaining.pop(0)

    return run_once, calls


def test_a_short_stage_counts_its_fastest_run_and_its_highest_memory() -> None:
    run_once, calls = scripted(row(7.4, peak_mb=90), row(1.5, peak_mb=120), row(2.0, peak_mb=95))
    counted = bench_run.measure(run_once, repeats=3)
    assert len(calls) == 3
    assert (counted.seconds, counted.peak_mb, counted.extra["runs"]) == (1.5, 120, 3)


def test_a_long_stage_is_repeated_like_a_short_one() -> None:
    """One repeat rule at every size: a long run is not taken once while short ones take the best
    of three (a single noisy large run looked like worse-than-linear growth)."""
    run_once, calls = scripted(row(40.0), row(31.0), row(35.0))
    counted = bench_run.measure(run_once, repeats=3)
    assert len(calls) == 3 and counted.seconds == 31.0


def test_a_failed_run_is_reported_even_when_another_run_was_fast() -> None:
    run_once, calls = scripted(row(0.5), row(0.0, error="AssertionError: 999 != 1000"), row(0.4))
    counted = bench_run.measure(run_once, repeats=3)
    assert len(calls) == 2  # no run after a failure
    assert counted.error == "AssertionError: 999 != 1000"


def test_repeat_one_means_one_run() -> None:
    run_once, calls = scripted(row(0.5), row(0.1))
    assert bench_run.measure(run_once, repeats=1).seconds == 0.5 and len(calls) == 1


def test_every_stage_runs_its_own_function() -> None:
    """An aliased stage function ran another stage's setup under its title (the PostgreSQL finance
    sync measured SQLite); run.py refuses such a module, and none of ours is one."""
    import types

    import pytest

    module = types.ModuleType("stages_example")

    def load(size, workdir):  # noqa: ANN001, ANN202 - a stand-in stage
        return {}

    module.load = load
    module.load_postgres = load
    aliased = [("load into SQLite", load, [1], [1]), ("load into PostgreSQL", module.load_postgres, [1], [1])]
    with pytest.raises(SystemExit, match="own function"):
        bench_run.check_stage_functions(module, aliased)
    for path in sorted(BENCH.glob("stages_*.py")):
        stages = bench_run._load(path)
        bench_run.check_stage_functions(stages, stages.STAGES)
