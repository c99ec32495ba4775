"""The ``reports:`` section of pmsync.yaml.

```yaml
reports:
  title: IT portfolio oversight report
  out_dir: reports            # where `pmsync report` writes (relative to pmsync.yaml)
  formats: [html, xlsx, pdf, json]
  templates_dir: templates    # the agency's overriding Jinja2 templates (logo, wording, sections)
  pdf_engine: auto            # Chromium when found (~10x faster), else WeasyPrint; or chromium, weasyprint
  chromium_path: null         # the browser; default: chromium-headless-shell, chromium... on PATH
  stale_after_hours: 48       # a source not synced for longer is flagged stale
  top_items: 10               # risks, issues, decisions and actions listed per project
  sync_runs_listed: 50        # sync runs listed in the appendix
```
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pmsync.config import PmsyncConfig
from pmsync.errors import ConfigError
from pmsync.report.writers.pdf import PdfEngine
from pmsync.validation import describe_validation_error


class ReportsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = "IT portfolio oversight report"
    out_dir: Path = Path("reports")
    formats: list[str] = Field(default_factory=lambda: ["html", "xlsx", "json"])
    templates_dir: Path | None = None
    pdf_engine: PdfEngine = "auto"
    chromium_path: str | None = None
    stale_after_hours: float = Field(default=48, gt=0)
    top_items: int = Field(default=10, ge=1)
    sync_runs_listed: int = Field(default=50, ge=1)


def load_reports_config(config: PmsyncConfig) -> ReportsConfig:
    try:
        settings = ReportsConfig.model_validate(config.reports)
    except ValidationError as exc:
        raise ConfigError(
            f"pmsync.yaml: {describe_validation_error(exc, prefix='reports', model=ReportsConfig)}"
        ) from None
    if settings.templates_dir is not None:
        settings = settings.model_copy(update={"templates_dir": config.resolve_path(settings.templates_dir)})
    return settings.model_copy(update={"out_dir": config.resolve_path(settings.out_dir)})
