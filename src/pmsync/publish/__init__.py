"""Publishing reports: to SharePoint through Microsoft Graph, or to a local folder.

Every publication is recorded in the store's ledger with its destination, URL, item id and SHA-256,
so publishing identical content again does nothing.
"""

from pmsync.publish.models import ProjectStatusRow, Publisher, PublishIncomplete, PublishResult, ReportFile
from pmsync.publish.run import (
    PUBLISHERS,
    build_publisher,
    check_targets,
    publish,
    publish_files,
    raise_if_incomplete,
)

__all__ = [
    "PUBLISHERS",
    "ProjectStatusRow",
    "PublishResult",
    "PublishIncomplete",
    "Publisher",
    "ReportFile",
    "build_publisher",
    "check_targets",
    "publish",
    "publish_files",
    "raise_if_incomplete",
]
