"""When a report reads: its status date and the previous report's, each in valid and recorded time.

**The previous status date is one rule** (:func:`report_moments`), used by every report and, through
:func:`reading_of`, by anything that measures a portfolio (tests, benchmarks): the previous reporting
period's status date, read with what pmsync knew when that period's report was last published (what
the committee last saw), or, if it was never published, at that period's status moment. A period
still running is compared with the previous period as it was then, never with "a month ago".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from pmsync.reconcile.portfolio import PortfolioReading
from pmsync.report.period import Period, ReportingCalendar
from pmsync.store import Store


@dataclass(frozen=True)
class ReportMoments:
    """The two times of a report and of the previous one it is compared with.

    ``known_at`` is recorded time (what pmsync knew: the end of the newest sync run finished by the
    build moment, so re-running the same report gives the same bytes); ``valid_at`` is valid time (the
    end of the status date in the agency's zone: the state the report describes). The previous report
    is the previous period's state as pmsync knew it when that report was last published (else at the
    previous status date)."""

    status_date: date
    known_at: datetime
    valid_at: datetime
    previous_status_date: date
    previous_known_at: datetime
    previous_valid_at: datetime


def report_moments(
    calendar: ReportingCalendar,
    period: Period,
    known_at: datetime,
    data_through: datetime | None,
    last_published: Callable[[str, datetime], datetime | None] | None = None,
) -> ReportMoments:
    """When a report for ``period`` built at ``known_at`` reads, in both times.

    The previous report is what the committee last saw of the previous period: its last publication
    (``last_published(name_prefix, before)``) when there was one, else the previous period's state as
    known at its status date."""
    read_at = min(data_through, known_at) if data_through is not None else known_at
    status_moment = calendar.status_moment(period)
    if status_moment <= known_at:
        # A closed period is described at its status date, however old the data (stale sources are
        # flagged). The report states the later of its data and its status moment as the moment it
        # read: nothing was recorded in between, and a rebuild ``--as-of`` it gives the same bytes.
        status_date = calendar.status_date(period)
        read_at = max(read_at, status_moment)
    else:
        # A period still running is described as of the newest data.
        status_date = min(calendar.status_date(period), calendar.local_date(read_at))
    valid_at = min(calendar.end_of_day(status_date), read_at)
    previous = period.previous()
    published = last_published(f"report-{previous.label}", read_at) if last_published else None
    previous_known = min(published or calendar.status_moment(previous), read_at)
    previous_status = min(calendar.status_date(previous), calendar.local_date(previous_known))
    return ReportMoments(
        status_date=status_date,
        known_at=read_at,
        valid_at=valid_at,
        previous_status_date=previous_status,
        previous_known_at=previous_known,
        previous_valid_at=min(calendar.end_of_day(previous_status), previous_known),
    )


def reading_of(store: Store, moments: ReportMoments) -> PortfolioReading:
    """The two valid-time views of ``store`` a portfolio is measured in (now, and the previous report)."""
    return PortfolioReading(
        now=store.at(known_at=moments.known_at, valid_at=moments.valid_at, valid_on=moments.status_date),
        status_date=moments.status_date,
        as_of=moments.known_at,
        before=store.at(
            known_at=moments.previous_known_at,
            valid_at=moments.previous_valid_at,
            valid_on=moments.previous_status_date,
        ),
        previous_status_date=moments.previous_status_date,
        previous_as_of=moments.previous_known_at,
    )
