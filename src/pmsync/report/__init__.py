"""Oversight reports: one report model per period and scope, rendered by several writers.

- :mod:`pmsync.report.model`: the report model (what a report says);
- :mod:`pmsync.report.build`: store + config + period → report model (as-of reads: past reports
  rebuild exactly);
- :mod:`pmsync.report.writers`: HTML, XLSX, PDF and JSON renderings.
"""

from pmsync.report.model import Report

__all__ = ["Report"]
