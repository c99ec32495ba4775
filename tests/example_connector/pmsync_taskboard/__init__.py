"""pmsync-taskboard: an example third-party pmsync connector for a small REST "task board" service.

It is what docs/connectors.md and the README's "Adding a connector" walk through: one module on the
connector kit, one mapping file, one entry point, and the conformance suite in its tests.
"""

from pmsync_taskboard.connector import TaskBoardConfig, TaskBoardConnector

__all__ = ["TaskBoardConfig", "TaskBoardConnector"]
