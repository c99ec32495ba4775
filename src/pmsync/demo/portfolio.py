"""The demo portfolio: a dozen IT projects of different sizes, each kept where agencies keep them.

Sizes, sponsors and behaviours are made up but typical: a large ERP upgrade tracked in Jira against an
approved Microsoft Project baseline, infrastructure work planned in Project, a device rollout in
Planner, identity and telephony work in Planner premium (Dataverse), and finance exports for all.
``spend_pace`` (actual spend versus plan) and ``slip_weeks`` (schedule slip per month) make some
projects healthy and some not, so the reports have something to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

Home = Literal["jira", "msproject", "jira+msproject", "planner", "dataverse"]

#: first day of the demo's story (a Monday); the three reporting periods are the months after it
DEMO_START = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
DEMO_PERIODS: tuple[str, ...] = ("2026-08", "2026-09", "2026-10")
#: first project start: schedules began before the demo opens, so they have history
PLAN_START = date(2026, 3, 2)
FISCAL_YEAR_START_MONTH = 7
UNOWNED_FINANCE_CODE = "P-199"


@dataclass(frozen=True)
class DemoProject:
    key: str
    name: str
    home: Home
    tier: Literal["small", "medium", "large"]
    sponsor: str
    manager: str
    budget: int
    finance_code: str
    #: the project's key in its home system: Jira project key, schedule file name, plan or project title
    source_key: str
    #: actual spend / planned spend each month (1.0 = on plan)
    spend_pace: float = 1.0
    #: weeks the remaining work slips each month
    slip_weeks: int = 0
    #: working weeks from PLAN_START to the planned finish (Jira projects: about when the sandbox
    #: Jira's generated issues are due, so the budget's time-phasing matches the baseline's)
    weeks: int = 52
    narrative: str = ""
    #: Jira projects: detail items the team finishes each week (its throughput, steady through the demo)
    weekly_done: int = 0


PROJECTS: tuple[DemoProject, ...] = (
    DemoProject(
        "ERP",
        "ERP modernisation",
        "jira+msproject",
        "large",
        "Chief Financial Officer",
        "Alex Rivera",
        4_200_000,
        "P-100",
        "ERP",
        spend_pace=1.18,
        slip_weeks=1,
        weeks=60,
        narrative="Data conversion is running behind; the vendor added two developers in September. "
        "Payroll parallel run remains the critical milestone.",
    ),
    DemoProject(
        "NET",
        "Network refresh",
        "msproject",
        "large",
        "Chief Information Officer",
        "Priya Nair",
        2_800_000,
        "P-101",
        "network-refresh.xml",
        spend_pace=1.0,
        weeks=48,
        narrative="Core switching replaced in all three data rooms; branch cut-overs follow the plan.",
    ),
    DemoProject(
        "DEV",
        "Device rollout",
        "planner",
        "medium",
        "Deputy Director, Operations",
        "Sam Okafor",
        900_000,
        "P-102",
        "Device Rollout",
        spend_pace=1.05,
        slip_weeks=1,
        weeks=30,
    ),
    DemoProject(
        "PORTAL",
        "Citizen portal",
        "jira",
        "medium",
        "Director of Digital Services",
        "Lee Chen",
        1_600_000,
        "P-103",
        "PORTAL",
        spend_pace=0.95,
        weeks=40,
        narrative="Accessibility audit passed; payments integration starts in October.",
        weekly_done=2,
    ),
    DemoProject(
        "GRANTS",
        "Grants management system",
        "jira",
        "medium",
        "Director of Grants",
        "Ana Ruiz",
        1_200_000,
        "P-104",
        "GRANTS",
        spend_pace=1.32,
        slip_weeks=2,
        weeks=36,
        weekly_done=1,
    ),
    DemoProject(
        "DATA",
        "Data platform",
        "jira",
        "large",
        "Chief Data Officer",
        "Mateo García",
        3_100_000,
        "P-105",
        "DATA",
        spend_pace=1.0,
        weeks=56,
        weekly_done=2,
    ),
    DemoProject(
        "DCX",
        "Data centre exit",
        "msproject",
        "large",
        "Chief Information Officer",
        "Nora Ahmed",
        5_000_000,
        "P-106",
        "dc-exit.xml",
        spend_pace=1.1,
        slip_weeks=1,
        weeks=64,
    ),
    DemoProject(
        "M365",
        "Microsoft 365 migration",
        "planner",
        "medium",
        "Chief Information Officer",
        "Pat Morgan",
        750_000,
        "P-107",
        "Microsoft 365 Migration",
        spend_pace=0.9,
        weeks=26,
    ),
    DemoProject(
        "IAM",
        "Identity and access management",
        "dataverse",
        "medium",
        "Chief Information Security Officer",
        "Oskar Berg",
        1_100_000,
        "P-108",
        "Identity and Access Management",
        spend_pace=1.0,
        weeks=34,
    ),
    DemoProject(
        "SOC",
        "Security operations centre",
        "msproject",
        "small",
        "Chief Information Security Officer",
        "Oskar Berg",
        450_000,
        "P-109",
        "soc-build.xml",
        spend_pace=1.22,
        slip_weeks=1,
        weeks=28,
    ),
    DemoProject(
        "WIFI",
        "Branch Wi-Fi",
        "planner",
        "small",
        "Deputy Director, Operations",
        "Sam Okafor",
        300_000,
        "P-110",
        "Branch Wi-Fi",
        spend_pace=1.0,
        weeks=24,
    ),
    DemoProject(
        "TEL",
        "Telephony replacement",
        "dataverse",
        "small",
        "Deputy Director, Operations",
        "Lee Chen",
        400_000,
        "P-111",
        "Telephony Replacement",
        spend_pace=1.12,
        slip_weeks=1,
        weeks=30,
    ),
)


def in_home(home: str) -> list[DemoProject]:
    """The demo projects kept (at least partly) in ``home`` (``jira``, ``msproject``, ...)."""
    return [p for p in PROJECTS if home in p.home.split("+")]


def period_end(period: str) -> datetime:
    """18:00 UTC on the last working day of a ``YYYY-MM`` period: when the month's sync runs."""
    year, month = (int(part) for part in period.split("-"))
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    day = date.fromordinal(first_next.toordinal() - 1)
    while day.weekday() >= 5:
        day = date.fromordinal(day.toordinal() - 1)
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)


#: the committee pack is built on this working day after a period closes (agencies report late)
REPORT_WORKING_DAY = 3


def report_moment(period: str) -> datetime:
    """09:00 UTC on the ``REPORT_WORKING_DAY``-th working day after a ``YYYY-MM`` period: when the
    demo builds that period's report, as an agency's PMO would in the first days of the next month."""
    year, month = (int(part) for part in period.split("-"))
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    remaining = REPORT_WORKING_DAY
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
