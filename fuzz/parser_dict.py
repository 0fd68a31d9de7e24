"""Write fuzz/parser.dict, the libFuzzer dictionary of fuzz_parser.py, from the op table.

    python fuzz/parser_dict.py        # rewrites fuzz/parser.dict beside this script

The table's names and aliases, the constants, then the grammar's punctuation and the
numbers and bytes that have found bugs before.  tests/test_ops.py checks that the
committed file is what this writes, so a new function reaches the fuzzer by itself.
"""

from __future__ import annotations

from pathlib import Path

from autodiff_cli import ops

# The grammar's operators and punctuation, and inputs that have found bugs: long exponents, signed
# zeros, a tower of powers, bytes that are not UTF-8, a byte-order mark, CRLF, a tab, a Greek letter
FIXED = [
    "(", ")", ",", "^", "**", "+", "-", "*", "/", "e+", "e-", "E", ".", "1e308", "4.9e-324", "0.0", "-0.0",
    "9^9^9", "\\xff", "\\x00", "\\xef\\xbb\\xbf", "\\x0d\\x0a", "\\x09", "\\xce\\xb8",
    # the notation people type (docs/notation.md): ² ³ ⁻¹ ⁰ ₁ √ | π − × · ⋅ ÷ = and implicit products
    "\\xc2\\xb2", "\\xc2\\xb3", "\\xe2\\x81\\xbb\\xc2\\xb9", "\\xe2\\x81\\xb0", "\\xe2\\x82\\x81",
    "\\xe2\\x88\\x9a", "|", "\\xcf\\x80", "\\xe2\\x88\\x92", "\\xc3\\x97", "\\xc2\\xb7", "\\xe2\\x8b\\x85",
    "\\xc3\\xb7", "=", "2x", "3(",
    # tensor syntax, which the scalar parser refuses with its own message
    "[", "]", "@", ".T", ":", "axis=",
]


def parser_dictionary() -> str:
    names = [name for op in ops.functions() for name in (op.name, *op.aliases)]
    lines = ["# libFuzzer dictionary for fuzz_parser.py: the op table's names, the constants, the operators",
             "# (written by fuzz/parser_dict.py from the op table: do not edit by hand)"]
    lines += [f'"{word}"' for word in [*names, *ops.CONSTANTS, *FIXED]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (Path(__file__).parent / "parser.dict").write_text(parser_dictionary(), encoding="utf-8")
