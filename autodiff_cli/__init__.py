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
__all__ = ["Tensor", "Value", "__version__", "parse"]

if TYPE_CHECKING:
    from .expression import Expression
    from .tensor import Tensor


def __getattr__(name: str) -> type:
    """autodiff_cli.Tensor, imported on first use: `import autodiff_cli` loads no tensor code (PEP 562)."""
    if name == "Tensor":
        from .tensor import Tensor

        return Tensor
    raise AttributeError(f"module 'autodiff_cli' has no attribute {name!r}")


def parse(text: str) -> Expression:
    """Parse an expression into its Value graph (see autodiff_cli.expression.Expression)."""
    from .parser import parse as _parse

    return _parse(text)
