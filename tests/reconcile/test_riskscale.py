"""Risk scores on a declared scale: High/High is high, and an unreachable threshold is a config error."""

from datetime import date
from pathlib import Path

import pytest

from pmsync.commands.context import CliState
from pmsync.config import PmsyncConfig, shipped_mappings_dir
from pmsync.errors import ConfigError
from pmsync.model import Risk, SourceRef
from pmsync.reconcile.figures import ProjectData
from pmsync.reconcile.measures import risk_measures
from pmsync.reconcile.riskscale import declared_risk_scale

CONFIG = """\
mappings_dir: maps
governance:
  high_risk_score: {threshold}
sources:
  - name: jira
    type: jira
    url: https://example.atlassian.net
    projects: [PORTAL]
    email: pm@example.org
    api_token: riskscale-test-api-token  # a secret-looking value: the secret registry is global
    mapping: {mapping}
"""


def write(tmp_path: Path, threshold: float, mapping: str = "jira-cloud.yaml") -> Path:
    (tmp_path / "maps").mkdir(exist_ok=True)
    path = tmp_path / "pmsync.yaml"
    path.write_text(CONFIG.format(threshold=threshold, mapping=mapping), encoding="utf-8")
    return path


def loaded(path: Path) -> PmsyncConfig:
    """pmsync.yaml as every command loads it (the governance check belongs to reconcile, above config)."""
    return CliState(config_path=path).config()


def test_shipped_jira_mappings_score_high_high_25_and_high_medium_15():
    """Both shipped Jira mappings rate Low 1, Medium 3, High 5: High × High = 25, High × Medium = 15
    (high at the default threshold 15), Medium × Medium = 9 (not high)."""
    for name in ("jira-cloud.yaml", "jira-datacenter.yaml"):
        scale = declared_risk_scale(shipped_mappings_dir() / name)
        assert scale is not None
        assert scale.highest == 25
        assert scale.probability["High"] * scale.impact["Medium"] == 15
        assert scale.probability["Medium"] * scale.impact["Medium"] == 9


def test_an_open_high_high_risk_counts_as_high():
    """PORTAL-114, High/High and open: 5 × 5 = 25 ≥ 15 → one high risk; a Medium/Medium one (9) is not."""

    def risk(n: int, p: float, i: float) -> Risk:
        return Risk(
            source=SourceRef(system="jira", instance="cloud", external_id=str(n)),
            project="PORTAL",
            title=f"risk {n}",
            status_category="in_progress",
            probability=p,
            impact=i,
            score=p * i,
        )

    data = ProjectData(key="PORTAL", risks=[risk(114, 5, 5), risk(115, 3, 3)])
    measured = risk_measures(data, date(2026, 10, 30), 15)
    assert (measured.open_risks, measured.high_risks) == (2, 1)


def test_a_threshold_the_mapping_cannot_reach_is_refused_when_a_command_loads_the_config(tmp_path: Path):
    """The old scale (probability 0.2 / 0.5 / 0.8 × impact 1 / 3 / 5) tops out at 0.8 × 5 = 4: a
    threshold of 15 could never be reached. The error names the threshold and the mapping file."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "old.yaml").write_text(
        "probability_scale: {Low: 0.2, Medium: 0.5, High: 0.8}\nimpact_scale: {Low: 1, Medium: 3, High: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        loaded(write(tmp_path, 15, "old.yaml"))
    message = str(err.value)
    assert "governance.high_risk_score 15 can never be reached" in message
    assert str(tmp_path / "maps" / "old.yaml") in message
    assert "probability High 0.8 × impact High 5 = 4" in message
    assert loaded(write(tmp_path, 4, "old.yaml")).governance["high_risk_score"] == 4


def test_the_shipped_mapping_accepts_the_default_threshold(tmp_path: Path):
    assert loaded(write(tmp_path, 15)).sources[0].name == "jira"
    with pytest.raises(ConfigError, match="high_risk_score 30 can never be reached"):
        loaded(write(tmp_path, 30))
