"""The group: options every command shares, and the one place where errors meet exit codes."""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

import click

from .. import __version__

# Each command's family module, imported only when the command runs (or for --help), so
# that `autodiff grad` does not load the compiler, the trainer or the symbolic rooms.
FAMILIES = {
    "eval": "calculus", "grad": "calculus",
    "diff": "derivatives", "hessian": "derivatives", "jacobian": "derivatives", "check": "derivatives",
    "graph": "views", "explain": "views", "functions": "views",
    "compile": "batch",
    "train": "training", "predict": "training",
}


class AutodiffGroup(click.Group):
    """A group whose every failure is one 'Error:' line on stderr and a documented exit code.

    Exit codes: 0 success, 1 a math error (or a failed check), 2 a usage or parse
    error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).  No traceback reaches
    the user unless AUTODIFF_DEBUG=1.  SIGTERM becomes an exception, as SIGINT is,
    so that cleanups run (a half-written file is removed, Graphviz's dot stopped).
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        previous = _on_sigterm(_terminate)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Terminated:
            click.echo("Error: terminated", err=True)
            sys.exit(143)
        except click.exceptions.NoArgsIsHelpError as exc:  # plain `autodiff`: the help, not an error
            click.echo(exc.format_message())
            sys.exit(0)
        except click.exceptions.UsageError as exc:
            hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            if "--json" in (sys.argv[1:] if args is None else list(args)):  # errors too, as --json promises
                click.echo(json.dumps({"error": {"message": exc.format_message(), "type": "UsageError"}}, indent=2))
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        except RecursionError:
            click.echo("Error: the input is nested too deeply for Python's stack", err=True)
            sys.exit(1)
        except MemoryError:
            click.echo("Error: out of memory", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: say so plainly, and how to see the traceback
            if os.environ.get("AUTODIFF_DEBUG"):
                raise
            click.echo(
                f"Error: internal error ({type(exc).__name__}: {exc}); please report it. "
                "Set AUTODIFF_DEBUG=1 to see the traceback.",
                err=True,
            )
            sys.exit(1)
        finally:
            _on_sigterm(previous)
        sys.exit(code if isinstance(code, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*FAMILIES, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in FAMILIES:
            import importlib

            module = importlib.import_module(f"{__package__}.{FAMILIES[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (autodiff ... | head): it has what it wanted, so stop
            # quietly, with success, as head's own exit status says.  (Caught here, before
            # click's main turns it into exit 1.)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0) from None


class Terminated(BaseException):
    """SIGTERM, raised where the program is (like KeyboardInterrupt for SIGINT): finally-blocks run."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _on_sigterm(handler: Any) -> Any:
    """Install a SIGTERM handler, returning the previous one (None where signals cannot be set: not the main
    thread)."""
    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        return None


@click.group(cls=AutodiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="autodiff")
def cli() -> None:
    """Differentiate math expressions with a reverse-mode autodiff engine.

    \b
    Examples:
      autodiff grad "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff eval "sqrt(x^2+y^2)" x=3 y=4
      autodiff diff "x^3*sin(x)"
      autodiff hessian "x^2*y + sin(y)" --x 1 --y 2
      autodiff explain "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff graph "tanh(w*x+b)" --x 2 --w -3 --b 1 -o graph.svg
      autodiff grad "x^2*sin(x)" --input points.jsonl
      autodiff train data.csv --target y --save model.json
      autodiff functions

    Bind variables as --x 2, --x=2 or x=2 (use x=2 when a name clashes with an
    option).  EXPR - reads the expression from stdin.  Exit codes: 0 success,
    1 math error, 2 usage or parse error, 130 interrupted, 143 terminated.
    """


def main() -> None:
    """The console script."""
    cli(prog_name="autodiff")
