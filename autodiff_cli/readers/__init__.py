"""Batch mode's input: one reader per format, each turning a byte stream into rows.

A reader is opened on the stream (a CSV reader reads its header there, and every
problem with it is a UsageError before anything is written), then iterated.  Each
row it yields is a tuple

    (line, args, values, kept)

- line: the input line the row starts on, for its error record;
- args: the values of the expression's variables, in order, as finite floats for
  the compiled function; None when the row needs the exact path (a value that is
  not a number, a missing variable, ...);
- values: what the exact path reads (`reader.bindings(values)` gives the
  bindings, or raises RowError with the row's exact message); or a RowError when
  the reader could not read the row at all (not JSON, not UTF-8, too long, ...);
- kept: the row as --keep copies it, or None where it cannot be copied.

Blank lines are not rows, but they are counted in the line numbers.  `nbytes`
is the number of bytes read so far, for the progress bar.  Standard library only.
"""

from .csv_rows import CsvRows
from .json_lines import JsonLinesRows
from .lines import Row, RowError, csv_field_limit, describe, printable

__all__ = ["CsvRows", "JsonLinesRows", "Row", "RowError", "csv_field_limit", "describe", "printable"]
