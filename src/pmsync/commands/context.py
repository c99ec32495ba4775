"""What every command receives from the ``pmsync`` group: the global options' decisions and the exit codes.

Kept apart from :mod:`pmsync.cli` so that the commands depend on it and the CLI on the commands, never
the other way round (the layer contract in ``tests/core/test_architecture.py``).

The exit codes are listed in :mod:`pmsync.cli` and the README.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from pmsync.config import PmsyncConfig, load_config

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_PARTIAL = 4
EXIT_LOCKED = 5


@dataclass
class CliState:
    """What the global options decided; passed to every command as the click context object."""

    config_path: Path
    verbosity: int = 0
    log_format: str = "text"
    _config: PmsyncConfig | None = field(default=None, repr=False)

    def config(self) -> PmsyncConfig:
        """pmsync.yaml, loaded once; every command refuses a bad ``governance:`` section at once."""
        if self._config is None:
            # Imported here so `pmsync --help` stays fast. The governance rules must be reachable on
            # the sources' declared risk scales; reconcile owns both, and config (below it) cannot ask.
            from pmsync.reconcile.riskscale import governance_for

            config = load_config(self.config_path)
            governance_for(config)
            self._config = config
        return self._config

    @property
    def interactive(self) -> bool:
        """Show progress bars only on a terminal, and not when logging JSON for a scheduler."""
        return sys.stderr.isatty() and self.log_format == "text" and self.verbosity >= 0
