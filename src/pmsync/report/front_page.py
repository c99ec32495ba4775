"""The committee's front page and each project's oversight figures, for the report model.

The figures are reconcile's (:func:`pmsync.reconcile.oversight.measure_oversight`); this module only
gathers them: the portfolio at a glance by the status the report leads with (the CIO's where it
overrides), the escalation triggers tripped, and the decisions the committee is asked to make.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pmsync.config import PmsyncConfig, ProjectConfig
from pmsync.oversight.config import OversightSettings, oversight_settings
from pmsync.reconcile.oversight import MaintainedInputs, measure_oversight
from pmsync.reconcile.oversight_results import EscalationTrigger, OversightMeasures
from pmsync.reconcile.results import ProjectMeasures
from pmsync.report.model import FrontPage, FrontPageItem, ProjectSection
from pmsync.store import Store

#: the maintained inputs' record types: when the store holds none, no project reads them
MAINTAINED_TYPES = ("cio_rating", "oversight_finding", "gate_decision", "benefit_realised", "staffing_actual")


class OversightReader:
    """Measures oversight per project for one report (the settings and one store probe are shared)."""

    def __init__(self, config: PmsyncConfig, store: Store, as_of: datetime) -> None:
        self.settings: OversightSettings = oversight_settings(
            config.oversight, where=str(config.path or "pmsync.yaml")
        )
        self.has_inputs = store.newest_write(MAINTAINED_TYPES, as_of) is not None
        self.configured = bool(config.oversight) or any(not p.oversight.is_empty() for p in config.projects)

        #: the maintained inputs per project, read once per store view (now, and the previous report)
        self._inputs: dict[int, dict[str, MaintainedInputs]] = {}

    @property
    def active(self) -> bool:
        return self.has_inputs or self.configured

    def measure(
        self, view: Store, project: ProjectConfig, measures: ProjectMeasures, status_date: date
    ) -> OversightMeasures | None:
        """``view``: the report's store view (or the previous report's), the same for every project."""
        if not self.active:
            return None
        inputs = self.read_inputs(view).get(project.key, MaintainedInputs())
        return measure_oversight(view, project, self.settings, measures, status_date, inputs)

    def read_inputs(self, view: Store) -> dict[str, MaintainedInputs]:
        """The maintained inputs of every project in ``view``, read at the first call per view."""
        if id(view) not in self._inputs:
            self._inputs[id(view)] = MaintainedInputs.read_all(view) if self.has_inputs else {}
        return self._inputs[id(view)]


def _tripped_in_short(tripped: Sequence[EscalationTrigger], settings: OversightSettings | None) -> str:
    """One line per project for the front page: each tripped trigger's figure against its threshold,
    grouped by basis (the project summary has the figures in words), then the action the rules name."""
    by_basis: dict[str, list[str]] = {}
    for t in tripped:
        limit = (
            f"{t.threshold_percent:g} % late" if t.dimension == "schedule" else f"±{t.threshold_percent:g} %"
        )
        figure = "n/a" if t.figure_percent is None else f"{t.figure_percent:+.1f} %"
        by_basis.setdefault(t.basis, []).append(f"{t.label} {figure} (threshold {limit})")
    action = "re-approval required"
    if settings is not None:
        action = settings.triggers.action + (
            f" ({settings.triggers.report_name})" if settings.triggers.report_name else ""
        )
    against = "; ".join(f"against the {basis}: {', '.join(parts)}" for basis, parts in by_basis.items())
    return f"{action}: {against}"


def front_page(sections: Sequence[ProjectSection], settings: OversightSettings | None) -> FrontPage:
    by_status = {rag: 0 for rag in ("red", "amber", "green", "grey")}
    by_criticality: dict[str, int] = {}
    triggers: list[FrontPageItem] = []
    decisions: list[FrontPageItem] = []
    overrides: list[FrontPageItem] = []
    for s in sections:
        o = s.oversight
        status = o.effective_overall.status if o is not None else s.measures.rag.overall.status
        by_status[status] += 1
        if o is None:
            continue
        level = o.criticality.level or "not rated"
        by_criticality[level] = by_criticality.get(level, 0) + 1
        tripped = [t for t in o.triggers if t.tripped]
        if tripped:
            triggers.append(
                FrontPageItem(project=s.key, name=s.name, text=_tripped_in_short(tripped, settings))
            )
        # the re-approval a tripped trigger calls for is the triggers line above, not said twice
        reapproval = (settings.triggers.action if settings else "re-approval required").capitalize()
        decisions += [
            FrontPageItem(project=s.key, name=s.name, text=d)
            for d in o.decisions_needed
            if not (tripped and d.startswith(reapproval))
        ]
        if o.cio is not None and o.cio.overrides and o.cio.rag != o.computed_overall.status:
            overrides.append(FrontPageItem(project=s.key, name=s.name, text=o.effective_overall.explanation))
    return FrontPage(
        by_status=by_status,
        by_criticality=dict(sorted(by_criticality.items())),
        triggers_tripped=triggers,
        decisions_needed=decisions,
        cio_overrides=overrides,
        preset=settings.preset if settings else None,
        preset_source=settings.source if settings else None,
    )
