"""pmsync: project-oversight data from Jira, Microsoft Project / Planner and finance systems."""

from pmsync.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    MappingError,
    PmsyncError,
    PublishError,
    RetriableSourceError,
    SourceDataError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "MappingError",
    "PmsyncError",
    "PublishError",
    "RetriableSourceError",
    "SourceDataError",
    "StoreError",
    "__version__",
]
