"""Coverage-guided fuzzing of the batch reader (JSON Lines and CSV in, either out) with atheris.

    python fuzz/fuzz_batch.py fuzz/corpus/batch -timeout=5 -max_total_time=60

Any libFuzzer flag works; fuzz/run.py is the easy way in.  The check is
fuzz/checks.py's `check_batch`: the test suite replays the corpus through it.
"""

from __future__ import annotations

import os
import shlex
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["autodiff_cli", "checks"]):
    from checks import check_batch


def main() -> None:
    # libFuzzer runs argv[0] through the shell for -merge=1 and -fork: make it a command that starts this script
    argv = [shlex.join([sys.executable, os.path.abspath(__file__)]), *sys.argv[1:]]
    atheris.Setup(argv, check_batch)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
