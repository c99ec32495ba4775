"""The store on SQLite and PostgreSQL: idempotent upserts, exact history, deletions, ledger reads."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pmsync import clock
from pmsync.connector import Deleted, Seen
from pmsync.errors import StoreError
from pmsync.model import CostLine, SourceRef, WorkItem
from pmsync.store import Store, WriteCounts
from pmsync.store.schema import record_versions
from pmsync.store.versions import versions

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_clock():
    clock.set_now(T0)
    yield
    clock.set_now(None)


def at(days: int) -> datetime:
    moment = T0 + timedelta(days=days)
    clock.set_now(moment)
    return moment


def task(n: int, name: str | None = None, scope: str = "plan.xml", project: str = "ERP") -> WorkItem:
    return WorkItem(
        source=SourceRef(system="msproject", instance="schedules", external_id=str(n)),
        name=name or f"Task {n}",
        project=project,
        scope=scope,
        percent_complete=10.0,
    )


def names(store: Store, **kwargs) -> list[str]:
    return [r.name for r in store.iter_records(WorkItem, **kwargs)]


def test_second_upsert_of_the_same_records_changes_nothing(store: Store) -> None:
    items = [task(n) for n in range(1200)]  # more than one batch
    with store.writer("schedules") as w:
        assert w.upsert(items) == WriteCounts(inserted=1200)
    with store.writer("schedules") as w:
        assert w.upsert(items) == WriteCounts(unchanged=1200)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions().subquery())).scalar_one() == 1200
        # A first load stores each record once: its version is the records row, not a copy.
        assert conn.execute(select(func.count()).select_from(record_versions)).scalar_one() == 0
    assert len(list(store.iter_records(WorkItem))) == 1200


def test_awkward_text_is_stored_exactly_as_given(store: Store) -> None:
    """New records go to PostgreSQL by COPY, whose text format has its own escapes: tabs, line
    breaks, backslashes, its null marker and non-ASCII text must all come back unchanged."""
    awkward = ["tab\there", "two\nlines\r\n", "back\\slash \\N", "\\.", "Überweisung – 5 €", "\\N"]
    items = [task(n, name) for n, name in enumerate(awkward)]
    odd_key = WorkItem(
        source=SourceRef(system="msproject", instance="sched\tules", external_id="id\\with\nbreak"),
        name="odd key",
        project=None,
    )
    with store.writer("schedules") as w:
        assert w.upsert([*items, odd_key]) == WriteCounts(inserted=len(awkward) + 1)
    assert names(store) == [*awkward, "odd key"]
    assert store.get_record(WorkItem, odd_key.source) == odd_key
    with store.writer("schedules") as w:  # and they hash the same when read again
        assert w.upsert([*items, odd_key]) == WriteCounts(unchanged=len(awkward) + 1)


def test_two_writers_inserting_the_same_new_record_get_a_clear_conflict(store: Store) -> None:
    """Without the source lock, two writers may both find a record new; the second to insert it
    gets pmsync's error with a hint (on PostgreSQL from inside the bulk COPY), and loses nothing."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite queues writers on its write lock, so the second one sees the record")
    first = store.writer("schedules")
    first.upsert([task(1)])  # not committed yet
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with store.writer("schedules") as w:
                w.upsert([task(1, "from the second writer")])  # waits on the first one's row
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)  # let the second writer look the key up and start its insert
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert len(failures) == 1 and isinstance(failures[0], StoreError), failures
    assert "conflicting write" in str(failures[0]) and "hold the source lock" in str(failures[0])
    assert names(store) == ["Task 1"]


def test_round_trip_keeps_types(store: Store) -> None:
    line = CostLine(
        source=SourceRef(system="finance_file", instance="fin", external_id="row-1"),
        kind="actual",
        amount=Decimal("1234.50"),
        period=datetime(2026, 8, 31).date(),
        project="ERP",
        source_modified=T0,
    )
    with store.writer("fin") as w:
        w.upsert([line])
    assert list(store.iter_records(CostLine)) == [line]
    assert list(store.iter_records("cost_line", project="ERP")) == [line]
    assert list(store.iter_records(CostLine, project="other")) == []
    assert store.get_record(CostLine, line.source) == line


def test_as_of_reads_return_the_state_at_each_moment(store: Store) -> None:
    with store.writer("schedules") as w:
        w.upsert([task(1), task(2)])
    monday = at(7)
    with store.writer("schedules") as w:
        assert w.upsert([task(1, "Design v2"), task(2), task(3)]) == WriteCounts(
            inserted=1, updated=1, unchanged=1
        )
    later = at(14)
    with store.writer("schedules") as w:
        w.mark_deleted([Deleted("work_item", task(2).source)])

    assert names(store, as_of=T0 - timedelta(seconds=1)) == []
    assert names(store, as_of=T0) == ["Task 1", "Task 2"]
    assert names(store, as_of=monday - timedelta(microseconds=1)) == ["Task 1", "Task 2"]
    assert names(store, as_of=monday) == ["Design v2", "Task 2", "Task 3"]
    assert names(store, as_of=later) == ["Design v2", "Task 3"]
    assert names(store, as_of=later, include_deleted=True) == ["Design v2", "Task 2", "Task 3"]
    assert names(store) == ["Design v2", "Task 3"]
    assert names(store, include_deleted=True) == ["Design v2", "Task 2", "Task 3"]
    assert store.get_record(WorkItem, task(1).source, as_of=T0).name == "Task 1"
    assert store.get_record(WorkItem, task(2).source) is None
    assert store.get_record(WorkItem, task(2).source, as_of=monday).name == "Task 2"


def test_a_deleted_record_that_comes_back_is_restored(store: Store) -> None:
    with store.writer("schedules") as w:
        w.upsert([task(1)])
        w.mark_deleted([Deleted("work_item", task(1).source)])
        assert w.mark_deleted([Deleted("work_item", task(1).source)]) == WriteCounts()
    at(1)
    with store.writer("schedules") as w:
        assert w.upsert([task(1)]) == WriteCounts(updated=1)
    assert names(store) == ["Task 1"]


def test_sweep_deletes_only_unseen_records_of_that_source_and_scope(store: Store) -> None:
    other_scope = task(10, scope="other.xml")
    with store.writer("schedules", run_id=1) as w:
        w.upsert([task(1), task(2), task(3), other_scope])
    at(1)
    with store.writer("schedules", run_id=2) as w:
        w.upsert([task(1, "renamed")])
        w.mark_seen([Seen("work_item", task(2).source)])
        assert w.sweep_scope("plan.xml", {"work_item"}) == WriteCounts(deleted=1)
    assert names(store) == ["renamed", "Task 2", "Task 10"]
    assert names(store, as_of=T0) == ["Task 1", "Task 2", "Task 3", "Task 10"]


def test_sweep_keeps_what_the_run_wrote_in_earlier_commits_and_deletes_what_it_did_not_see(
    store: Store,
) -> None:
    with store.writer("schedules", run_id=1) as w:
        w.upsert([task(1), task(2)])
    with store.writer("schedules") as w:  # written outside any run: no run id on the record
        w.upsert([task(5)])
    at(1)
    with store.writer("schedules", run_id=2) as w:
        assert w.upsert([task(4), task(2, "renamed")]) == WriteCounts(inserted=1, updated=1)
        w.commit()  # a checkpoint: the sweep runs in a later transaction of the same run
        assert w.sweep_scope("plan.xml", {"work_item"}) == WriteCounts(deleted=2)
    assert names(store) == ["renamed", "Task 4"]
    assert sorted(names(store, include_deleted=True)) == ["Task 1", "Task 4", "Task 5", "renamed"]


def test_many_scopes_swept_at_once_delete_what_each_lost_and_the_guard_judges_each_scope(
    store: Store,
) -> None:
    """One set-based sweep over several scopes: each loses exactly its unseen records; a scope that
    would be emptied is refused by name, and nothing of the sweep is kept."""
    from pmsync.errors import MassDeletionError

    plans = {f"plan{n}.xml": [task(10 * n + i, scope=f"plan{n}.xml") for i in range(3)] for n in range(3)}
    with store.writer("schedules", run_id=1) as w:
        w.upsert([item for items in plans.values() for item in items])
    at(1)
    with store.writer("schedules", run_id=2) as w:
        w.mark_seen([Seen("work_item", item.source) for item in plans["plan0.xml"]])  # plan0 unchanged
        w.mark_seen([Seen("work_item", item.source) for item in plans["plan1.xml"][:2]])  # lost one
        w.mark_seen([Seen("work_item", item.source) for item in plans["plan2.xml"][:2]])
        sweeps = [(scope, {"work_item"}) for scope in plans]
        assert w.sweep_scopes(sweeps) == WriteCounts(deleted=2)
    assert names(store) == ["Task 0", "Task 1", "Task 2", "Task 10", "Task 11", "Task 20", "Task 21"]
    at(2)
    with pytest.raises(MassDeletionError, match="plan1.xml"), store.writer("schedules", run_id=3) as w:
        w.mark_seen([Seen("work_item", item.source) for item in plans["plan0.xml"]])
        w.sweep_scopes([(scope, None) for scope in plans])  # plan1 and plan2 would be emptied
    assert len(names(store)) == 7


def test_sweep_limited_to_other_record_types_deletes_nothing(store: Store) -> None:
    with store.writer("schedules", run_id=1) as w:
        w.upsert([task(1)])
    with store.writer("schedules", run_id=2) as w:
        assert w.sweep_scope("plan.xml", {"cost_line"}) == WriteCounts()
    with store.writer("schedules") as w, pytest.raises(StoreError, match="run id"):
        w.sweep_scope("plan.xml")


def test_a_failed_write_block_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.writer("schedules") as w:
        w.upsert([task(1)])
        w.set_cursor({"page": 2})
        raise RuntimeError("connector blew up")
    assert names(store) == []
    assert store.cursor("schedules") == {}


def test_commit_makes_cursor_and_records_visible_together(store: Store) -> None:
    with store.writer("schedules") as w:
        w.upsert([task(1)])
        w.set_cursor({"page": 1})
        w.commit()
        assert store.cursor("schedules") == {"page": 1}
        w.upsert([task(2)])
        w.set_cursor({"page": 2})
        assert names(store) == ["Task 1"]
        w.rollback()
    assert names(store) == ["Task 1"]
    assert store.cursor("schedules") == {"page": 1}


def test_publications_are_found_by_destination_and_hash(store: Store) -> None:
    assert store.find_publication("sharepoint:pmo", "abc") is None
    first = store.record_publication(
        destination="sharepoint:pmo", file_name="status.html", content_hash="abc", url="https://x/1"
    )
    found = store.find_publication("sharepoint:pmo", "abc")
    assert found == first
    assert found.published_at == T0
    assert store.find_publication("folder:/tmp", "abc") is None


def test_unknown_record_type_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown record type 'workitem'"):
        list(store.iter_records("workitem"))


def test_postgres_prepares_batch_inserts_and_never_a_batch_lookup(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("server-side prepared statements are a PostgreSQL matter")
    with store.writer("schedules", run_id=1, batch_size=50) as w:
        w.upsert(task(n) for n in range(400))  # 8 batches: past psycopg's default threshold of 5
        w.upsert(task(n, "renamed") for n in range(400))
        listed = w.connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
        prepared = listed.scalars().all()
    # The batch UPDATE was parsed and planned once, not once per row (new rows go by COPY) ...
    assert any(s.lstrip().upper().startswith("UPDATE RECORDS") for s in prepared), prepared
    # ... while no batch lookup (``= ANY(array)``) got a plan cached: a generic plan made when the
    # table was small would scan the whole table for every later batch.
    assert not [s for s in prepared if "ANY" in s.upper() or s.lstrip().upper().startswith("SELECT")], (
        prepared
    )
    assert names(store)[:2] == ["renamed", "renamed"]
