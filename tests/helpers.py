"""What many test files share: the command line run in process, as a user would run it."""

from __future__ import annotations

import json
from collections.abc import Mapping

from click.testing import CliRunner, Result

from autodiff_cli.cli import cli


def run(*args: object, input: str | bytes | None = None, env: Mapping[str, str] | None = None,
        catch_exceptions: bool = False) -> Result:
    """`autodiff ARGS...` in process: the exit code, stdout and stderr apart (click 8.2 keeps them apart).

    Arguments become text (paths are welcome).  An exception the command does not turn
    into an `Error:` line propagates, so a traceback fails the test instead of hiding in
    result.exception; pass catch_exceptions=True to look at it.
    """
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=catch_exceptions)


def records(stdout: str) -> list:
    """JSON Lines (batch mode's records) as a list of objects."""
    return [json.loads(line) for line in stdout.splitlines()]
