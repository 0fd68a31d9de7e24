"""Tables of data: CSV read into text cells, checked cell by cell, standardised for training.

Standard library only.  Errors are DataError (exit 2) naming the file, the row (and
its line) and the column.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .errors import DataError, UsageError

TASKS = ("regression", "classification")

# -- reading tables -------------------------------------------------------------


@dataclass
class Table:
    """A CSV file as text cells: a header and rows, with the file line each row starts on."""

    source: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def where(self, i: int, column: str | None = None) -> str:
        """How messages name row i (0-based): 'data.csv, row 3 (line 4), column x'."""
        text = f"{self.source}, row {i + 1} (line {self.lines[i]})"
        return f"{text}, column {column!r}" if column is not None else text

    def column(self, name: str) -> list[str]:
        if name not in self.columns:
            raise DataError(f"{self.source} has no column {name!r} (its columns: {', '.join(self.columns)})")
        j = self.columns.index(name)
        return [row[j] for row in self.rows]

    def numbers(self, name: str) -> list[float]:
        """A column as floats; the first cell that is not a finite number is an error naming it."""
        out = []
        for i, cell in enumerate(self.column(name)):
            value = parse_cell(cell)
            if value is None:
                what = "an empty cell" if not cell.strip() else f"{cell!r}"
                hint = " (a plain decimal number has no '_')" if "_" in cell else ""
                raise DataError(f"{self.where(i, name)}: {what} is not a number{hint}")
            out.append(value)
        return out


def parse_cell(cell: str) -> float | None:
    """A cell as a finite float, or None: plain decimals only (Python's float also takes 1_000 and other digits)."""
    if "_" in cell or not cell.isascii():
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_table(text: str, source: str) -> Table:
    """Parse CSV text (a header line, then rows); blank (or whitespace-only) lines are skipped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows, lines = [], []
    saved = csv.field_size_limit(max(len(text), 1))  # the file limit (on the whole text) is the only one on a field
    try:
        start = 1
        for record in reader:
            line = start
            start = reader.line_num + 1
            if len(record) <= 1 and not "".join(record).strip():
                continue  # a blank line; a row of empty cells (",") is a row, and its cells are checked
            if header is None:
                header = [c.strip() for c in record]
                _check_header(header, source, line)
                continue
            if len(record) != len(header):
                raise DataError(
                    f"{source}, row {len(rows) + 1} (line {line}): {len(record)} fields, "
                    f"but the header has {len(header)}"
                )
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(f"{source}, line {reader.line_num}: not valid CSV ({exc})") from None
    finally:
        csv.field_size_limit(saved)
    if header is None:
        raise DataError(f"{source} is empty: it needs a header line with the column names, then rows")
    if not rows:
        raise DataError(f"{source} has a header but no rows of data")
    return Table(source, header, rows, lines)


def _check_header(header: list[str], source: str, line: int) -> None:
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{source}, line {line}: column {j + 1} has no name")
        if name in header[:j]:
            raise DataError(f"{source}, line {line}: the column name {name!r} appears twice")


# -- the data set ---------------------------------------------------------------


@dataclass
class Scaling:
    """Standardisation: (x - mean) / std per column; a constant column keeps std 1."""

    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, columns: Sequence[Sequence[float]]) -> Scaling:
        means, stds = [], []
        for col in columns:
            m, s = _mean_std(col)
            means.append(m)
            stds.append(s if s > 0.0 else 1.0)
        return cls(means, stds)

    def apply(self, row: Sequence[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(row, self.mean, self.std, strict=True)]


def _mean_std(col: Sequence[float]) -> tuple[float, float]:
    """The mean and the (population) standard deviation, finite for any finite values."""
    n = len(col)
    try:
        m = math.fsum(col) / n
        s = math.sqrt(math.fsum((v - m) ** 2 for v in col) / n)
        if math.isfinite(s):
            return m, s
    except OverflowError:
        pass
    # values near the largest double: the same sums on the values divided by the largest, then scaled back
    scale = max(abs(v) for v in col)
    m, s = _mean_std([v / scale for v in col])
    return m * scale, s * scale


def _standardise(source: str, names: Sequence[str], scaling: Scaling, rows: list[list[float]]) -> list[list[float]]:
    out = [scaling.apply(row) for row in rows]
    for j, name in enumerate(names):
        if not all(math.isfinite(row[j]) for row in out):
            raise DataError(f"{source}, column {name!r}: the values are too far apart to standardise "
                            "(their differences are past the largest double)")
    return out


@dataclass
class Dataset:
    """Inputs as standardised floats and targets (scaled numbers, or class indices)."""

    inputs: list[str]
    target: str
    task: str
    labels: list[str]  # classification: class i is labels[i]
    X: list[list[float]]  # standardised
    y: list[float]  # regression: standardised target; classification: class index
    scaling: Scaling
    target_scaling: Scaling | None
    notes: list[str] = field(default_factory=list)
    X_raw: list[list[float]] = field(default_factory=list, repr=False)  # the inputs as read
    y_raw: list[float] = field(default_factory=list, repr=False)  # regression: the target as read
    source: str = ""

    @property
    def outputs(self) -> int:
        return len(self.labels) if len(self.labels) > 2 else 1

    def standardised(self, rows: Sequence[int] | None = None) -> Dataset:
        """The data standardised with the mean and std of these rows (default: all of them).

        Training fits the scaling on its training rows only, so that nothing of the
        validation rows leaks into the model.
        """
        fit = range(len(self.X_raw)) if rows is None else rows
        scaling = Scaling.fit([[self.X_raw[i][j] for i in fit] for j in range(len(self.inputs))])
        X = _standardise(self.source, self.inputs, scaling, self.X_raw)
        y, target_scaling = self.y, None
        if self.task == "regression":
            target_scaling = Scaling.fit([[self.y_raw[i] for i in fit]])
            column = _standardise(self.source, [self.target], target_scaling, [[v] for v in self.y_raw])
            y = [row[0] for row in column]
        return replace(self, X=X, y=y, scaling=scaling, target_scaling=target_scaling)


def _label_order(labels: set[str]) -> list[str]:
    """Numbers in numeric order, other labels in text order."""
    if all(parse_cell(label) is not None for label in labels):
        return sorted(labels, key=lambda label: (float(label), label))
    return sorted(labels)


def prepare(table: Table, target: str, task: str = "auto", inputs: Sequence[str] | None = None) -> Dataset:
    """Choose the task, check every cell, and standardise the inputs (and a regression target) over all rows.

    Trainer refits the standardisation on its training rows when it holds some out for validation.
    """
    if target not in table.columns:
        raise DataError(f"{table.source} has no column {target!r} (its columns: {', '.join(table.columns)})")
    names = list(inputs) if inputs else [c for c in table.columns if c != target]
    if not names:
        raise DataError(f"{table.source} has no input columns besides the target {target!r}")
    if target in names:
        raise UsageError(f"the target {target!r} cannot also be an input")
    repeated = [n for k, n in enumerate(names) if n in names[:k]]
    if repeated:
        raise UsageError(f"--inputs: the column {repeated[0]!r} is given twice; name each input once")
    columns = [table.numbers(name) for name in names]
    cells = [cell.strip() for cell in table.column(target)]
    notes = []
    if task == "auto":
        numeric = [parse_cell(c) is not None for c in cells]
        task = "regression" if all(numeric) else "classification"
        if task == "classification" and sum(numeric) * 2 > len(cells):  # mostly numbers: a typo, not labels
            i = numeric.index(False)
            what = "an empty cell" if not cells[i] else repr(cells[i])
            raise DataError(
                f"{table.where(i, target)}: {what} is not a number, but most of the target column is numbers: "
                "fix it for regression, or add --task classification to treat every value as a class"
            )
        if task == "regression" and len(set(cells)) <= 2:
            notes.append(
                f"the target {target!r} is numbers, so this is regression; it has only "
                f"{len(set(cells))} distinct values: add --task classification to treat them as classes"
            )
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}: choose regression or classification")
    X_raw = [list(row) for row in zip(*columns, strict=True)]
    unfitted = Scaling([], [])
    if task == "regression":
        y_raw = table.numbers(target)
        data = Dataset(names, target, task, [], [], [], unfitted, None, notes, X_raw, y_raw, table.source)
        return data.standardised()
    for i, cell in enumerate(cells):
        if not cell:
            raise DataError(f"{table.where(i, target)}: the label is empty")
    labels = _label_order(set(cells))
    if len(labels) < 2:
        raise DataError(
            f"{table.source}, column {target!r}: every row has the label {labels[0]!r}; "
            "classification needs at least two classes"
        )
    index = {label: k for k, label in enumerate(labels)}
    y = [float(index[c]) for c in cells]
    return Dataset(names, target, task, labels, [], y, unfitted, None, notes, X_raw, [], table.source).standardised()


def split(n: int, fraction: float, rng: random.Random) -> tuple[list[int], list[int]]:
    """Shuffled row indices for training and validation (at least one row in each)."""
    if not 0.0 <= fraction < 1.0:
        raise UsageError(f"--val-split must be in [0, 1), not {fraction}")
    if fraction == 0.0:
        return list(range(n)), []
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        raise DataError(f"{n} rows are too few to hold out {fraction:.0%} for validation and still train")
    order = list(range(n))
    rng.shuffle(order)
    return sorted(order[n_val:]), sorted(order[:n_val])
