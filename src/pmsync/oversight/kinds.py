"""The kinds of input people maintain, by the name their CSV file (or YAML key) carries."""

from __future__ import annotations

from pmsync.model import (
    BenefitRealised,
    CioRating,
    GateDecision,
    MaintainedInput,
    OversightFinding,
    StaffingActual,
)

KINDS: dict[str, type[MaintainedInput]] = {
    "cio_ratings": CioRating,
    "findings": OversightFinding,
    "gate_decisions": GateDecision,
    "benefits_realised": BenefitRealised,
    "staffing": StaffingActual,
}
