"""``pmsync sandbox``: run the sandbox servers alone (Jira, Microsoft identity, Graph with Planner and
SharePoint, Dataverse) on loopback, print their URLs and the matching pmsync.yaml snippet, and keep
serving until interrupted. For exploring the APIs, trying a config, and the benchmarks."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click
import yaml


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("pmsync-sandbox"),
    show_default=True,
    help="Folder for the sandbox's CA certificate and the demo app's secret (written 0600).",
)
@click.option("--jira-issues", default=200, show_default=True, help="Issues generated per Jira project.")
@click.option(
    "--jira-flavor",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="Serve Jira Cloud (email + API token) or Data Center (PAT).",
)
@click.option(
    "--exact-office-files",
    is_flag=True,
    help="Store Office files byte for byte. By default the sandbox SharePoint rewrites .xlsx/.docx/.pptx "
    "on save, as SharePoint does (property demotion), so their size and hash change.",
)
def sandbox(workdir: Path, jira_issues: int, jira_flavor: str, exact_office_files: bool) -> None:
    """Serve the sandbox Jira and Microsoft endpoints on 127.0.0.1 until Ctrl-C."""
    from pmsync.sandbox.graph_sharepoint import DEMO_SITE_PATH, seed_demo
    from pmsync.sandbox.jira import JiraSandbox
    from pmsync.sandbox.microsoft import MicrosoftSandbox, write_private_file

    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    jira = JiraSandbox(issues_per_project=jira_issues, flavor=jira_flavor)
    microsoft = MicrosoftSandbox(workdir / "microsoft")
    seed_demo(microsoft.graph_state.sharepoint)
    microsoft.graph_state.sharepoint.rewrite_office_files = not exact_office_files
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    jira.start()
    microsoft.start()
    try:
        secret_file = write_private_file(workdir / "jira-token.txt", (jira.api_token or "").encode())
        jira_block = {"name": "jira", "type": "jira", **jira.source_settings()}
        for secret_key in ("api_token", "pat"):
            if secret_key in jira_block:
                secret_file.write_text(str(jira_block.pop(secret_key)))
                jira_block[f"{secret_key}_file"] = str(secret_file)
        settings = {k: v for k, v in microsoft.settings().items() if k != "client_secret"}
        target = {
            "name": "sharepoint",
            "type": "sharepoint",
            "site_url": f"https://contoso.sharepoint.com{DEMO_SITE_PATH}",
            "library": "Documents",
            "folder": "Oversight/{period}",
            **settings,
            "client_secret_file": str(workdir / "microsoft" / "client-secret.txt"),
        }
        click.echo(f"Jira ({jira_flavor}):      {jira.url}")
        click.echo(f"Microsoft identity:  {microsoft.identity_url}/{microsoft.credentials.tenant_id}/v2.0")
        click.echo(f"Microsoft Graph:     {microsoft.graph_url}/v1.0")
        click.echo(f"Dataverse:           {microsoft.dataverse_url}/api/data/v9.2")
        click.echo(f"Sandbox CA:          {microsoft.ca_bundle}")
        click.echo("")
        click.echo("# pmsync.yaml: paste under `sources:`")
        click.echo(yaml.safe_dump([jira_block], sort_keys=False).rstrip())
        click.echo(microsoft.config_snippet().rstrip())
        click.echo("# ... and under `publish:`")
        click.echo(yaml.safe_dump({"targets": [target]}, sort_keys=False).rstrip())
        click.echo("")
        click.echo("serving; press Ctrl-C to stop", err=True)
        stop.wait()
    finally:
        jira.stop()
        microsoft.stop()
