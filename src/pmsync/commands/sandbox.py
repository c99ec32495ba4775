"""``pmsync sandbox``: run the sandbox servers alone (Jira, Microsoft identity, Graph with Planner and
SharePoint, Dataverse) on loopback, print their URLs and the matching pmsync.yaml snippet, and keep
serving until interrupted. For exploring the APIs, trying a config, and the benchmarks.

The servers listen on fixed ports (``--port`` and the three after it), and the CA bundle and secrets
are rewritten to the same files on each start, so a config made from the printed snippet keeps working
across restarts. The snippet is indented to paste at the end of the file ``pmsync init`` writes.
"""

from __future__ import annotations

import signal
import textwrap
import threading
from pathlib import Path
from types import FrameType

import click
import yaml

from pmsync.errors import ConfigError

#: Jira's port; identity, Graph and Dataverse listen on the three after it
DEFAULT_PORT = 8470


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
@click.option(
    "--port",
    "base_port",
    type=click.IntRange(0, 65532),
    default=DEFAULT_PORT,
    show_default=True,
    help="Jira's port; the Microsoft identity platform, Graph and Dataverse take the next three. "
    "0: any free ports (they change on every start).",
)
def sandbox(
    workdir: Path,
    jira_issues: int,
    jira_flavor: str,
    exact_office_files: bool = False,
    base_port: int = DEFAULT_PORT,
) -> None:
    """Serve the sandbox Jira and Microsoft endpoints on 127.0.0.1 until Ctrl-C."""
    from pmsync.sandbox.graph_sharepoint import DEMO_SITE_PATH, seed_demo
    from pmsync.sandbox.jira import JiraSandbox
    from pmsync.sandbox.microsoft import MicrosoftSandbox, write_private_file

    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ports = [base_port + i if base_port else 0 for i in range(4)]
    _check_ports_free([p for p in ports if p])  # werkzeug would print its own advice and exit 1
    jira = JiraSandbox(issues_per_project=jira_issues, flavor=jira_flavor, port=ports[0])
    microsoft = MicrosoftSandbox(workdir / "microsoft", ports=(ports[1], ports[2], ports[3]))
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
        sources = yaml.safe_dump([jira_block], sort_keys=False) + microsoft.config_snippet()
        click.echo("# pmsync.yaml: paste at the end of `sources:` (the last section `pmsync init` writes)")
        click.echo(textwrap.indent(sources, "  ").rstrip())
        click.echo("# ... then this section")
        click.echo(yaml.safe_dump({"publish": {"targets": [target]}}, sort_keys=False, indent=2).rstrip())
        click.echo("")
        click.echo("serving; press Ctrl-C to stop", err=True)
        stop.wait()
    finally:
        jira.stop()
        microsoft.stop()


def _check_ports_free(ports: list[int]) -> None:
    import socket

    for port in ports:
        with socket.socket() as probe:
            # as the servers do: a port a stopped sandbox left in TIME_WAIT is free to take again
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on 127.0.0.1 ports {ports[0]}-{ports[-1]}: port {port}: "
                    f"{exc.strerror or exc}",
                    record="--port",
                    hint="another sandbox may be running; give another --port, or --port 0 (any free ports)",
                ) from None
