"""Coverage-guided fuzzing of the parser (and what a parse enables) with atheris.

    python fuzz/fuzz_parser.py fuzz/corpus/parser -timeout=5 -max_total_time=60

Any libFuzzer flag works; fuzz/run.py is the easy way in.  The check is
fuzz/checks.py's `check_parser`: the test suite replays the corpus through it.
"""

from __future__ import annotations

import os
import shlex
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["autodiff_cli", "lark", "checks"]):
    from checks import check_parser


def main() -> None:
    # libFuzzer runs argv[0] through the shell for -merge=1 and -fork: make it a command that starts this script
    argv = [shlex.join([sys.executable, os.path.abspath(__file__)]), *sys.argv[1:]]
    atheris.Setup(argv, check_parser)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
