"""Coverage-guided fuzzing of the tensor language (parse, bindings, build, backward) with atheris.

    python fuzz/fuzz_tensor.py fuzz/corpus/tensor -timeout=5 -max_total_time=60

The check is fuzz/checks_tensor.py's `check_tensor`: the test suite replays the corpus through it.
"""

from __future__ import annotations

import os
import shlex
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["autodiff_cli", "checks_tensor"]):
    from checks_tensor import check_tensor


def main() -> None:
    # libFuzzer runs argv[0] through the shell for -merge=1 and -fork: make it a command that starts this script
    argv = [shlex.join([sys.executable, os.path.abspath(__file__)]), *sys.argv[1:]]
    atheris.Setup(argv, check_tensor)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
