"""Microsoft Project schedules: MSPDI XML read natively (streaming, hardened against hostile XML);
.mpp, .mpx, Primavera .xer through MPXJ (``pip install 'pmsync[mpp]'``, Java 11+)."""

from .connector import MSProjectConfig, MSProjectConnector, project_key_for
from .mapping import MSProjectMapping
from .mpxj_bridge import mpxj_problem, read_with_mpxj
from .mspdi import read_mspdi
from .schedule import Schedule

__all__ = [
    "MSProjectConfig",
    "MSProjectConnector",
    "MSProjectMapping",
    "Schedule",
    "mpxj_problem",
    "project_key_for",
    "read_mspdi",
    "read_with_mpxj",
]
