"""Risk scores on a declared scale, and a high-risk threshold that the scale can reach.

A risk's score is probability × impact, each read through its source mapping's ``probability_scale``
and ``impact_scale`` (option value → number). Those two tables *are* the mapping's declared scale: the
highest score a risk from that source can get is the largest probability × the largest impact. A
``governance.high_risk_score`` above it can never be reached, so every risk would be rated "not high"
whatever it says (pmsync's mappings once scored 0.2–0.8 × 1–5, at most 4.0, against a threshold of
15). That is a configuration error, reported when pmsync.yaml is loaded, naming the threshold and the
mapping file.

The shipped Jira mappings use the common 5×5 risk matrix (each rating 1, 3 or 5 on a 1–5 scale, score
1–25); with the default threshold 15, High × High (25) and High × Medium (15) are high.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from pmsync import yaml_text
from pmsync.config import PmsyncConfig, connector_config
from pmsync.errors import ConfigError, MappingError, PmsyncError
from pmsync.mapping import find_mapping_file
from pmsync.reconcile.governance import GovernanceConfig, load_governance


@dataclass(frozen=True)
class RiskScale:
    """One mapping's declared risk scale."""

    mapping: Path
    probability: dict[str, float]
    impact: dict[str, float]

    @property
    def highest(self) -> float:
        return max(self.probability.values()) * max(self.impact.values())

    def describe(self) -> str:
        p_label, p = max(self.probability.items(), key=lambda kv: kv[1])
        i_label, i = max(self.impact.items(), key=lambda kv: kv[1])
        return (
            f"the highest score on the risk scale of {self.mapping} is probability {p_label} {p:g} × "
            f"impact {i_label} {i:g} = {self.highest:g}"
        )


def _numbers(value: object) -> dict[str, float] | None:
    if not isinstance(value, dict) or not value:
        return None
    found = {str(k): v for k, v in value.items()}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in found.values()):
        return None  # the connector's own mapping validation reports it
    return {k: float(v) for k, v in found.items()}


def declared_risk_scale(path: Path) -> RiskScale | None:
    """The scale a mapping file declares (``probability_scale`` and ``impact_scale``), if any."""
    try:
        raw = yaml_text.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # unreadable: the connector names the problem when it loads the mapping
    if not isinstance(raw, dict):
        return None
    probability, impact = _numbers(raw.get("probability_scale")), _numbers(raw.get("impact_scale"))
    if probability is None or impact is None:
        return None
    return RiskScale(path, probability, impact)


def risk_scales(config: PmsyncConfig) -> list[RiskScale]:
    """The declared risk scales of the mappings the enabled sources use (each file once)."""
    found: dict[Path, RiskScale] = {}
    for source in config.sources:
        if not source.enabled:
            continue
        try:
            settings = connector_config(config, source)
        except PmsyncError:
            continue  # load_config reports a bad source block on its own
        named = getattr(settings, "mapping_name", None)
        name = named() if callable(named) else getattr(settings, "mapping", None)
        if not isinstance(name, str) or not name:
            continue
        try:
            path = find_mapping_file(name, config.mapping_dirs())
        except MappingError:
            continue  # `pmsync doctor` and the sync name a missing mapping file
        scale = declared_risk_scale(path)
        if scale is not None:
            found.setdefault(path, scale)
    return list(found.values())


def check_high_risk_score(threshold: float, scales: Sequence[RiskScale]) -> None:
    """Raise a :class:`ConfigError` when ``threshold`` is above the highest score of any scale."""
    for scale in scales:
        if threshold > scale.highest:
            raise ConfigError(
                f"governance.high_risk_score {threshold:g} can never be reached: {scale.describe()}",
                record="governance.high_risk_score",
                hint=f"lower governance.high_risk_score to at most {scale.highest:g}, or put the "
                f"mapping's probability_scale and impact_scale on a larger scale (e.g. 1-5 each)",
            )


def governance_for(config: PmsyncConfig) -> GovernanceConfig:
    """The ``governance:`` section, validated, with its high-risk threshold checked against the scales."""
    governance = load_governance(config.governance)
    check_high_risk_score(governance.high_risk_score, risk_scales(config))
    return governance
