"""autodiff: a reverse-mode automatic-differentiation engine, its expression language and its command line.

`import autodiff_cli` needs nothing outside the standard library; the parser
(lark) and the command line (click, rich) load when they are used.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .engine import Value

if "IPython" in sys.modules:  # a notebook: Values display as their graphs (notebook.py attaches the views)
    from . import notebook  # noqa: F401

__version__ = "0.1.0"
__all__ = ["Value", "__version__", "parse"]

if TYPE_CHECKING:
    from .expression import Expression


def parse(text: str) -> Expression:
    """Parse an expression into its Value graph (see autodiff_cli.expression.Expression)."""
    from .parser import parse as _parse

    return _parse(text)
