"""``pmsync baseline capture|approve|list|diff|rebaseline``: the plan of record and its audit trail."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from pmsync.errors import ConfigError
from pmsync.reconcile import baselines as bl
from pmsync.store import Store
from pmsync.suggest import choices_hint

if TYPE_CHECKING:
    from pmsync.commands.context import CliState


def _project_key(state: CliState, project: str | None) -> str:
    keys = [p.key for p in state.config().projects]
    if project is None:
        if len(keys) == 1:
            return keys[0]
        raise ConfigError(
            "name the project with --project",
            record="--project",
            hint=f"configured projects: {', '.join(keys) or 'none'}",
        )
    if project not in keys:
        raise ConfigError(
            f"project {project!r} is not configured",
            record="--project",
            hint=choices_hint(project, keys, "configured projects"),
        )
    return project


project_option = click.option(
    "--project", "-p", default=None, help="Project key (optional with one project)."
)


@click.group()
def baseline() -> None:
    """Capture, approve, list, compare and re-baseline project baselines."""


@baseline.command()
@project_option
@click.option("--name", default=None, help="A label for the baseline (default: 'Baseline N').")
@click.pass_obj
def capture(state: CliState, project: str | None, name: str | None) -> None:
    """Snapshot the project's current plan (all sources) as a new, unapproved baseline."""
    key = _project_key(state, project)
    with Store.open(state.config().store_url()) as store:
        register = bl.BaselineRegister(store, key)
        captured, count = register.capture(name)
        replacing = register.approved() is not None
    click.echo(
        f"captured baseline {captured.number} of {key}: {count} item{'s' if count != 1 else ''} "
        "(not approved yet)"
    )
    # Approving over an approved baseline is a re-baseline, which needs its change request: the hint
    # must be a command that works as printed.
    change_request = ' --change-request "CR-..."' if replacing else ""
    click.echo(
        f"approve it with: pmsync baseline approve --project {key} {captured.number} "
        f'--by "NAME" --reason "WHY"{change_request}'
    )


@baseline.command()
@project_option
@click.argument("ident")
@click.option("--by", required=True, help="Who approved it (person or board).")
@click.option("--reason", required=True, help="Why (e.g. 'plan of record after gate 2').")
@click.option("--change-request", default=None, help="Change request reference (required to re-baseline).")
@click.pass_obj
def approve(
    state: CliState, project: str | None, ident: str, by: str, reason: str, change_request: str | None
) -> None:
    """Approve baseline IDENT (a number, or an imported baseline's key from `list`); it is then immutable."""
    key = _project_key(state, project)
    with Store.open(state.config().store_url()) as store:
        approved = bl.BaselineRegister(store, key).approve(
            ident, by=by, reason=reason, change_request=change_request
        )
    click.echo(
        f"approved baseline {approved.number} of {key} by {approved.approved_by} at "
        f"{approved.approved_at:%Y-%m-%d %H:%M} UTC; it is now the plan of record and cannot change"
    )


@baseline.command()
@project_option
@click.option("--by", required=True, help="Who approved the re-baseline.")
@click.option("--reason", required=True, help="Why the plan of record changes.")
@click.option("--change-request", required=True, help="The change request that authorised it.")
@click.option("--name", default=None, help="A label for the new baseline.")
@click.pass_obj
def rebaseline(
    state: CliState, project: str | None, by: str, reason: str, change_request: str, name: str | None
) -> None:
    """Capture the current plan and approve it as the new plan of record, with the reason recorded."""
    key = _project_key(state, project)
    with Store.open(state.config().store_url()) as store:
        register = bl.BaselineRegister(store, key)
        previous = register.approved()
        approved = register.rebaseline(by=by, reason=reason, change_request=change_request, name=name)
    replaced = f" (replaces baseline {previous.number})" if previous else ""
    click.echo(f"re-baselined {key}: baseline {approved.number} approved under {change_request}{replaced}")


@baseline.command(name="list")
@project_option
@click.option("--history", "show_history", is_flag=True, help="Also print the audit trail.")
@click.option("--json", "as_json", is_flag=True, help="JSON (baselines and audit trail) for scripts.")
@click.pass_obj
def list_(state: CliState, project: str | None, show_history: bool, as_json: bool) -> None:
    """List the project's baselines (pmsync's and those imported from schedules)."""
    key = _project_key(state, project)
    with Store.open(state.config().store_url()) as store:
        register = bl.BaselineRegister(store, key)
        listed = register.baselines()
        current = register.approved()
        trail = register.history()
        counts = register.item_counts()
    if as_json:
        payload = {
            "project": key,
            "plan_of_record": None if current is None else current.number,
            "baselines": [
                bl.info(b, counts.get(b.source.key(), 0)).model_dump(mode="json") | {"id": bl.label(b)}
                for b in listed
            ],
            "history": [e.model_dump(mode="json") for e in trail],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if not listed:
        click.echo(f"{key} has no baselines yet; run `pmsync baseline capture --project {key}`")
        return
    click.echo(
        f"{'BASELINE':<40} {'ITEMS':>6} {'CAPTURED':<16} {'APPROVED':<16} {'BY':<20} "
        f"{'CHANGE REQUEST':<14} NAME"
    )
    for item in listed:
        mark = " *" if current is not None and item.source == current.source else ""
        click.echo(
            f"{bl.label(item) + mark:<40} {counts.get(item.source.key(), 0):>6} "
            f"{_when(item.captured_at):<16} {_when(item.approved_at):<16} "
            f"{item.approved_by or '-':<20} {item.change_request or '-':<14} {item.name or ''}"
        )
    click.echo("* = plan of record" if current else "no approved baseline yet")
    if show_history:
        click.echo("")
        for event in trail:
            extra = f" replacing {event.replaces}" if event.replaces is not None else ""
            details = "; ".join(
                part
                for part in (
                    f"by {event.by}" if event.by else "",
                    f"reason: {event.reason}" if event.reason else "",
                    f"change request {event.change_request}" if event.change_request else "",
                )
                if part
            )
            click.echo(f"{_when(event.at):<16} {event.action} {event.number}{extra}  {details}".rstrip())


@baseline.command()
@project_option
@click.argument("before")
@click.argument("after")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.pass_obj
def diff(state: CliState, project: str | None, before: str, after: str, as_json: bool) -> None:
    """Compare baseline BEFORE with AFTER: items added, removed, moved and re-costed."""
    key = _project_key(state, project)
    with Store.open(state.config().store_url()) as store:
        result = bl.BaselineRegister(store, key).diff(before, after)
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    click.echo(
        f"{key}: baseline {result.before} → {result.after}: {result.added} added, {result.removed} removed, "
        f"{result.moved} moved, {result.cost_changed} cost changed; total cost {result.cost_before:,.2f} → "
        f"{result.cost_after:,.2f}"
    )
    for change in result.changes:
        parts = [f"{change.change:<20} {change.name or change.item}"]
        if change.finish_before != change.finish_after:
            moved = (
                f" ({change.finish_moved_days:+d} working days)"
                if change.finish_moved_days is not None
                else ""
            )
            parts.append(f"finish {change.finish_before or '-'} → {change.finish_after or '-'}{moved}")
        if change.cost_before != change.cost_after:
            parts.append(f"cost {_money(change.cost_before)} → {_money(change.cost_after)}")
        click.echo("  " + "; ".join(parts))


def _when(value: object) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _money(value: object) -> str:
    return "-" if value is None else f"{value:,.2f}"
