"""Reconcile: current plans and spend against approved baselines, as of a status date.

- :mod:`~pmsync.reconcile.results` the result models reports consume (``ProjectMeasures``,
  ``PortfolioRollup``);
- :mod:`~pmsync.reconcile.calendar` working days; :mod:`~pmsync.reconcile.evm` earned value;
- :mod:`~pmsync.reconcile.health` DCMA 14-point schedule checks;
- :mod:`~pmsync.reconcile.crosscheck` cross-system consistency;
- :mod:`~pmsync.reconcile.governance` RAG rules; :mod:`~pmsync.reconcile.baselines` baseline lifecycle;
- :mod:`~pmsync.reconcile.measures` reads the store and puts it all together.
"""
