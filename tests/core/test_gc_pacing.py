"""``fewer_collections``: the GC is paced inside the block and left exactly as it was after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.gc_pacing import YOUNG_THRESHOLD, fewer_collections
from pmsync.store import Store
from pmsync.sync import SyncProgress, sync_sources

from .helpers import write_config

#: unusual thresholds, so that "restored" cannot pass by coinciding with CPython's defaults
ODD = (701, 11, 12)


@pytest.fixture(autouse=True)
def odd_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*ODD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        assert gc.get_freeze_count() == 0, "a test left objects frozen"


def test_inside_the_block_the_young_generation_waits_longer_and_older_objects_are_frozen() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *ODD[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == ODD
    assert gc.get_freeze_count() == 0


def test_thresholds_are_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == ODD
    assert gc.get_freeze_count() == 0


def test_an_inner_block_does_not_undo_the_outer_one() -> None:
    with fewer_collections():
        with fewer_collections():
            assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *ODD[1:])
        assert gc.get_freeze_count() > 0
        with pytest.raises(ValueError), fewer_collections():
            raise ValueError
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *ODD[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == ODD
    assert gc.get_freeze_count() == 0


def test_a_disabled_or_higher_threshold_is_left_as_it_is() -> None:
    gc.set_threshold(0, 11, 12)  # threshold 0: automatic collection is off
    with fewer_collections():
        assert gc.get_threshold() == (0, 11, 12)
    gc.set_threshold(50_000, 11, 12)
    with fewer_collections():
        assert gc.get_threshold() == (50_000, 11, 12)
    assert gc.get_threshold() == (50_000, 11, 12)


def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    gc.freeze()
    try:
        with fewer_collections():
            pass
        assert gc.get_freeze_count() > 0  # gc.unfreeze() would have left none
    finally:
        gc.unfreeze()


def test_a_sync_paces_the_gc_while_it_runs_and_leaves_the_thresholds_as_they_were(
    tmp_path: Path, store: Store
) -> None:
    config = load_config(
        write_config(
            tmp_path,
            store.url,
            good={"count": 30, "checkpoint_every": 5},
            broken={"count": 20, "checkpoint_every": 5, "crash_after": 12, "crash_how": "raise"},
        )
    )
    during: list[tuple[int, int, int]] = []

    def progress(_: SyncProgress) -> None:
        during.append(gc.get_threshold())

    runs = sync_sources(config, store, progress=progress, batch_size=5)
    assert sorted(r.status for r in runs) == ["failed", "ok"]
    assert during and set(during) == {(YOUNG_THRESHOLD, *ODD[1:])}
    assert gc.get_threshold() == ODD
    assert gc.get_freeze_count() == 0
