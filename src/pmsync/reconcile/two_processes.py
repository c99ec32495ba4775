"""A portfolio measured on two cores: the second half of its projects in a forked child.

Measuring a project is reading its records from the store and computing on them, in Python, on one
core: 500 projects took 7-8 s of a report's build while the second core stood idle (the PDF's
printing, which uses both, cannot start before the model is built). Each project's measurement
reads and computes independently of the others', so :func:`each_in_two_processes` measures the
first half here and the second in a child forked from this process (:func:`pmsync.forked.forked`),
which starts with everything already read (the ledger's totals, the config) and sends back only its
measures, pickled.

What keeps the answer the same as one process measuring every project in order:

- **The same reads.** The child reads the same store views with connections of its own
  (:meth:`~pmsync.store.Store.continue_in_fork`), at the same moments: a report reads the store as
  it was at fixed moments (``as_of``), not as it is while the reads go on, in one process or two.
- **The same notes.** What the views' reads note for the report (records read per source, late
  snapshots) is noted in the child too and added to this process's views when it is done
  (:meth:`~pmsync.store.Store.add_forked_notes`).
- **The same order and the same first error.** Results come back in the projects' order. An error
  in this process's half (the earlier projects) is raised as it happens, and the child is stopped;
  otherwise the child's first error is raised, with its source and record, as the one process
  would have raised it.

Only from :data:`SPLIT_FROM_PROJECTS` projects (below it the fork costs more than it saves), where
this process can fork (not on Windows, not in a daemon process such as a ``multiprocessing.Pool``
worker), on two CPUs or more (the affinity mask and the cgroup CPU quota, :mod:`pmsync.cpus`), and
on a store another process can open (not an in-memory SQLite database); when the system refuses
the fork, one process measures everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pmsync.errors import ReconcileError
from pmsync.forked import CannotFork, a_second_process_helps, errors_of, forked
from pmsync.store import Store

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

#: from this many projects a portfolio is measured in two processes
SPLIT_FROM_PROJECTS = 64


def each_in_two_processes(
    items: Sequence[P],
    each: Callable[[P], R],
    views: Sequence[Store],
    doing: str = "measuring half of the projects",
    name: str = "pmsync-measure-half",
) -> list[R]:
    """``[each(item) for item in items]``, the second half computed in a forked child when that pays
    (see the module's docstring); ``views`` are the store views ``each`` reads; ``doing`` is what
    the child does, in the error when it dies or fails; ``name`` is the child's process name (in
    multiprocessing's logs and errors)."""
    died, failed = errors_of(doing, ReconcileError, "portfolio")
    if not splits(items, views):
        return [each(item) for item in items]
    half = (len(items) + 1) // 2
    distinct = list({id(view): view for view in views}.values())

    def second_half(ready: Callable[[], None]) -> tuple[list[R], list[Any]]:
        for view in distinct:
            view.continue_in_fork()
        results = [each(item) for item in items[half:]]
        return results, [view.forked_notes() for view in distinct]

    try:
        with forked(second_half, name=name, died=died, failed=failed) as child:
            first = [each(item) for item in items[:half]]
            second, notes = child.result()
    except CannotFork as refused:  # raised before anything ran: one process does it all
        log.info("measuring in one process: %s", refused)
        return [each(item) for item in items]
    for view, noted in zip(distinct, notes, strict=True):
        view.add_forked_notes(noted)
    return first + second


def splits(items: Sequence[Any], views: Sequence[Store]) -> bool:
    """Whether :func:`each_in_two_processes` will compute ``items`` in two processes (the caller
    reads beforehand what both halves would otherwise each read for themselves)."""
    return (
        len(items) >= SPLIT_FROM_PROJECTS
        and a_second_process_helps()
        and all(view.readable_from_a_fork for view in views)
    )
