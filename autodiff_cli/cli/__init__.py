"""The `autodiff` command line: a Click group, one module per family of commands.

Nothing in the library imports this package; it only reads arguments, calls the
library and renders what comes back.
"""

from __future__ import annotations

from .group import FAMILIES, cli, main

# The commands are found through group.FAMILIES and imported when one runs.

__all__ = ["FAMILIES", "cli", "main"]
