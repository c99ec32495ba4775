"""The ``pmsync`` command: a thin click layer. Commands parse options, call the library, and format
the result; each command lives in ``pmsync.commands.<name>``.

Exit codes (also in the README):
  0  everything worked
  1  failed (every source failed, or the command could not do its job)
  2  usage error (bad option or argument)
  3  configuration or mapping error, or a person must sign in again (unattended runs never prompt)
  4  partial failure (some sources failed or files were not published, the others were done)
  5  nothing done because another run holds the lock
  130 interrupted by Ctrl-C (what was committed is kept; a rerun continues)

An error about a command-line option's value (its ``record`` is the option, e.g. ``--period``) is a
usage error (2) whatever its class.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import click

from pmsync import __version__
from pmsync.commands.context import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, CliState
from pmsync.config import find_config_path
from pmsync.errors import PmsyncError, SourceLockedError
from pmsync.interrupt import EXIT_INTERRUPTED, INTERRUPTED_MESSAGE, first_ctrl_c_interrupts
from pmsync.logs import configure_logging, redact

log = logging.getLogger("pmsync")


class PmsyncGroup(click.Group):
    """Turns pmsync errors into one clear line and an exit code; tracebacks only with ``-v``."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with first_ctrl_c_interrupts():
                return super().invoke(ctx)
        except PmsyncError as exc:
            state = ctx.find_object(CliState)
            if state is not None and state.verbosity > 0:
                log.exception("pmsync error")
            click.echo(f"error: {redact(str(exc))}", err=True)
            ctx.exit(exit_code_for(exc))
        except KeyboardInterrupt:
            click.echo(INTERRUPTED_MESSAGE, err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise  # click's own ends: exit codes and usage errors it already worded
        except Exception as exc:
            # A defect or a library error pmsync did not foresee: still one line (secrets redacted),
            # the traceback only with -v, and a hint to report it.
            state = ctx.find_object(CliState)
            if state is not None and state.verbosity > 0:
                log.exception("unexpected error")
            click.echo(
                f"error: unexpected {type(exc).__name__}: {redact(str(exc))} "
                "(run again with -v for the traceback, and please report it)",
                err=True,
            )
            ctx.exit(EXIT_FAILURE)


#: an error whose ``record`` is a command-line option names a bad option value: a usage error
_OPTION_RECORD = re.compile(r"^--[a-z][a-z-]*$")


def exit_code_for(exc: PmsyncError) -> int:
    """The exit code (README's table) for an error that ended a command."""
    if isinstance(exc, SourceLockedError):
        return EXIT_LOCKED
    if exc.record and _OPTION_RECORD.match(exc.record):
        return EXIT_USAGE
    return exc.exit_code


@click.group(cls=PmsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmsync")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="pmsync.yaml to use (default: $PMSYNC_CONFIG, else ./pmsync.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More output; -v shows tracebacks on errors.")
@click.option("-q", "--quiet", count=True, help="Only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per log line, for schedulers and log shippers.",
)
@click.option(
    "--non-interactive",
    is_flag=True,
    help="Never wait for a person (no device-code sign-in): fail with 'sign in again' instead. "
    "Implied when stdin or stderr is not a terminal.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    verbose: int,
    quiet: int,
    log_format: str,
    non_interactive: bool,
) -> None:
    """pmsync: oversight data from Jira, Microsoft Project/Planner and finance, against baselines."""
    if non_interactive:
        # An environment variable, so that every part that might prompt (and any child process) sees it.
        os.environ["PMSYNC_NON_INTERACTIVE"] = "1"
    verbosity = verbose - quiet
    configure_logging(verbosity=verbosity, log_format=log_format)
    ctx.obj = CliState(config_path=find_config_path(config_path), verbosity=verbosity, log_format=log_format)


def _register_commands() -> None:
    # Imported here so `pmsync --help` stays fast and each command module stays independent.
    from pmsync.commands import (
        baseline,
        db,
        demo,
        doctor,
        init,
        publish,
        report,
        runs,
        sandbox,
        state,
        sync,
    )
    from pmsync.commands.config import config_command

    cli.add_command(init.init)
    cli.add_command(doctor.doctor)
    cli.add_command(sync.sync)
    cli.add_command(runs.runs)
    cli.add_command(db.db)
    cli.add_command(report.report)
    cli.add_command(baseline.baseline)
    cli.add_command(publish.publish)
    cli.add_command(demo.demo)
    cli.add_command(sandbox.sandbox)
    cli.add_command(state.state)
    cli.add_command(config_command)


_register_commands()


def main() -> None:
    """The ``pmsync`` script. Click's standalone mode turns a Ctrl-C outside a command (while options
    are parsed) into "Aborted!" and exit 1; pmsync says what it says for any Ctrl-C and exits 130."""
    try:
        result = cli.main(prog_name="pmsync", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo(INTERRUPTED_MESSAGE, err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else EXIT_OK)
