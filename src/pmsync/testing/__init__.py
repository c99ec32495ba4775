"""Testing tools for connector authors: the conformance suite (:mod:`pmsync.testing.conformance`).

``Scenario`` says how to run a connector against its test server or files; ``ConnectorConformance``
is a pytest base class with one test per guarantee; ``check_connector`` runs them all outside pytest.
"""

from pmsync.testing.conformance import CHECKS, ConformanceError, Scenario, check_connector
from pmsync.testing.suite import ConnectorConformance

__all__ = ["CHECKS", "ConformanceError", "ConnectorConformance", "Scenario", "check_connector"]
