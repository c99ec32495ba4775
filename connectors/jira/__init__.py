"""Jira Cloud and Data Center connector (``type: jira``): issues → work items (epic → story →
sub-task) and RAID records, with status history, effort, and deletion detection."""

from .config import JiraConfig
from .connector import JiraConnector
from .mapping import JiraMapping

__all__ = ["JiraConfig", "JiraConnector", "JiraMapping"]
