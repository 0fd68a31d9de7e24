"""The group: options every command shares, and the one place where errors meet exit codes."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

try:  # signal's C half: the same signal.signal, without the enum classes `import signal` builds (~1 ms)
    import _signal as signal
except ImportError:  # a Python without it
    import signal  # type: ignore[no-redef]

from .. import __version__
from ..errors import visible

# Each command's family module, imported only when the command runs (or for --help), so
# that `autodiff grad` does not load the compiler, the trainer or the symbolic rooms.
FAMILIES = {
    "eval": "calculus", "grad": "calculus",
    "diff": "derivatives", "hessian": "derivatives", "jacobian": "derivatives", "check": "check",
    "graph": "views", "explain": "views", "functions": "views",
    "compile": "batch",
    "train": "training", "predict": "training",
}


# An unknown long option of a command that takes bindings (--x in grad ... --x 2) is marked with this
# character before click parses, so that click passes it on as an argument rather than raising and
# catching NoSuchOption for it (which imports difflib to suggest options and locale through gettext,
# about 2 ms of a one-shot command).  No argument can hold it: argv is C strings.  read_calls() strips it.
BINDING_MARK = "\0"


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"autodiff, version {__version__}", color=ctx.color)
        ctx.exit()


class QuietHelp:
    """Click's -h/--help option, made with its text given rather than asked of gettext.

    Click's own help option looks its text up in gettext's catalogues on every run,
    which imports locale (about a millisecond of a one-shot command) to print nothing
    different.  Same option, same place in the help (last), same behaviour.
    """

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)  # type: ignore[attr-defined]
        if not names or not self.add_help_option:  # type: ignore[attr-defined]
            return None
        option = self.__dict__.get("quiet_help")
        if option is None:  # made once: click orders eager callbacks by the option object
            option = self.__dict__["quiet_help"] = click.Option(
                names, is_flag=True, is_eager=True, expose_value=False, callback=_show_help,
                help="Show this message and exit.",
            )
        return option


class Command(QuietHelp, click.Command):
    """Every command's class: click's, with the quiet help option."""


class AutodiffGroup(QuietHelp, click.Group):
    """A group whose every failure is one 'Error:' line on stderr and a documented exit code.

    Exit codes: 0 success, 1 a math error (or a failed check), 2 a usage or parse
    error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).  No traceback reaches
    the user unless AUTODIFF_DEBUG=1.  SIGTERM becomes an exception, as SIGINT is,
    so that cleanups run (a half-written file is removed, Graphviz's dot stopped).
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        args = self.protect_expressions(args)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        json_mode = "--json" in args or BINDING_MARK + "--json" in args  # marked where the command has no --json

        def fail(message: str, code: int, kind: str, hint: str = "") -> None:
            click.echo(f"Error: {visible(message)}{hint}", err=True)
            if json_mode:  # errors too, as --json promises
                import json

                click.echo(json.dumps({"error": {"message": message, "type": kind}}, indent=2))
            sys.exit(code)

        for i, arg in enumerate(a[1:] if a[:1] == BINDING_MARK else a for a in args):
            # A Python caller can pass a lone surrogate, which no file name and no text can hold (a shell
            # cannot: its bad bytes arrive as escapes).  The command's first argument says it in its own
            # words (the expression's message, or the file that cannot be read); any other is refused
            # here, before anything runs, so that no command does its work and then fails to save it.
            if i != 1 and (where := _lone_surrogate(arg)):
                fail(f"argument {i + 1} is not valid text (a lone surrogate at character {where})", 2, "UsageError")

        previous = _on_sigterm(_terminate)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Terminated:
            fail("terminated", 143, "Terminated")
        except click.exceptions.NoArgsIsHelpError as exc:  # plain `autodiff`: the help, not an error
            click.echo(exc.format_message())
            sys.exit(0)
        except click.exceptions.UsageError as exc:
            hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx is not None else ""
            fail(exc.format_message(), exc.exit_code, "UsageError", hint)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code, "UsageError")
        except (click.Abort, KeyboardInterrupt):
            fail("interrupted", 130, "Interrupted")
        except RecursionError:
            fail("the input is nested too deeply for Python's stack", 1, "RecursionError")
        except MemoryError:
            fail("out of memory", 1, "MemoryError")
        except Exception as exc:  # a bug: say so plainly, and how to see the traceback
            if os.environ.get("AUTODIFF_DEBUG"):
                raise
            fail(f"internal error ({type(exc).__name__}: {exc}); please report it. "
                 "Set AUTODIFF_DEBUG=1 to see the traceback.", 1, "InternalError")
        finally:
            _on_sigterm(previous)
        sys.exit(code if isinstance(code, int) else 0)

    def protect_expressions(self, args: list[str]) -> list[str]:
        """Keep click from reading an expression such as -2*tanh(x) as a cluster of short options.

        Click would take its 'h' for -h and print the help.  Any argument after the
        command's name that starts with a single '-' and is not one of the command's
        own short options gets a leading space: click then passes it on as text,
        and the expression parser (or float()) ignores the space.  The argument
        after '--' gets it too, even when it starts with '--': read_call() takes it as the expression.
        """
        if not args or args[0] not in FAMILIES:
            return args
        command = self.get_command(click.Context(self), args[0])
        params = [p for p in (command.params if command else []) if isinstance(p, click.Option)]
        shorts = {opt for p in params for opt in p.opts if not opt.startswith("--")} | {"-h"}
        takes_value = {opt for p in params if not p.is_flag and not p.count for opt in p.opts}
        frees = command is not None and command.context_settings.get("ignore_unknown_options")  # they bind
        longs = {opt for p in params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("--")} | {"--help"}
        protected = [args[0]]
        for i, arg in enumerate(args[1:], start=1):
            if arg == "--":  # the argument after it is the expression, never an option: eval -- --x means --x
                rest = args[i + 1 :]
                if rest and rest[0].startswith("-") and rest[0] != "-":
                    rest = [" " + rest[0], *rest[1:]]
                protected += ["--", *rest]
                break
            if (len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and arg not in shorts
                    and args[i - 1] not in takes_value):  # --lr -0.5: click reads that value itself
                arg = " " + arg
            elif (frees and len(arg) > 2 and arg[:2] == "--" and arg.partition("=")[0] not in longs
                    and args[i - 1] not in takes_value):
                arg = BINDING_MARK + arg  # --x of --x 2: a binding, passed on as it is (see BINDING_MARK)
            protected.append(arg)
        return protected

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                            list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:  # no such command: an expression given without one?
            hint = eval_hint(args)
            if hint:
                raise click.UsageError(f"{error.message.rstrip('.')}; did you mean: {hint}?", ctx) from None
            no_such_command = getattr(click.exceptions, "NoSuchCommand", None)  # click >= 8.4
            if no_such_command is None or not isinstance(error, no_such_command):
                raise
            # click suggests among the commands loaded so far; here most are not loaded yet: all of them
            raise no_such_command(args[0], possibilities=self.list_commands(ctx), ctx=ctx) from None

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
        from .. import limits
        from ..errors import UsageError

        try:  # a bad AUTODIFF_MAX_* value is seen by every command, not only by the ones that use it
            limits.check_environment()
        except UsageError as error:
            failure = click.ClickException(error.message if hasattr(error, "message") else str(error))
            failure.exit_code = 2
            raise failure from None
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (autodiff ... | head): it has what it wanted, so stop
            # quietly, with success, as head's own exit status says.  (Caught here, before
            # click's main turns it into exit 1.)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0) from None


def _lone_surrogate(arg: object) -> int:
    """1 + the position of a surrogate that is no escaped byte (so no file name can hold it), else 0."""
    if not isinstance(arg, str):
        return 0
    try:
        arg.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as bad:
        return bad.start + 1
    return 0


def eval_hint(args: list[str]) -> str:
    """`autodiff eval 'x^2' ...` when the word in the command's place is an expression (not a bare name,
    which is likelier a misspelt command), else ''."""
    word = args[0] if args else ""
    if not word or word.isidentifier() or word.startswith("-"):
        return ""
    from ..errors import AutodiffError
    from ..parser import parse

    try:
        parse(word)
    except AutodiffError as error:  # d/dx x^2 is no expression, but the parser knows what was meant
        meant = str(error).partition("use autodiff diff ")[2].split("\n")[0]
        return f"autodiff diff {meant}" if meant else ""
    import shlex

    return " ".join(["autodiff", "eval", *(shlex.quote(a) for a in args)])


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
@click.option("-V", "--version", is_flag=True, is_eager=True, expose_value=False, callback=_show_version,
              help="Show the version and exit.")  # click.version_option's, without its gettext lookups
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
