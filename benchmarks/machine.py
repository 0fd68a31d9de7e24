"""What machine a benchmark ran on: one description shared by every script here."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def describe(packages: tuple[str, ...] = ("autodiff",)) -> dict[str, Any]:
    """CPU, cores (all and usable), load, Python, platform, the packages' versions, the date."""
    return {
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.system(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in packages},
        "date": time.strftime("%Y-%m-%d"),
    }
