"""What the finance connectors share: the mapping model (``mappings/finance-*.yaml``), the amount and
date normalizers, tabular file readers (CSV, XLSX) and the row → :class:`~pmsync.model.CostLine`
builder that assigns fiscal periods, categories, scopes and stable external ids.
"""
