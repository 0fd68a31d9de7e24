"""Files written whole or not at all: a temporary file beside the target, then a rename.

Streams (a terminal, a pipe, /dev/stdout) are written in place, since nothing can be
renamed over them.  Standard library only; the graph's text formats (export.py) and
saved models (the train command) are written through here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from .errors import OutputError

__all__ = ["is_stream", "publish", "target_of", "temporary_beside", "write_atomic", "write_lines"]


def write_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write lines to `path` whole or not at all: to a temporary file beside it, then rename.

    A symbolic link is written through: the file it points to is replaced (the link
    stays).  A path that is not a regular file (/dev/stdout, a FIFO, a terminal) is
    written directly, since nothing can be renamed over it.
    """
    path = Path(path)
    target, direct = target_of(path)
    if direct:
        try:
            with open(target, "a", encoding="utf-8", newline="\n") as out:  # "a": never truncate what a shell opened
                write_lines(out, lines)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    fd, tmp = temporary_beside(target, path)
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                write_lines(out, lines)
            publish(tmp, target)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def target_of(path: Path) -> tuple[Path, bool]:
    """Where to write for `path`, and whether directly: the end of any symbolic links, or the path itself
    when it is a stream (no temporary file can replace a device or a FIFO)."""
    try:
        info = os.stat(path)  # follows links
    except FileNotFoundError:  # a new file, or a link to one not yet made
        return Path(os.path.realpath(path)), False
    except OSError as exc:  # a loop of links, a component that is not a folder, ...
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a folder")
    if is_stream(path, info):
        return path, True
    if not os.access(path, os.W_OK):  # as a shell's > would: a read-only file is not replaced
        raise OutputError(f"cannot write {path}: {os.strerror(errno.EACCES)}")
    return Path(os.path.realpath(path)), False


def is_stream(path: Path, info: os.stat_result | None = None) -> bool:
    """Whether `path` is written in place rather than replaced: it exists and is not a regular file (a
    terminal, a pipe, a FIFO, a device), or it names an open descriptor (/dev/stdout, /dev/fd/3,
    /proc/self/fd/1, or a link to one), which may be a regular file a shell opened for appending:
    replacing that would lose what it holds."""
    if info is None:
        try:
            info = os.stat(path)
        except OSError:
            return False
    return not stat.S_ISREG(info.st_mode) or names_a_descriptor(path)


def names_a_descriptor(path: Path) -> bool:
    """Whether following `path`'s symbolic links passes through /dev/std*, /dev/fd/ or /proc/."""
    name = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of links
        if name.startswith(("/dev/fd/", "/proc/")) or name in ("/dev/stdout", "/dev/stderr", "/dev/stdin"):
            return True
        try:
            name = os.path.join(os.path.dirname(name), os.readlink(name))
        except OSError:  # not a link (or gone): the chain ends here
            return False
        name = os.path.abspath(name)
    return False


def temporary_beside(target: Path, shown: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc}") from None


def publish(tmp: str, path: Path) -> None:
    """Give the finished temporary file the permissions of the file it replaces, or those a new file gets
    (mkstemp makes it private), then rename: a private file stays private."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    for line in lines:
        out.write(line)
        out.write("\n")
