"""The `autodiff` command line: a Click group, one module per family of commands.

Nothing in the library imports this package; it only reads arguments, calls the
library and renders what comes back.
"""

from __future__ import annotations

from . import batch, calculus, derivatives, training, views
from .group import cli, main

for _command in (*calculus.COMMANDS, *derivatives.COMMANDS, *views.COMMANDS, *training.COMMANDS, *batch.COMMANDS):
    cli.add_command(_command)

__all__ = ["cli", "main"]
